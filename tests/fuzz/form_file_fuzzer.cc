// Untrusted bytes as the form file of `handoverctl push`: parsed as JSON
// (client/input_files.h), and a form that parses is validated as the server
// would, and written back to JSON, which must parse again to the same form.
#include <cstddef>
#include <cstdint>

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/string_view.h"
#include "client/input_files.h"
#include "common/json.h"
#include "common/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto form =
      handover::client::ParseFormFile(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!form.ok()) return 0;
  (void)handover::ValidateForm(*form, handover::FormLimits{});
  auto again = handover::client::ParseFormFile(handover::ToJson(*form));
  if (!again.ok()) __builtin_trap();
  if (!google::protobuf::util::MessageDifferencer::Equals(*form, *again)) __builtin_trap();
  return 0;
}
