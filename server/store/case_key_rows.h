// The row contract under the key store (key_store.h): what an engine keeps
// for the per-case data keys and the feed's high-water mark, in a few
// statements. The engine knows tables and transactions; wrapping, the
// cache, what "raise the mark" means and every error a caller sees are the
// key store's, written once. SQLite: sqlite/sqlite_key_store.h; PostgreSQL:
// postgres/pg_key_store.h.
//
// Errors: a row operation that fails in storage throws std::exception (the
// key store answers UNAVAILABLE "key store: <op> failed; retry" and logs the
// driver's words); "not there" is an empty optional or false.
// Threads: the key store calls Transact, Scrub, EraseTraces and Backup one
// at a time (under its mutex); a CaseKeyTxn is valid only inside its work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/store/case_keys.h"

namespace handover::store {

// A case's data key as stored: sealed by the ring's key `key_id`.
struct WrappedKey {
  std::string case_id;
  std::string key_id;
  std::string wrapped;
};

// One transaction's row operations.
class CaseKeyTxn {
 public:
  virtual ~CaseKeyTxn() = default;
  // Inserts the key unless its case has one; whether it did.
  virtual bool InsertKey(const WrappedKey& key) = 0;
  virtual std::optional<WrappedKey> FindKey(const std::string& case_id) = 0;
  virtual void DeleteKey(const std::string& case_id) = 0;
  // Replaces the case's row (a re-wrap).
  virtual void ReplaceKey(const WrappedKey& key) = 0;
  // Up to `limit` keys not sealed by `key_id`, held against other writers
  // until the transaction ends (so no delete runs between read and re-wrap).
  virtual std::vector<WrappedKey> KeysNotSealedBy(const std::string& key_id, int limit) = 0;
  // Up to `limit` keys, any (to warm the cache).
  virtual std::vector<WrappedKey> SomeKeys(size_t limit) = 0;
  // How many keys each key id seals.
  virtual std::map<std::string, int64_t> CountBySealingKey() = 0;

  // The feed mark. `for_update`: held against other writers (other
  // replicas) until the transaction ends, so a read-then-write is one step.
  virtual std::optional<FeedMark> ReadFeedMark(bool for_update) = 0;
  virtual void WriteFeedMark(const FeedMark& mark) = 0;
};

class CaseKeyRows {
 public:
  virtual ~CaseKeyRows() = default;
  // Runs `work` in one transaction: commits it durably if it returns OK,
  // rolls it back if it returns an error or throws (and rethrows). An
  // engine whose connection can break may run `work` once more on a new
  // connection, so `work` must start from nothing each time.
  virtual absl::Status Transact(const std::function<absl::Status(CaseKeyTxn&)>& work) = 0;
  // After a committed DeleteKey: removes old images of the deleted row that
  // the engine keeps beside the table at once (SQLite: truncates the
  // write-ahead log). UNAVAILABLE if it cannot yet; the next call retries.
  virtual absl::Status EraseTraces() = 0;
  // After an erasure has committed, before it is answered: removes the
  // deleted rows' bytes from the table's pages (PostgreSQL: VACUUM FULL).
  virtual absl::Status Scrub() = 0;
  // An online copy at `backup_path` (must not exist), or the engine's word
  // on how its keys are backed up instead.
  virtual absl::Status Backup(const std::string& backup_path) = 0;
};

}  // namespace handover::store
