#include "server/policy/policy.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace handover::policy {
namespace {

constexpr int kRoleCount = 4;
constexpr int kOperationCount = sizeof(kAllOperations) / sizeof(kAllOperations[0]);

// Rows: operations in enum order. Columns: operator, immigration service,
// municipality, auditor. The auditor reads the access log, never a case.
constexpr Scope kAccessTable[kOperationCount][kRoleCount] = {
    // CreateCase
    {Scope::kNoCase, Scope::kNone, Scope::kNone, Scope::kNone},
    // GetCase
    {Scope::kOwnCases, Scope::kAllCases, Scope::kAssignedToCaller, Scope::kNone},
    // ListCases: the store filters to the same scope
    {Scope::kOwnCases, Scope::kAllCases, Scope::kAssignedToCaller, Scope::kNone},
    // UpdateForm
    {Scope::kOwnCases, Scope::kNone, Scope::kNone, Scope::kNone},
    // ListVersions
    {Scope::kOwnCases, Scope::kAllCases, Scope::kAssignedToCaller, Scope::kNone},
    // GetVersion
    {Scope::kOwnCases, Scope::kAllCases, Scope::kAssignedToCaller, Scope::kNone},
    // AssignCase
    {Scope::kNone, Scope::kAllCases, Scope::kNone, Scope::kNone},
    // RecordConsent
    {Scope::kOwnCases, Scope::kNone, Scope::kNone, Scope::kNone},
    // WithdrawConsent
    {Scope::kOwnCases, Scope::kNone, Scope::kNone, Scope::kNone},
    // ReadFeed (Sync, Watch): MaySeeEvent narrows it to events (revocations)
    {Scope::kOwnCases, Scope::kAllCases, Scope::kAssignedToCaller, Scope::kNone},
    // EraseCase
    {Scope::kOwnCases, Scope::kNone, Scope::kNone, Scope::kNone},
    // ReadAccessLog: the log, never a case's content
    {Scope::kNone, Scope::kNone, Scope::kNone, Scope::kNoCase},
    // UploadDocument
    {Scope::kOwnCases, Scope::kNone, Scope::kNone, Scope::kNone},
    // ReadDocuments: the Immigration Service sees no documents
    {Scope::kOwnCases, Scope::kNone, Scope::kAssignedToCaller, Scope::kNone},
    // WhoAmI: every role, about itself
    {Scope::kNoCase, Scope::kNoCase, Scope::kNoCase, Scope::kNoCase},
};

bool InScope(Scope scope, const Principal& caller, const CaseFacts& facts) {
  switch (scope) {
    case Scope::kNone:
      return false;
    case Scope::kNoCase:
      return true;
    case Scope::kOwnCases:
      return facts.operator_id == caller.organisation_id;
    case Scope::kAllCases:
      return true;
    case Scope::kAssignedToCaller:
      return facts.municipality_code.has_value() &&
             *facts.municipality_code == caller.organisation_id;
  }
  return false;
}

}  // namespace

Scope ScopeOf(Operation operation, Role role) {
  return kAccessTable[static_cast<int>(operation)][static_cast<int>(role)];
}

absl::Status CheckRole(const Principal& caller, Operation operation) {
  if (ScopeOf(operation, caller.role) == Scope::kNone) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(caller.role), " may not call this method"));
  }
  return absl::OkStatus();
}

absl::Status Authorize(const Principal& caller, Operation operation, const CaseFacts* facts,
                       absl::string_view case_name) {
  if (absl::Status role = CheckRole(caller, operation); !role.ok()) return role;
  const Scope scope = ScopeOf(operation, caller.role);
  if (scope == Scope::kNoCase) return absl::OkStatus();
  if (facts == nullptr || !InScope(scope, caller, *facts)) return CaseNotFound(case_name);
  return absl::OkStatus();
}

EventFilter EventFilterFor(const Principal& caller) {
  EventFilter filter;
  switch (ScopeOf(Operation::kReadFeed, caller.role)) {
    case Scope::kOwnCases:
      filter.operator_id = caller.organisation_id;
      break;
    case Scope::kAllCases:
      break;
    case Scope::kAssignedToCaller:
      filter.municipality_code = caller.organisation_id;
      filter.with_municipality_only = true;
      break;
    case Scope::kNone:
    case Scope::kNoCase:
      filter.none = true;
      break;
  }
  return filter;
}

bool MatchesEvent(const EventFilter& filter, const EventAudience& audience) {
  if (filter.none) return false;
  if (filter.operator_id && audience.operator_id != *filter.operator_id) return false;
  if (filter.municipality_code && audience.municipality_code != filter.municipality_code) {
    return false;
  }
  return filter.with_municipality_only || !audience.municipality_only;
}

bool MaySeeEvent(const Principal& caller, const EventAudience& audience) {
  return MatchesEvent(EventFilterFor(caller), audience);
}

bool HasActiveConsent(const CaseFacts& facts, v1::ConsentPurpose purpose,
                      absl::string_view municipality_code) {
  for (const ConsentFact& consent : facts.consents) {
    if (consent.purpose == purpose && !consent.withdrawn &&
        (consent.recipient_municipality_code.empty() ||
         consent.recipient_municipality_code == municipality_code)) {
      return true;
    }
  }
  return false;
}

