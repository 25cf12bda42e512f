#include "client/cli_common.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/text_view.h"
#include "common/json.h"

namespace handover::client {

std::string CaseNameArg(const std::string& arg) {
  return absl::StartsWith(arg, "cases/") ? arg : absl::StrCat("cases/", arg);
}

absl::StatusOr<int> ParseEnumArg(const google::protobuf::EnumDescriptor& type,
                                 const std::string& text, const char* option) {
  std::vector<std::string> known;
  for (int i = 1; i < type.value_count(); ++i) {
    std::string label = absl::StrReplaceAll(EnumLabel(type.value(i)), {{" ", "-"}});
    if (label == text) return type.value(i)->number();
    known.push_back(label);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(option, ": must be one of ", absl::StrJoin(known, ", ")));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("file: cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Print(const Settings& settings, const google::protobuf::Message& message,
           const std::string& text) {
  std::cout << (settings.output == "json" ? ToJson(message) + "\n" : text);
}

}  // namespace handover::client
