// WAL checkpoints off the writer thread. By default SQLite checkpoints inside
// the COMMIT that grows the WAL past 1,000 pages, on the committing thread:
// with many pages per group that was every dozen commits, and it made COMMIT
// take twice as long. The Checkpointer installs itself as the writer
// connection's WAL hook (which turns that automatic checkpoint off), and when
// a commit leaves the WAL at or above the threshold it wakes its own thread,
// which runs a PASSIVE checkpoint on its own connection while the writer goes
// on committing. As before, the next write after a complete checkpoint starts
// the WAL from the beginning when no reader still uses it.
//
// Destroy it after the writer connection is closed (the hook points here).
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

struct sqlite3;

namespace handover::store {

class Checkpointer {
 public:
  // Opens its own connection to `path` and hooks into `writer` (not yet used
  // by any other thread). Default threshold: SQLite's, 1,000 pages.
  Checkpointer(const std::string& path, SQLite::Database& writer, int threshold_pages = 1000);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void Run();

  const int threshold_pages_;
  std::unique_ptr<SQLite::Database> db_;
  absl::Mutex mu_;
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace handover::store
