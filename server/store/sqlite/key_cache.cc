#include "server/store/sqlite/key_cache.h"

namespace handover::store {

std::optional<DataKey> KeyCache::Get(std::string_view case_id) {
  auto it = index_.find(case_id);
  if (it == index_.end()) return std::nullopt;
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->key;
}

void KeyCache::Put(std::string_view case_id, const DataKey& key) {
  if (max_entries_ == 0) return;
  if (auto it = index_.find(case_id); it != index_.end()) {
    it->second->key = key;
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  if (index_.size() >= max_entries_) {
    index_.erase(entries_.back().case_id);
    entries_.pop_back();
  }
  entries_.push_front(Entry{std::string(case_id), key});
  index_.emplace(entries_.front().case_id, entries_.begin());
}

void KeyCache::Erase(std::string_view case_id) {
  auto it = index_.find(case_id);
  if (it == index_.end()) return;
  auto entry = it->second;
  index_.erase(it);
  entries_.erase(entry);
}

}  // namespace handover::store
