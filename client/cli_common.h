// What handoverctl's commands share: the global settings, argument parsing
// and output in text or JSON.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string>

#include "absl/status/statusor.h"
#include "client/handover_client.h"

namespace handover::client {

struct Settings {
  ClientOptions connection;
  std::string output = "text";
  int timeout_seconds = 30;
};

// "cases/<id>" from "cases/<id>" or the bare id.
std::string CaseNameArg(const std::string& arg);

// An enum value from its label as handoverctl shows it, with hyphens for
// spaces ("medical-record" for CONSENT_PURPOSE_MEDICAL_RECORD).
// INVALID_ARGUMENT naming `option` and listing the labels otherwise.
absl::StatusOr<int> ParseEnumArg(const google::protobuf::EnumDescriptor& type,
                                 const std::string& text, const char* option);

// The whole text of the file at `path`; INVALID_ARGUMENT if it cannot be read.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `message` as JSON with --output json, `text` otherwise.
void Print(const Settings& settings, const google::protobuf::Message& message,
           const std::string& text);

}  // namespace handover::client
