// Fans commits out to live watchers without a thread per watcher. The store
// calls NotifyCommit after every durable commit; one ticker thread calls
// OnTick on every watcher at the tick interval (progress events, stall
// checks) and then runs the server's periodic maintenance.
//
// Watchers are held weakly: one that is gone is dropped at the next pass.
// Listener methods run on the store's writer thread or the ticker thread and
// must not block.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

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
  // ticker thread after every tick and decides itself what is due.
  FeedHub(std::chrono::milliseconds tick, std::function<void()> maintenance);
  // Stops the ticker.
  ~FeedHub();
  FeedHub(const FeedHub&) = delete;
  FeedHub& operator=(const FeedHub&) = delete;

  void Add(std::weak_ptr<FeedListener> listener);
  void NotifyCommit(int64_t head_revision);
  // Tells every watcher to end (server shutdown); watchers added later are
  // ended as they arrive.
  void CloseAll();
  // The newest revision committed since the hub started (0 before any).
  int64_t head_revision() const;
  // Live watchers.
  size_t watcher_count() const;

 private:
  // Live listeners, dropping the ones that are gone. Caller holds mu_.
  std::vector<std::shared_ptr<FeedListener>> LiveLocked();
  void Tick();

  const std::chrono::milliseconds tick_;
  const std::function<void()> maintenance_;
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<FeedListener>> listeners_;  // guarded by mu_
  int64_t head_revision_ = 0;                            // guarded by mu_
  bool stopping_ = false;                                // guarded by mu_
  bool closed_ = false;                                  // guarded by mu_
  std::condition_variable wake_;
  std::thread ticker_;
};

}  // namespace handover::feed
