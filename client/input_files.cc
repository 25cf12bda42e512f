#include "client/input_files.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json.h"

namespace handover::client {

absl::StatusOr<v1::HandoverForm> ParseFormFile(absl::string_view json) {
  v1::HandoverForm form;
  if (absl::Status s = FromJson(json, &form); !s.ok()) return s;
  return form;
}

absl::StatusOr<AccessLogExport> ParseAccessLogExport(absl::string_view text) {
  AccessLogExport result;
  // The last line's newline ends it; it does not start another.
  if (absl::EndsWith(text, "\n")) text.remove_suffix(1);
  if (text.empty()) return result;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    v1::ExportAccessLogResponse item;
    if (absl::Status s = FromJson(line, &item); !s.ok()) {
      return absl::DataLossError(absl::StrCat("line ", number, ": not an export item"));
    }
    if (item.has_public_key_pem()) result.public_key_pem = item.public_key_pem();
    result.items.push_back(std::move(item));
  }
  return result;
}

}  // namespace handover::client
