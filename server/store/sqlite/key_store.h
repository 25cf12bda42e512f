// The per-case data keys, for crypto-erasure: each case's data is sealed
// under its own random DataKey, and erasing the case deletes the key, which
// makes every remaining copy of the data (free pages, WAL, backups of the
// main database) unreadable.
//
// The keys live in a small SQLite database of their own beside the main one
// (the server uses "<database>.keys"), each wrapped with KeyRing::Seal under
// the key file's current key with the associated data
// "handover/v1/case-key/<case_id>". The database runs in WAL mode with
// synchronous=FULL and secure_delete=ON; its schema version is its
// PRAGMA user_version. The file (and so its -wal and -shm) is created 0600.
//
// Thread contract: every method is safe to call concurrently from any thread
// (the writer thread and the reader threads). One SQLite connection serves
// all calls, behind a mutex; Get on a cached key takes only the cache's
// mutex and never waits for the database. Methods that write (Create,
// CreateMany, Delete, Rewrap) return after the write is committed and
// synced. Errors: UNAVAILABLE with SQLite's message when the database
// fails, DATA_LOSS when a wrapped key fails authentication; each method
// names its own others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto.h"
#include "server/store/case_keys.h"
#include "server/store/key_cache.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace handover::store {

class KeyStore final : public CaseKeys {
 public:
  // The newest key store schema this binary knows.
  static constexpr int kSchemaVersion = 2;

  // Opens (creating if needed, mode 0600) and migrates the key store at
  // `path`. `ring` unwraps the keys and wraps new ones under its current key.
  // INVALID_ARGUMENT for a null ring, FAILED_PRECONDITION for a schema newer
  // than this binary, UNAVAILABLE if SQLite fails.
  static absl::StatusOr<std::unique_ptr<KeyStore>> Open(std::string path,
                                                        std::shared_ptr<const KeyRing> ring,
                                                        KeyStoreOptions options = {});
  ~KeyStore() override;
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // A new random key for the case, committed before it returns (and cached).
  // ALREADY_EXISTS if the case has a key.
  absl::StatusOr<DataKey> Create(const std::string& case_id) ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);

  // For a migration: in one transaction, a new key for each case in
  // `case_ids` that has none; `out` receives every listed case's key, new or
  // existing, so a migration interrupted after the keys were committed but
  // before the data sealed under them was, resumes by calling it again.
  // Nothing is committed (and `out` is untouched) on error.
  absl::Status CreateMany(const std::vector<std::string>& case_ids,
                          std::map<std::string, DataKey>* out) override
      ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);
  absl::Status Put(const std::map<std::string, DataKey>& keys) override
      ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);

  // The case's key: from the cache, or unwrapped from the database and
  // cached. NOT_FOUND if the case has no key (erased, or never had one).
  absl::StatusOr<DataKey> Get(const std::string& case_id) override
      ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);

  // Crypto-erasure of the case: deletes its key durably, drops it from the
  // cache, and checkpoints the WAL with TRUNCATE so that no frame holding
  // the wrapped key survives in the -wal file (secure_delete has zeroed it
  // in the main file). Idempotent: OK if the case has no key. UNAVAILABLE if
  // the checkpoint could not complete (a reader in another process holds an
  // old snapshot): the key is deleted, but call Delete again to truncate.
  absl::Status Delete(const std::string& case_id) override ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);
  // Nothing to do: Delete has overwritten the row (secure_delete) and
  // truncated the WAL already.
  absl::Status Scrub() override { return absl::OkStatus(); }

  // The one row of table feed_mark.
  absl::StatusOr<std::optional<FeedMark>> FeedHighWater() override ABSL_LOCKS_EXCLUDED(db_mu_);
  absl::Status RaiseFeedHighWater(const FeedMark& mark) override ABSL_LOCKS_EXCLUDED(db_mu_);

  // Re-wraps up to `limit` keys not wrapped under the ring's current key,
  // in one transaction; returns how many (0 when none is left). Call it
  // until 0 after adding a key to the key file; then the old key's line can
  // go (see ReplaceKeys). INVALID_ARGUMENT for limit < 1.
  absl::StatusOr<int> Rewrap(int limit) override ABSL_LOCKS_EXCLUDED(db_mu_);

  // How many keys each wrapping key id wraps.
  absl::StatusOr<std::map<std::string, int64_t>> Usage() override ABSL_LOCKS_EXCLUDED(db_mu_);

  // Swaps in a new key ring (a reloaded key file). FAILED_PRECONDITION,
  // naming the key, if a key id that still wraps case keys is not in `ring`;
  // the old ring then stays. Cached keys stay valid.
  absl::Status ReplaceKeys(std::shared_ptr<const KeyRing> ring) override
      ABSL_LOCKS_EXCLUDED(db_mu_);

  // Online backup with SQLite's backup API to `backup_path`, which must not
  // exist (ALREADY_EXISTS); created 0600, synced, then checked with PRAGMA
  // integrity_check (DATA_LOSS, and the copy removed, if it fails). Blocks
  // Get misses and writes while it copies (milliseconds for 100,000 keys).
  // A key store backup brings erased cases' keys back: keep it briefly.
  absl::Status Backup(const std::string& backup_path) override ABSL_LOCKS_EXCLUDED(db_mu_);

  const std::string& path() const { return path_; }

 private:
  KeyStore(std::string path, std::unique_ptr<SQLite::Database> db,
           std::shared_ptr<const KeyRing> ring, KeyStoreOptions options);

  // Wraps `key` for `case_id` under the current key: the wrapped blob.
  std::string Wrap(const std::string& case_id, const DataKey& key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // At open: unwraps up to `limit` keys into the cache, so reads do not wait
  // on the key store (a full sync of 100,000 cases otherwise unwrapped each
  // key on its first read, behind one connection: 0.64 x the sync rate).
  void WarmCache(size_t limit) ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);
  // The case's key from the database; NOT_FOUND if it has none.
  absl::StatusOr<DataKey> Load(const std::string& case_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::StatusOr<std::map<std::string, int64_t>> UsageLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);

  const std::string path_;
  // Lock order: db_mu_ before cache_mu_. Every change of the database and
  // every cache fill from it happen under db_mu_, so a key read just before
  // a Delete can never be cached after it.
  absl::Mutex db_mu_;
  std::unique_ptr<SQLite::Database> db_ ABSL_GUARDED_BY(db_mu_);
  std::shared_ptr<const KeyRing> ring_ ABSL_GUARDED_BY(db_mu_);
  absl::Mutex cache_mu_ ABSL_ACQUIRED_AFTER(db_mu_);
  KeyCache cache_ ABSL_GUARDED_BY(cache_mu_);
};

// Restores a key store backup (from KeyStore::Backup) to `key_store_path`,
// for when the key store itself is lost or damaged: a restored key store
// lacks the keys of cases created after the backup (their data cannot be
// read) and holds again the keys of cases erased after it (Delete them
// again). handoverd must be stopped. FAILED_PRECONDITION if
// `key_store_path` (or its -wal) exists: move the old one aside first;
// NOT_FOUND for a missing backup; DATA_LOSS if the backup fails its
// integrity check or has no key store schema; UNAVAILABLE otherwise. The
// copy is written to "<key_store_path>.restoring", synced, and renamed into
// place.
absl::Status RestoreKeyStore(const std::string& key_store_path, const std::string& backup_path);

}  // namespace handover::store
