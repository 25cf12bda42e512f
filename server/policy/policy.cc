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
};

bool InScope(Scope scope, const Principal& caller, const CaseFacts& facts) {
  switch (scope) {
    case Scope::kNone: return false;
    case Scope::kNoCase: return true;
    case Scope::kOwnCases: return facts.operator_id == caller.organisation_id;
    case Scope::kAllCases: return true;
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

absl::Status Authorize(const Principal& caller, Operation operation, const CaseFacts* facts,
                       absl::string_view case_name) {
  const Scope scope = ScopeOf(operation, caller.role);
  if (scope == Scope::kNone) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(caller.role), " may not call this method"));
  }
  if (scope == Scope::kNoCase) return absl::OkStatus();
  if (facts == nullptr || !InScope(scope, caller, *facts)) return CaseNotFound(case_name);
  return absl::OkStatus();
}

EventFilter EventFilterFor(const Principal& caller) {
  EventFilter filter;
  switch (ScopeOf(Operation::kReadFeed, caller.role)) {
    case Scope::kOwnCases: filter.operator_id = caller.organisation_id; break;
    case Scope::kAllCases: break;
    case Scope::kAssignedToCaller:
      filter.municipality_code = caller.organisation_id;
      filter.with_municipality_only = true;
      break;
    case Scope::kNone:
    case Scope::kNoCase: filter.none = true; break;
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

std::optional<v1::ConsentPurpose> ConsentPurposeFor(v1::DocumentType type) {
  switch (type) {
    case v1::DOCUMENT_TYPE_MEDICAL_RECORD: return v1::CONSENT_PURPOSE_MEDICAL_RECORD;
    case v1::DOCUMENT_TYPE_SOCIAL_DOCUMENTS: return v1::CONSENT_PURPOSE_SOCIAL_DOCUMENTS;
    default: return std::nullopt;
  }
}

namespace {

// MayReceiveDocument without the message, for the per-view hot path.
bool ReceivesDocument(const Principal& caller, const CaseFacts& facts, v1::DocumentType type) {
  if (caller.role != Role::kMunicipality) return true;
  const std::optional<v1::ConsentPurpose> purpose = ConsentPurposeFor(type);
  return !purpose || HasActiveConsent(facts, *purpose, caller.organisation_id);
}

}  // namespace

absl::Status MayReceiveDocument(const Principal& caller, const CaseFacts& facts,
                                v1::DocumentType type) {
  if (ReceivesDocument(caller, facts, type)) return absl::OkStatus();
  const v1::ConsentPurpose purpose = *ConsentPurposeFor(type);
  return absl::FailedPreconditionError(
      absl::StrCat("a document of type ", v1::DocumentType_Name(type),
                   " leaves only under an active consent for ",
                   v1::ConsentPurpose_Name(purpose)));
}

std::vector<std::string> FieldsCoveredBy(v1::ConsentPurpose purpose) {
  switch (purpose) {
    case v1::CONSENT_PURPOSE_HEALTH_NEEDS:
      return {"health.special_needs_description"};
    case v1::CONSENT_PURPOSE_MEDICAL_RECORD:
      return {"health.medical_record_reference", "documents(DOCUMENT_TYPE_MEDICAL_RECORD)"};
    case v1::CONSENT_PURPOSE_SOCIAL_DOCUMENTS:
      return {"documents(DOCUMENT_TYPE_SOCIAL_DOCUMENTS)"};
    default:
      return {};
  }
}

void ProjectForm(const Principal& caller, const CaseFacts& facts, v1::HandoverForm* form,
                 std::vector<std::string>* withheld) {
  // Whatever the schema does not name never leaves, whoever asks (a version
  // stored before unknown fields were refused may hold some).
  form->DiscardUnknownFields();
  auto withhold_documents = [&](v1::DocumentType type) {
    auto* documents = form->mutable_documents();
    const auto before = documents->size();
    for (int i = documents->size() - 1; i >= 0; --i) {
      if (documents->Get(i).type() == type) documents->DeleteSubrange(i, 1);
    }
    if (documents->size() != before) {
      withheld->push_back(absl::StrCat("documents(", v1::DocumentType_Name(type), ")"));
    }
  };
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
    case Role::kMunicipality: {
      const std::string& me = caller.organisation_id;
      if (!form->health().special_needs_description().empty() &&
          !HasActiveConsent(facts, v1::CONSENT_PURPOSE_HEALTH_NEEDS, me)) {
        form->mutable_health()->clear_special_needs_description();
        withheld->push_back("health.special_needs_description");
      }
      if (form->health().has_medical_record_reference() &&
          !HasActiveConsent(facts, v1::CONSENT_PURPOSE_MEDICAL_RECORD, me)) {
        form->mutable_health()->clear_medical_record_reference();
        withheld->push_back("health.medical_record_reference");
      }
      for (v1::DocumentType type :
           {v1::DOCUMENT_TYPE_MEDICAL_RECORD, v1::DOCUMENT_TYPE_SOCIAL_DOCUMENTS}) {
        if (!ReceivesDocument(caller, facts, type)) withhold_documents(type);
      }
      return;
    }
    case Role::kAuditor:
      form->Clear();
      withheld->push_back("*");
      return;
  }
}

}  // namespace handover::policy
