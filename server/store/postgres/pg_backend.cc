#include "server/store/postgres/pg_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "server/store/document_staging.h"
#include "server/store/postgres/pg_commit_watcher.h"
#include "server/store/postgres/pg_migrations.h"
#include "server/store/postgres/pg_statements.h"
#include "server/store/postgres/pg_txn.h"
#include "server/store/storage_errors.h"

namespace handover::store {
namespace {

// How often (in watcher wake-ups) the database's size is looked up again.
constexpr int kSizeEveryWakes = 10;
constexpr char kWriterName[] = "handoverd-writer";
constexpr char kReaderName[] = "handoverd-reader";

// `connection`, connected again if it broke; throws if it cannot connect.
PgConnection& Connected(std::unique_ptr<PgConnection>& connection, const std::string& url,
                        const char* name) {
  if (!connection || !connection->connection.is_open()) {
    connection = std::make_unique<PgConnection>(url, name);
  }
  return *connection;
}

using Snapshot = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

}  // namespace

absl::StatusOr<std::unique_ptr<PgBackend>> PgBackend::Open(PgBackendOptions options) {
  std::unique_ptr<PgBackend> backend(new PgBackend(std::move(options)));
  const PgBackendOptions& o = backend->options_;
  std::vector<std::unique_ptr<PgConnection>> connections;  // the writer's, then the readers'
  try {
    for (int i = 0; i <= o.readers.threads; ++i) {
      connections.push_back(
          std::make_unique<PgConnection>(o.url, i == 0 ? kWriterName : kReaderName));
    }
    if (absl::Status migrated = MigratePg(connections[0]->connection); !migrated.ok()) {
      return migrated;
    }
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("database: ", e.what()));
  }
  if (absl::Status s = ResetStagingDirectory(o.staging_directory); !s.ok()) return s;
  PgBackend* self = backend.get();
  self->writer_ = std::thread([self, connection = std::move(connections[0])]() mutable {
    self->RunWriter(std::move(connection));
  });
  for (size_t i = 1; i < connections.size(); ++i) {
    self->readers_.emplace_back([self, connection = std::move(connections[i])]() mutable {
      self->RunReader(std::move(connection));
    });
  }
  self->watcher_ = std::make_unique<PgCommitWatcher>(
      o.url, o.poll_interval, [self, wakes = 0](PgConnection& connection) mutable {
        self->RunCommitHook(connection);
        if (wakes++ % kSizeEveryWakes == 0) {
          pqxx::nontransaction size(connection.connection);
          self->storage_bytes_ =
              size.exec("SELECT pg_database_size(current_database())")[0][0].as<int64_t>();
        }
      });
  return backend;
}

namespace {

// At most 64 tasks a group: each runs in a subtransaction of its own
// (savepoint), and PostgreSQL caches the ids of at most 64 per backend;
// beyond that other sessions' snapshots look them up in pg_subtrans, slowly.
WriterOptions WithSubtransactionCap(WriterOptions writer) {
  writer.max_batch = std::min<size_t>(writer.max_batch, 64);
  return writer;
}

}  // namespace

PgBackend::PgBackend(PgBackendOptions options)
    : options_(std::move(options)), writes_(WithSubtransactionCap(options_.writer)) {}

PgBackend::~PgBackend() {
  // Writes first (their callbacks may still read), then reads, then the
  // watcher; a task that comes after its side closed gets UNAVAILABLE.
  writes_.Close();
  if (writer_.joinable()) writer_.join();
  {
    absl::MutexLock lock(&reads_mu_);
    reads_closed_ = true;
  }
  for (std::thread& reader : readers_) reader.join();
  watcher_.reset();
}

void PgBackend::Write(WriteTask apply, std::function<void(absl::Status)> done,
                      WriteTask after_rollback) {
  Task task{std::move(apply), std::move(done), std::move(after_rollback)};
  if (!writes_.Push(task)) {
    task.done(absl::ResourceExhaustedError("write queue is full; retry later"));
  }
}

bool PgBackend::Read(ReadTask read, std::function<void(absl::Status)> unavailable) {
  absl::MutexLock lock(&reads_mu_);
  if (reads_closed_ || reads_.size() >= options_.readers.max_queue) return false;
  reads_.push_back({std::move(read), std::move(unavailable)});  // unlocking wakes a reader
  return true;
}

void PgBackend::SetCommitHook(ReadTask hook) {
  absl::MutexLock lock(&hook_mu_);
  hook_ = std::move(hook);
}

void PgBackend::SetPreCommitHook(std::function<absl::Status()> hook) {
  absl::MutexLock lock(&pre_commit_mu_);
  pre_commit_ = std::move(hook);
}

int64_t PgBackend::storage_bytes() const { return storage_bytes_; }

void PgBackend::RunWriter(std::unique_ptr<PgConnection> connection) {
  for (;;) {
    std::deque<Task> group = writes_.TakeGroup();
    if (group.empty()) return;  // closed and drained
    WriteGroup(connection, group);
  }
}

void PgBackend::WriteGroup(std::unique_ptr<PgConnection>& connection, std::deque<Task>& group) {
  GroupResult result;
  // A connection found broken before anything was committed (a database
  // restart, pg_terminate_backend) costs one reconnect and one more run of
  // the group, not the callers' writes.
  for (int attempt = 1; attempt <= 2; ++attempt) {
    try {
      Connected(connection, options_.url, kWriterName);
    } catch (const std::exception& e) {
      result = {.failure = DatabaseUnreachable(e.what())};
      continue;
    }
    result = CommitGroup(*connection, group);
    if (!result.broken_before_commit) break;
    connection.reset();  // connect anew, whatever libpqxx thinks of it
  }
  if (result.failure.ok()) {
    RunCommitHook(*connection);
    if (result.wrote_events) Notify(*connection);
  }
  for (size_t i = 0; i < group.size(); ++i) {
    group[i].done(result.failure.ok() ? result.tasks[i] : result.failure);
  }
}

