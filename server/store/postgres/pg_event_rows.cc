// PgTxn: the feed.
//
// Revisions come from the one-row counter feed_head, never from a sequence:
// AppendEvent takes the next one with UPDATE ... RETURNING in the write
// transaction that inserts the event. The UPDATE locks the row until that
// transaction ends, so
//  - no other transaction (on any replica) can take a revision until this
//    one has committed or rolled back: revision order is commit order;
//  - PostgreSQL releases the lock only after the commit is visible, so any
//    snapshot that sees revision r + 1 also sees r;
//  - a rollback undoes the UPDATE with the rest: its numbers are taken by
//    the next transaction and no gap is left.
// A reader holding "revision > cursor" therefore never skips a late commit,
// which a sequence (values handed out at INSERT, committed in any order)
// would let happen. Compaction and restores move the counter forward only.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/resource_names.h"
#include "server/store/event_view.h"
#include "server/store/postgres/pg_txn.h"
#include "server/store/postgres/pg_values.h"
#include "server/store/sealing.h"

namespace handover::store {
namespace {

// The columns EventFromRow reads, in its order.
constexpr char kEventColumns[] =
    "revision, case_id, kind, version, commit_time, withdrawn_fields, document_id, "
    "document_version, document_type";

v1::ChangeEvent EventFromRow(const pqxx::row& row) {
  EventRow event{.case_id = row[1].c_str(),
                 .kind = static_cast<v1::EventKind>(row[2].as<int>()),
                 .version = row[3].as<int64_t>(),
                 .document_id = row[6].c_str(),
                 .document_version = row[7].as<int64_t>(),
                 .document_type = static_cast<v1::DocumentType>(row[8].as<int>())};
  for (auto path : absl::StrSplit(row[5].c_str(), ',', absl::SkipEmpty())) {
    event.withdrawn_fields.emplace_back(path);
  }
  return ChangeEventFromRow(row[0].as<int64_t>(), event, row[4].as<int64_t>());
}

}  // namespace

PgEventFilter PgEventFilterOf(const policy::EventFilter& filter, int first) {
  PgEventFilter sql;
  if (filter.none) sql.conditions += " AND false";
  if (filter.operator_id) {
    absl::StrAppend(&sql.conditions, " AND operator_id = $", first + sql.parameters.size());
    sql.parameters.push_back(*filter.operator_id);
  }
  if (filter.municipality_code) {
    absl::StrAppend(&sql.conditions, " AND municipality_code = $", first + sql.parameters.size());
    sql.parameters.push_back(*filter.municipality_code);
  }
  if (!filter.with_municipality_only) sql.conditions += " AND NOT municipality_only";
  return sql;
}

int64_t PgTxn::AppendEvent(const EventRow& event, int64_t now) {
  if (wrote_events_) *wrote_events_ = true;
  const pqxx::result revision = Run(
      "WITH head AS (UPDATE feed_head SET revision = revision + 1 RETURNING revision) "
      "INSERT INTO events (revision, case_id, kind, version, commit_time, operator_id, "
      "municipality_code, municipality_only, withdrawn_fields, document_id, document_version, "
      "document_type) SELECT head.revision, $1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8, $9, $10, "
      "$11 FROM head RETURNING revision",
      event.case_id, static_cast<int>(event.kind), event.version, now, event.operator_id,
      event.municipality_code.value_or(""), event.municipality_only,
      absl::StrJoin(event.withdrawn_fields, ","), event.document_id, event.document_version,
      static_cast<int>(event.document_type));
  return revision[0][0].as<int64_t>();
}

std::vector<v1::ChangeEvent> PgTxn::ReadEvents(int64_t after, const policy::EventFilter& filter,
                                               int limit) {
  PgEventFilter sql = PgEventFilterOf(filter, 2);
  sql.parameters.insert(sql.parameters.begin(), std::to_string(after));
  sql.parameters.push_back(std::to_string(limit));
  std::vector<v1::ChangeEvent> events;
  for (const pqxx::row& row :
       Run(absl::StrCat("SELECT ", kEventColumns, " FROM events WHERE revision > $1",
                        sql.conditions, " ORDER BY revision LIMIT $", sql.parameters.size()),
           pqxx::prepare::make_dynamic_params(sql.parameters))) {
    events.push_back(EventFromRow(row));
  }
  return events;
}

std::vector<CommittedEvent> PgTxn::EventsAfter(int64_t after) {
  std::vector<CommittedEvent> events;
  for (const pqxx::row& row :
       Run(absl::StrCat("SELECT ", kEventColumns,
                        ", operator_id, municipality_code, municipality_only FROM events "
                        "WHERE revision > $1 ORDER BY revision"),
           after)) {
    CommittedEvent committed{.event = EventFromRow(row)};
    committed.audience.operator_id = row[9].c_str();
    if (!row[10].is_null()) committed.audience.municipality_code = row[10].c_str();
    committed.audience.municipality_only = row[11].as<bool>();
    events.push_back(std::move(committed));
  }
  return events;
}

int64_t PgTxn::HeadRevision() { return Run("SELECT revision FROM feed_head")[0][0].as<int64_t>(); }

int64_t PgTxn::CompactedThrough() {
  return Run("SELECT compacted_through FROM feed_head")[0][0].as<int64_t>();
}

std::string PgTxn::FeedEpoch() { return Run("SELECT feed_epoch FROM feed_head")[0][0].c_str(); }

int64_t PgTxn::CompactEvents(int64_t before_micros) {
  const pqxx::result last =
      Run("SELECT MAX(revision) FROM events WHERE commit_time < $1", before_micros);
  const int64_t compacted = CompactedThrough();
  if (last[0][0].is_null() || last[0][0].as<int64_t>() <= compacted) return compacted;
  const int64_t through = last[0][0].as<int64_t>();
  if (wrote_events_) *wrote_events_ = true;
  Run("DELETE FROM events WHERE revision <= $1", through);
  Run("UPDATE feed_head SET compacted_through = $1", through);
  return through;
}

}  // namespace handover::store
