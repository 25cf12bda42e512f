#include "server/store/sqlite/key_store.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/store/storage_errors.h"

namespace handover::store {
namespace {

namespace fs = std::filesystem;

// Schema version 1. Append migrations (as server/store/migrations.cc does);
// never edit an applied one.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE case_keys (
  case_id TEXT PRIMARY KEY NOT NULL,
  wrapping_key_id TEXT NOT NULL,
  wrapped_key BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX case_keys_by_wrapping_key ON case_keys (wrapping_key_id);
)sql";

// Schema version 2: the feed's high-water mark (case_keys.h), one row.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE feed_mark (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  epoch TEXT NOT NULL,
  revision INTEGER NOT NULL
);
)sql";

// Creates `path` with mode 0600 if it does not exist, so that SQLite (which
// gives its -wal and -shm files the database file's mode) never makes a
// file others can read. With `exclusive`, ALREADY_EXISTS if it exists.
absl::Status CreateOwnerOnly(const std::string& path, bool exclusive) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : 0), 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError(absl::StrCat(path, " already exists"));
    return absl::UnavailableError(absl::StrCat("key store: cannot create ", path));
  }
  ::close(fd);
  return absl::OkStatus();
}

// Makes a file's content, or a directory's entries, durable.
absl::Status SyncPath(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("key store: cannot open ", path.string()));
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced)
    return absl::UnavailableError(absl::StrCat("key store: cannot sync ", path.string()));
  return absl::OkStatus();
}

void Configure(SQLite::Database& db) {
  db.setBusyTimeout(5000);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA secure_delete = ON");
}

// Brings the schema to kSchemaVersion; FAILED_PRECONDITION if newer.
absl::Status Migrate(SQLite::Database& db) {
  const int version = db.execAndGet("PRAGMA user_version").getInt();
  if (version > kSqliteKeySchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat("key store: schema version ", version,
                                                      " is newer than this binary's ",
                                                      kSqliteKeySchemaVersion));
  }
  if (version < 1) {
    SQLite::Transaction txn(db);
    db.exec(kSchemaV1);
    db.exec("PRAGMA user_version = 1");
    txn.commit();
  }
  if (version < 2) {
    SQLite::Transaction txn(db);
    db.exec(kSchemaV2);
    db.exec("PRAGMA user_version = 2");
    txn.commit();
  }
  return absl::OkStatus();
}

// Runs PRAGMA integrity_check on the file; DATA_LOSS unless "ok".
absl::Status CheckIntegrity(const std::string& path, const char* what) {
  SQLite::Database check(path, SQLite::OPEN_READONLY);
  const std::string result = check.execAndGet("PRAGMA integrity_check").getString();
  if (result != "ok") {
    return absl::DataLossError(absl::StrCat(what, " failed its integrity check: ", result));
  }
  return absl::OkStatus();
}

// Copies every page of `source` into the (empty) database at `target`.
void CopyPages(SQLite::Database& source, const std::string& target) {
  SQLite::Database copy(target, SQLite::OPEN_READWRITE);
  SQLite::Backup backup(copy, source);
  backup.executeStep();  // all pages in one step: one consistent snapshot
}

// Blob column `index` of the current row.
std::string Blob(SQLite::Statement& statement, int index) {
  const SQLite::Column column = statement.getColumn(index);
  return std::string(static_cast<const char*>(column.getBlob()),
                     static_cast<size_t>(column.getBytes()));
}

std::vector<WrappedKey> KeysOf(SQLite::Statement& select) {
  std::vector<WrappedKey> keys;
  while (select.executeStep()) {
    keys.push_back(
        {select.getColumn(0).getString(), select.getColumn(1).getString(), Blob(select, 2)});
  }
  return keys;
}

class SqliteKeyTxn final : public CaseKeyTxn {
 public:
  explicit SqliteKeyTxn(SQLite::Database& db) : db_(db) {}

