#include "server/store/mem/mem_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto.h"
#include "server/store/document_staging.h"
#include "server/store/mem/mem_tables.h"
#include "server/store/mem/mem_txn.h"
#include "server/store/storage_errors.h"
#include "server/store/write_queue.h"

namespace handover::store {

struct MemDatabase {
  absl::Mutex mu;
  // The committed tables; replaced whole by each commit, never changed.
  std::shared_ptr<const MemTables> tables ABSL_GUARDED_BY(mu);
  MemKeyTables keys ABSL_GUARDED_BY(mu);

  std::shared_ptr<const MemTables> Snapshot() ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    return tables;
  }
};

namespace {

absl::Mutex registry_mu;
absl::flat_hash_map<std::string, std::shared_ptr<MemDatabase>>& Registry()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu) {
  static auto* databases = new absl::flat_hash_map<std::string, std::shared_ptr<MemDatabase>>;
  return *databases;
}

// A read snapshot's tables as a ReadTxn: MemTxn takes them mutable, and a
// read task only sees the ReadTxn half of it. The caller keeps `tables`
// alive while the transaction is used.
MemTxn ReadOnly(const std::shared_ptr<const MemTables>& tables) {
  return MemTxn(const_cast<MemTables&>(*tables));
}

class MemBackend final : public Backend {
 public:
  MemBackend(std::shared_ptr<MemDatabase> database, WriterOptions writer, ReaderOptions readers,
             std::string staging_directory)
      : database_(std::move(database)),
        staging_directory_(std::move(staging_directory)),
        reader_options_(readers),
        queue_(writer) {
    writer_ = std::thread([this] { RunWriter(); });
    for (int i = 0; i < std::max(1, readers.threads); ++i) {
      readers_.emplace_back([this] { RunReader(); });
    }
  }

  // Writes first (their callbacks may still read), then reads.
  ~MemBackend() override {
    queue_.Close();
    writer_.join();
    {
      absl::MutexLock lock(&read_mu_);
      stopping_ = true;
    }
    for (std::thread& reader : readers_) reader.join();
  }

  void Write(WriteTask apply, std::function<void(absl::Status)> done,
             WriteTask after_rollback) override {
    Task task{std::move(apply), std::move(done), std::move(after_rollback)};
    if (!queue_.Push(task))
      task.done(absl::ResourceExhaustedError("write queue is full; retry later"));
  }

  bool Read(ReadTask read, std::function<void(absl::Status)> /*unavailable*/) override {
    absl::MutexLock lock(&read_mu_);
    if (stopping_ || reads_.size() >= reader_options_.max_queue) return false;
    reads_.push_back(std::move(read));
    return true;
  }

  void SetCommitHook(ReadTask hook) override {
    absl::MutexLock lock(&hook_mu_);
    commit_hook_ = std::move(hook);
  }
  void SetPreCommitHook(std::function<absl::Status()> hook) override {
    absl::MutexLock lock(&hook_mu_);
    pre_commit_hook_ = std::move(hook);
  }

  const std::string& staging_directory() const override { return staging_directory_; }
  WriteQueueStats write_stats() const override { return queue_.stats(); }
  // What the tables hold, roughly: the sealed bytes and the access log.
  int64_t storage_bytes() const override {
    const std::shared_ptr<const MemTables> tables = database_->Snapshot();
    int64_t bytes = 0;
    for (const auto& [key, row] : tables->versions) bytes += row.sealed_form.size();
    for (const auto& [key, row] : tables->document_versions) bytes += row.sealed_title.size();
    for (const auto& [key, chunk] : tables->chunks) bytes += chunk.sealed.size();
    for (const auto& [sequence, stored] : tables->access_log) {
      bytes += stored.entry.ByteSizeLong();
    }
    return bytes;
  }

 private:
  struct Task {
    WriteTask apply;
    std::function<void(absl::Status)> done;
    WriteTask after_rollback;
  };

