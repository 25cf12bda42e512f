#include "server/feed/feed_hub.h"

#include <algorithm>

namespace handover::feed {

FeedHub::FeedHub(std::chrono::milliseconds tick, std::function<void()> maintenance)
    : tick_(tick), maintenance_(std::move(maintenance)), ticker_([this] { Tick(); }) {}

FeedHub::~FeedHub() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  ticker_.join();
}

void FeedHub::Add(std::weak_ptr<FeedListener> listener) {
  {
    std::lock_guard lock(mu_);
    if (!closed_) {
      listeners_.push_back(std::move(listener));
      return;
    }
  }
  // Arrived after CloseAll: end it at once.
  if (auto strong = listener.lock()) strong->OnShutdown();
}

std::vector<std::shared_ptr<FeedListener>> FeedHub::LiveLocked() {
  std::vector<std::shared_ptr<FeedListener>> live;
  live.reserve(listeners_.size());
  std::erase_if(listeners_, [&live](const std::weak_ptr<FeedListener>& weak) {
    auto strong = weak.lock();
    if (!strong) return true;
    live.push_back(std::move(strong));
    return false;
  });
  return live;
}

void FeedHub::NotifyCommit(int64_t head_revision) {
  std::vector<std::shared_ptr<FeedListener>> live;
  {
    std::lock_guard lock(mu_);
    // Most commits (access records) add no event: wake nobody for them.
    if (head_revision <= head_revision_) return;
    head_revision_ = head_revision;
    live = LiveLocked();
  }
  for (auto& listener : live) listener->OnCommit(head_revision);
}

void FeedHub::CloseAll() {
  std::vector<std::shared_ptr<FeedListener>> live;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    live = LiveLocked();
  }
  for (auto& listener : live) listener->OnShutdown();
}

int64_t FeedHub::head_revision() const {
  std::lock_guard lock(mu_);
  return head_revision_;
}

size_t FeedHub::watcher_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& weak : listeners_) n += weak.expired() ? 0 : 1;
  return n;
}

void FeedHub::Tick() {
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, tick_, [this] { return stopping_; })) {
    auto live = LiveLocked();
    lock.unlock();
    const auto now = std::chrono::steady_clock::now();
    for (auto& listener : live) listener->OnTick(now);
    live.clear();  // drop references outside the lock, too
    if (maintenance_) maintenance_();
    lock.lock();
  }
}

}  // namespace handover::feed
