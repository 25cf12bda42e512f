// The PostgreSQL backend (backend.h), for several handoverd replicas on one
// database:
//  - one writer thread per replica commits queued write tasks in groups of at
//    most 64 (whatever --write-batch says: PostgreSQL caches 64 subtransaction
//    ids per backend), each task under its own savepoint (write_queue.h). A group's transaction
//    first locks the access_head row, which orders the write transactions of
//    all replicas (contract 1) and with them the access-log chain (contract
//    3); feed revisions come from the feed_head row (pg_event_rows.cc says
//    why they cannot skip: contract 2);
//  - a pool of read connections, each read in one REPEATABLE READ, READ ONLY
//    transaction: one snapshot (contract 4);
//  - the commit hook runs after each of this replica's commits on the writer
//    (contract 5), and after other replicas' commits on the watcher thread
//    (pg_commit_watcher.h), which LISTENs for their NOTIFY and polls at
//    least once per `poll_interval` in case a notification is lost. Hook
//    runs are serialised and each reads a fresh snapshot, so what the hook
//    sees only ever moves forward;
//  - numbered migrations run once under an advisory lock (pg_migrations.h).
//
// The connection URL is libpq's ("postgresql://user@host/db"); the password
// comes from PGPASSFILE or PGPASSWORD, never the command line.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/store/backend.h"
#include "server/store/write_queue.h"

namespace handover::store {

struct PgConnection;    // pg_statements.h
class PgStatements;     // pg_statements.h
class PgCommitWatcher;  // pg_commit_watcher.h

struct PgBackendOptions {
  std::string url;
  // Where uploads are staged on this host (emptied at open): one per replica.
  std::string staging_directory;
  WriterOptions writer;
  ReaderOptions readers;
  // The longest another replica's commit waits to reach this replica's
  // watchers when its notification is lost.
  absl::Duration poll_interval = absl::Seconds(1);
};

class PgBackend final : public Backend {
 public:
  // Connects, migrates (FAILED_PRECONDITION if the schema is newer than this
  // binary), empties the staging directory and starts the threads.
  // UNAVAILABLE with the server's message if PostgreSQL cannot be reached.
  static absl::StatusOr<std::unique_ptr<PgBackend>> Open(PgBackendOptions options);
  // Completes queued writes, then reads, then stops the watcher.
  ~PgBackend() override;

  void Write(WriteTask apply, std::function<void(absl::Status)> done,
             WriteTask after_rollback) override;
  bool Read(ReadTask read, std::function<void(absl::Status)> unavailable) override;
  void SetCommitHook(ReadTask hook) override;
  void SetPreCommitHook(std::function<absl::Status()> hook) override;
  const std::string& staging_directory() const override { return options_.staging_directory; }
  WriteQueueStats write_stats() const override { return writes_.stats(); }
  // The database's size, as of the watcher's last look (every few seconds).
  int64_t storage_bytes() const override;

 private:
  struct Task {
    WriteTask apply;
    std::function<void(absl::Status)> done;
    WriteTask after_rollback;
  };
  // What a group's transaction came to.
  struct GroupResult {
    // OK if committed; else what every task of the group is told.
    absl::Status failure;
    // Per task, when committed: its own result (a failed task rolled back
    // alone, contract 1).
    std::vector<absl::Status> tasks;
    // The connection broke before COMMIT was sent: nothing is stored, and
    // the group may run again on a new connection.
    bool broken_before_commit = false;
    bool wrote_events = false;
  };
  explicit PgBackend(PgBackendOptions options);
  // Each thread owns its connection, and connects again when it finds it
  // broken (libpqxx 6 does not). The writer runs a group again, once, on a
  // new connection if the old one broke before the commit; a reader opens
  // its snapshot again, once, on a new connection.
  void RunWriter(std::unique_ptr<PgConnection> connection);
  void WriteGroup(std::unique_ptr<PgConnection>& connection, std::deque<Task>& group);
  GroupResult CommitGroup(PgConnection& connection, std::deque<Task>& group);
  // One task under its own savepoint; throws (failing the group) if the
  // transaction cannot go on.
  absl::Status RunTask(pqxx::work& txn, PgStatements& statements, Task& task, bool* wrote_events);
  // Wakes the other replicas' watchers after a commit that wrote events.
  void Notify(PgConnection& connection);
  void RunReader(std::unique_ptr<PgConnection> connection);
  // Runs the commit hook on a fresh snapshot; serialised across threads.
  void RunCommitHook(PgConnection& connection) ABSL_LOCKS_EXCLUDED(hook_mu_);

  const PgBackendOptions options_;
  WriteQueue<Task> writes_;
  absl::Mutex hook_mu_;
  ReadTask hook_ ABSL_GUARDED_BY(hook_mu_);
  absl::Mutex pre_commit_mu_;
  std::function<absl::Status()> pre_commit_ ABSL_GUARDED_BY(pre_commit_mu_);

  struct ReadItem {
    ReadTask read;
    std::function<void(absl::Status)> unavailable;
  };
  absl::Mutex reads_mu_;
  std::deque<ReadItem> reads_ ABSL_GUARDED_BY(reads_mu_);
  bool reads_closed_ ABSL_GUARDED_BY(reads_mu_) = false;

  std::atomic<int64_t> storage_bytes_{0};
  std::thread writer_;
  std::vector<std::thread> readers_;
  std::unique_ptr<PgCommitWatcher> watcher_;
};

}  // namespace handover::store
