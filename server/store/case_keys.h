// The per-case data keys (crypto-erasure): each case's forms, document
// titles and document content are sealed under a random DataKey of its own
// (common/crypto.h), kept wrapped under the key file's current key in a key
// store APART from the data — SQLite: the file "<database>.keys"
// (sqlite/key_store.h); PostgreSQL: the schema handover_keys
// (postgres/pg_key_store.h). A data backup holds no keys. Erasing a case deletes
// its key first, so every copy of its data (write-ahead log, free pages,
// data backups taken before) can no longer be opened.
//
// Threads: every method may be called from any thread. Writes return once
// durable. Errors: NOT_FOUND for a case without a key (erased, or never
// had one), UNAVAILABLE when the key store fails, DATA_LOSS when a wrapped
// key fails authentication.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/crypto.h"

namespace handover::store {

// The associated data a case's key is wrapped under (KeyRing::Seal):
// "handover/v1/case-key/<case_id>", so a wrapped key moved to another
// case's row fails to unwrap. Every key store uses it.
std::string CaseKeyAssociatedData(const std::string& case_id);

// The feed's high-water mark, kept apart from the data: a revision handed
// out in feed epoch `epoch`. A database put back by hand — a copy of an older
// file, a pg_restore without `handoverd restore` — ends below it in the same
// epoch, and DomainStore::Open refuses it rather than hand those revisions out
// again (a synced copy would silently miss the events it lost).
struct FeedMark {
  std::string epoch;
  int64_t revision = 0;
};

// What every key store's Open takes.
struct KeyStoreOptions {
  // How many unwrapped keys to keep in memory (about 150 bytes each); 0
  // disables the cache.
  size_t max_cached_keys = 200'000;
};

class CaseKeys {
 public:
  virtual ~CaseKeys() = default;

  // Stores keys the caller made, in one durable transaction (the domain
  // store stores a commit group's new cases' keys before the group commits).
  virtual absl::Status Put(const std::map<std::string, DataKey>& keys) = 0;
  // Get-or-create for each case, in one transaction (the migration).
  virtual absl::Status CreateMany(const std::vector<std::string>& case_ids,
                                  std::map<std::string, DataKey>* out) = 0;
  virtual absl::StatusOr<DataKey> Get(const std::string& case_id) = 0;
  // Crypto-erasure; idempotent.
  virtual absl::Status Delete(const std::string& case_id) = 0;
  // After the erasing transaction has committed: removes the bytes of the
  // keys Delete removed from the store's pages (PostgreSQL rewrites the key
  // table; SQLite's Delete already overwrote them). The domain store calls it
  // before an erasure is answered.
  virtual absl::Status Scrub() = 0;

  // Key rotation: re-wraps up to `limit` keys not wrapped under the current
  // key (0 when done); which key wraps how many; swap in a re-read key file
  // (FAILED_PRECONDITION if a key still wrapping case keys is missing).
  virtual absl::StatusOr<int> Rewrap(int limit) = 0;
  virtual absl::StatusOr<std::map<std::string, int64_t>> Usage() = 0;
  virtual absl::Status ReplaceKeys(std::shared_ptr<const KeyRing> ring) = 0;

  // An online copy of the key store (must not exist). It brings erased
  // cases' keys back: keep such copies briefly.
  virtual absl::Status Backup(const std::string& backup_path) = 0;

  // The feed's high-water mark, if one was ever raised.
  virtual absl::StatusOr<std::optional<FeedMark>> FeedHighWater() = 0;
  // Raises the mark to `mark` if its revision is higher in the same epoch,
  // or replaces it (another epoch: after a restore). The comparison is the
  // store's, in one statement, so replicas raising it at once never lower it
  // (tests/conformance: FeedMarkIsRaisedNeverLowered). Durable on return.
  virtual absl::Status RaiseFeedHighWater(const FeedMark& mark) = 0;
};

}  // namespace handover::store
