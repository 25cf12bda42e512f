#include "server/store/case_state.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/resource_names.h"
#include "server/store/row_values.h"
#include "server/store/sealing.h"

namespace handover::store {

std::string CaseEtag(int64_t version) { return absl::StrCat("v", version); }

v1::Consent ConsentFromRow(const std::string& case_id, const ConsentReadRow& row) {
  v1::Consent consent;
  consent.set_name(ConsentName(case_id, row.consent_id));
  consent.set_purpose(static_cast<v1::ConsentPurpose>(row.purpose));
  consent.set_recipient_municipality_code(row.recipient_municipality_code);
  *consent.mutable_given_date() = IntToDate(row.given_date);
  *consent.mutable_record_time() = ToTimestamp(row.record_time);
  if (row.withdraw_time) *consent.mutable_withdraw_time() = ToTimestamp(*row.withdraw_time);
  return consent;
}

CaseSnapshot CaseFromRows(const std::string& case_id, const CaseHeadRow& head,
                          const std::vector<AssignmentReadRow>& assignments,
                          const std::vector<ConsentReadRow>& consents) {
  CaseSnapshot snapshot;
  v1::Case& meta = snapshot.meta;
  meta.set_name(CaseName(case_id));
  meta.set_operator_id(head.operator_id);
  meta.set_version(head.current_version);
  *meta.mutable_create_time() = ToTimestamp(head.create_time);
  *meta.mutable_update_time() = ToTimestamp(head.update_time);
  meta.set_state(v1::CASE_STATE_ASYLUM);
  snapshot.facts.operator_id = head.operator_id;

  if (!assignments.empty()) {
    const AssignmentReadRow& newest = assignments.front();
    meta.set_state(v1::CASE_STATE_ASSIGNED);
    v1::Assignment* assignment = meta.mutable_assignment();
    assignment->set_municipality_code(newest.municipality_code);
    *assignment->mutable_decision_date() = IntToDate(newest.decision_date);
    *assignment->mutable_takeover_date() = IntToDate(newest.takeover_date);
    *assignment->mutable_assign_time() = ToTimestamp(newest.assign_time);
    if (assignments.size() > 1) {
      assignment->set_previous_municipality_code(assignments[1].municipality_code);
    }
    snapshot.facts.municipality_code = newest.municipality_code;
  }

  for (const ConsentReadRow& row : consents) {
    snapshot.facts.consents.push_back(
        policy::ConsentFact{static_cast<v1::ConsentPurpose>(row.purpose),
                            row.recipient_municipality_code, row.withdraw_time.has_value()});
    *meta.add_consents() = ConsentFromRow(case_id, row);
  }
  return snapshot;
}

std::map<std::string, CaseRows> CurrentCasesFromRows(std::map<std::string, CurrentCaseRows>& rows) {
  std::map<std::string, CaseRows> cases;
  for (auto& [id, row] : rows) {
    cases.emplace_hint(cases.end(), id,
                       CaseRows{.head = CaseFromRows(id, row.head, row.assignments, row.consents),
                                .current = std::move(row.current)});
  }
  return cases;
}

}  // namespace handover::store
