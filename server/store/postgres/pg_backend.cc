#include "server/store/postgres/pg_backend.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "server/store/document_staging.h"
#include "server/store/postgres/pg_commit_watcher.h"
#include "server/store/postgres/pg_migrations.h"
#include "server/store/postgres/pg_statements.h"
#include "server/store/postgres/pg_txn.h"

namespace handover::store {
namespace {

// How often (in watcher wake-ups) the database's size is looked up again.
constexpr int kSizeEveryWakes = 10;

using Snapshot = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

}  // namespace

absl::StatusOr<std::unique_ptr<PgBackend>> PgBackend::Open(PgBackendOptions options) {
  std::unique_ptr<PgBackend> backend(new PgBackend(std::move(options)));
  const PgBackendOptions& o = backend->options_;
  try {
    for (int i = 0; i <= o.readers.threads; ++i) {
      backend->connections_.push_back(std::make_unique<PgConnection>(o.url));
    }
    MigratePg(backend->connections_[0]->connection);
  } catch (const std::runtime_error& e) {
    // A newer schema (pqxx's errors derive from std::runtime_error too, but
    // a connection failure is a broken_connection, an SQL one an sql_error).
    if (dynamic_cast<const pqxx::failure*>(&e) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("database: ", e.what()));
    }
    return absl::UnavailableError(absl::StrCat("database: ", e.what()));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("database: ", e.what()));
  }
  if (absl::Status s = ResetStagingDirectory(o.staging_directory); !s.ok()) return s;
  PgBackend* self = backend.get();
  self->writer_ = std::thread([self] { self->RunWriter(*self->connections_[0]); });
  for (size_t i = 1; i < self->connections_.size(); ++i) {
    self->readers_.emplace_back([self, i] { self->RunReader(*self->connections_[i]); });
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

PgBackend::PgBackend(PgBackendOptions options)
    : options_(std::move(options)), writes_(options_.writer) {}

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

bool PgBackend::Read(ReadTask read) {
  absl::MutexLock lock(&reads_mu_);
  if (reads_closed_ || reads_.size() >= options_.readers.max_queue) return false;
  reads_.push_back(std::move(read));  // unlocking wakes a reader
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

void PgBackend::RunWriter(PgConnection& connection) {
  for (;;) {
    std::deque<Task> group = writes_.TakeGroup();
    if (group.empty()) return;  // closed and drained
    CommitGroup(connection, group);
  }
}

void PgBackend::CommitGroup(PgConnection& connection, std::deque<Task>& group) {
  std::vector<absl::Status> results;
  results.reserve(group.size());
  absl::Status commit_status;
  bool wrote_events = false;
  try {
    pqxx::work txn(connection.connection);
    // First, so write transactions of all replicas run one after another.
    txn.exec_prepared(connection.statements.Name("SELECT FROM access_head FOR UPDATE"));
    for (Task& task : group) {
      absl::Status status;
      bool task_wrote_events = false;
      {
        pqxx::subtransaction savepoint(txn, "task");
        try {
          PgTxn rows(savepoint, connection.statements, &task_wrote_events);
          status = task.apply(rows);
          if (status.ok()) savepoint.commit();
        } catch (const std::exception& e) {
          status = absl::InternalError(absl::StrCat("storage error: ", e.what()));
        }
      }  // not committed: rolled back
      if (status.ok()) {
        wrote_events |= task_wrote_events;
      } else if (task.after_rollback) {
        pqxx::subtransaction savepoint(txn, "record");
        try {
          PgTxn rows(savepoint, connection.statements, &wrote_events);
          if (task.after_rollback(rows).ok()) savepoint.commit();
        } catch (const std::exception&) {
        }
      }
      results.push_back(std::move(status));
    }
    std::function<absl::Status()> pre_commit;
    {
      absl::MutexLock lock(&pre_commit_mu_);
      pre_commit = pre_commit_;
    }
    if (pre_commit) {
      if (absl::Status ready = pre_commit(); !ready.ok()) {
        throw std::runtime_error(std::string(ready.message()));
      }
    }
    txn.commit();
  } catch (const std::exception& e) {
    commit_status = absl::UnavailableError(absl::StrCat("storage commit failed: ", e.what()));
  }
  if (commit_status.ok()) {
    RunCommitHook(connection);
    if (wrote_events) {
      // After the commit, outside the counter's lock: NOTIFY takes a
      // cluster-wide lock at commit. Only a hint (pg_commit_watcher.h).
      try {
        pqxx::nontransaction notify(connection.connection);
        notify.exec_prepared(connection.statements.Name(absl::StrCat(
            "SELECT pg_notify('", kFeedChannel, "', revision::text) FROM feed_head")));
      } catch (const std::exception& e) {
        spdlog::warn("feed notification not sent (other replicas poll): {}", e.what());
      }
    }
  }
  for (size_t i = 0; i < group.size(); ++i) {
    group[i].done(commit_status.ok() ? results[i] : commit_status);
  }
}

void PgBackend::RunReader(PgConnection& connection) {
  for (;;) {
    ReadTask task;
    {
      absl::MutexLock lock(&reads_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reads_mu_) {
        return reads_closed_ || !reads_.empty();
      };
      reads_mu_.Await(absl::Condition(&ready));
      if (reads_.empty()) return;
      task = std::move(reads_.front());
      reads_.pop_front();
    }
    try {
      Snapshot snapshot(connection.connection);  // contract 4
      PgTxn rows(snapshot, connection.statements, nullptr);
      task(rows);
      snapshot.commit();
    } catch (const std::exception& e) {
      // The read's own errors are the domain store's (it answers its caller);
      // this is the snapshot failing to open or close.
      spdlog::warn("read transaction failed: {}", e.what());
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