  bool InsertKey(const WrappedKey& key) override {
    SQLite::Statement insert(db_,
                             "INSERT INTO case_keys (case_id, wrapping_key_id, wrapped_key) "
                             "VALUES (?, ?, ?) ON CONFLICT (case_id) DO NOTHING");
    insert.bind(1, key.case_id);
    insert.bind(2, key.key_id);
    insert.bind(3, key.wrapped.data(), static_cast<int>(key.wrapped.size()));
    return insert.exec() == 1;
  }
  std::optional<WrappedKey> FindKey(const std::string& case_id) override {
    SQLite::Statement select(db_,
                             "SELECT case_id, wrapping_key_id, wrapped_key FROM case_keys "
                             "WHERE case_id = ?");
    select.bind(1, case_id);
    std::vector<WrappedKey> keys = KeysOf(select);
    if (keys.empty()) return std::nullopt;
    return std::move(keys.front());
  }
  void DeleteKey(const std::string& case_id) override {
    SQLite::Statement remove(db_, "DELETE FROM case_keys WHERE case_id = ?");
    remove.bind(1, case_id);
    remove.exec();
  }
  void ReplaceKey(const WrappedKey& key) override {
    SQLite::Statement update(db_,
                             "UPDATE case_keys SET wrapping_key_id = ?, wrapped_key = ? "
                             "WHERE case_id = ?");
    update.bind(1, key.key_id);
    update.bind(2, key.wrapped.data(), static_cast<int>(key.wrapped.size()));
    update.bind(3, key.case_id);
    update.exec();
  }
  // The transaction is IMMEDIATE: it holds the write lock from its start.
  std::vector<WrappedKey> KeysNotSealedBy(const std::string& key_id, int limit) override {
    SQLite::Statement select(db_,
                             "SELECT case_id, wrapping_key_id, wrapped_key FROM case_keys "
                             "WHERE wrapping_key_id != ? LIMIT ?");
    select.bind(1, key_id);
    select.bind(2, limit);
    return KeysOf(select);
  }
  std::vector<WrappedKey> SomeKeys(size_t limit) override {
    SQLite::Statement select(db_,
                             "SELECT case_id, wrapping_key_id, wrapped_key FROM case_keys LIMIT ?");
    select.bind(1, static_cast<int64_t>(limit));
    return KeysOf(select);
  }
  std::map<std::string, int64_t> CountBySealingKey() override {
    std::map<std::string, int64_t> usage;
    SQLite::Statement select(
        db_, "SELECT wrapping_key_id, COUNT(*) FROM case_keys GROUP BY wrapping_key_id");
    while (select.executeStep()) {
      usage[select.getColumn(0).getString()] = select.getColumn(1).getInt64();
    }
    return usage;
  }
  std::optional<FeedMark> ReadFeedMark(bool /*for_update*/) override {
    SQLite::Statement read(db_, "SELECT epoch, revision FROM feed_mark WHERE one = 1");
    if (!read.executeStep()) return std::nullopt;
    return FeedMark{read.getColumn(0).getString(), read.getColumn(1).getInt64()};
  }
  void WriteFeedMark(const FeedMark& mark) override {
    SQLite::Statement write(db_,
                            "INSERT INTO feed_mark (one, epoch, revision) VALUES (1, ?, ?) "
                            "ON CONFLICT (one) DO UPDATE SET epoch = excluded.epoch, "
                            "revision = excluded.revision");
    write.bind(1, mark.epoch);
    write.bind(2, mark.revision);
    write.exec();
  }

 private:
  SQLite::Database& db_;
};

