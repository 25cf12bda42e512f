// SqliteTxn: the access log (append-only, with an index by case) and its
// signed checkpoints.

#include <SQLiteCpp/Statement.h>

#include "absl/strings/str_cat.h"
#include "common/serialize.h"
#include "server/store/sealing.h"
#include "server/store/sqlite/case_rows.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "server/store/sqlite/statement_cache.h"

namespace handover::store {
namespace {

v1::AccessLogEntry EntryFromRow(SQLite::Statement& row, int record_column, int hash_column) {
  v1::AccessLogEntry entry;
  entry.mutable_record()->ParseFromString(Blob(row.getColumn(record_column)));
  entry.set_hash(Blob(row.getColumn(hash_column)));
  return entry;
}

}  // namespace

std::optional<AccessHead> SqliteTxn::LastAccessEntry() {
  Prepared last(db_, "SELECT sequence, hash FROM access_log ORDER BY sequence DESC LIMIT 1");
  if (!last->executeStep()) return std::nullopt;
  return AccessHead{.sequence = last->getColumn(0).getInt64(), .hash = Blob(last->getColumn(1))};
}

int64_t SqliteTxn::SignedThrough() {
  Prepared signed_through(db_, "SELECT COALESCE(MAX(sequence), 0) FROM checkpoints");
  signed_through->executeStep();
  return signed_through->getColumn(0).getInt64();
}

void SqliteTxn::AppendAccessEntry(const v1::AccessLogEntry& entry) {
  const v1::AccessRecord& record = entry.record();
  const std::string bytes = SerializeDeterministic(record);
  Prepared insert(db_,
                  "INSERT INTO access_log (sequence, time, organisation, actor, record, "
                  "hash) VALUES (?, ?, ?, ?, ?, ?)");
  insert->bind(1, record.sequence());
  insert->bind(2, ToMicros(record.time()));
  insert->bind(3, record.organisation());
  insert->bind(4, record.actor());
  BindBlob(*insert, 5, bytes);
  BindBlob(*insert, 6, entry.hash());
  insert->exec();
  for (const std::string& name : record.case_names()) {
    Prepared index(db_,
                   "INSERT OR IGNORE INTO access_log_cases (case_id, sequence) "
                   "VALUES (?, ?)");
    index->bind(1, name.substr(name.find('/') + 1));
    index->bind(2, record.sequence());
    index->exec();
  }
}

void SqliteTxn::InsertCheckpoint(const v1::Checkpoint& checkpoint) {
  Prepared insert(
      db_, "INSERT INTO checkpoints (sequence, head_hash, time, signature) VALUES (?, ?, ?, ?)");
  insert->bind(1, checkpoint.sequence());
  BindBlob(*insert, 2, checkpoint.head_hash());
  insert->bind(3, ToMicros(checkpoint.time()));
  BindBlob(*insert, 4, checkpoint.signature());
  insert->exec();
}

std::vector<v1::AccessLogEntry> SqliteTxn::QueryAccessRecords(const AccessQuery& query) {
  std::string sql = "SELECT l.record, l.hash FROM access_log l";
  if (!query.case_id.empty()) {
    sql += " JOIN access_log_cases c ON c.sequence = l.sequence AND c.case_id = :case";
  }
  sql += " WHERE l.sequence > :after";
  if (!query.organisation.empty()) sql += " AND l.organisation = :organisation";
  if (!query.actor.empty()) sql += " AND l.actor = :actor";
  if (query.start_micros > 0) sql += " AND l.time >= :start";
  if (query.end_micros > 0) sql += " AND l.time < :end";
  sql += " ORDER BY l.sequence LIMIT :limit";
  Prepared select(db_, sql);
  if (!query.case_id.empty()) select->bind(":case", query.case_id);
  select->bind(":after", query.after_sequence);
  if (!query.organisation.empty()) select->bind(":organisation", query.organisation);
  if (!query.actor.empty()) select->bind(":actor", query.actor);
  if (query.start_micros > 0) select->bind(":start", query.start_micros);
  if (query.end_micros > 0) select->bind(":end", query.end_micros);
  select->bind(":limit", query.page_size);
  std::vector<v1::AccessLogEntry> entries;
  while (select->executeStep()) entries.push_back(EntryFromRow(*select, 0, 1));
  return entries;
}

std::vector<AccessExportItem> SqliteTxn::ExportAccessRecords(int64_t after_sequence, int limit) {
  Prepared select(db_,
                  "SELECT l.record, l.hash, c.head_hash, c.time, c.signature "
                  "FROM access_log l LEFT JOIN checkpoints c ON c.sequence = l.sequence "
                  "WHERE l.sequence > ? ORDER BY l.sequence LIMIT ?");
  select->bind(1, after_sequence);
  select->bind(2, limit);
  std::vector<AccessExportItem> items;
  while (select->executeStep()) {
    v1::AccessLogEntry entry = EntryFromRow(*select, 0, 1);
    const int64_t sequence = entry.record().sequence();
    items.push_back({std::move(entry)});
    if (!select->getColumn(2).isNull()) {
      v1::Checkpoint checkpoint;
      checkpoint.set_sequence(sequence);
      checkpoint.set_head_hash(Blob(select->getColumn(2)));
      *checkpoint.mutable_time() = ToTimestamp(select->getColumn(3).getInt64());
      checkpoint.set_signature(Blob(select->getColumn(4)));
      items.push_back({std::move(checkpoint)});
    }
  }
  return items;
}

std::vector<v1::AccessRecord> SqliteTxn::RecordsForCases(const std::vector<std::string>& case_ids) {
  std::vector<v1::AccessRecord> records;
  if (case_ids.empty()) return records;
  Prepared select(db_, absl::StrCat("SELECT DISTINCT l.sequence, l.record FROM access_log l JOIN "
                                    "access_log_cases c ON c.sequence = l.sequence WHERE c.case_id",
                                    kInIdList, " ORDER BY l.sequence"));
  select->bind(1, IdList(case_ids));
  while (select->executeStep()) {
    v1::AccessRecord record;
    record.ParseFromString(Blob(select->getColumn(1)));
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace handover::store
