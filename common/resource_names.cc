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

// "cases/{case}/{collection}/{id}" as (case id, id).
absl::StatusOr<std::pair<std::string, std::string>> ParseChildName(absl::string_view name,
                                                                   absl::string_view field,
                                                                   absl::string_view collection) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "cases" || !IsResourceId(parts[1]) ||
      parts[2] != collection || !IsResourceId(parts[3])) {
    return FieldError(field, absl::StrCat("must be cases/{case}/", collection, "/{id}"));
  }
  return std::pair{std::string(parts[1]), std::string(parts[3])};
}

}  // namespace

std::string CaseName(absl::string_view case_id) { return absl::StrCat("cases/", case_id); }

std::string VersionName(absl::string_view case_id, int64_t version) {
  return absl::StrCat("cases/", case_id, "/versions/", version);
}

std::string ConsentName(absl::string_view case_id, absl::string_view consent_id) {
  return absl::StrCat("cases/", case_id, "/consents/", consent_id);
}

std::string DocumentName(absl::string_view case_id, absl::string_view document_id) {
  return absl::StrCat("cases/", case_id, "/documents/", document_id);
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
  auto ids = ParseChildName(name, field, "consents");
  if (!ids.ok()) return ids.status();
  return ConsentRef{std::move(ids->first), std::move(ids->second)};
}

absl::StatusOr<DocumentRef> ParseDocumentName(absl::string_view name, absl::string_view field) {
  auto ids = ParseChildName(name, field, "documents");
  if (!ids.ok()) return ids.status();
  return DocumentRef{std::move(ids->first), std::move(ids->second)};
}

}  // namespace handover
