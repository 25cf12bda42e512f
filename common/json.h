// JSON <-> protobuf with protobuf's own converter, field names as in the proto
// (snake_case) so files match the schema documentation.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace handover {

// Pretty-printed JSON with proto field names; enums by name.
std::string ToJson(const google::protobuf::Message& message);
// One-line JSON, for JSON-lines streams.
std::string ToJsonLine(const google::protobuf::Message& message);
// Parses JSON into `message`; unknown fields are an error. INVALID_ARGUMENT
// with the parser's message (which names the field, not the value) otherwise.
absl::Status FromJson(absl::string_view json, google::protobuf::Message* message);

}  // namespace handover
