// A fixed pool of threads, each owning one read-only connection to the
// database, running read tasks from a shared queue. In WAL mode readers see
// the last committed state and never wait for the writer.
//
// Thread safety: Submit may be called from any thread.
#pragma once

#include <SQLiteCpp/Database.h>

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/store/backend.h"

namespace handover::store {

class ReaderPool {
 public:
  using Task = std::function<void(SQLite::Database&)>;

  // Opens `options.threads` read-only connections to `path`; throws if one fails.
  ReaderPool(const std::string& path, ReaderOptions options);
  // Runs what is queued, then closes the connections.
  ~ReaderPool();
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  // Queues a task; false (and the task is dropped) if the queue is full.
  bool Submit(Task task);

 private:
  void Run(SQLite::Database& db);

  const ReaderOptions options_;
  std::vector<std::unique_ptr<SQLite::Database>> connections_;
  absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace handover::store
