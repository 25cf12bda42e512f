// SqliteTxn: the feed. Revisions are the events table's AUTOINCREMENT keys:
// assigned by the single writer in commit order, never reused (sqlite_sequence
// keeps the highest, also after the rows are compacted away).
#include <SQLiteCpp/Statement.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/resource_names.h"
#include "server/store/event_view.h"
#include "server/store/sealing.h"
#include "server/store/sqlite/case_rows.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "server/store/sqlite/statement_cache.h"

namespace handover::store {
namespace {

// The columns EventFromRow reads, in its order.
constexpr char kEventColumns[] =
    "revision, case_id, kind, version, commit_time, withdrawn_fields, document_id, "
    "document_version, document_type";

v1::ChangeEvent EventFromRow(SQLite::Statement& row) {
  EventRow event{.case_id = row.getColumn(1).getString(),
                 .kind = static_cast<v1::EventKind>(row.getColumn(2).getInt()),
                 .version = row.getColumn(3).getInt64(),
                 .document_id = row.getColumn(6).getString(),
                 .document_version = row.getColumn(7).getInt64(),
                 .document_type = static_cast<v1::DocumentType>(row.getColumn(8).getInt())};
  for (auto path : absl::StrSplit(row.getColumn(5).getString(), ',', absl::SkipEmpty())) {
    event.withdrawn_fields.emplace_back(path);
  }
  return ChangeEventFromRow(row.getColumn(0).getInt64(), event, row.getColumn(4).getInt64());
}

}  // namespace

EventFilterSql EventFilterSqlOf(const policy::EventFilter& filter) {
  EventFilterSql sql;
  if (filter.none) sql.conditions += " AND 0";
  if (filter.operator_id) {
    sql.conditions += " AND operator_id = ?";
    sql.parameters.push_back(*filter.operator_id);
  }
  if (filter.municipality_code) {
    sql.conditions += " AND municipality_code = ?";
    sql.parameters.push_back(*filter.municipality_code);
  }
  if (!filter.with_municipality_only) sql.conditions += " AND municipality_only = 0";
  return sql;
}

int64_t SqliteTxn::AppendEvent(const EventRow& event, int64_t now) {
  Prepared insert(db_,
                  "INSERT INTO events (case_id, kind, version, commit_time, operator_id, "
                  "municipality_code, municipality_only, withdrawn_fields, document_id, "
                  "document_version, document_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, event.case_id);
  insert->bind(2, static_cast<int>(event.kind));
  insert->bind(3, event.version);
  insert->bind(4, now);
  insert->bind(5, event.operator_id);
  if (event.municipality_code) {
    insert->bind(6, *event.municipality_code);
  } else {
    insert->bind(6);
  }
  insert->bind(7, event.municipality_only ? 1 : 0);
  insert->bind(8, absl::StrJoin(event.withdrawn_fields, ","));
  insert->bind(9, event.document_id);
  insert->bind(10, event.document_version);
  insert->bind(11, static_cast<int>(event.document_type));
  insert->exec();
  return db_.getLastInsertRowid();
}

std::vector<v1::ChangeEvent> SqliteTxn::ReadEvents(int64_t after, const policy::EventFilter& filter,
                                                   int limit) {
  const EventFilterSql sql = EventFilterSqlOf(filter);
  Prepared select(db_, absl::StrCat("SELECT ", kEventColumns, " FROM events WHERE revision > ?",
                                    sql.conditions, " ORDER BY revision LIMIT ?"));
  int at = 1;
  select->bind(at++, after);
  for (const std::string& parameter : sql.parameters) select->bind(at++, parameter);
  select->bind(at, limit);
  std::vector<v1::ChangeEvent> events;
  while (select->executeStep()) events.push_back(EventFromRow(*select));
  return events;
}

std::vector<CommittedEvent> SqliteTxn::EventsAfter(int64_t after) {
  Prepared select(db_,
                  absl::StrCat("SELECT ", kEventColumns,
                               ", operator_id, municipality_code, municipality_only FROM events "
                               "WHERE revision > ? ORDER BY revision"));
  select->bind(1, after);
  std::vector<CommittedEvent> events;
  while (select->executeStep()) {
    CommittedEvent committed{.event = EventFromRow(*select)};
    committed.audience.operator_id = select->getColumn(9).getString();
    if (!select->getColumn(10).isNull()) {
      committed.audience.municipality_code = select->getColumn(10).getString();
    }
    committed.audience.municipality_only = select->getColumn(11).getInt() != 0;
    events.push_back(std::move(committed));
  }
  return events;
}

int64_t SqliteTxn::HeadRevision() {
  Prepared head(db_, "SELECT seq FROM sqlite_sequence WHERE name = 'events'");
  return head->executeStep() ? head->getColumn(0).getInt64() : 0;
}

int64_t SqliteTxn::CompactedThrough() {
  Prepared row(db_, "SELECT compacted_through FROM feed_state");
  row->executeStep();
  return row->getColumn(0).getInt64();
}

std::string SqliteTxn::FeedEpoch() {
  Prepared row(db_, "SELECT feed_epoch FROM feed_state");
  row->executeStep();
  return row->getColumn(0).getString();
}

int64_t SqliteTxn::CompactEvents(int64_t before_micros) {
  Prepared last(db_, "SELECT MAX(revision) FROM events WHERE commit_time < ?");
  last->bind(1, before_micros);
  last->executeStep();
  const int64_t compacted = CompactedThrough();
  if (last->getColumn(0).isNull() || last->getColumn(0).getInt64() <= compacted) return compacted;
  const int64_t through = last->getColumn(0).getInt64();
  Prepared drop(db_, "DELETE FROM events WHERE revision <= ?");
  drop->bind(1, through);
  drop->exec();
  Prepared mark(db_, "UPDATE feed_state SET compacted_through = ?");
  mark->bind(1, through);
  mark->exec();
  return through;
}

}  // namespace handover::store
