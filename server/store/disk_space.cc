#include "server/store/disk_space.h"

#include <sys/statvfs.h>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace handover::store {

DiskSpace::DiskSpace(std::string directory, uint64_t reserve_bytes,
                     std::function<void(bool)> on_change)
    : directory_(std::move(directory)),
      reserve_bytes_(reserve_bytes),
      on_change_(std::move(on_change)) {}

bool DiskSpace::Low() {
  if (reserve_bytes_ == 0) return false;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t last = last_read_ns_.load();
  if (now - last >= 200'000'000 && last_read_ns_.compare_exchange_strong(last, now)) Refresh();
  return low_.load();
}

absl::Status DiskSpace::AdmitWrite() {
  if (!Low()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "the database's disk has less free space than its reserve (disk-reserve-mb ",
      reserve_bytes_ / (1024 * 1024), "): writes are refused until space is freed; reads go on"));
}

void DiskSpace::Refresh() {
  struct statvfs fs;
  if (statvfs(directory_.c_str(), &fs) != 0) return;
  const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  free_bytes_ = free;
  const bool low = free < reserve_bytes_;
  if (low_.exchange(low) == low) return;
  if (low) {
    spdlog::error(
        "disk space: {} MiB free under {} is below the reserve of {} MiB; client writes are "
        "refused (UNAVAILABLE) and health reports NOT_SERVING until space is freed",
        free / (1024 * 1024), directory_, reserve_bytes_ / (1024 * 1024));
  } else {
    spdlog::warn("disk space: {} MiB free again under {}; writes resume", free / (1024 * 1024),
                 directory_);
  }
  if (on_change_) on_change_(low);
}

}  // namespace handover::store
