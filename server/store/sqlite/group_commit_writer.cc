#include "server/store/sqlite/group_commit_writer.h"

#include <stdexcept>

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <exception>

#include "absl/strings/str_cat.h"
#include "server/store/sqlite/statement_cache.h"
#include "server/store/storage_errors.h"

namespace handover::store {
namespace {

// The pre-commit hook's failure, told apart from SQLite's own.
class PreCommitFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace

GroupCommitWriter::GroupCommitWriter(std::unique_ptr<SQLite::Database> db, WriterOptions options)
    : db_(std::move(db)), queue_(options), thread_([this] { Run(); }) {}

GroupCommitWriter::~GroupCommitWriter() {
  queue_.Close();
  thread_.join();
}

void GroupCommitWriter::Submit(Apply apply, Done done, Apply after_rollback) {
  Task task{std::move(apply), std::move(done), std::move(after_rollback)};
  if (!queue_.Push(task))
    task.done(absl::ResourceExhaustedError("write queue is full; retry later"));
}

WriterStats GroupCommitWriter::stats() const { return queue_.stats(); }

void GroupCommitWriter::SetCommitHook(std::function<void(SQLite::Database&)> hook) {
  absl::MutexLock lock(&mu_);
  commit_hook_ = std::move(hook);
}

void GroupCommitWriter::SetPreCommitHook(std::function<absl::Status()> hook) {
  absl::MutexLock lock(&mu_);
  pre_commit_hook_ = std::move(hook);
}

void GroupCommitWriter::Run() {
  KeepPreparedStatements();  // this thread owns db_ until the writer goes
  for (;;) {
    std::deque<Task> group = queue_.TakeGroup();
    if (group.empty()) return;  // closed, and everything is done
    CommitGroup(group);
  }
}

void GroupCommitWriter::CommitGroup(std::deque<Task>& group) {
  std::vector<absl::Status> results;
  results.reserve(group.size());
  absl::Status commit_status;
  try {
    Prepared(*db_, "BEGIN IMMEDIATE")->exec();
    for (Task& task : group) {
      Prepared(*db_, "SAVEPOINT task")->exec();
      absl::Status status;
      try {
        status = task.apply(*db_);
      } catch (const std::exception& e) {
        status = TaskStorageError(e.what());
      }
      if (!status.ok()) {
        // Nothing of the task is left. If SQLite rolled the whole
        // transaction back by itself (a full disk, an I/O error), this
        // throws: the group fails and every task is told nothing was stored.
        db_->exec("ROLLBACK TO task");
        if (task.after_rollback) {
          bool recorded = false;
          try {
            recorded = task.after_rollback(*db_).ok();
          } catch (const std::exception& e) {
            spdlog::warn("a refused write's access record was not stored: {}", e.what());
          }
          if (!recorded) db_->exec("ROLLBACK TO task");
        }
      }
      Prepared(*db_, "RELEASE task")->exec();
      results.push_back(std::move(status));
    }
    std::function<absl::Status()> pre_commit;
    {
      absl::MutexLock lock(&mu_);
      pre_commit = pre_commit_hook_;
    }
    if (pre_commit) {
      if (absl::Status ready = pre_commit(); !ready.ok()) {
        throw PreCommitFailed(std::string(ready.message()));
      }
    }
    Prepared(*db_, "COMMIT")->exec();
  } catch (const PreCommitFailed& e) {
    commit_status = NothingStored("storing the new cases' keys", e.what());
  } catch (const std::exception& e) {
    // A failed COMMIT leaves SQLite's transaction rolled back or open (and
    // rolled back below): nothing of the group is stored.
    commit_status = NothingStored("the write transaction", e.what());
  }
  if (!commit_status.ok()) {
    try {
      if (sqlite3_get_autocommit(db_->getHandle()) == 0) db_->exec("ROLLBACK");
    } catch (const std::exception&) {
    }
  }
  if (commit_status.ok()) {
    std::function<void(SQLite::Database&)> hook;
    {
      absl::MutexLock lock(&mu_);
      hook = commit_hook_;
    }
    try {
      if (hook) hook(*db_);
    } catch (const std::exception&) {
      // The group is committed whatever the hook did.
    }
  }
  for (size_t i = 0; i < group.size(); ++i) {
    group[i].done(commit_status.ok() ? results[i] : commit_status);
  }
}

}  // namespace handover::store
