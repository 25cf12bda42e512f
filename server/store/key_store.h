// The per-case data keys (case_keys.h), written once over any engine's rows
// (case_key_rows.h): each key wrapped with KeyRing::Seal under the key
// file's current key with the associated data CaseKeyAssociatedData(case_id),
// unwrapped keys kept in a cache (key_cache.h, filled at open), the feed's
// high-water mark raised, never lowered, within an epoch.
//
// Threads: every method is safe to call concurrently from any thread. Row
// transactions run one at a time behind a mutex; Get on a cached key takes
// only the cache's mutex and never waits for the engine. Writes return once
// committed. Errors: UNAVAILABLE "key store: <op> failed; retry" when the
// engine fails (its words go to the log only), DATA_LOSS when a wrapped key
// fails authentication, NOT_FOUND for a case without a key; each method
// names its others. The store owns its rows and shares the key ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto.h"
#include "server/store/case_key_rows.h"
#include "server/store/case_keys.h"
#include "server/store/key_cache.h"

namespace handover::store {

class KeyStore final : public CaseKeys {
 public:
  // Takes the engine's opened (and migrated) rows. INVALID_ARGUMENT for a
  // null ring.
  static absl::StatusOr<std::unique_ptr<KeyStore>> Open(std::unique_ptr<CaseKeyRows> rows,
                                                        std::shared_ptr<const KeyRing> ring,
                                                        KeyStoreOptions options = {});
  ~KeyStore() override;
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // A new random key for the case, committed (and cached) before it
  // returns. ALREADY_EXISTS if the case has a key.
  absl::StatusOr<DataKey> Create(const std::string& case_id)
      ABSL_LOCKS_EXCLUDED(rows_mu_, cache_mu_);
  // In one transaction, a new key for each case that has none; `out` gets
  // every listed case's key, new or existing, so a migration interrupted
  // after the keys were committed resumes by calling it again. Nothing is
  // committed (and `out` is untouched) on error.
  absl::Status CreateMany(const std::vector<std::string>& case_ids,
                          std::map<std::string, DataKey>* out) override
      ABSL_LOCKS_EXCLUDED(rows_mu_, cache_mu_);
  // Stores the caller's keys in one transaction. A case that already has
  // this very key is left as it is (a group stored again after a broken
  // connection); INTERNAL if it has another one, and nothing is stored.
  absl::Status Put(const std::map<std::string, DataKey>& keys) override
      ABSL_LOCKS_EXCLUDED(rows_mu_, cache_mu_);
  // From the cache, or unwrapped from the rows and cached.
  absl::StatusOr<DataKey> Get(const std::string& case_id) override
      ABSL_LOCKS_EXCLUDED(rows_mu_, cache_mu_);
  // Deletes the key durably, drops it from the cache, then has the engine
  // erase its traces (CaseKeyRows::EraseTraces): UNAVAILABLE if it cannot
  // yet, the key being deleted; call Delete again. Idempotent.
  absl::Status Delete(const std::string& case_id) override ABSL_LOCKS_EXCLUDED(rows_mu_, cache_mu_);
  absl::Status Scrub() override ABSL_LOCKS_EXCLUDED(rows_mu_);

  // Re-wraps up to `limit` keys not wrapped under the ring's current key,
  // in one transaction; how many (0 when none is left). INVALID_ARGUMENT
  // for limit < 1.
  absl::StatusOr<int> Rewrap(int limit) override ABSL_LOCKS_EXCLUDED(rows_mu_);
  absl::StatusOr<std::map<std::string, int64_t>> Usage() override ABSL_LOCKS_EXCLUDED(rows_mu_);
  // FAILED_PRECONDITION, naming the key, if a key id that still wraps case
  // keys is not in `ring`; the old ring then stays. Cached keys stay valid.
  absl::Status ReplaceKeys(std::shared_ptr<const KeyRing> ring) override
      ABSL_LOCKS_EXCLUDED(rows_mu_);
  absl::Status Backup(const std::string& backup_path) override ABSL_LOCKS_EXCLUDED(rows_mu_);

  absl::StatusOr<std::optional<FeedMark>> FeedHighWater() override ABSL_LOCKS_EXCLUDED(rows_mu_);
  // In one transaction holding the mark: the same epoch keeps the higher
  // revision; another epoch (after a restore) replaces it.
  absl::Status RaiseFeedHighWater(const FeedMark& mark) override ABSL_LOCKS_EXCLUDED(rows_mu_);

 private:
  KeyStore(std::unique_ptr<CaseKeyRows> rows, std::shared_ptr<const KeyRing> ring,
           KeyStoreOptions options);

  std::string Wrap(const std::string& case_id, const DataKey& key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(rows_mu_);
  absl::StatusOr<DataKey> Unwrap(const WrappedKey& row) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(rows_mu_);
  // Runs `work` in one row transaction; an engine failure is KeyStoreError(op).
  absl::Status Transact(const char* op, const std::function<absl::Status(CaseKeyTxn&)>& work)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(rows_mu_);
  absl::StatusOr<std::map<std::string, int64_t>> UsageLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(rows_mu_);
  // At open: unwraps up to `limit` keys into the cache, so reads do not
  // wait on the key store (a full sync of 100,000 cases otherwise unwrapped
  // each key on its first read: 0.64 x the sync rate).
  void WarmCache(size_t limit) ABSL_LOCKS_EXCLUDED(rows_mu_, cache_mu_);

  // Lock order: rows_mu_ before cache_mu_. Every change of the rows and
  // every cache fill from them happen under rows_mu_, so a key read just
  // before a Delete can never be cached after it.
  absl::Mutex rows_mu_;
  const std::unique_ptr<CaseKeyRows> rows_ ABSL_PT_GUARDED_BY(rows_mu_);
  std::shared_ptr<const KeyRing> ring_ ABSL_GUARDED_BY(rows_mu_);
  absl::Mutex cache_mu_ ABSL_ACQUIRED_AFTER(rows_mu_);
  KeyCache cache_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace handover::store
