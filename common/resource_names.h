// Resource names of the API: "cases/{case}", "cases/{case}/versions/{version}",
// "cases/{case}/consents/{consent}", "cases/{case}/documents/{document}". Case,
// consent and document ids are 16 lowercase hex digits; versions count from 1.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace handover {

std::string CaseName(absl::string_view case_id);
std::string VersionName(absl::string_view case_id, int64_t version);
std::string ConsentName(absl::string_view case_id, absl::string_view consent_id);
std::string DocumentName(absl::string_view case_id, absl::string_view document_id);
// A fresh random id for a case or consent.
std::string NewResourceId();

struct VersionRef {
  std::string case_id;
  int64_t version = 0;
};
struct ConsentRef {
  std::string case_id;
  std::string consent_id;
};

// Each fails with INVALID_ARGUMENT naming `field` if `name` is malformed.
absl::StatusOr<std::string> ParseCaseName(absl::string_view name, absl::string_view field);
absl::StatusOr<VersionRef> ParseVersionName(absl::string_view name, absl::string_view field);
absl::StatusOr<ConsentRef> ParseConsentName(absl::string_view name, absl::string_view field);
struct DocumentRef {
  std::string case_id;
  std::string document_id;
};
absl::StatusOr<DocumentRef> ParseDocumentName(absl::string_view name, absl::string_view field);

}  // namespace handover
