#include "server/feed/feed_hub.h"

#include <algorithm>

namespace handover::feed {

FeedHub::FeedHub(std::chrono::milliseconds tick, std::function<void()> maintenance,
                 size_t tail_capacity)
    : tick_(tick),
      maintenance_(std::move(maintenance)),
      tail_capacity_(tail_capacity),
      ticker_([this] { Tick(); }) {}

FeedHub::~FeedHub() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;  // wakes the ticker
  }
  ticker_.join();
}

void FeedHub::Add(std::weak_ptr<FeedListener> listener) {
  {
    absl::MutexLock lock(&mu_);
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

void FeedHub::NotifyCommit(std::vector<store::CommittedEvent> events, int64_t compacted_through) {
  std::vector<std::shared_ptr<FeedListener>> live;
  int64_t head = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!events.empty()) {
      if (tail_after_ < 0) tail_after_ = events.front().event.revision() - 1;
      head = events.back().event.revision();
      for (auto& event : events) tail_.push_back(std::move(event));
    }
    // Bounded, and never older than the retained history.
    while (!tail_.empty() &&
           (tail_.size() > tail_capacity_ || tail_.front().event.revision() <= compacted_through)) {
      tail_after_ = tail_.front().event.revision();
      tail_.pop_front();
    }
    if (tail_after_ >= 0 && tail_after_ < compacted_through) tail_after_ = compacted_through;
    if (head == 0) return;  // compaction only
    head_revision_ = head;
    live = LiveLocked();
  }
  for (auto& listener : live) listener->OnCommit(head);
}

bool FeedHub::ReadTail(const policy::EventFilter& filter, int64_t after_revision, int limit,
                       store::FeedPage* page) const {
  absl::MutexLock lock(&mu_);
  if (tail_after_ < 0 || after_revision < tail_after_ || after_revision > head_revision_) {
    return false;
  }
  page->events.clear();
  // Revisions in the tail are contiguous: the first one after `after_revision`
  // is at a known index.
  for (size_t i = static_cast<size_t>(after_revision - tail_after_); i < tail_.size(); ++i) {
    const store::CommittedEvent& committed = tail_[i];
    if (!policy::MatchesEvent(filter, committed.audience)) continue;
    page->events.push_back(store::FeedEvent{committed.event, std::nullopt});
    if (static_cast<int>(page->events.size()) == limit) {
      page->scanned_through = committed.event.revision();
      page->caught_up = committed.event.revision() == head_revision_;
      return true;
    }
  }
  page->scanned_through = head_revision_;
  page->caught_up = true;
  return true;
}

void FeedHub::CloseAll() {
  std::vector<std::shared_ptr<FeedListener>> live;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    live = LiveLocked();
  }
  for (auto& listener : live) listener->OnShutdown();
}

size_t FeedHub::watcher_count() const {
  absl::MutexLock lock(&mu_);
  return std::count_if(listeners_.begin(), listeners_.end(),
                       [](const std::weak_ptr<FeedListener>& weak) { return !weak.expired(); });
}

int64_t FeedHub::head_revision() const {
  absl::MutexLock lock(&mu_);
  return head_revision_;
}

void FeedHub::Tick() {
  for (;;) {
    std::vector<std::shared_ptr<FeedListener>> live;
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::FromChrono(tick_))) return;
      live = LiveLocked();
    }
    const auto now = std::chrono::steady_clock::now();
    for (auto& listener : live) listener->OnTick(now);
    live.clear();  // drop references outside the lock, too
    if (maintenance_) maintenance_();
  }
}

}  // namespace handover::feed
