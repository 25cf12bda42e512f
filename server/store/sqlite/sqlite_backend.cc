#include "server/store/sqlite/sqlite_backend.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "server/store/document_staging.h"
#include "server/store/sqlite/case_rows.h"
#include "server/store/sqlite/checkpointer.h"
#include "server/store/sqlite/migrations.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "server/store/sqlite/statement_cache.h"
#include "server/store/storage_errors.h"

namespace handover::store {
namespace {

// Versions written before key ids were recorded: read the id from the
// sealed blob's header.
void LabelKeyIds(SQLite::Database& db) {
  Prepared unlabelled(db,
                      "SELECT case_id, version, form FROM case_versions "
                      "WHERE key_id IS NULL");
  std::vector<std::tuple<std::string, int64_t, std::string>> rows;
  while (unlabelled->executeStep()) {
    rows.emplace_back(unlabelled->getColumn(0).getString(), unlabelled->getColumn(1).getInt64(),
                      KeyRing::SealedKeyId(Blob(unlabelled->getColumn(2))));
  }
  for (const auto& [case_id, version, key_id] : rows) {
    Prepared label(db, "UPDATE case_versions SET key_id = ? WHERE case_id = ? AND version = ?");
    label->bind(1, key_id);
    label->bind(2, case_id);
    label->bind(3, version);
    label->exec();
  }
}

// Every commit empties the other connections' page caches (WAL), so a reader
// refills its cache on every transaction. By default SQLite mallocs and frees
// each 4 KiB page slot as it goes, which made malloc a fifth of a sync's CPU;
// with this, each connection takes its slots in one block when it opens and
// reuses them (10% more cases/s on a full sync). Process-wide, so it must run
// before SQLite's first use; if SQLite is already initialised it is skipped.
void PreallocatePageCaches() {
  static std::once_flag once;
  std::call_once(once, [] {
    constexpr int kPageBytes = 4096;          // SQLite's default page size, used here
    constexpr int kSlotsPerConnection = 512;  // the default cache_size (2,000 KiB)
    int header = 0;
    if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &header) != SQLITE_OK) return;
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, kPageBytes + header,
                         kSlotsPerConnection);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteBackend>> SqliteBackend::Open(SqliteBackendOptions options) {
  PreallocatePageCaches();
  // SQLite would say only "unable to open database file".
  const std::filesystem::path folder = std::filesystem::absolute(options.path).parent_path();
  if (std::error_code error; !std::filesystem::is_directory(folder, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database: the folder ", folder.string(),
        " does not exist; create it for handoverd's user (install -d -m 700 -o handover ",
        folder.string(), ")"));
  }
  try {
    auto db = std::make_unique<SQLite::Database>(
        options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
    db->setBusyTimeout(5000);
    db->exec("PRAGMA journal_mode = WAL");
    db->exec("PRAGMA synchronous = FULL");
    // Deleted content (erasure) is overwritten, not left in free pages.
    db->exec("PRAGMA secure_delete = ON");
    db->exec("PRAGMA foreign_keys = ON");
    Migrate(*db);
    LabelKeyIds(*db);
    if (absl::Status s = ResetStagingDirectory(options.path + ".staging"); !s.ok()) return s;
    auto checkpointer = std::make_unique<Checkpointer>(options.path, *db);
    auto writer = std::make_unique<GroupCommitWriter>(std::move(db), options.writer);
    auto readers = std::make_unique<ReaderPool>(options.path, options.readers);
    return std::unique_ptr<SqliteBackend>(new SqliteBackend(options.path, std::move(checkpointer),
                                                            std::move(writer), std::move(readers)));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("database ", options.path, ": ", e.what()));
  }
}

SqliteBackend::SqliteBackend(std::string path, std::unique_ptr<Checkpointer> checkpointer,
                             std::unique_ptr<GroupCommitWriter> writer,
                             std::unique_ptr<ReaderPool> readers)
    : path_(path),
      staging_directory_(path + ".staging"),
      checkpointer_(std::move(checkpointer)),
      writer_(std::move(writer)),
      readers_(std::move(readers)) {
  writer_->SetCommitHook([this](SQLite::Database& db) { OnCommit(db); });
}

SqliteBackend::~SqliteBackend() {
  // Writes first (their callbacks may still read), then reads; a task that
  // comes after its side closed gets UNAVAILABLE.
  writer_.reset();
  readers_.reset();
  checkpointer_.reset();  // last: the writer connection's WAL hook pointed at it
}

void SqliteBackend::Write(WriteTask apply, std::function<void(absl::Status)> done,
                          WriteTask after_rollback) {
  if (!writer_) {
    done(absl::UnavailableError("the store is closing"));
    return;
  }
  GroupCommitWriter::Apply record_failure;
  if (after_rollback) {
    record_failure = [this, after_rollback = std::move(after_rollback)](SQLite::Database& db) {
      SqliteTxn txn(db, &truncate_wal_);
      return after_rollback(txn);
    };
  }
  writer_->Submit(
      [this, apply = std::move(apply)](SQLite::Database& db) {
        SqliteTxn txn(db, &truncate_wal_);
        return apply(txn);
      },
      std::move(done), std::move(record_failure));
}

bool SqliteBackend::Read(ReadTask read, std::function<void(absl::Status)> unavailable) {
  if (!readers_) return false;
  return readers_->Submit(
      [read = std::move(read), unavailable = std::move(unavailable)](SQLite::Database& db) {
        std::optional<SQLite::Transaction> snapshot;
        try {
          // One snapshot for every statement of the read (contract 4).
          snapshot.emplace(db, SQLite::TransactionBehavior::DEFERRED);
        } catch (const std::exception& e) {
          unavailable(SnapshotUnavailable(e.what()));
          return;
        }
        SqliteTxn txn(db, nullptr);
        read(txn);
      });
}

int64_t SqliteBackend::storage_bytes() const {
  int64_t total = 0;
  for (const std::string& file : {path_, path_ + "-wal"}) {
    std::error_code error;
    const auto size = std::filesystem::file_size(file, error);
    if (!error) total += static_cast<int64_t>(size);
  }
  return total;
}

void SqliteBackend::SetPreCommitHook(std::function<absl::Status()> hook) {
  writer_->SetPreCommitHook(std::move(hook));
}

void SqliteBackend::SetCommitHook(ReadTask hook) {
  absl::MutexLock lock(&hook_mu_);
  hook_ = std::move(hook);
}

void SqliteBackend::OnCommit(SQLite::Database& db) {
  if (truncate_wal_.exchange(false)) {
    Prepared checkpoint(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    // Busy (a reader holds an old snapshot): try again after the next commit.
    if (checkpoint->executeStep() && checkpoint->getColumn(0).getInt() != 0) truncate_wal_ = true;
  }
  absl::MutexLock lock(&hook_mu_);
  if (!hook_) return;
  SqliteTxn txn(db, nullptr);
  hook_(txn);
}

}  // namespace handover::store
