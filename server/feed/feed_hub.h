// Fans commits out to live watchers without a thread per watcher. The store
// hands it the events of every durable commit (NotifyCommit); it keeps the
// most recent ones in memory (the tail), so caught-up watchers take their
// events from there instead of each reading the database. One ticker thread calls
// OnTick on every watcher at the tick interval (progress events, stall
// checks) and then runs the server's periodic maintenance.
//
// Watchers are held weakly: one that is gone is dropped at the next pass.
// Listener methods run on the store's writer thread, the ticker thread, or
// (OnShutdown) the thread that adds a watcher after CloseAll or calls
// CloseAll; they must not block.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/policy/policy.h"
#include "server/store/case_store.h"

namespace handover::feed {

class FeedListener {
 public:
  virtual ~FeedListener() = default;
  // A commit made revisions up to `head_revision` durable (only called when
  // the head moved).
  virtual void OnCommit(int64_t head_revision) = 0;
  // The tick interval passed.
  virtual void OnTick(std::chrono::steady_clock::time_point now) = 0;
  // The server is shutting down: end the stream.
  virtual void OnShutdown() = 0;
};

class FeedHub {
 public:
  // `tick` is how often OnTick runs; `maintenance` (may be empty) runs on the
  // ticker thread after every tick and decides itself what is due. The tail
  // holds the newest `tail_capacity` events. Default 8192.
  FeedHub(std::chrono::milliseconds tick, std::function<void()> maintenance,
          size_t tail_capacity = 8192);
  // Stops the ticker.
  ~FeedHub();
  FeedHub(const FeedHub&) = delete;
  FeedHub& operator=(const FeedHub&) = delete;

  void Add(std::weak_ptr<FeedListener> listener);
  // The events of one commit, in revision order, contiguous with the last
  // call, and the revision through which history is compacted (the tail then
  // serves nothing at or before it).
  void NotifyCommit(std::vector<store::CommittedEvent> events, int64_t compacted_through);
  // Reads like CaseStore::ReadFeed (without cases) from the tail. False if the
  // tail does not reach back to `after_revision` (read the database then).
  // `filter` is the caller's (policy::EventFilterFor).
  bool ReadTail(const policy::EventFilter& filter, int64_t after_revision, int limit,
                store::FeedPage* page) const;
  // Tells every watcher to end (server shutdown); watchers added later are
  // ended as they arrive.
  void CloseAll();
  // The newest revision committed since the hub started (0 before any).
  int64_t head_revision() const;
  // Watchers connected now.
  size_t watcher_count() const;

 private:
  // Live listeners, dropping the ones that are gone.
  std::vector<std::shared_ptr<FeedListener>> LiveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Tick();

  const std::chrono::milliseconds tick_;
  const std::function<void()> maintenance_;
  mutable absl::Mutex mu_;
  std::vector<std::weak_ptr<FeedListener>> listeners_ ABSL_GUARDED_BY(mu_);
  const size_t tail_capacity_;
  std::deque<store::CommittedEvent> tail_ ABSL_GUARDED_BY(mu_);
  // The tail holds every revision after this.
  int64_t tail_after_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t head_revision_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ticker_;
};

}  // namespace handover::feed
