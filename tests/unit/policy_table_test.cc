// Walks the whole policy table: every operation x calling organisation x case
// state x consent state, against the rules written out independently below,
// and checks the view each allowed reader gets.
#include <google/protobuf/unknown_field_set.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/policy/policy.h"

namespace handover::policy {
namespace {

struct NamedCaller {
  const char* name;
  Principal principal;
};

const std::vector<NamedCaller> kCallers = {
    {"owning operator", {Role::kOperator, "redcross"}},
    {"other operator", {Role::kOperator, "hanstholm"}},
    {"immigration service", {Role::kImmigrationService, "uds"}},
    {"municipality 760", {Role::kMunicipality, "760"}},
    {"auditor", {Role::kAuditor, "dpo"}},
};

enum class CaseState { kUnassigned, kAssignedToMe, kAssignedElsewhere, kPreviouslyAssignedToMe };
enum class ConsentState { kNone, kActive, kActiveForOtherMunicipality, kWithdrawn };

CaseFacts FactsFor(CaseState state, ConsentState consent) {
  CaseFacts facts;
  facts.operator_id = "redcross";
  switch (state) {
    case CaseState::kUnassigned:
      break;
    case CaseState::kAssignedToMe:
      facts.municipality_code = "760";
      break;
    case CaseState::kAssignedElsewhere:
      facts.municipality_code = "147";
      break;
    // Was 760's, re-assigned to 330: the facts only know the current one.
    case CaseState::kPreviouslyAssignedToMe:
      facts.municipality_code = "330";
      break;
  }
  for (auto purpose : {v1::CONSENT_PURPOSE_HEALTH_NEEDS, v1::CONSENT_PURPOSE_MEDICAL_RECORD}) {
    switch (consent) {
      case ConsentState::kNone:
        break;
      case ConsentState::kActive:
        facts.consents.push_back({purpose, "", false});
        break;
      case ConsentState::kActiveForOtherMunicipality:
        facts.consents.push_back({purpose, "147", false});
        break;
      case ConsentState::kWithdrawn:
        facts.consents.push_back({purpose, "", true});
        break;
    }
  }
  return facts;
}

// The rules as the issue and DESIGN.md state them.
absl::StatusCode Expected(Operation op, const NamedCaller& caller, CaseState state) {
  using absl::StatusCode;
  const Role role = caller.principal.role;
  const bool owner = role == Role::kOperator && caller.principal.organisation_id == "redcross";
  const bool mine = role == Role::kMunicipality && state == CaseState::kAssignedToMe;
  switch (op) {
    case Operation::kCreateCase:
      return role == Role::kOperator ? StatusCode::kOk : StatusCode::kPermissionDenied;
    case Operation::kAssignCase:
      return role == Role::kImmigrationService ? StatusCode::kOk : StatusCode::kPermissionDenied;
    case Operation::kReadAccessLog:
      return role == Role::kAuditor ? StatusCode::kOk : StatusCode::kPermissionDenied;
    case Operation::kWhoAmI:  // about the caller itself, whatever the case
      return StatusCode::kOk;
    case Operation::kUpdateForm:
    case Operation::kEraseCase:
    case Operation::kUploadDocument:
    case Operation::kRecordConsent:
    case Operation::kWithdrawConsent:
      if (role != Role::kOperator) return StatusCode::kPermissionDenied;
      return owner ? StatusCode::kOk : StatusCode::kNotFound;
    case Operation::kGetCase:
    case Operation::kListCases:
    case Operation::kListVersions:
    case Operation::kGetVersion:
    case Operation::kReadFeed:
      if (role == Role::kAuditor) return StatusCode::kPermissionDenied;
      if (role == Role::kImmigrationService) return StatusCode::kOk;
      if (role == Role::kOperator) return owner ? StatusCode::kOk : StatusCode::kNotFound;
      return mine ? StatusCode::kOk : StatusCode::kNotFound;
    case Operation::kReadDocuments:
      if (role == Role::kAuditor || role == Role::kImmigrationService) {
        return StatusCode::kPermissionDenied;
      }
      if (role == Role::kOperator) return owner ? StatusCode::kOk : StatusCode::kNotFound;
      return mine ? StatusCode::kOk : StatusCode::kNotFound;
  }
  return StatusCode::kInternal;
}

// What a reader allowed to see the case may not see of the sample form.
std::vector<std::string> ExpectedWithheld(const NamedCaller& caller, ConsentState consent) {
  switch (caller.principal.role) {
    case Role::kImmigrationService:
      return {"health.medical_record_reference", "documents"};
    case Role::kMunicipality:
      if (consent == ConsentState::kActive) return {};
      return {"health.special_needs_description", "health.medical_record_reference",
              "documents(DOCUMENT_TYPE_MEDICAL_RECORD)"};
    default:
      return {};
  }
}

v1::HandoverForm FormWithEverything() {
  v1::HandoverForm form;
  form.mutable_identity()->set_given_names("Testa Fiktiva");
  form.mutable_health()->set_special_needs(true);
  form.mutable_health()->set_special_needs_description("fictional need");
  form.mutable_health()->mutable_medical_record_reference()->set_system("E-mar");
  form.add_documents()->set_type(v1::DOCUMENT_TYPE_RESIDENCE_PERMIT);
  form.add_documents()->set_type(v1::DOCUMENT_TYPE_MEDICAL_RECORD);
  return form;
}

TEST(PolicyTable, EveryOperationRoleCaseStateAndConsentState) {
  int walked = 0;
  for (Operation op : kAllOperations) {
    for (const NamedCaller& caller : kCallers) {
      for (CaseState state : {CaseState::kUnassigned, CaseState::kAssignedToMe,
                              CaseState::kAssignedElsewhere, CaseState::kPreviouslyAssignedToMe}) {
        for (ConsentState consent :
             {ConsentState::kNone, ConsentState::kActive, ConsentState::kActiveForOtherMunicipality,
              ConsentState::kWithdrawn}) {
          ++walked;
          const CaseFacts facts = FactsFor(state, consent);
          const std::string where =
              absl::StrCat("operation ", static_cast<int>(op), ", ", caller.name, ", case state ",
                           static_cast<int>(state), ", consent state ", static_cast<int>(consent));
          const absl::Status status = Authorize(caller.principal, op, &facts, "cases/x");
          ASSERT_EQ(status.code(), Expected(op, caller, state)) << where << ": " << status;
          if (status.ok() && op == Operation::kReadDocuments) {
            // Sensitive documents leave for a municipality only under consent.
            const bool consented =
                caller.principal.role == Role::kOperator || consent == ConsentState::kActive;
            EXPECT_EQ(MayReceiveDocument(caller.principal, facts, v1::DOCUMENT_TYPE_MEDICAL_RECORD)
                          .code(),
                      consented ? absl::StatusCode::kOk : absl::StatusCode::kFailedPrecondition)
                << where;
            EXPECT_TRUE(
                MayReceiveDocument(caller.principal, facts, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT)
                    .ok())
                << where;
          }
          if (!status.ok() || op == Operation::kCreateCase || op == Operation::kAssignCase ||
              op == Operation::kReadAccessLog || op == Operation::kWhoAmI ||
              caller.principal.role == Role::kOperator) {
            continue;
          }
          v1::HandoverForm form = FormWithEverything();
          std::vector<std::string> withheld;
          ProjectForm(caller.principal, facts, &form, &withheld);
          EXPECT_EQ(withheld, ExpectedWithheld(caller, consent)) << where;
          for (const std::string& path : withheld) {
            if (path == "health.medical_record_reference") {
              EXPECT_FALSE(form.health().has_medical_record_reference()) << where;
            }
            if (path == "health.special_needs_description") {
              EXPECT_TRUE(form.health().special_needs_description().empty()) << where;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(walked, 15 * 5 * 4 * 4);
}

TEST(PolicyTable, OperatorViewIsTheWholeForm) {
  const CaseFacts facts = FactsFor(CaseState::kAssignedToMe, ConsentState::kNone);
  v1::HandoverForm form = FormWithEverything();
  std::vector<std::string> withheld;
  ProjectForm({Role::kOperator, "redcross"}, facts, &form, &withheld);
  EXPECT_TRUE(withheld.empty());
  EXPECT_EQ(form.SerializeAsString(), FormWithEverything().SerializeAsString());
}

// The Immigration Service weighs special needs in its assignment decision: it
// sees the description (and the proto, README and this test say so), never
// the medical record reference.
TEST(PolicyTable, ImmigrationServiceSeesTheSpecialNeedsDescription) {
  const CaseFacts facts = FactsFor(CaseState::kUnassigned, ConsentState::kNone);
  v1::HandoverForm form = FormWithEverything();
  std::vector<std::string> withheld;
  ProjectForm({Role::kImmigrationService, "uds"}, facts, &form, &withheld);
  EXPECT_EQ(form.health().special_needs_description(), "fictional need");
  EXPECT_FALSE(form.health().has_medical_record_reference());
}

// A field the schema does not name (stored before such fields were refused)
// never leaves, for any role, at the top level or nested in health.
TEST(PolicyTable, UnknownFieldsNeverLeave) {
  for (const NamedCaller& caller : kCallers) {
    for (ConsentState consent : {ConsentState::kNone, ConsentState::kActive}) {
      const CaseFacts facts = FactsFor(CaseState::kAssignedToMe, consent);
      v1::HandoverForm form = FormWithEverything();
      form.GetReflection()->MutableUnknownFields(&form)->AddLengthDelimited(999, "probe");
      form.mutable_health()
          ->GetReflection()
          ->MutableUnknownFields(form.mutable_health())
          ->AddVarint(77, 1);
      std::vector<std::string> withheld;
      ProjectForm(caller.principal, facts, &form, &withheld);
      EXPECT_TRUE(form.GetReflection()->GetUnknownFields(form).empty()) << caller.name;
      EXPECT_TRUE(form.health().GetReflection()->GetUnknownFields(form.health()).empty())
          << caller.name;
    }
  }
}

TEST(PolicyTable, RefusalsNeverNameTheCaseState) {
  const CaseFacts facts = FactsFor(CaseState::kAssignedElsewhere, ConsentState::kNone);
  const absl::Status hidden =
      Authorize({Role::kMunicipality, "760"}, Operation::kGetCase, &facts, "cases/x");
  const absl::Status missing =
      Authorize({Role::kMunicipality, "760"}, Operation::kGetCase, nullptr, "cases/x");
  EXPECT_EQ(hidden, missing) << "a hidden case must look exactly like a missing one";
}

TEST(PolicyTable, ConsentForOneMunicipalityDoesNotCoverAnother) {
  CaseFacts facts;
  facts.consents.push_back({v1::CONSENT_PURPOSE_MEDICAL_RECORD, "147", false});
  EXPECT_TRUE(HasActiveConsent(facts, v1::CONSENT_PURPOSE_MEDICAL_RECORD, "147"));
  EXPECT_FALSE(HasActiveConsent(facts, v1::CONSENT_PURPOSE_MEDICAL_RECORD, "760"));
  EXPECT_FALSE(HasActiveConsent(facts, v1::CONSENT_PURPOSE_HEALTH_NEEDS, "147"));
}

// The one role check: refuses exactly the roles the table gives no scope,
// with the message Authorize gives them.
TEST(PolicyTable, CheckRoleIsTheTablesScopeNone) {
  for (Operation op : kAllOperations) {
    for (const NamedCaller& caller : kCallers) {
      const absl::Status role = CheckRole(caller.principal, op);
      EXPECT_EQ(role.ok(), ScopeOf(op, caller.principal.role) != Scope::kNone) << caller.name;
      if (!role.ok()) {
        EXPECT_EQ(role.code(), absl::StatusCode::kPermissionDenied);
        EXPECT_EQ(role, Authorize(caller.principal, op, nullptr)) << caller.name;
      }
    }
  }
}

// One table drives both: what a municipality without a consent loses from
// the form is exactly what a withdrawal of that consent tells it to delete
// (withdrawn_fields), purpose by purpose, and a document type's consent
// purpose is the one whose withdrawal names documents of that type.
TEST(PolicyTable, ProjectionAndWithdrawnFieldsAgreePerPurpose) {
  v1::HandoverForm everything = FormWithEverything();
  everything.add_documents()->set_type(v1::DOCUMENT_TYPE_SOCIAL_DOCUMENTS);
  const Principal municipality{Role::kMunicipality, "760"};
  const v1::ConsentPurpose purposes[] = {v1::CONSENT_PURPOSE_HEALTH_NEEDS,
                                         v1::CONSENT_PURPOSE_MEDICAL_RECORD,
                                         v1::CONSENT_PURPOSE_SOCIAL_DOCUMENTS};
  std::vector<std::string> all_covered;
  for (v1::ConsentPurpose missing : purposes) {
    CaseFacts facts;
    facts.operator_id = "redcross";
    facts.municipality_code = "760";
    for (v1::ConsentPurpose purpose : purposes) {
      if (purpose != missing) facts.consents.push_back({purpose, "", false});
    }
    v1::HandoverForm form = everything;
    std::vector<std::string> withheld;
    ProjectForm(municipality, facts, &form, &withheld);
    const std::vector<std::string> covered = FieldsCoveredBy(missing);
    EXPECT_FALSE(covered.empty()) << v1::ConsentPurpose_Name(missing);
    EXPECT_EQ(withheld, covered) << v1::ConsentPurpose_Name(missing);
    all_covered.insert(all_covered.end(), covered.begin(), covered.end());
  }
  // Without any consent, all of it, in the same order.
  CaseFacts none;
  none.municipality_code = "760";
  v1::HandoverForm form = everything;
  std::vector<std::string> withheld;
  ProjectForm(municipality, none, &form, &withheld);
  EXPECT_EQ(withheld, all_covered);
  EXPECT_TRUE(FieldsCoveredBy(v1::CONSENT_PURPOSE_UNSPECIFIED).empty());

  for (int i = v1::DocumentType_MIN; i <= v1::DocumentType_MAX; ++i) {
    if (!v1::DocumentType_IsValid(i)) continue;
    const auto type = static_cast<v1::DocumentType>(i);
    const std::string path = absl::StrCat("documents(", v1::DocumentType_Name(type), ")");
    std::optional<v1::ConsentPurpose> named_by;
    for (v1::ConsentPurpose purpose : purposes) {
      const std::vector<std::string> covered = FieldsCoveredBy(purpose);
      if (std::find(covered.begin(), covered.end(), path) != covered.end()) named_by = purpose;
    }
    EXPECT_EQ(ConsentPurposeFor(type), named_by) << path;
  }
}

}  // namespace
}  // namespace handover::policy
