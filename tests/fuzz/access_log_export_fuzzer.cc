// Untrusted bytes as an access-log export given to `handoverctl audit
// verify`: parsed line by line (client/input_files.h) and verified
// (common/access_chain.h) with the key the export names. A refusal must say
// which line or record, never repeat content: here, only that it never
// crashes, leaks or reads out of bounds.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "client/input_files.h"
#include "common/access_chain.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = handover::client::ParseAccessLogExport(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  (void)handover::VerifyAccessLog(parsed->items, parsed->public_key_pem);
  return 0;
}
