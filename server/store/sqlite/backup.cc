#include "server/store/sqlite/backup.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "server/store/sqlite/case_rows.h"
#include "server/store/sqlite/migrations.h"
#include "server/store/sqlite/sqlite_txn.h"

namespace handover::store {
namespace {

namespace fs = std::filesystem;

constexpr int kEpochBytes = 16;

// Makes a file's content, or a directory's entries, durable.
absl::Status SyncPath(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("restore: cannot open ", path.string()));
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return absl::UnavailableError(absl::StrCat("restore: cannot sync ", path.string()));
  return absl::OkStatus();
}

// Removes a database file and SQLite's files beside it.
void RemoveDatabaseFiles(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    fs::remove(path + suffix, ignored);
  }
}

// "20260515T101500Z": now, in UTC.
std::string UtcTimestamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

// The current database, held with SQLite's exclusive lock (in WAL mode the
// first read takes it, and fails at once while any other connection is open).
struct HeldDatabase {
  std::unique_ptr<SQLite::Database> db;  // null: unreadable, not held
  std::optional<int64_t> head;
};

absl::StatusOr<HeldDatabase> HoldCurrent(const std::string& path) {
  HeldDatabase held;
  try {
    held.db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE);
    held.db->exec("PRAGMA locking_mode = EXCLUSIVE");
    held.head = SqliteTxn(*held.db, nullptr).HeadRevision();
  } catch (const SQLite::Exception& e) {
    const int code = e.getErrorCode() & 0xff;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      return absl::FailedPreconditionError(
          absl::StrCat("--database: ", path,
                       " is in use by another process (is handoverd running?); stop it first"));
    }
    // Not a database, or damaged: replaced all the same, its head unknown.
    held.db.reset();
    held.head.reset();
  }
  return held;
}

// Copies the backup to `temp`, checks it, brings its schema up to date and
// moves its feed onto a new base revision and epoch.
absl::Status PrepareCopy(const std::string& backup_path, const std::string& temp,
                         const std::optional<int64_t>& current_head, int64_t bump_revisions,
                         RestoreResult* result) {
  {
    SQLite::Database source(backup_path, SQLite::OPEN_READONLY);
    SQLite::Database copy(temp, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    SQLite::Backup backup(copy, source);
    backup.executeStep();  // all pages in one step
  }
  fs::permissions(temp, fs::perms::owner_read | fs::perms::owner_write);
  SQLite::Database copy(temp, SQLite::OPEN_READWRITE);
  const std::string check = copy.execAndGet("PRAGMA integrity_check").getString();
  if (check != "ok") {
    return absl::DataLossError(
        absl::StrCat("--from: the backup failed its integrity check: ", check));
  }
  // As SqliteBackend::Open runs the migrations.
  copy.exec("PRAGMA journal_mode = WAL");
  copy.exec("PRAGMA synchronous = FULL");
  copy.exec("PRAGMA secure_delete = ON");
  copy.exec("PRAGMA foreign_keys = ON");
  Migrate(copy);

  SQLite::Transaction txn(copy);
  result->backup_head = SqliteTxn(copy, nullptr).HeadRevision();
  const int64_t seen = std::max(result->backup_head, current_head.value_or(0));
  if (bump_revisions > std::numeric_limits<int64_t>::max() - seen) {
    return absl::InvalidArgumentError("--bump-revisions: too large for the revision counter");
  }
  result->base_revision = seen + bump_revisions;
  result->feed_epoch = HexEncode(RandomBytes(kEpochBytes));
  SQLite::Statement move(copy, "UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'");
  move.bind(1, result->base_revision);
  if (move.exec() == 0) {
    SQLite::Statement insert(copy, "INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)");
    insert.bind(1, result->base_revision);
    insert.exec();
  }
  copy.exec("DELETE FROM events");
  SQLite::Statement mark(copy, "UPDATE feed_state SET compacted_through = ?, feed_epoch = ?");
  mark.bind(1, result->base_revision);
  mark.bind(2, result->feed_epoch);
  mark.exec();
  txn.commit();
  if (SqliteTxn(copy, nullptr).HeadRevision() != result->base_revision ||
      SqliteTxn(copy, nullptr).FeedEpoch() != result->feed_epoch) {
    return absl::InternalError("restore: the revision counter did not move");
  }
  // Everything into the main file, so the copy is whole without its WAL.
  copy.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return absl::OkStatus();
}

}  // namespace

