// How the SQLite backend spells values in its rows, shared by its row files
// (case_rows.cc, event_rows.cc, document_rows.cc, access_log_rows.cc).
#pragma once

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <string>
#include <vector>

#include "handover/v1/types.pb.h"
#include "server/policy/policy.h"
#include "server/store/row_values.h"

namespace handover::store {

// A BLOB column's bytes.
std::string Blob(const SQLite::Column& column);
void BindBlob(SQLite::Statement& statement, int index, const std::string& bytes);

// " IN (?, ?, ...)" with one mark per blob, and binding them from `first`.
std::string InMarks(size_t count);
void BindBlobs(SQLite::Statement& statement, int first, const std::vector<std::string>& blobs);
// " IN (SELECT value FROM json_each(?))", bound to IdList(ids): a list as one
// parameter, so the statement's text (and its cached statement) is the same
// whatever the number of ids.
extern const char kInIdList[];
std::string IdList(const std::vector<std::string>& ids);

// The policy's event filter over the events table: terms to append to a
// WHERE clause (each " AND ..."), and the values of their parameters in order.
// The policy decides; this only spells its filter in SQL (NULL
// municipality_code never equals a code, as in policy::MatchesEvent).
// tests/sqlite/feed_visibility_test.cc holds it to policy::MatchesEvent.
struct EventFilterSql {
  std::string conditions;
  std::vector<std::string> parameters;
};
EventFilterSql EventFilterSqlOf(const policy::EventFilter& filter);

}  // namespace handover::store