namespace {

// What a municipality receives only under an active consent: the one table
// that ProjectForm (what it withholds), FieldsCoveredBy (a withdrawal's
// withdrawn_fields) and ConsentPurposeFor (documents) read. A row is a field
// of the form or the documents of one type; `path` is how both ProjectForm's
// `withheld` and withdrawn_fields name it. ProjectForm withholds in row order.
struct ConsentGatedContent {
  v1::ConsentPurpose purpose;
  const char* path;
  // DOCUMENT_TYPE_UNSPECIFIED: a form field, with `present` and `clear`.
  v1::DocumentType document_type;
  bool (*present)(const v1::HandoverForm& form);
  void (*clear)(v1::HandoverForm* form);
};

constexpr ConsentGatedContent kConsentGatedContent[] = {
    {v1::CONSENT_PURPOSE_HEALTH_NEEDS, "health.special_needs_description",
     v1::DOCUMENT_TYPE_UNSPECIFIED,
     [](const v1::HandoverForm& form) {
       return !form.health().special_needs_description().empty();
     },
     [](v1::HandoverForm* form) { form->mutable_health()->clear_special_needs_description(); }},
    {v1::CONSENT_PURPOSE_MEDICAL_RECORD, "health.medical_record_reference",
     v1::DOCUMENT_TYPE_UNSPECIFIED,
     [](const v1::HandoverForm& form) { return form.health().has_medical_record_reference(); },
     [](v1::HandoverForm* form) { form->mutable_health()->clear_medical_record_reference(); }},
    {v1::CONSENT_PURPOSE_MEDICAL_RECORD, "documents(DOCUMENT_TYPE_MEDICAL_RECORD)",
     v1::DOCUMENT_TYPE_MEDICAL_RECORD, nullptr, nullptr},
    {v1::CONSENT_PURPOSE_SOCIAL_DOCUMENTS, "documents(DOCUMENT_TYPE_SOCIAL_DOCUMENTS)",
     v1::DOCUMENT_TYPE_SOCIAL_DOCUMENTS, nullptr, nullptr},
};

// Removes `content` from `form`; true if there was any.
bool Withhold(const ConsentGatedContent& content, v1::HandoverForm* form) {
  if (content.document_type == v1::DOCUMENT_TYPE_UNSPECIFIED) {
    if (!content.present(*form)) return false;
    content.clear(form);
    return true;
  }
  auto* documents = form->mutable_documents();
  const auto before = documents->size();
  for (int i = documents->size() - 1; i >= 0; --i) {
    if (documents->Get(i).type() == content.document_type) documents->DeleteSubrange(i, 1);
  }
  return documents->size() != before;
}

}  // namespace

std::optional<v1::ConsentPurpose> ConsentPurposeFor(v1::DocumentType type) {
  if (type == v1::DOCUMENT_TYPE_UNSPECIFIED) return std::nullopt;
  for (const ConsentGatedContent& content : kConsentGatedContent) {
    if (content.document_type == type) return content.purpose;
  }
  return std::nullopt;
}

absl::Status MayReceiveDocument(const Principal& caller, const CaseFacts& facts,
                                v1::DocumentType type) {
  if (caller.role != Role::kMunicipality) return absl::OkStatus();
  const std::optional<v1::ConsentPurpose> needed = ConsentPurposeFor(type);
  if (!needed || HasActiveConsent(facts, *needed, caller.organisation_id)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("a document of type ", v1::DocumentType_Name(type),
                   " leaves only under an active consent for ", v1::ConsentPurpose_Name(*needed)));
}

std::vector<std::string> FieldsCoveredBy(v1::ConsentPurpose purpose) {
  std::vector<std::string> paths;
  for (const ConsentGatedContent& content : kConsentGatedContent) {
    if (content.purpose == purpose) paths.push_back(content.path);
  }
  return paths;
}

void ProjectForm(const Principal& caller, const CaseFacts& facts, v1::HandoverForm* form,
                 std::vector<std::string>* withheld) {
  // Whatever the schema does not name never leaves, whoever asks (a version
  // stored before unknown fields were refused may hold some).
  form->DiscardUnknownFields();
  switch (caller.role) {
    case Role::kOperator:
      return;
    case Role::kImmigrationService:
      if (form->health().has_medical_record_reference()) {
        form->mutable_health()->clear_medical_record_reference();
        withheld->push_back("health.medical_record_reference");
      }
      if (form->documents_size() > 0) {
        form->clear_documents();
        withheld->push_back("documents");
      }
      return;
    case Role::kMunicipality:
      for (const ConsentGatedContent& content : kConsentGatedContent) {
        if (!HasActiveConsent(facts, content.purpose, caller.organisation_id) &&
            Withhold(content, form)) {
          withheld->push_back(content.path);
        }
      }
      return;
    case Role::kAuditor:
      form->Clear();
      withheld->push_back("*");
      return;
  }
}

}  // namespace handover::policy