  void RunWriter() {
    for (;;) {
      std::deque<Task> group = queue_.TakeGroup();
      if (group.empty()) return;  // closed, and everything is done
      CommitGroup(group);
    }
  }

  void CommitGroup(std::deque<Task>& group) {
    MemTables working = *database_->Snapshot();
    std::vector<absl::Status> results;
    results.reserve(group.size());
    for (Task& task : group) {
      MemTables savepoint = working;
      MemTxn txn(working);
      absl::Status status;
      try {
        status = task.apply(txn);
      } catch (const std::exception& e) {
        status = TaskStorageError(e.what());
      }
      if (!status.ok()) {
        working = savepoint;
        if (task.after_rollback) {
          bool recorded = false;
          try {
            recorded = task.after_rollback(txn).ok();
          } catch (const std::exception& e) {
            spdlog::warn("a refused write's access record was not stored: {}", e.what());
          }
          if (!recorded) working = std::move(savepoint);
        }
      }
      results.push_back(std::move(status));
    }
    std::function<absl::Status()> pre_commit;
    ReadTask commit_hook;
    {
      absl::MutexLock lock(&hook_mu_);
      pre_commit = pre_commit_hook_;
      commit_hook = commit_hook_;
    }
    absl::Status commit_status;
    if (pre_commit) {
      if (absl::Status ready = pre_commit(); !ready.ok()) {
        commit_status = NothingStored("storing the new cases' keys", ready.message());
      }
    }
    if (commit_status.ok()) {
      auto committed = std::make_shared<const MemTables>(std::move(working));
      {
        absl::MutexLock lock(&database_->mu);
        database_->tables = committed;
      }
      if (commit_hook) {
        MemTxn txn = ReadOnly(committed);
        try {
          commit_hook(txn);
        } catch (const std::exception&) {
          // The group is committed whatever the hook did.
        }
      }
    }
    for (size_t i = 0; i < group.size(); ++i) {
      group[i].done(commit_status.ok() ? results[i] : commit_status);
    }
  }

  void RunReader() {
    for (;;) {
      ReadTask read;
      {
        absl::MutexLock lock(&read_mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_) {
          return stopping_ || !reads_.empty();
        };
        read_mu_.Await(absl::Condition(&ready));
        if (reads_.empty()) return;
        read = std::move(reads_.front());
        reads_.pop_front();
      }
      // One snapshot for the whole read, held until it ends.
      const std::shared_ptr<const MemTables> snapshot = database_->Snapshot();
      MemTxn txn = ReadOnly(snapshot);
      read(txn);
    }
  }

  const std::shared_ptr<MemDatabase> database_;
  const std::string staging_directory_;
  const ReaderOptions reader_options_;
  WriteQueue<Task> queue_;
  absl::Mutex hook_mu_;
  ReadTask commit_hook_ ABSL_GUARDED_BY(hook_mu_);
  std::function<absl::Status()> pre_commit_hook_ ABSL_GUARDED_BY(hook_mu_);
  absl::Mutex read_mu_;
  std::deque<ReadTask> reads_ ABSL_GUARDED_BY(read_mu_);
  bool stopping_ ABSL_GUARDED_BY(read_mu_) = false;
  std::thread writer_;
  std::vector<std::thread> readers_;
};

class MemKeyTxn final : public CaseKeyTxn {
 public:
  explicit MemKeyTxn(MemKeyTables& tables) : t_(tables) {}

