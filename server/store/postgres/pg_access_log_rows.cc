// PgTxn: the access log (append-only, with an index by case) and its signed
// checkpoints. Every write transaction holds the access_head row from its
// start (pg_backend.cc), so LastAccessEntry in a write is the entry the
// previous committed append wrote, on whichever replica: one chain.
#include "absl/strings/str_cat.h"
#include "common/serialize.h"
#include "server/store/postgres/pg_txn.h"
#include "server/store/postgres/pg_values.h"
#include "server/store/sealing.h"

namespace handover::store {
namespace {

v1::AccessLogEntry EntryFromRow(const pqxx::row& row, int record_column, int hash_column) {
  v1::AccessLogEntry entry;
  entry.mutable_record()->ParseFromString(Bytes(row[record_column]));
  entry.set_hash(Bytes(row[hash_column]));
  return entry;
}

}  // namespace

std::optional<AccessHead> PgTxn::LastAccessEntry() {
  const pqxx::result last =
      Run("SELECT sequence, hash FROM access_log ORDER BY sequence DESC LIMIT 1");
  if (last.empty()) return std::nullopt;
  return AccessHead{.sequence = last[0][0].as<int64_t>(), .hash = Bytes(last[0][1])};
}

int64_t PgTxn::SignedThrough() {
  return Run("SELECT COALESCE(MAX(sequence), 0) FROM checkpoints")[0][0].as<int64_t>();
}

void PgTxn::AppendAccessEntry(const v1::AccessLogEntry& entry) {
  const v1::AccessRecord& record = entry.record();
  std::vector<std::string> case_ids;
  for (const std::string& name : record.case_names()) {
    case_ids.push_back(name.substr(name.find('/') + 1));
  }
  Run("INSERT INTO access_log (sequence, time, organisation, actor, record, hash) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      record.sequence(), ToMicros(record.time()), record.organisation(), record.actor(),
      Bytea(SerializeDeterministic(record)), Bytea(entry.hash()));
  if (case_ids.empty()) return;
  Run("INSERT INTO access_log_cases (case_id, sequence) "
      "SELECT DISTINCT unnest($1::text[]), $2::bigint ON CONFLICT DO NOTHING",
      TextArray(case_ids), record.sequence());
}

void PgTxn::InsertCheckpoint(const v1::Checkpoint& checkpoint) {
  Run("INSERT INTO checkpoints (sequence, head_hash, time, signature) VALUES ($1, $2, $3, $4)",
      checkpoint.sequence(), Bytea(checkpoint.head_hash()), ToMicros(checkpoint.time()),
      Bytea(checkpoint.signature()));
}

std::vector<v1::AccessLogEntry> PgTxn::QueryAccessRecords(const AccessQuery& query) {
  std::vector<std::string> parameters = {std::to_string(query.after_sequence)};
  std::string joins;
  std::string conditions = " WHERE l.sequence > $1";
  auto add = [&](const std::string& value) {
    parameters.push_back(value);
    return absl::StrCat("$", parameters.size());
  };
  if (!query.case_id.empty()) {
    joins = absl::StrCat(" JOIN access_log_cases c ON c.sequence = l.sequence AND c.case_id = ",
                         add(query.case_id));
  }
  if (!query.organisation.empty()) {
    absl::StrAppend(&conditions, " AND l.organisation = ", add(query.organisation));
  }
  if (!query.actor.empty()) absl::StrAppend(&conditions, " AND l.actor = ", add(query.actor));
  if (query.start_micros > 0) {
    absl::StrAppend(&conditions, " AND l.time >= ", add(std::to_string(query.start_micros)),
                    "::bigint");
  }
  if (query.end_micros > 0) {
    absl::StrAppend(&conditions, " AND l.time < ", add(std::to_string(query.end_micros)),
                    "::bigint");
  }
  const std::string limit = add(std::to_string(query.page_size));
  std::vector<v1::AccessLogEntry> entries;
  for (const pqxx::row& row :
       Run(absl::StrCat("SELECT l.record, l.hash FROM access_log l", joins, conditions,
                        " ORDER BY l.sequence LIMIT ", limit, "::bigint"),
           pqxx::prepare::make_dynamic_params(parameters))) {
    entries.push_back(EntryFromRow(row, 0, 1));
  }
  return entries;
}

std::vector<AccessExportItem> PgTxn::ExportAccessRecords(int64_t after_sequence, int limit) {
  std::vector<AccessExportItem> items;
  for (const pqxx::row& row :
       Run("SELECT l.record, l.hash, c.head_hash, c.time, c.signature "
           "FROM access_log l LEFT JOIN checkpoints c ON c.sequence = l.sequence "
           "WHERE l.sequence > $1 ORDER BY l.sequence LIMIT $2",
           after_sequence, limit)) {
    v1::AccessLogEntry entry = EntryFromRow(row, 0, 1);
    const int64_t sequence = entry.record().sequence();
    items.push_back({std::move(entry)});
    if (!row[2].is_null()) {
      v1::Checkpoint checkpoint;
      checkpoint.set_sequence(sequence);
      checkpoint.set_head_hash(Bytes(row[2]));
      *checkpoint.mutable_time() = ToTimestamp(row[3].as<int64_t>());
      checkpoint.set_signature(Bytes(row[4]));
      items.push_back({std::move(checkpoint)});
    }
  }
  return items;
}

std::vector<v1::AccessRecord> PgTxn::RecordsForCases(const std::vector<std::string>& case_ids) {
  std::vector<v1::AccessRecord> records;
  if (case_ids.empty()) return records;
  for (const pqxx::row& row :
       Run("SELECT l.record FROM access_log l WHERE l.sequence IN (SELECT sequence FROM "
           "access_log_cases WHERE case_id = ANY($1::text[])) ORDER BY l.sequence",
           TextArray(case_ids))) {
    v1::AccessRecord record;
    record.ParseFromString(Bytes(row[0]));
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace handover::store
