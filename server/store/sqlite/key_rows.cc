// SqliteTxn: what each key seals or made, and the items key rotation and the
// migration to per-case keys revisit.
#include <SQLiteCpp/Statement.h>

#include "server/store/sqlite/case_rows.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "server/store/sqlite/statement_cache.h"

namespace handover::store {

std::map<std::string, int64_t> SqliteTxn::KeyUsage() {
  Prepared select(
      db_,
      "SELECT key_id, SUM(n) FROM ("
      "SELECT COALESCE(key_id, '') AS key_id, COUNT(*) AS n FROM case_versions GROUP BY 1 "
      "UNION ALL SELECT key_id, COUNT(*) FROM document_versions GROUP BY 1 "
      "UNION ALL SELECT key_id, COUNT(*) FROM document_chunks GROUP BY 1 "
      "UNION ALL SELECT hash_key_id, COUNT(*) FROM cases "
      "WHERE erased_time IS NULL AND hash_key_id IS NOT NULL GROUP BY 1) GROUP BY key_id");
  std::map<std::string, int64_t> usage;
  while (select->executeStep()) {
    usage[select->getColumn(0).getString()] = select->getColumn(1).getInt64();
  }
  return usage;
}

std::vector<SealedItem> SqliteTxn::StaleItems(SealedItem::Kind kind, const std::string& key_id,
                                              int limit) {
  std::vector<SealedItem> items;
  switch (kind) {
    case SealedItem::Kind::kForm: {
      Prepared stale(db_,
                     "SELECT case_id, version, form FROM case_versions "
                     "WHERE key_id IS NULL OR key_id != ? LIMIT ?");
      stale->bind(1, key_id);
      stale->bind(2, limit);
      while (stale->executeStep()) {
        items.push_back({.kind = kind,
                         .case_id = stale->getColumn(0).getString(),
                         .version = stale->getColumn(1).getInt64(),
                         .sealed = Blob(stale->getColumn(2))});
      }
      break;
    }
    case SealedItem::Kind::kPersonHash: {
      Prepared stale(
          db_,
          "SELECT c.case_id, c.current_version, v.form FROM cases c JOIN case_versions v "
          "ON v.case_id = c.case_id AND v.version = c.current_version "
          "WHERE c.erased_time IS NULL AND (c.hash_key_id IS NULL OR c.hash_key_id != ?) "
          "LIMIT ?");
      stale->bind(1, key_id);
      stale->bind(2, limit);
      while (stale->executeStep()) {
        items.push_back({.kind = kind,
                         .case_id = stale->getColumn(0).getString(),
                         .version = stale->getColumn(1).getInt64(),
                         .sealed = Blob(stale->getColumn(2))});
      }
      break;
    }
    case SealedItem::Kind::kTitle: {
      Prepared stale(db_,
                     "SELECT case_id, document_id, version, title FROM document_versions "
                     "WHERE key_id != ? LIMIT ?");
      stale->bind(1, key_id);
      stale->bind(2, limit);
      while (stale->executeStep()) {
        items.push_back({.kind = kind,
                         .case_id = stale->getColumn(0).getString(),
                         .document_id = stale->getColumn(1).getString(),
                         .version = stale->getColumn(2).getInt64(),
                         .sealed = Blob(stale->getColumn(3))});
      }
      break;
    }
    case SealedItem::Kind::kChunk: {
      Prepared stale(db_,
                     "SELECT c.blob_id, c.seq, c.data, v.case_id FROM document_chunks c "
                     "JOIN document_versions v ON v.blob_id = c.blob_id "
                     "WHERE c.key_id != ? LIMIT ?");
      stale->bind(1, key_id);
      stale->bind(2, limit);
      while (stale->executeStep()) {
        items.push_back({.kind = kind,
                         .case_id = stale->getColumn(3).getString(),
                         .blob_id = stale->getColumn(0).getString(),
                         .seq = stale->getColumn(1).getInt64(),
                         .sealed = Blob(stale->getColumn(2))});
      }
      break;
    }
  }
  return items;
}

void SqliteTxn::Reseal(const SealedItem& item, const std::string& key_id) {
  switch (item.kind) {
    case SealedItem::Kind::kPersonHash:
      return;  // not sealed: SetPersonHash re-makes it
    case SealedItem::Kind::kForm: {
      Prepared update(
          db_, "UPDATE case_versions SET form = ?, key_id = ? WHERE case_id = ? AND version = ?");
      BindBlob(*update, 1, item.sealed);
      update->bind(2, key_id);
      update->bind(3, item.case_id);
      update->bind(4, item.version);
      update->exec();
      return;
    }
    case SealedItem::Kind::kTitle: {
      Prepared update(db_,
                      "UPDATE document_versions SET title = ?, key_id = ? "
                      "WHERE case_id = ? AND document_id = ? AND version = ?");
      BindBlob(*update, 1, item.sealed);
      update->bind(2, key_id);
      update->bind(3, item.case_id);
      update->bind(4, item.document_id);
      update->bind(5, item.version);
      update->exec();
      return;
    }
    case SealedItem::Kind::kChunk: {
      Prepared update(
          db_, "UPDATE document_chunks SET data = ?, key_id = ? WHERE blob_id = ? AND seq = ?");
      BindBlob(*update, 1, item.sealed);
      update->bind(2, key_id);
      update->bind(3, item.blob_id);
      update->bind(4, item.seq);
      update->exec();
      return;
    }
  }
}

}  // namespace handover::store
