// The queue in front of a backend's writer thread: bounded (a full queue
// refuses at once, which bounds memory under overload), taken in groups of
// at most WriterOptions::max_batch tasks that commit together, and counted
// the same way for every backend (WriteQueueStats, backend.h).
//
// Thread-safe: Push and stats from any thread; TakeGroup from the writer.
#pragma once

#include <algorithm>
#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/store/backend.h"

namespace handover::store {

template <typename Task>
class WriteQueue {
 public:
  explicit WriteQueue(WriterOptions options) : options_(options) {}
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Moves the task into the queue; false if the queue is full or closed
  // (counted as rejected), and then the task stays with the caller, who
  // answers its `done`.
  bool Push(Task& task) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (queue_.size() >= options_.max_queue || closed_) {
      ++stats_.rejected;
      return false;
    }
    queue_.push_back(std::move(task));  // unlocking wakes TakeGroup
    return true;
  }

  // Waits for tasks and takes up to max_batch of them; empty once the queue
  // is closed and drained.
  std::deque<Task> TakeGroup() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || !queue_.empty(); };
    mu_.Await(absl::Condition(&ready));
    std::deque<Task> group;
    while (!queue_.empty() && group.size() < options_.max_batch) {
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    if (group.empty()) return group;
    ++stats_.groups;
    stats_.tasks += group.size();
    const auto& bounds = WriteQueueStats::kBatchBuckets;
    const size_t bucket = std::min<size_t>(
        std::lower_bound(bounds.begin(), bounds.end(), group.size()) - bounds.begin(),
        bounds.size() - 1);
    ++stats_.batch_sizes[bucket];
    return group;
  }

  // Refuses new tasks; TakeGroup drains what is queued, then returns empty.
  void Close() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

  WriteQueueStats stats() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    WriteQueueStats stats = stats_;
    stats.queue_depth = queue_.size();
    return stats;
  }

 private:
  const WriterOptions options_;
  mutable absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  WriteQueueStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace handover::store
