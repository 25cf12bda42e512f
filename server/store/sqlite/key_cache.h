// A bounded, least-recently-used map from case id to that case's unwrapped
// DataKey, so that reading a case does not unwrap its key from the key store
// every time. Evicted and erased keys are cleansed (DataKey's destructor).
//
// Thread-compatible, not thread-safe: KeyStore guards it with a mutex.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/crypto.h"

namespace handover::store {

class KeyCache {
 public:
  // Holds at most `max_entries` keys; 0 caches nothing.
  explicit KeyCache(size_t max_entries) : max_entries_(max_entries) {}
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  // The case's key if cached, marking it most recently used.
  std::optional<DataKey> Get(std::string_view case_id);
  // Caches (or replaces) the case's key, evicting the least recently used
  // key when full.
  void Put(std::string_view case_id, const DataKey& key);
  // Drops the case's key, if cached.
  void Erase(std::string_view case_id);

  size_t size() const { return index_.size(); }
  size_t max_entries() const { return max_entries_; }

 private:
  struct Entry {
    std::string case_id;
    DataKey key;
  };
  const size_t max_entries_;
  std::list<Entry> entries_;  // most recently used first
  // Views into the entries' case ids (list nodes never move).
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace handover::store
