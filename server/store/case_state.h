// How a case is shown and what the policy knows of it, derived once from the
// rows every engine reads: the case row, its newest two assignments and its
// consents. The engines map columns to these plain rows (no rule of their
// own); CaseFromRows decides the state (ASSIGNED once there is an
// assignment), the assignment shown (the newest, naming the one before it),
// and the policy facts (the municipality; each consent and whether it is
// withdrawn).
//
// Threads: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "handover/v1/case.pb.h"
#include "server/store/backend.h"
#include "server/store/case_store.h"

namespace handover::store {

// Columns of the cases table (times in micros).
struct CaseHeadRow {
  std::string operator_id;
  int64_t current_version = 0;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

// Columns of the assignments table (dates as YYYYMMDD, row_values.h).
struct AssignmentReadRow {
  std::string municipality_code;
  int64_t decision_date = 0;
  int64_t takeover_date = 0;
  int64_t assign_time = 0;
};

// Columns of the consents table.
struct ConsentReadRow {
  std::string consent_id;
  int purpose = 0;
  std::string recipient_municipality_code;
  int64_t given_date = 0;
  int64_t record_time = 0;
  std::optional<int64_t> withdraw_time;
};

// The etag of a case shown at `version` ("v<version>"): what UpdateForm's
// etag is compared with.
std::string CaseEtag(int64_t version);

// The consent as shown.
v1::Consent ConsentFromRow(const std::string& case_id, const ConsentReadRow& row);

// The case as shown and its facts, without a version. `assignments`: the
// newest first (only the first two are read); `consents`: in record order.
CaseSnapshot CaseFromRows(const std::string& case_id, const CaseHeadRow& head,
                          const std::vector<AssignmentReadRow>& assignments,
                          const std::vector<ConsentReadRow>& consents);

// One live case's rows as ReadTxn::LoadCurrentCases gathers them, from
// several statements, before they become a case.
struct CurrentCaseRows {
  CaseHeadRow head;
  VersionRow current;
  std::vector<AssignmentReadRow> assignments;  // newest first
  std::vector<ConsentReadRow> consents;        // in record order
};
// LoadCurrentCases's answer from the gathered rows (consumed).
std::map<std::string, CaseRows> CurrentCasesFromRows(std::map<std::string, CurrentCaseRows>& rows);

}  // namespace handover::store
