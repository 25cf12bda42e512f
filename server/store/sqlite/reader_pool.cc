#include "server/store/sqlite/reader_pool.h"

#include "server/store/sqlite/statement_cache.h"

namespace handover::store {

ReaderPool::ReaderPool(const std::string& path, ReaderOptions options) : options_(options) {
  for (int i = 0; i < options_.threads; ++i) {
    // Each connection is used by its own thread only: no SQLite mutex needed.
    auto db =
        std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX);
    db->setBusyTimeout(5000);
    connections_.push_back(std::move(db));
  }
  for (auto& db : connections_) {
    threads_.emplace_back([this, conn = db.get()] { Run(*conn); });
  }
}

ReaderPool::~ReaderPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& thread : threads_) thread.join();
}

bool ReaderPool::Submit(Task task) {
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= options_.max_queue || stopping_) return false;
  queue_.push_back(std::move(task));  // unlocking wakes a thread waiting in Run
  return true;
}

void ReaderPool::Run(SQLite::Database& db) {
  KeepPreparedStatements();  // this thread owns `db` until the pool goes
  for (;;) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task(db);
  }
}

}  // namespace handover::store
