// A bounded map from case id to that case's unwrapped DataKey, so reading a
// case does not unwrap its key from the key store every time. Sized to hold
// every key (the key store fills it at open); when full, a new key evicts an
// arbitrary one. A hit changes nothing, so readers can share a lock: a full
// sync of 100,000 cases spent 6% of the server's CPU in the least-recently-
// used list this replaced (perf, docs/performance.md). Evicted and erased
// keys are cleansed (DataKey's destructor).
//
// Thread-compatible: Get may run concurrently with Get; anything else needs
// exclusive access (the key stores hold a reader/writer mutex).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/container/flat_hash_map.h"
#include "common/crypto.h"

namespace handover::store {

class KeyCache {
 public:
  // Holds at most `max_entries` keys; 0 caches nothing.
  explicit KeyCache(size_t max_entries) : max_entries_(max_entries) {}
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  // The case's key if cached.
  std::optional<DataKey> Get(absl::string_view case_id) const;
  // Caches (or replaces) the case's key, evicting another when full.
  void Put(absl::string_view case_id, const DataKey& key);
  // Drops the case's key, if cached.
  void Erase(absl::string_view case_id);

  size_t size() const { return keys_.size(); }
  size_t max_entries() const { return max_entries_; }

 private:
  const size_t max_entries_;
  absl::flat_hash_map<std::string, DataKey> keys_;
};

}  // namespace handover::store
