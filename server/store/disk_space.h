// The free-space reserve of the filesystem that holds the database. Below
// the reserve, client writes (forms, assignments, consents, uploads,
// erasures) are refused with UNAVAILABLE while reads go on: their access
// records are small and come out of the reserve. When the disk is truly full
// even those records cannot be written, and reads fail closed (UNAVAILABLE,
// nothing disclosed without its record). Space coming back ends it by itself.
//
// Threads: all methods may be called from any thread. Free space is read
// (statvfs) at most every 200 ms; `on_change` runs on the thread that
// noticed the crossing, outside any lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"

namespace handover::store {

class DiskSpace {
 public:
  // `directory` holds the database; `reserve_bytes` 0 turns the check off.
  // `on_change(low)` is called when free space crosses the reserve.
  DiskSpace(std::string directory, uint64_t reserve_bytes,
            std::function<void(bool low)> on_change = nullptr);

  // Reads free space if the last reading is older than 200 ms; true if below
  // the reserve.
  bool Low();
  // OK, or UNAVAILABLE naming the reserve if below it.
  absl::Status AdmitWrite();
  // The last reading: free bytes for an unprivileged writer (f_bavail).
  uint64_t free_bytes() const { return free_bytes_.load(); }
  uint64_t reserve_bytes() const { return reserve_bytes_; }

 private:
  void Refresh();

  const std::string directory_;
  const uint64_t reserve_bytes_;
  const std::function<void(bool)> on_change_;
  std::atomic<int64_t> last_read_ns_{0};  // steady clock
  std::atomic<uint64_t> free_bytes_{UINT64_MAX};
  std::atomic<bool> low_{false};
};

}  // namespace handover::store
