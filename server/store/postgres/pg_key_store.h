// The per-case data keys (case_keys.h) in PostgreSQL, for crypto-erasure.
//
// The keys live in a schema of their own, handover_keys, in the same
// database as the data, so `pg_dump --exclude-schema=handover_keys` makes a
// data backup without keys and `pg_dump --schema=handover_keys` a key
// backup. Table handover_keys.case_keys (case_id, key_id, wrapped): each key
// wrapped with KeyRing::Seal under the key file's current key (key_id) with
// the associated data CaseKeyAssociatedData(case_id). Its schema version is
// the one row of handover_keys.schema_version; migrations are numbered and
// run at Open in one transaction under an advisory lock, so replicas
// starting together migrate once.
//
// Several handoverd replicas may share the database. Each keeps a cache of
// unwrapped keys (filled at Open); Get on a miss reads the row. A key that
// another replica deletes may stay in this replica's cache until it
// restarts; the erasure deletes the case's data rows in the same write, so
// once that commits the stale key has nothing left to open. All replicas
// must run with the same key file (a key wrapped under a key a replica
// lacks is DATA_LOSS there).
//
// What erasure leaves behind: Delete removes the row; once the erasing
// transaction has committed, Scrub (VACUUM FULL) rewrites the table without
// it, before the erasure is answered, so its bytes are in none of the
// table's pages (tests/postgres/pg_server_test.cc reads the table's file).
// PostgreSQL keeps the row in its WAL, WAL archives and standbys, as do key
// backups taken before, and the old file's blocks stay on the disk until
// reused. All of these hold the key only wrapped under the key file's key:
// rotating the key file (Rewrap until 0) and then retiring the old key
// finishes the erasure.
//
// Thread contract: every method is safe to call concurrently from any
// thread. One connection serves all calls, behind a mutex; Get on a cached
// key takes only the cache's mutex. Writes return once committed. When the
// connection breaks, the call that finds it broken connects again and runs
// once more. Errors: UNAVAILABLE "key store: <operation> failed; retry" when
// PostgreSQL fails (its own words go to the server log), DATA_LOSS when a wrapped key fails
// authentication, NOT_FOUND for a case without a key; each method names its
// others. The store owns its connection and shares the key ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto.h"
#include "server/store/case_keys.h"
#include "server/store/key_cache.h"

namespace handover::store {

class PgKeyStore final : public CaseKeys {
 public:
  // The newest schema of handover_keys this binary knows.
  static constexpr int kSchemaVersion = 2;

  // Connects to `url`, a libpq connection URI ("postgresql:///handover";
  // what it leaves out comes from PGHOST, PGUSER etc.), migrates the schema
  // and fills the cache. `ring` unwraps the keys and wraps new ones under
  // its current key. INVALID_ARGUMENT for a null ring, FAILED_PRECONDITION
  // for a schema newer than this binary, UNAVAILABLE if PostgreSQL fails.
  static absl::StatusOr<std::unique_ptr<PgKeyStore>> Open(std::string url,
                                                          std::shared_ptr<const KeyRing> ring,
                                                          KeyStoreOptions options = {});
  ~PgKeyStore() override;
  PgKeyStore(const PgKeyStore&) = delete;
  PgKeyStore& operator=(const PgKeyStore&) = delete;

  // Stores the keys in one transaction (and caches them). A case that has a
  // key already keeps it: INTERNAL (a bug: case ids are never reused) if
  // that key is another, and nothing is stored; OK if it is the same key.
  absl::Status Put(const std::map<std::string, DataKey>& keys) override
      ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);

