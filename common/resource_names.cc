#include "common/resource_names.h"

#include <cctype>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto.h"
#include "common/errors.h"

namespace handover {
namespace {

constexpr size_t kIdBytes = 8;

bool IsResourceId(absl::string_view id) {
  if (id.size() != kIdBytes * 2) return false;
  for (char c : id) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

}  // namespace

std::string CaseName(absl::string_view case_id) { return absl::StrCat("cases/", case_id); }

std::string VersionName(absl::string_view case_id, int64_t version) {
  return absl::StrCat("cases/", case_id, "/versions/", version);
}

std::string ConsentName(absl::string_view case_id, absl::string_view consent_id) {
  return absl::StrCat("cases/", case_id, "/consents/", consent_id);
}

std::string NewResourceId() { return HexEncode(RandomBytes(kIdBytes)); }

absl::StatusOr<std::string> ParseCaseName(absl::string_view name, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 2 || parts[0] != "cases" || !IsResourceId(parts[1])) {
    return FieldError(field, "must be cases/{case} with a 16-hex-digit case id");
  }
  return std::string(parts[1]);
}

absl::StatusOr<VersionRef> ParseVersionName(absl::string_view name, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  VersionRef ref;
  if (parts.size() != 4 || parts[0] != "cases" || !IsResourceId(parts[1]) ||
      parts[2] != "versions" || !absl::SimpleAtoi(parts[3], &ref.version) || ref.version < 1) {
    return FieldError(field, "must be cases/{case}/versions/{version} with a version from 1");
  }
  ref.case_id = std::string(parts[1]);
  return ref;
}

absl::StatusOr<ConsentRef> ParseConsentName(absl::string_view name, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "cases" || !IsResourceId(parts[1]) ||
      parts[2] != "consents" || !IsResourceId(parts[3])) {
    return FieldError(field, "must be cases/{case}/consents/{consent}");
  }
  return ConsentRef{std::string(parts[1]), std::string(parts[3])};
}

}  // namespace handover
