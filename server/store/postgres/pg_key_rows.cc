// PgTxn: what each key seals or made, and the items key rotation and the
// migration to per-case keys revisit.
#include "server/store/postgres/pg_txn.h"
#include "server/store/postgres/pg_values.h"

namespace handover::store {

std::map<std::string, int64_t> PgTxn::KeyUsage() {
  std::map<std::string, int64_t> usage;
  for (const pqxx::row& row :
       Run("SELECT key_id, SUM(n) FROM ("
           "SELECT COALESCE(key_id, '') AS key_id, COUNT(*) AS n FROM case_versions GROUP BY 1 "
           "UNION ALL SELECT key_id, COUNT(*) FROM document_versions GROUP BY 1 "
           "UNION ALL SELECT key_id, COUNT(*) FROM document_chunks GROUP BY 1 "
           "UNION ALL SELECT hash_key_id, COUNT(*) FROM cases "
           "WHERE erased_time IS NULL AND hash_key_id IS NOT NULL GROUP BY 1) AS used "
           "GROUP BY key_id")) {
    usage[row[0].c_str()] = row[1].as<int64_t>();
  }
  return usage;
}

std::vector<SealedItem> PgTxn::StaleItems(SealedItem::Kind kind, const std::string& key_id,
                                          int limit) {
  std::vector<SealedItem> items;
  switch (kind) {
    case SealedItem::Kind::kForm:
      for (const pqxx::row& row : Run("SELECT case_id, version, form FROM case_versions "
                                      "WHERE key_id IS NULL OR key_id != $1 LIMIT $2",
                                      key_id, limit)) {
        items.push_back({.kind = kind,
                         .case_id = row[0].c_str(),
                         .version = row[1].as<int64_t>(),
                         .sealed = Bytes(row[2])});
      }
      break;
    case SealedItem::Kind::kPersonHash:
      for (const pqxx::row& row :
           Run("SELECT c.case_id, c.current_version, v.form FROM cases c JOIN case_versions v "
               "ON v.case_id = c.case_id AND v.version = c.current_version "
               "WHERE c.erased_time IS NULL AND (c.hash_key_id IS NULL OR c.hash_key_id != $1) "
               "LIMIT $2",
               key_id, limit)) {
        items.push_back({.kind = kind,
                         .case_id = row[0].c_str(),
                         .version = row[1].as<int64_t>(),
                         .sealed = Bytes(row[2])});
      }
      break;
    case SealedItem::Kind::kTitle:
      for (const pqxx::row& row :
           Run("SELECT case_id, document_id, version, title FROM document_versions "
               "WHERE key_id != $1 LIMIT $2",
               key_id, limit)) {
        items.push_back({.kind = kind,
                         .case_id = row[0].c_str(),
                         .document_id = row[1].c_str(),
                         .version = row[2].as<int64_t>(),
                         .sealed = Bytes(row[3])});
      }
      break;
    case SealedItem::Kind::kChunk:
      for (const pqxx::row& row :
           Run("SELECT c.blob_id, c.seq, c.data, v.case_id FROM document_chunks c "
               "JOIN document_versions v ON v.blob_id = c.blob_id WHERE c.key_id != $1 LIMIT $2",
               key_id, limit)) {
        items.push_back({.kind = kind,
                         .case_id = row[3].c_str(),
                         .blob_id = row[0].c_str(),
                         .seq = row[1].as<int64_t>(),
                         .sealed = Bytes(row[2])});
      }
      break;
  }
  return items;
}

void PgTxn::Reseal(const SealedItem& item, const std::string& key_id) {
  switch (item.kind) {
    case SealedItem::Kind::kPersonHash:
      return;  // not sealed: SetPersonHash re-makes it
    case SealedItem::Kind::kForm:
      Run("UPDATE case_versions SET form = $1, key_id = $2 WHERE case_id = $3 AND version = $4",
          Bytea(item.sealed), key_id, item.case_id, item.version);
      return;
    case SealedItem::Kind::kTitle:
      Run("UPDATE document_versions SET title = $1, key_id = $2 "
          "WHERE case_id = $3 AND document_id = $4 AND version = $5",
          Bytea(item.sealed), key_id, item.case_id, item.document_id, item.version);
      return;
    case SealedItem::Kind::kChunk:
      Run("UPDATE document_chunks SET data = $1, key_id = $2 WHERE blob_id = $3 AND seq = $4",
          Bytea(item.sealed), key_id, item.blob_id, item.seq);
      return;
  }
}

}  // namespace handover::store
