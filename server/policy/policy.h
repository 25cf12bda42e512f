// The one place that decides who may do what to which case, which view of
// the form they get, and which feed events they see. Pure functions over
// plain facts: no I/O, no gRPC, no SQL.
//
// Each rule here has no other home:
// - the access table (kAccessTable in policy.cc), read through ScopeOf,
//   CheckRole (the role check every handler runs) and Authorize;
//   tests/unit/policy_table_test.cc walks every operation x role x case
//   relation x consent state against it;
// - feed-event visibility: EventFilterFor decides it, MatchesEvent and
//   MaySeeEvent apply it, the store's SQL and the feed hub's tail apply the
//   same filter; tests/sqlite/feed_visibility_test.cc checks all of them;
// - consent-gated content (kConsentGatedContent in policy.cc), read by
//   ProjectForm, FieldsCoveredBy (withdrawn_fields) and ConsentPurposeFor.
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
  kWhoAmI,         // the caller's own identity, about no case
};
inline constexpr Operation kAllOperations[] = {
    Operation::kCreateCase,     Operation::kGetCase,       Operation::kListCases,
    Operation::kUpdateForm,     Operation::kListVersions,  Operation::kGetVersion,
    Operation::kAssignCase,     Operation::kRecordConsent, Operation::kWithdrawConsent,
    Operation::kReadFeed,       Operation::kEraseCase,     Operation::kReadAccessLog,
    Operation::kUploadDocument, Operation::kReadDocuments, Operation::kWhoAmI};
inline constexpr Role kAllRoles[] = {Role::kOperator, Role::kImmigrationService,
                                     Role::kMunicipality, Role::kAuditor};

// Which cases a role may touch with an operation.
enum class Scope {
  kNone,              // the role may never call it: PERMISSION_DENIED
  kNoCase,            // not about one case (CreateCase, the access log, WhoAmI); allowed
  kOwnCases,          // the operator that owns the case
  kAllCases,          // every case
  kAssignedToCaller,  // the municipality the case is currently assigned to
};
Scope ScopeOf(Operation operation, Role role);

// Who an event of the change feed is addressed to, recorded with the event
// when it is written.
struct EventAudience {
  // The operator that owns the event's case.
  std::string operator_id;
  // The municipality the event is addressed to, if any (the case's
  // municipality when the event was written).
  std::optional<std::string> municipality_code;
  // Only that municipality sees it: a revocation, telling the old recipient to
  // delete what it holds.
  bool municipality_only = false;
};

// The feed-visibility rule: whether `caller` may see an event with `audience`
// in Sync and Watch, i.e. MatchesEvent(EventFilterFor(caller), audience). It
// follows the kReadFeed row of the access table: an operator sees its own
// cases' events, the Immigration Service every event, a municipality the
// events addressed to it; revocations (municipality_only) only their
// municipality sees; an auditor sees none.
bool MaySeeEvent(const Principal& caller, const EventAudience& audience);

// The feed-visibility rule for one caller as a conjunction of tests on the
// audience: EventFilterFor is where it is decided. A backend turns the filter
// into its query (the backend's ReadEvents; SQLite: EventFilterSqlOf) and the feed
// hub applies it to its in-memory tail. tests/sqlite/feed_visibility_test.cc
// checks MaySeeEvent against a table of its own, and the store's SQL and the
// hub's tail against MaySeeEvent, over every role x audience.
struct EventFilter {
  // Matches no event at all.
  bool none = false;
  // If set, only events of this operator's cases.
  std::optional<std::string> operator_id;
  // If set, only events addressed to this municipality.
  std::optional<std::string> municipality_code;
  // False: events with municipality_only set never match.
  bool with_municipality_only = false;
};
EventFilter EventFilterFor(const Principal& caller);
bool MatchesEvent(const EventFilter& filter, const EventAudience& audience);

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

// The role check, the one there is: OK if `caller`'s role may call
// `operation` at all (its scope is not kNone), PERMISSION_DENIED "role <role>
// may not call this method" otherwise. Every handler of every service runs it
// before anything about a case is looked at; Authorize starts with it.
absl::Status CheckRole(const Principal& caller, Operation operation);

// OK, PERMISSION_DENIED (CheckRole: the role may never do this; says nothing
// about the case), or NOT_FOUND (the case is outside the caller's scope; it is not
// confirmed to exist). `facts` null means no case: OK for an operation of scope
// kNoCase, NOT_FOUND for the others.
absl::Status Authorize(const Principal& caller, Operation operation, const CaseFacts* facts,
                       absl::string_view case_name = "case");

// True if an active consent for `purpose` covers `municipality_code`.
bool HasActiveConsent(const CaseFacts& facts, v1::ConsentPurpose purpose,
                      absl::string_view municipality_code);

// Consent-gated content (health details, sensitive documents) is listed once,
// in kConsentGatedContent (policy.cc): ConsentPurposeFor, FieldsCoveredBy and
// the municipality's view in ProjectForm all read that table.

// The consent purpose under which a document type may leave for a
// municipality (medical record, social documents), if it needs one.
std::optional<v1::ConsentPurpose> ConsentPurposeFor(v1::DocumentType type);
// After Authorize(kReadDocuments): OK if `caller` may receive a document of
// `type`, FAILED_PRECONDITION naming the consent purpose otherwise.
absl::Status MayReceiveDocument(const Principal& caller, const CaseFacts& facts,
                                v1::DocumentType type);
// The withheld-field paths (as ProjectForm names them) that an active consent
// for `purpose` opens to a municipality: what a withdrawal of it lists in the
// event's withdrawn_fields.
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