absl::Status BackupDatabase(const std::string& database_path, const std::string& backup_path) {
  if (std::filesystem::exists(backup_path)) {
    return absl::AlreadyExistsError(absl::StrCat("--out: ", backup_path, " already exists"));
  }
  try {
    SQLite::Database source(database_path, SQLite::OPEN_READONLY);
    source.setBusyTimeout(5000);
    {
      SQLite::Database copy(backup_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      SQLite::Backup backup(copy, source);
      backup.executeStep();  // all pages in one step: one consistent snapshot
    }
    std::filesystem::permissions(
        backup_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    SQLite::Database check(backup_path, SQLite::OPEN_READONLY);
    const std::string result = check.execAndGet("PRAGMA integrity_check").getString();
    if (result != "ok") {
      return absl::DataLossError(absl::StrCat("backup failed its integrity check: ", result));
    }
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("backup: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<RestoreResult> RestoreDatabase(const std::string& database_path,
                                              const std::string& backup_path,
                                              int64_t bump_revisions) {
  if (bump_revisions < 1) {
    return absl::InvalidArgumentError("--bump-revisions: must be at least 1");
  }
  std::error_code error;
  if (!fs::is_regular_file(backup_path, error)) {
    return absl::NotFoundError(absl::StrCat("--from: ", backup_path, " is not a file"));
  }
  const bool current_exists = fs::exists(database_path, error);
  if (current_exists && fs::equivalent(database_path, backup_path, error)) {
    return absl::InvalidArgumentError("--from: is the database itself");
  }
  RestoreResult result;
  const std::string replaced = absl::StrCat(database_path, ".replaced-", UtcTimestamp());
  if (fs::exists(replaced, error)) {
    return absl::AlreadyExistsError(absl::StrCat(replaced, " already exists; try again"));
  }
  const std::string temp = database_path + ".restoring";
  RemoveDatabaseFiles(temp);  // left by an interrupted restore

  absl::StatusOr<HeldDatabase> current = HeldDatabase{};
  if (current_exists) current = HoldCurrent(database_path);
  if (!current.ok()) return current.status();
  result.replaced_head = current->head;

  try {
    absl::Status prepared = PrepareCopy(backup_path, temp, current->head, bump_revisions, &result);
    if (prepared.ok()) prepared = SyncPath(temp, false);
    if (!prepared.ok()) {
      RemoveDatabaseFiles(temp);
      return prepared;
    }
  } catch (const std::exception& e) {
    RemoveDatabaseFiles(temp);
    return absl::UnavailableError(absl::StrCat("restore: ", e.what()));
  }

  // Closing the last connection folds the current database's WAL into it
  // and deletes the WAL: the file kept below is whole.
  current->db.reset();
  if (current_exists) {
    fs::create_hard_link(database_path, replaced, error);
    if (error) {
      RemoveDatabaseFiles(temp);
      return absl::UnavailableError(
          absl::StrCat("restore: cannot keep the database as ", replaced, ": ", error.message()));
    }
    result.replaced_path = replaced;
  }
  // A WAL left beside the old file belongs to it, never to the new one.
  if (fs::exists(database_path + "-wal", error)) {
    fs::rename(database_path + "-wal", replaced + "-wal", error);
    if (error) {
      RemoveDatabaseFiles(temp);
      return absl::UnavailableError(
          absl::StrCat("restore: cannot move ", database_path, "-wal aside: ", error.message()));
    }
  }
  fs::remove(database_path + "-shm", error);
  fs::rename(temp, database_path, error);
  if (error) {
    RemoveDatabaseFiles(temp);
    return absl::UnavailableError(
        absl::StrCat("restore: cannot rename the restored copy into place: ", error.message()));
  }
  if (absl::Status s = SyncPath(fs::absolute(database_path).parent_path(), true); !s.ok()) {
    return s;
  }
  return result;
}

}  // namespace handover::store