  // For a migration: in one transaction, a new key for each case in
  // `case_ids` that has none; `out` receives every listed case's key, new or
  // existing, so an interrupted migration resumes by calling it again.
  // Nothing is committed (and `out` is untouched) on error.
  absl::Status CreateMany(const std::vector<std::string>& case_ids,
                          std::map<std::string, DataKey>* out) override
      ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);

  // The case's key: from the cache, or read, unwrapped and cached.
  absl::StatusOr<DataKey> Get(const std::string& case_id) override
      ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);

  // Crypto-erasure: deletes the row and drops the cached key. Idempotent.
  absl::Status Delete(const std::string& case_id) override ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);

  // VACUUM FULL of the key table: rewrites it without the deleted rows, so
  // their bytes leave the table's pages (a plain VACUUM only marks the space
  // free, and cannot even do that while the erasing transaction is open).
  // Takes the table's exclusive lock for the rewrite (about 100 bytes a key:
  // milliseconds for thousands of keys, about a second per million), waiting
  // at most a second for it (lock_timeout): a key dump in progress makes the
  // scrub fail (logged), and the next erasure's scrub removes the row. So
  // does a transaction that began before the erasure and is still open.
  absl::Status Scrub() override ABSL_LOCKS_EXCLUDED(db_mu_);

  // The one row of handover_keys.feed_mark, raised with GREATEST so that
  // replicas raising it at once keep the highest.
  absl::StatusOr<std::optional<FeedMark>> FeedHighWater() override ABSL_LOCKS_EXCLUDED(db_mu_);
  absl::Status RaiseFeedHighWater(const FeedMark& mark) override ABSL_LOCKS_EXCLUDED(db_mu_);

  // Re-wraps up to `limit` keys not wrapped under the ring's current key,
  // in one transaction; returns how many (0 when none is left).
  // INVALID_ARGUMENT for limit < 1.
  absl::StatusOr<int> Rewrap(int limit) override ABSL_LOCKS_EXCLUDED(db_mu_);

  // How many keys each wrapping key id wraps.
  absl::StatusOr<std::map<std::string, int64_t>> Usage() override ABSL_LOCKS_EXCLUDED(db_mu_);

  // Swaps in a new key ring. FAILED_PRECONDITION, naming the key, if a key
  // id that still wraps case keys is not in `ring`; the old ring then stays.
  absl::Status ReplaceKeys(std::shared_ptr<const KeyRing> ring) override
      ABSL_LOCKS_EXCLUDED(db_mu_);

  // Always FAILED_PRECONDITION: the keys are backed up with
  // `pg_dump --schema=handover_keys` (see the deploy documentation).
  absl::Status Backup(const std::string& backup_path) override;

 private:
  struct Connection;  // holds the libpqxx connection

  PgKeyStore(std::string url, std::unique_ptr<Connection> db, std::shared_ptr<const KeyRing> ring,
             KeyStoreOptions options);

  // The connection, connected again if it broke; throws if it cannot.
  Connection& Connected() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);

  // Wraps `key` for `case_id` under the current key: the wrapped blob.
  std::string Wrap(const std::string& case_id, const DataKey& key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // Unwraps a stored key; DATA_LOSS if it fails authentication.
  absl::StatusOr<DataKey> Unwrap(const std::string& case_id, const std::string& wrapped) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // Unwraps up to `limit` keys into the cache at open.
  void WarmCache(size_t limit) ABSL_LOCKS_EXCLUDED(db_mu_, cache_mu_);
  absl::StatusOr<std::map<std::string, int64_t>> UsageLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);

  // Lock order: db_mu_ before cache_mu_. Every change of the table and every
  // cache fill from it happen under db_mu_, so a key read just before this
  // replica's Delete can never be cached after it.
  const std::string url_;
  absl::Mutex db_mu_;
  std::unique_ptr<Connection> db_ ABSL_GUARDED_BY(db_mu_);
  std::shared_ptr<const KeyRing> ring_ ABSL_GUARDED_BY(db_mu_);
  absl::Mutex cache_mu_ ABSL_ACQUIRED_AFTER(db_mu_);
  KeyCache cache_ ABSL_GUARDED_BY(cache_mu_);

  // Runs `attempt(connection)`; if it throws because the connection broke
  // (a database restart, pg_terminate_backend), connects again and runs it
  // once more. Every operation here is idempotent, so a commit whose
  // outcome the broken link hid is safe to run again. Throws what the last
  // attempt threw.
  template <typename Fn>
  std::invoke_result_t<Fn, pqxx::connection&> OnceMoreIfBroken(Fn attempt)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
};

}  // namespace handover::store