// One connection, used by one caller at a time (the key store's mutex).
class SqliteKeyRows final : public CaseKeyRows {
 public:
  explicit SqliteKeyRows(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)) {}

  absl::Status Transact(const std::function<absl::Status(CaseKeyTxn&)>& work) override {
    SQLite::Transaction txn(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SqliteKeyTxn rows(*db_);
    absl::Status status = work(rows);
    if (status.ok()) txn.commit();  // else the destructor rolls back
    return status;
  }

  // Copies the pages without the deleted key into the main file (where
  // secure_delete has zeroed it) and empties the WAL, whose earlier frames
  // hold the page with the wrapped key.
  absl::Status EraseTraces() override {
    SQLite::Statement checkpoint(*db_, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (checkpoint.executeStep() && checkpoint.getColumn(0).getInt() != 0) {
      return absl::UnavailableError("the WAL could not be truncated (busy)");
    }
    return absl::OkStatus();
  }

  // Nothing left: EraseTraces has done it.
  absl::Status Scrub() override { return absl::OkStatus(); }

  absl::Status Backup(const std::string& backup_path) override {
    if (absl::Status s = CreateOwnerOnly(backup_path, true); !s.ok()) {
      return s.code() == absl::StatusCode::kAlreadyExists
                 ? absl::AlreadyExistsError(absl::StrCat("--out: ", backup_path, " already exists"))
                 : s;
    }
    absl::Status status;
    try {
      CopyPages(*db_, backup_path);
      status = SyncPath(backup_path, false);
      if (status.ok()) status = CheckIntegrity(backup_path, "key store backup");
    } catch (const std::exception& e) {
      status = KeyStoreError("backup", e.what());
    }
    if (!status.ok()) {
      std::error_code ignored;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        fs::remove(backup_path + suffix, ignored);
      }
    }
    return status;
  }

 private:
  const std::unique_ptr<SQLite::Database> db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KeyStore>> OpenSqliteKeyStore(const std::string& path,
                                                             std::shared_ptr<const KeyRing> ring,
                                                             KeyStoreOptions options) {
  if (ring == nullptr) return absl::InvalidArgumentError("key store: no key ring");
  if (absl::Status s = CreateOwnerOnly(path, false); !s.ok()) return s;
  try {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE);
    Configure(*db);
    if (absl::Status s = Migrate(*db); !s.ok()) return s;
    return KeyStore::Open(std::make_unique<SqliteKeyRows>(std::move(db)), std::move(ring), options);
  } catch (const std::exception& e) {
    return KeyStoreError("open", e.what());
  }
}

absl::Status RestoreKeyStore(const std::string& key_store_path, const std::string& backup_path) {
  std::error_code error;
  if (!fs::is_regular_file(backup_path, error)) {
    return absl::NotFoundError(absl::StrCat("--from: ", backup_path, " is not a file"));
  }
  for (const std::string& existing : {key_store_path, key_store_path + "-wal"}) {
    if (fs::exists(existing, error)) {
      return absl::FailedPreconditionError(
          absl::StrCat(existing, " exists; move the current key store aside first"));
    }
  }
  const std::string temp = key_store_path + ".restoring";
  auto remove_temp = [&temp] {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(temp + suffix, ignored);
  };
  remove_temp();  // left by an interrupted restore
  absl::Status status;
  try {
    if (absl::Status s = CheckIntegrity(backup_path, "--from: the backup"); !s.ok()) return s;
    {
      SQLite::Database source(backup_path, SQLite::OPEN_READONLY);
      const int version = source.execAndGet("PRAGMA user_version").getInt();
      if (version < 1 || !source.tableExists("case_keys")) {
        return absl::DataLossError("--from: not a key store backup");
      }
      status = CreateOwnerOnly(temp, true);
      if (status.ok()) CopyPages(source, temp);
    }
    if (status.ok()) {
      // Everything in the main file, so the copy is whole without a WAL.
      SQLite::Database copy(temp, SQLite::OPEN_READWRITE);
      copy.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    if (status.ok()) status = SyncPath(temp, false);
  } catch (const std::exception& e) {
    status = KeyStoreError("restore", e.what());
  }
  if (status.ok()) {
    fs::remove(key_store_path + "-shm", error);  // stale, from the lost key store
    fs::rename(temp, key_store_path, error);
    if (error) {
      status = absl::UnavailableError(
          absl::StrCat("key store: cannot rename the restored copy into place: ", error.message()));
    }
  }
  if (!status.ok()) {
    remove_temp();
    return status;
  }
  return SyncPath(fs::absolute(key_store_path).parent_path(), true);
}

}  // namespace handover::store
