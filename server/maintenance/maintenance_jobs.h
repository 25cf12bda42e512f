// The store's periodic jobs (and, once when they are made, the erasures a
// restore undid: DomainStore::EraseKeyless): feed compaction, signed access-log checkpoints,
// erasure when retention ends, and key rotation (re-read the key file when it
// changes, re-seal in batches while an old key still seals anything). Run
// by the feed hub's ticker thread (server/feed/feed_hub.h); each job starts
// when its interval has passed and finishes asynchronously in the store.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "server/store/domain_store.h"

namespace handover::maintenance {

struct MaintenanceOptions {
  std::chrono::seconds feed_retention{30 * 24 * 3600};
  std::chrono::seconds feed_compaction_interval{3600};
  std::chrono::seconds checkpoint_interval{60};
  // 0: cases are never erased for age.
  int retention_days_after_takeover = 365;
  std::chrono::seconds retention_interval{3600};
  // Watched for changes (key rotation).
  std::string key_file;
};

// The jobs as one function to call on every tick. `store` must outlive it.
std::function<void()> MaintenanceJobs(store::DomainStore* store, const MaintenanceOptions& options);

}  // namespace handover::maintenance
