#include "server/store/key_store.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/store/storage_errors.h"

namespace handover::store {
namespace {

absl::Status NoKey(const std::string& case_id) {
  return absl::NotFoundError(absl::StrCat("case ", case_id, " has no data key"));
}

// The feed-mark rule: within an epoch the mark only rises; a new epoch (a
// restore) replaces it.
FeedMark Raised(const std::optional<FeedMark>& stored, const FeedMark& mark) {
  if (stored && stored->epoch == mark.epoch && stored->revision > mark.revision) return *stored;
  return mark;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::Open(std::unique_ptr<CaseKeyRows> rows,
                                                         std::shared_ptr<const KeyRing> ring,
                                                         KeyStoreOptions options) {
  if (ring == nullptr) return absl::InvalidArgumentError("key store: no key ring");
  auto store = std::unique_ptr<KeyStore>(new KeyStore(std::move(rows), std::move(ring), options));
  store->WarmCache(options.max_cached_keys);
  return store;
}

KeyStore::KeyStore(std::unique_ptr<CaseKeyRows> rows, std::shared_ptr<const KeyRing> ring,
                   KeyStoreOptions options)
    : rows_(std::move(rows)), ring_(std::move(ring)), cache_(options.max_cached_keys) {}

KeyStore::~KeyStore() = default;

absl::Status KeyStore::Transact(const char* op,
                                const std::function<absl::Status(CaseKeyTxn&)>& work) {
  try {
    return rows_->Transact(work);
  } catch (const std::exception& e) {
    return KeyStoreError(op, e.what());
  }
}

std::string KeyStore::Wrap(const std::string& case_id, const DataKey& key) const {
  std::string raw = key.Bytes();
  std::string wrapped = ring_->Seal(raw, CaseKeyAssociatedData(case_id));
  OPENSSL_cleanse(raw.data(), raw.size());
  return wrapped;
}

absl::StatusOr<DataKey> KeyStore::Unwrap(const WrappedKey& row) const {
  absl::StatusOr<std::string> raw = ring_->Open(row.wrapped, CaseKeyAssociatedData(row.case_id));
  if (!raw.ok()) {
    return absl::DataLossError(
        absl::StrCat("key store: the key of case ", row.case_id, ": ", raw.status().message()));
  }
  absl::StatusOr<DataKey> key = DataKey::FromBytes(*raw);
  OPENSSL_cleanse(raw->data(), raw->size());
  return key;
}

void KeyStore::WarmCache(size_t limit) {
  if (limit == 0) return;
  absl::MutexLock rows_lock(&rows_mu_);
  std::vector<WrappedKey> rows;
  const absl::Status read = Transact("open", [&](CaseKeyTxn& txn) {
    rows = txn.SomeKeys(limit);
    return absl::OkStatus();
  });
  if (!read.ok()) return;  // Get reads each key when it is asked for
  absl::MutexLock cache_lock(&cache_mu_);
  for (const WrappedKey& row : rows) {
    absl::StatusOr<DataKey> key = Unwrap(row);
    if (key.ok()) cache_.Put(row.case_id, *key);  // else Get reports it, if ever asked
  }
}

absl::StatusOr<DataKey> KeyStore::Create(const std::string& case_id) {
  const DataKey key = DataKey::Generate();
  {
    absl::MutexLock rows_lock(&rows_mu_);
    bool inserted = false;
    absl::Status created = Transact("create", [&](CaseKeyTxn& txn) {
      rows_mu_.AssertHeld();  // the work runs inside Transact, under rows_mu_
      inserted = txn.InsertKey({case_id, ring_->current_key_id(), Wrap(case_id, key)});
      return absl::OkStatus();
    });
    if (!created.ok()) return created;
    if (!inserted) {
      return absl::AlreadyExistsError(absl::StrCat("case ", case_id, " already has a data key"));
    }
    absl::MutexLock cache_lock(&cache_mu_);
    cache_.Put(case_id, key);
  }
  return key;
}

absl::Status KeyStore::Put(const std::map<std::string, DataKey>& keys) {
  if (keys.empty()) return absl::OkStatus();
  absl::MutexLock rows_lock(&rows_mu_);
  absl::Status put = Transact("put", [&](CaseKeyTxn& txn) -> absl::Status {
    rows_mu_.AssertHeld();
    for (const auto& [case_id, key] : keys) {
      if (txn.InsertKey({case_id, ring_->current_key_id(), Wrap(case_id, key)})) continue;
      std::optional<WrappedKey> row = txn.FindKey(case_id);
      if (!row) return NoKey(case_id);  // deleted meanwhile: nothing is stored
      absl::StatusOr<DataKey> existing = Unwrap(*row);
      if (!existing.ok()) return existing.status();
      if (*existing != key) {
        return absl::InternalError(
            absl::StrCat("key store: case ", case_id, " already has another data key"));
      }
    }
    return absl::OkStatus();
  });
  if (!put.ok()) return put;
  absl::MutexLock cache_lock(&cache_mu_);
  for (const auto& [case_id, key] : keys) cache_.Put(case_id, key);
  return absl::OkStatus();
}

absl::Status KeyStore::CreateMany(const std::vector<std::string>& case_ids,
                                  std::map<std::string, DataKey>* out) {
  absl::MutexLock rows_lock(&rows_mu_);
  std::map<std::string, DataKey> keys;
  absl::Status created = Transact("create", [&](CaseKeyTxn& txn) -> absl::Status {
    rows_mu_.AssertHeld();
    keys.clear();
    for (const std::string& case_id : case_ids) {
      if (keys.contains(case_id)) continue;
      const DataKey key = DataKey::Generate();
      if (txn.InsertKey({case_id, ring_->current_key_id(), Wrap(case_id, key)})) {
        keys.emplace(case_id, key);
        continue;
      }
      std::optional<WrappedKey> row = txn.FindKey(case_id);
      if (!row) return NoKey(case_id);  // deleted meanwhile: call again
      absl::StatusOr<DataKey> existing = Unwrap(*row);
      if (!existing.ok()) return existing.status();
      keys.emplace(case_id, *existing);
    }
    return absl::OkStatus();
  });
  if (!created.ok()) return created;
  absl::MutexLock cache_lock(&cache_mu_);
  for (const auto& [case_id, key] : keys) {
    cache_.Put(case_id, key);
    out->insert_or_assign(case_id, key);
  }
  return absl::OkStatus();
}

absl::StatusOr<DataKey> KeyStore::Get(const std::string& case_id) {
  {
    absl::ReaderMutexLock cache_lock(&cache_mu_);
    if (std::optional<DataKey> key = cache_.Get(case_id)) return *std::move(key);
  }
  absl::MutexLock rows_lock(&rows_mu_);
  std::optional<WrappedKey> row;
  absl::Status read = Transact("get", [&](CaseKeyTxn& txn) {
    row = txn.FindKey(case_id);
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  if (!row) return NoKey(case_id);
  absl::StatusOr<DataKey> key = Unwrap(*row);
  if (key.ok()) {
    absl::MutexLock cache_lock(&cache_mu_);
    cache_.Put(case_id, *key);
  }
  return key;
}

absl::Status KeyStore::Delete(const std::string& case_id) {
  absl::MutexLock rows_lock(&rows_mu_);
  {
    absl::MutexLock cache_lock(&cache_mu_);
    cache_.Erase(case_id);
  }
  absl::Status deleted = Transact("delete", [&](CaseKeyTxn& txn) {
    txn.DeleteKey(case_id);
    return absl::OkStatus();
  });
  if (!deleted.ok()) return deleted;
  try {
    if (absl::Status erased = rows_->EraseTraces(); !erased.ok()) {
      return absl::UnavailableError(absl::StrCat("key store: the key of case ", case_id,
                                                 " is deleted but ", erased.message(),
                                                 "; call Delete again"));
    }
  } catch (const std::exception& e) {
    return KeyStoreError("delete", e.what());
  }
  return absl::OkStatus();
}

absl::Status KeyStore::Scrub() {
  absl::MutexLock rows_lock(&rows_mu_);
  try {
    return rows_->Scrub();
  } catch (const std::exception& e) {
    return KeyStoreError("scrub", e.what());
  }
}

absl::StatusOr<int> KeyStore::Rewrap(int limit) {
  if (limit < 1) return absl::InvalidArgumentError("key store: rewrap limit must be at least 1");
  absl::MutexLock rows_lock(&rows_mu_);
  int rewrapped = 0;
  absl::Status done = Transact("rewrap", [&](CaseKeyTxn& txn) -> absl::Status {
    rows_mu_.AssertHeld();
    rewrapped = 0;
    for (const WrappedKey& row : txn.KeysNotSealedBy(ring_->current_key_id(), limit)) {
      absl::StatusOr<DataKey> key = Unwrap(row);
      if (!key.ok()) return key.status();
      txn.ReplaceKey({row.case_id, ring_->current_key_id(), Wrap(row.case_id, *key)});
      ++rewrapped;
    }
    return absl::OkStatus();
  });
  if (!done.ok()) return done;
  return rewrapped;
}

absl::StatusOr<std::map<std::string, int64_t>> KeyStore::UsageLocked() {
  std::map<std::string, int64_t> usage;
  absl::Status read = Transact("usage", [&](CaseKeyTxn& txn) {
    usage = txn.CountBySealingKey();
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  return usage;
}

absl::StatusOr<std::map<std::string, int64_t>> KeyStore::Usage() {
  absl::MutexLock rows_lock(&rows_mu_);
  return UsageLocked();
}

absl::Status KeyStore::ReplaceKeys(std::shared_ptr<const KeyRing> ring) {
  if (ring == nullptr) return absl::InvalidArgumentError("key store: no key ring");
  absl::MutexLock rows_lock(&rows_mu_);
  absl::StatusOr<std::map<std::string, int64_t>> usage = UsageLocked();
  if (!usage.ok()) return usage.status();
  for (const auto& [key_id, count] : *usage) {
    if (!ring->HasKey(key_id)) {
      return absl::FailedPreconditionError(
          absl::StrCat("key file: key ", key_id, " still wraps ", count,
                       " case keys; keep it until they are re-wrapped"));
    }
  }
  ring_ = std::move(ring);
  return absl::OkStatus();
}

absl::Status KeyStore::Backup(const std::string& backup_path) {
  absl::MutexLock rows_lock(&rows_mu_);
  try {
    return rows_->Backup(backup_path);
  } catch (const std::exception& e) {
    return KeyStoreError("backup", e.what());
  }
}

absl::StatusOr<std::optional<FeedMark>> KeyStore::FeedHighWater() {
  absl::MutexLock rows_lock(&rows_mu_);
  std::optional<FeedMark> mark;
  absl::Status read = Transact("feed mark", [&](CaseKeyTxn& txn) {
    mark = txn.ReadFeedMark(false);
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  return mark;
}

absl::Status KeyStore::RaiseFeedHighWater(const FeedMark& mark) {
  absl::MutexLock rows_lock(&rows_mu_);
  return Transact("feed mark", [&](CaseKeyTxn& txn) {
    const std::optional<FeedMark> stored = txn.ReadFeedMark(true);
    const FeedMark raised = Raised(stored, mark);
    if (!stored || stored->epoch != raised.epoch || stored->revision != raised.revision) {
      txn.WriteFeedMark(raised);
    }
    return absl::OkStatus();
  });
}

}  // namespace handover::store
