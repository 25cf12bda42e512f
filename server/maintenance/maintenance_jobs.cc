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
  // Key rotation: re-read the key file when it changes; re-encrypt in batches
  // while anything is sealed with a key other than the current one.
  struct Rotation {
    std::filesystem::file_time_type key_file_time;
    std::atomic<bool> pending{true};  // at start: versions from before key ids
  };
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
         store->Reencrypt(500, [store, rotation](absl::StatusOr<int> count) {
           if (!count.ok()) {
             spdlog::error("re-encryption: {}", count.status().ToString());
           } else if (*count > 0) {
             rotation->pending = true;  // more next tick
           } else {
             store->KeyUsage([](absl::StatusOr<std::map<std::string, int64_t>> usage) {
               if (!usage.ok()) return;
               std::string text;
               for (const auto& [id, n] : *usage) {
                 text += absl::StrCat(text.empty() ? "" : ", ", id, ": ", n);
               }
               spdlog::info("re-encryption done; sealed items per key: {}",
                            text.empty() ? "none" : text);
             });
           }
         });
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
