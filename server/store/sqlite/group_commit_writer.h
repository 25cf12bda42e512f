// The single writer: one thread owns the write connection and commits queued
// write tasks in groups, so many requests share one fsync.
//
// Each task's `apply` runs inside the group's transaction under its own
// savepoint: if it returns an error (or throws), only its own writes are rolled
// back. Its `done` runs after the group's COMMIT is durable, with apply's
// status, or with the commit's error if the commit failed (then every task of
// the group fails). `done` runs on the writer thread and must not block.
//
// Thread safety: Submit may be called from any thread.
#pragma once

#include <SQLiteCpp/Database.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/store/backend.h"
#include "server/store/write_queue.h"

namespace handover::store {

using WriterStats = WriteQueueStats;  // server/store/backend.h

class GroupCommitWriter {
 public:
  using Apply = std::function<absl::Status(SQLite::Database&)>;
  using Done = std::function<void(absl::Status)>;

  GroupCommitWriter(std::unique_ptr<SQLite::Database> db, WriterOptions options);
  // Finishes every queued task, then closes the connection.
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  // Queues a task. If the queue is full, calls done(RESOURCE_EXHAUSTED) at once
  // on the calling thread. If `apply` fails and `after_rollback` is set, it
  // runs in the same transaction once apply's writes are rolled back (to
  // record the failure); its own failure is ignored.
  void Submit(Apply apply, Done done, Apply after_rollback = nullptr);

  WriterStats stats() const;

  // Runs on the writer thread right after each successful COMMIT, before the
  // tasks' `done`s, with the write connection (read-only use). Set it before
  // the first Submit.
  void SetCommitHook(std::function<void(SQLite::Database&)> hook);
  // Runs on the writer thread after a group's tasks, before its COMMIT; a
  // failure rolls the group back and fails every task with UNAVAILABLE. Set
  // it before the first Submit.
  void SetPreCommitHook(std::function<absl::Status()> hook);

 private:
  struct Task {
    Apply apply;
    Done done;
    Apply after_rollback;
  };
  void Run();
  void CommitGroup(std::deque<Task>& group);

  std::unique_ptr<SQLite::Database> db_;
  WriteQueue<Task> queue_;
  mutable absl::Mutex mu_;  // guards the hooks
  std::function<void(SQLite::Database&)> commit_hook_ ABSL_GUARDED_BY(mu_);
  std::function<absl::Status()> pre_commit_hook_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace handover::store
