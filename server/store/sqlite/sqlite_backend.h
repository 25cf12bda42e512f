// The SQLite backend (backend.h): WAL, synchronous=FULL, secure_delete, one
// group-committing writer thread (group_commit_writer.h) — which is how it
// meets the contract's commit order — a pool of read connections
// (reader_pool.h), each read in one deferred transaction (a snapshot),
// checkpoints on a thread of their own (checkpointer.h), numbered
// migrations (migrations.h), and the write-ahead log truncated after an
// erasure so no image of erased pages survives there.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/store/backend.h"
#include "server/store/sqlite/group_commit_writer.h"
#include "server/store/sqlite/reader_pool.h"

namespace handover::store {

class Checkpointer;  // server/store/sqlite/checkpointer.h

struct SqliteBackendOptions {
  // The database file; created if missing.
  std::string path;
  WriterOptions writer;
  ReaderOptions readers;
};

class SqliteBackend final : public Backend {
 public:
  // Opens (creating if needed) and migrates the database, and empties the
  // staging directory "<path>.staging". UNAVAILABLE with SQLite's message if
  // the file cannot be opened or migrated.
  static absl::StatusOr<std::unique_ptr<SqliteBackend>> Open(SqliteBackendOptions options);
  // Completes queued writes, then reads, then closes every connection.
  ~SqliteBackend() override;

  void Write(WriteTask apply, std::function<void(absl::Status)> done,
             WriteTask after_rollback) override;
  bool Read(ReadTask read, std::function<void(absl::Status)> unavailable) override;
  void SetCommitHook(ReadTask hook) override;
  void SetPreCommitHook(std::function<absl::Status()> hook) override;
  const std::string& staging_directory() const override { return staging_directory_; }
  WriteQueueStats write_stats() const override { return writer_->stats(); }
  int64_t storage_bytes() const override;

 private:
  SqliteBackend(std::string path, std::unique_ptr<Checkpointer> checkpointer,
                std::unique_ptr<GroupCommitWriter> writer, std::unique_ptr<ReaderPool> readers);
  // After each commit, on the writer thread.
  void OnCommit(SQLite::Database& db);

  const std::string path_;
  const std::string staging_directory_;
  absl::Mutex hook_mu_;
  ReadTask hook_ ABSL_GUARDED_BY(hook_mu_);
  // Set by ScrubAfterCommit: truncate the WAL after the commit.
  std::atomic<bool> truncate_wal_{false};
  std::unique_ptr<Checkpointer> checkpointer_;  // destroyed after the writer
  std::unique_ptr<GroupCommitWriter> writer_;
  std::unique_ptr<ReaderPool> readers_;  // destroyed before the writer
};

}  // namespace handover::store
