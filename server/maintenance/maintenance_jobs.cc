#include "server/maintenance/maintenance_jobs.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/dates.h"
#include "server/store/sealing.h"

namespace handover::maintenance {
namespace {

// Items one re-encryption step handles (one writer task), and steps run back
// to back per tick: client writes queue between steps, and a shutdown waits
// for at most one tick's steps. 60,000 versions from before per-case keys
// move in a few ticks (README "Upgrading").
constexpr int kItemsPerStep = 500;
constexpr int kBatchesPerTick = 20;

struct Rotation {
  std::filesystem::file_time_type key_file_time;
  std::atomic<bool> pending{true};  // at start: whatever an older release left
};

void LogKeyUsage(store::DomainStore* store) {
  store->KeyUsage([](absl::StatusOr<std::map<std::string, int64_t>> usage) {
    if (!usage.ok()) return;
    std::string text;
    for (const auto& [id, n] : *usage) text += absl::StrCat(text.empty() ? "" : ", ", id, ": ", n);
    spdlog::info("re-encryption done; sealed items per key: {}", text.empty() ? "none" : text);
  });
}

void ReencryptBatches(store::DomainStore* store, std::shared_ptr<Rotation> rotation,
                      int batches_left) {
  store->Reencrypt(kItemsPerStep, [store, rotation, batches_left](absl::StatusOr<int> count) {
    if (!count.ok()) {
      spdlog::error("re-encryption: {}", count.status().ToString());
    } else if (*count == 0) {
      LogKeyUsage(store);
    } else if (batches_left > 1) {
      ReencryptBatches(store, rotation, batches_left - 1);
    } else {
      rotation->pending = true;  // more next tick
    }
  });
}

}  // namespace

std::function<void()> MaintenanceJobs(store::DomainStore* store,
                                      const MaintenanceOptions& options) {
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::chrono::seconds interval;
    std::function<void()> run;
    Clock::time_point next;
  };
  auto jobs = std::make_shared<std::vector<Job>>();
  const auto now = Clock::now();
  jobs->push_back({options.feed_compaction_interval,
                   [store, retention = options.feed_retention] {
                     const int64_t cutoff =
                         store::NowMicros() -
                         std::chrono::duration_cast<std::chrono::microseconds>(retention).count();
                     store->CompactFeed(cutoff, [](absl::StatusOr<int64_t>) {});
                   },
                   now + options.feed_compaction_interval});
  // Once, at start: a restore may have brought back rows of cases erased
  // since its backup; their keys are gone, so finish those erasures.
  store->EraseKeyless("restore", [](absl::StatusOr<int> erased) {
    if (!erased.ok()) {
      spdlog::error("erasing cases whose key is gone: {}", erased.status().ToString());
    } else if (*erased > 0) {
      spdlog::info("erased {} cases a restore brought back without their keys", *erased);
    }
  });
  jobs->push_back({options.checkpoint_interval,
                   [store] { store->WriteCheckpoint([](absl::StatusOr<bool>) {}); },
                   now + options.checkpoint_interval});
  if (options.retention_days_after_takeover > 0) {
    jobs->push_back({options.retention_interval,
                     [store, days = options.retention_days_after_takeover] {
                       const auto today =
                           std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
                       const std::chrono::year_month_day cutoff{today - std::chrono::days(days)};
                       store->EraseExpired(
                           MakeDate(int(cutoff.year()), int(unsigned(cutoff.month())),
                                    int(unsigned(cutoff.day()))),
                           "retention", [](absl::StatusOr<int>) {});
                     },
                     now});
  }
  // Key rotation: re-read the key file when it changes; re-wrap, re-seal and
  // re-hash in batches while anything is left (Rotation, ReencryptBatches).
  auto rotation = std::make_shared<Rotation>();
  std::error_code error;
  rotation->key_file_time = std::filesystem::last_write_time(options.key_file, error);
  jobs->push_back(
      {std::chrono::seconds(0),
       [store, rotation, key_file = options.key_file] {
         std::error_code error;
         const auto time = std::filesystem::last_write_time(key_file, error);
         if (!error && time != rotation->key_file_time) {
           rotation->key_file_time = time;
           auto ring = KeyRing::LoadFile(key_file);
           if (!ring.ok()) {
             spdlog::error("key file not reloaded: {}", ring.status().ToString());
           } else {
             store->ReplaceKeys(
                 std::make_shared<const KeyRing>(*std::move(ring)),
                 [rotation](absl::StatusOr<bool> replaced) {
                   if (replaced.ok()) {
                     spdlog::info("key file reloaded; re-encrypting under the new current key");
                     rotation->pending = true;
                   } else {
                     spdlog::error("key file not reloaded: {}", replaced.status().ToString());
                   }
                 });
           }
         }
         if (!rotation->pending.exchange(false)) return;
         ReencryptBatches(store, rotation, kBatchesPerTick);
       },
       now});
  return [jobs] {
    const auto now = Clock::now();
    for (Job& job : *jobs) {
      if (now < job.next) continue;
      job.run();
      job.next = now + job.interval;
    }
  };
}

}  // namespace handover::maintenance
