#include "server/store/key_cache.h"

namespace handover::store {

std::optional<DataKey> KeyCache::Get(absl::string_view case_id) const {
  auto it = keys_.find(case_id);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

void KeyCache::Put(absl::string_view case_id, const DataKey& key) {
  if (max_entries_ == 0) return;
  if (auto it = keys_.find(case_id); it != keys_.end()) {
    it->second = key;
    return;
  }
  if (keys_.size() >= max_entries_) keys_.erase(keys_.begin());
  keys_.emplace(std::string(case_id), key);
}

void KeyCache::Erase(absl::string_view case_id) {
  if (auto it = keys_.find(case_id); it != keys_.end()) keys_.erase(it);
}

}  // namespace handover::store
