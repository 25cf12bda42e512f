// What handoverctl reads from files a user hands it, parsed without a
// server: the form of `handoverctl push` and the access-log export of
// `handoverctl audit verify`. These read untrusted bytes, so each is a fuzz
// target (tests/fuzz/).
//
// Threads: pure functions; call from any thread.
// Errors: INVALID_ARGUMENT for a form that is not a HandoverForm as JSON;
// DATA_LOSS "line N: not an export item" for an export line that does not
// parse. Messages never repeat the file's content.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/form.pb.h"

namespace handover::client {

// A HandoverForm as JSON with the proto field names (push's file).
absl::StatusOr<v1::HandoverForm> ParseFormFile(absl::string_view json);

// An access-log export as `audit export` writes it: one item per line.
struct AccessLogExport {
  std::vector<v1::ExportAccessLogResponse> items;  // items[i] is line i + 1
  std::string public_key_pem;                      // the last key the export names
};
absl::StatusOr<AccessLogExport> ParseAccessLogExport(absl::string_view text);

}  // namespace handover::client