  bool InsertKey(const WrappedKey& key) override {
    return t_.keys.emplace(key.case_id, key).second;
  }
  std::optional<WrappedKey> FindKey(const std::string& case_id) override {
    auto it = t_.keys.find(case_id);
    if (it == t_.keys.end()) return std::nullopt;
    return it->second;
  }
  void DeleteKey(const std::string& case_id) override { t_.keys.erase(case_id); }
  void ReplaceKey(const WrappedKey& key) override {
    if (auto it = t_.keys.find(key.case_id); it != t_.keys.end()) it->second = key;
  }
  std::vector<WrappedKey> KeysNotSealedBy(const std::string& key_id, int limit) override {
    std::vector<WrappedKey> keys;
    for (const auto& [id, key] : t_.keys) {
      if (static_cast<int>(keys.size()) >= limit) break;
      if (key.key_id != key_id) keys.push_back(key);
    }
    return keys;
  }
  std::vector<WrappedKey> SomeKeys(size_t limit) override {
    std::vector<WrappedKey> keys;
    for (const auto& [id, key] : t_.keys) {
      if (keys.size() >= limit) break;
      keys.push_back(key);
    }
    return keys;
  }
  std::map<std::string, int64_t> CountBySealingKey() override {
    std::map<std::string, int64_t> usage;
    for (const auto& [id, key] : t_.keys) ++usage[key.key_id];
    return usage;
  }
  std::optional<FeedMark> ReadFeedMark(bool /*for_update*/) override { return t_.feed_mark; }
  void WriteFeedMark(const FeedMark& mark) override { t_.feed_mark = mark; }

 private:
  MemKeyTables& t_;
};

// Each transaction works on a copy under the database's mutex and puts it
// back on success: all or nothing, one at a time.
class MemKeyRows final : public CaseKeyRows {
 public:
  explicit MemKeyRows(std::shared_ptr<MemDatabase> database) : database_(std::move(database)) {}

  absl::Status Transact(const std::function<absl::Status(CaseKeyTxn&)>& work) override {
    absl::MutexLock lock(&database_->mu);
    MemKeyTables copy = database_->keys;
    MemKeyTxn txn(copy);
    absl::Status status = work(txn);
    if (status.ok()) database_->keys = std::move(copy);
    return status;
  }
  absl::Status EraseTraces() override { return absl::OkStatus(); }
  absl::Status Scrub() override { return absl::OkStatus(); }
  absl::Status Backup(const std::string& /*backup_path*/) override {
    return absl::FailedPreconditionError("key store: mem:// holds nothing to back up");
  }

 private:
  const std::shared_ptr<MemDatabase> database_;
};

}  // namespace

absl::Status CheckMemDatabaseName(const std::string& name) {
  const bool valid =
      !name.empty() && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
               c == '-';
      });
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "database: a mem:// name is 1 to 100 characters of [A-Za-z0-9._-]");
}

absl::StatusOr<std::shared_ptr<MemDatabase>> OpenMemDatabase(const std::string& name) {
  if (absl::Status s = CheckMemDatabaseName(name); !s.ok()) return s;
  absl::MutexLock lock(&registry_mu);
  std::shared_ptr<MemDatabase>& database = Registry()[name];
  if (database == nullptr) {
    database = std::make_shared<MemDatabase>();
    auto tables = std::make_shared<MemTables>();
    tables->feed_epoch = HexEncode(RandomBytes(16));
    absl::MutexLock tables_lock(&database->mu);
    database->tables = std::move(tables);
  }
  return database;
}

void DropMemDatabase(const std::string& name) {
  absl::MutexLock lock(&registry_mu);
  Registry().erase(name);
}

absl::StatusOr<std::unique_ptr<Backend>> OpenMemBackend(std::shared_ptr<MemDatabase> database,
                                                        WriterOptions writer, ReaderOptions readers,
                                                        std::string staging_directory) {
  if (absl::Status s = ResetStagingDirectory(staging_directory); !s.ok()) return s;
  return std::make_unique<MemBackend>(std::move(database), writer, readers,
                                      std::move(staging_directory));
}

std::unique_ptr<CaseKeyRows> OpenMemKeyRows(std::shared_ptr<MemDatabase> database) {
  return std::make_unique<MemKeyRows>(std::move(database));
}

}  // namespace handover::store
