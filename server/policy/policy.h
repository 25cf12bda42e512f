// The one place that decides who may do what to which case, and which view of
// the form they get. Pure functions over plain facts: no I/O, no gRPC.
//
// The access table (kAccessTable in policy.cc) is the single source of truth;
// tests/policy_table_test.cc walks every operation x role x case relation x
// consent state against it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/identity.h"
#include "handover/v1/case.pb.h"
#include "handover/v1/form.pb.h"

namespace handover::policy {

enum class Operation {
  kCreateCase,
  kGetCase,
  kListCases,
  kUpdateForm,
  kListVersions,
  kGetVersion,
  kAssignCase,
  kRecordConsent,
  kWithdrawConsent,
  kReadFeed,  // Sync and Watch
  kEraseCase,
  kReadAccessLog,  // AuditService: query, export, subject access report
  kUploadDocument,
  kReadDocuments,  // ListDocuments, DownloadDocument (then MayReceiveDocument)
};
inline constexpr Operation kAllOperations[] = {
    Operation::kCreateCase,    Operation::kGetCase,    Operation::kListCases,
    Operation::kUpdateForm,    Operation::kListVersions, Operation::kGetVersion,
    Operation::kAssignCase,    Operation::kRecordConsent, Operation::kWithdrawConsent,
    Operation::kReadFeed,      Operation::kEraseCase,  Operation::kReadAccessLog,
    Operation::kUploadDocument, Operation::kReadDocuments};
inline constexpr Role kAllRoles[] = {Role::kOperator, Role::kImmigrationService,
                                     Role::kMunicipality, Role::kAuditor};

// Which cases a role may touch with an operation.
enum class Scope {
  kNone,                // the role may never call it: PERMISSION_DENIED
  kNoCase,              // not about one case (CreateCase); allowed
  kOwnCases,            // the operator that owns the case
  kAllCases,            // every case
  kAssignedToCaller,    // the municipality the case is currently assigned to
};
Scope ScopeOf(Operation operation, Role role);

// A consent as the policy sees it.
struct ConsentFact {
  v1::ConsentPurpose purpose = v1::CONSENT_PURPOSE_UNSPECIFIED;
  // Empty: whichever municipality the case is assigned to.
  std::string recipient_municipality_code;
  bool withdrawn = false;
};

// What the policy needs to know about a case.
struct CaseFacts {
  std::string operator_id;
  // The municipality the case is assigned to now, if any.
  std::optional<std::string> municipality_code;
  std::vector<ConsentFact> consents;
};

// OK, PERMISSION_DENIED (the role may never do this; says nothing about the
// case), or NOT_FOUND (the case is outside the caller's scope; it is not
// confirmed to exist). `facts` is null for operations without a case.
absl::Status Authorize(const Principal& caller, Operation operation, const CaseFacts* facts,
                       absl::string_view case_name = "case");

// True if an active consent for `purpose` covers `municipality_code`.
bool HasActiveConsent(const CaseFacts& facts, v1::ConsentPurpose purpose,
                      absl::string_view municipality_code);

// The consent purpose under which a document type may leave for a
// municipality (medical record, social documents), if it needs one.
std::optional<v1::ConsentPurpose> ConsentPurposeFor(v1::DocumentType type);
// After Authorize(kReadDocuments): OK if `caller` may receive a document of
// `type`, FAILED_PRECONDITION naming the consent purpose otherwise.
absl::Status MayReceiveDocument(const Principal& caller, const CaseFacts& facts,
                                v1::DocumentType type);
// The withheld-field paths (as ProjectForm names them) that an active consent
// for `purpose` opens to a municipality.
std::vector<std::string> FieldsCoveredBy(v1::ConsentPurpose purpose);

// Reduces `form` to what `caller` may see of this case and lists the removed
// field paths in `withheld` (relative to the form). Operators see all; the
// Immigration Service sees no medical record reference and no documents (it
// does see the special-needs description: it weighs special needs in the
// assignment decision); the assigned municipality sees health details and
// sensitive documents only under an active consent for that purpose. Fields
// the schema does not name (unknown fields) are dropped for everyone. Call
// only after Authorize.
void ProjectForm(const Principal& caller, const CaseFacts& facts, v1::HandoverForm* form,
                 std::vector<std::string>* withheld);

}  // namespace handover::policy