PgBackend::GroupResult PgBackend::CommitGroup(PgConnection& connection, std::deque<Task>& group) {
  GroupResult result;
  result.tasks.reserve(group.size());
  bool committing = false;
  try {
    pqxx::work txn(connection.connection);
    // First, so write transactions of all replicas run one after another.
    txn.exec_prepared(connection.statements.Name("SELECT FROM access_head FOR UPDATE"));
    for (Task& task : group) {
      result.tasks.push_back(RunTask(txn, connection.statements, task, &result.wrote_events));
    }
    std::function<absl::Status()> pre_commit;
    {
      absl::MutexLock lock(&pre_commit_mu_);
      pre_commit = pre_commit_;
    }
    if (pre_commit) {
      if (absl::Status ready = pre_commit(); !ready.ok()) {
        result.failure = NothingStored("storing the new cases' keys", ready.message());
        return result;  // ~work rolls the group back
      }
    }
    committing = true;
    txn.commit();
  } catch (const pqxx::in_doubt_error& e) {
    result.failure = CommitInDoubt(e.what());
  } catch (const std::exception& e) {
    if (!ConnectionBroke(e, connection.connection)) {
      result.failure = NothingStored("the write transaction", e.what());
    } else if (committing) {
      result.failure = CommitInDoubt(e.what());
    } else {
      result.broken_before_commit = true;
      result.failure = DatabaseUnreachable(e.what());
    }
  }
  return result;
}

absl::Status PgBackend::RunTask(pqxx::work& txn, PgStatements& statements, Task& task,
                                bool* wrote_events) {
  // Explicit savepoints: libpqxx 6's subtransaction opens its SAVEPOINT only
  // on the first exec(), never on exec_prepared(), so a failed task's
  // statements used to stay in the group's transaction and commit with it.
  // A statement that fails here throws out of the group (the connection
  // broke, or the transaction cannot go on): the whole group rolls back.
  txn.exec("SAVEPOINT task");
  absl::Status status;
  bool task_wrote_events = false;
  try {
    PgTxn rows(txn, statements, &task_wrote_events);
    status = task.apply(rows);
  } catch (const std::exception& e) {
    status = TaskStorageError(e.what());
  }
  if (status.ok()) {
    // Not released: a round trip saved per task. A later task's SAVEPOINT of
    // the same name nests inside it, and ROLLBACK TO names the newest.
    *wrote_events |= task_wrote_events;
    return status;
  }
  txn.exec("ROLLBACK TO SAVEPOINT task");  // nothing of the task is left
  if (task.after_rollback) {
    bool recorded = false;
    try {
      PgTxn rows(txn, statements, nullptr);
      recorded = task.after_rollback(rows).ok();
    } catch (const std::exception& e) {
      spdlog::warn("a refused write's access record was not stored: {}", e.what());
    }
    if (!recorded) txn.exec("ROLLBACK TO SAVEPOINT task");
  }
  txn.exec("RELEASE SAVEPOINT task");
  return status;
}

void PgBackend::Notify(PgConnection& connection) {
  // After the commit, outside the counter's lock: NOTIFY takes a
  // cluster-wide lock at commit. Only a hint (pg_commit_watcher.h).
  try {
    pqxx::nontransaction notify(connection.connection);
    notify.exec_prepared(connection.statements.Name(
        absl::StrCat("SELECT pg_notify('", kFeedChannel, "', revision::text) FROM feed_head")));
  } catch (const std::exception& e) {
    spdlog::warn("feed notification not sent (other replicas poll): {}", e.what());
  }
}

void PgBackend::RunReader(std::unique_ptr<PgConnection> connection) {
  for (;;) {
    ReadItem item;
    {
      absl::MutexLock lock(&reads_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reads_mu_) {
        return reads_closed_ || !reads_.empty();
      };
      reads_mu_.Await(absl::Condition(&ready));
      if (reads_.empty()) return;
      item = std::move(reads_.front());
      reads_.pop_front();
    }
    std::unique_ptr<Snapshot> snapshot;
    // A connection that broke while idle is found out by the snapshot's
    // BEGIN, before the read has run: connect again, once.
    for (int attempt = 1; attempt <= 2 && !snapshot; ++attempt) {
      try {
        snapshot = std::make_unique<Snapshot>(
            Connected(connection, options_.url, kReaderName).connection);  // contract 4
      } catch (const std::exception& e) {
        if (attempt == 2 || (connection && !ConnectionBroke(e, connection->connection))) {
          item.unavailable(SnapshotUnavailable(e.what()));
          break;
        }
        connection.reset();  // connect anew
      }
    }
    if (!snapshot) continue;
    try {
      PgTxn rows(*snapshot, connection->statements, nullptr);
      item.read(rows);  // answers its caller, its own errors included
      snapshot->commit();
    } catch (const std::exception& e) {
      spdlog::warn("read transaction did not close: {}", e.what());
    }
  }
}

void PgBackend::RunCommitHook(PgConnection& connection) {
  absl::MutexLock lock(&hook_mu_);
  if (!hook_) return;
  try {
    Snapshot snapshot(connection.connection);
    PgTxn rows(snapshot, connection.statements, nullptr);
    hook_(rows);
    snapshot.commit();
  } catch (const std::exception& e) {
    // The next commit or poll tries again from where the hook got to.
    spdlog::warn("commit hook failed: {}", e.what());
  }
}

}  // namespace handover::store
