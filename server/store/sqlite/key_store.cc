#include "server/store/sqlite/key_store.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fcntl.h>
#include <openssl/crypto.h>
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
  if (version > KeyStore::kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat("key store: schema version ", version,
                                                      " is newer than this binary's ",
                                                      KeyStore::kSchemaVersion));
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

}  // namespace

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::Open(std::string path,
                                                         std::shared_ptr<const KeyRing> ring,
                                                         KeyStoreOptions options) {
  if (ring == nullptr) return absl::InvalidArgumentError("key store: no key ring");
  if (absl::Status s = CreateOwnerOnly(path, false); !s.ok()) return s;
  try {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE);
    Configure(*db);
    if (absl::Status s = Migrate(*db); !s.ok()) return s;
    auto store = std::unique_ptr<KeyStore>(
        new KeyStore(std::move(path), std::move(db), std::move(ring), options));
    store->WarmCache(options.max_cached_keys);
    return store;
  } catch (const std::exception& e) {
    return KeyStoreError("open", e.what());
  }
}

KeyStore::KeyStore(std::string path, std::unique_ptr<SQLite::Database> db,
                   std::shared_ptr<const KeyRing> ring, KeyStoreOptions options)
    : path_(std::move(path)),
      db_(std::move(db)),
      ring_(std::move(ring)),
      cache_(options.max_cached_keys) {}

KeyStore::~KeyStore() = default;

void KeyStore::WarmCache(size_t limit) {
  if (limit == 0) return;
  absl::MutexLock db_lock(&db_mu_);
  SQLite::Statement select(*db_, "SELECT case_id, wrapped_key FROM case_keys LIMIT ?");
  select.bind(1, static_cast<int64_t>(limit));
  absl::MutexLock cache_lock(&cache_mu_);
  while (select.executeStep()) {
    const std::string case_id = select.getColumn(0).getString();
    const SQLite::Column column = select.getColumn(1);
    const std::string wrapped(static_cast<const char*>(column.getBlob()),
                              static_cast<size_t>(column.getBytes()));
    absl::StatusOr<std::string> raw = ring_->Open(wrapped, CaseKeyAssociatedData(case_id));
    if (!raw.ok()) continue;  // Get reports it, if the key is ever asked for
    absl::StatusOr<DataKey> key = DataKey::FromBytes(*std::move(raw));
    if (key.ok()) cache_.Put(case_id, *std::move(key));
  }
}

std::string KeyStore::Wrap(const std::string& case_id, const DataKey& key) const {
  std::string raw = key.Bytes();
  std::string wrapped = ring_->Seal(raw, CaseKeyAssociatedData(case_id));
  OPENSSL_cleanse(raw.data(), raw.size());
  return wrapped;
}

absl::StatusOr<DataKey> KeyStore::Load(const std::string& case_id) {
  SQLite::Statement select(*db_, "SELECT wrapped_key FROM case_keys WHERE case_id = ?");
  select.bind(1, case_id);
  if (!select.executeStep()) {
    return absl::NotFoundError(absl::StrCat("case ", case_id, " has no data key"));
  }
  const SQLite::Column column = select.getColumn(0);
  const std::string wrapped(static_cast<const char*>(column.getBlob()),
                            static_cast<size_t>(column.getBytes()));
  absl::StatusOr<std::string> raw = ring_->Open(wrapped, CaseKeyAssociatedData(case_id));
  if (!raw.ok()) {
    return absl::DataLossError(
        absl::StrCat("key store: the key of case ", case_id, ": ", raw.status().message()));
  }
  return DataKey::FromBytes(*std::move(raw));
}

absl::StatusOr<DataKey> KeyStore::Create(const std::string& case_id) {
  absl::MutexLock db_lock(&db_mu_);
  const DataKey key = DataKey::Generate();
  try {
    SQLite::Statement insert(*db_,
                             "INSERT INTO case_keys (case_id, wrapping_key_id, wrapped_key) "
                             "VALUES (?, ?, ?) ON CONFLICT (case_id) DO NOTHING");
    insert.bind(1, case_id);
    insert.bind(2, ring_->current_key_id());
    const std::string wrapped = Wrap(case_id, key);
    insert.bind(3, wrapped.data(), static_cast<int>(wrapped.size()));
    if (insert.exec() == 0) {
      return absl::AlreadyExistsError(absl::StrCat("case ", case_id, " already has a data key"));
    }
  } catch (const std::exception& e) {
    return KeyStoreError("create", e.what());
  }
  absl::MutexLock cache_lock(&cache_mu_);
  cache_.Put(case_id, key);
  return key;
}

absl::Status KeyStore::Put(const std::map<std::string, DataKey>& keys) {
  if (keys.empty()) return absl::OkStatus();
  absl::MutexLock db_lock(&db_mu_);
  try {
    SQLite::Transaction txn(*db_);
    SQLite::Statement insert(*db_,
                             "INSERT INTO case_keys (case_id, wrapping_key_id, wrapped_key) "
                             "VALUES (?, ?, ?)");
    for (const auto& [case_id, key] : keys) {
      const std::string wrapped = Wrap(case_id, key);
      insert.reset();
      insert.bind(1, case_id);
      insert.bind(2, ring_->current_key_id());
      insert.bind(3, wrapped.data(), static_cast<int>(wrapped.size()));
      insert.exec();
    }
    txn.commit();
  } catch (const std::exception& e) {
    return KeyStoreError("put", e.what());
  }
  absl::MutexLock cache_lock(&cache_mu_);
  for (const auto& [case_id, key] : keys) cache_.Put(case_id, key);
  return absl::OkStatus();
}

absl::Status KeyStore::CreateMany(const std::vector<std::string>& case_ids,
                                  std::map<std::string, DataKey>* out) {
  absl::MutexLock db_lock(&db_mu_);
  std::map<std::string, DataKey> keys;
  try {
    SQLite::Transaction txn(*db_);
    SQLite::Statement insert(*db_,
                             "INSERT INTO case_keys (case_id, wrapping_key_id, wrapped_key) "
                             "VALUES (?, ?, ?) ON CONFLICT (case_id) DO NOTHING");
    for (const std::string& case_id : case_ids) {
      if (keys.contains(case_id)) continue;
      const DataKey key = DataKey::Generate();
      const std::string wrapped = Wrap(case_id, key);
      insert.reset();
      insert.bind(1, case_id);
      insert.bind(2, ring_->current_key_id());
      insert.bind(3, wrapped.data(), static_cast<int>(wrapped.size()));
      if (insert.exec() == 1) {
        keys.emplace(case_id, key);
        continue;
      }
      absl::StatusOr<DataKey> existing = Load(case_id);
      if (!existing.ok()) return existing.status();
      keys.emplace(case_id, *existing);
    }
    txn.commit();
  } catch (const std::exception& e) {
    return KeyStoreError("create", e.what());
  }
  absl::MutexLock cache_lock(&cache_mu_);
  for (const auto& [case_id, key] : keys) cache_.Put(case_id, key);
  for (auto& [case_id, key] : keys) out->insert_or_assign(case_id, key);
  return absl::OkStatus();
}

absl::StatusOr<DataKey> KeyStore::Get(const std::string& case_id) {
  {
    absl::ReaderMutexLock cache_lock(&cache_mu_);
    if (std::optional<DataKey> key = cache_.Get(case_id)) return *std::move(key);
  }
  absl::MutexLock db_lock(&db_mu_);
  absl::StatusOr<DataKey> key;
  try {
    key = Load(case_id);
  } catch (const std::exception& e) {
    return KeyStoreError("get", e.what());
  }
  if (key.ok()) {
    absl::MutexLock cache_lock(&cache_mu_);
    cache_.Put(case_id, *key);
  }
  return key;
}

absl::Status KeyStore::Delete(const std::string& case_id) {
  absl::MutexLock db_lock(&db_mu_);
  {
    absl::MutexLock cache_lock(&cache_mu_);
    cache_.Erase(case_id);
  }
  try {
    SQLite::Statement remove(*db_, "DELETE FROM case_keys WHERE case_id = ?");
    remove.bind(1, case_id);
    remove.exec();
    // Copies the page without the key into the main file, and empties the
    // WAL: its earlier frames hold the page with the wrapped key.
    SQLite::Statement checkpoint(*db_, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (checkpoint.executeStep() && checkpoint.getColumn(0).getInt() != 0) {
      return absl::UnavailableError(
          absl::StrCat("key store: the key of case ", case_id,
                       " is deleted but the WAL could not be truncated (busy); call Delete again"));
    }
  } catch (const std::exception& e) {
    return KeyStoreError("delete", e.what());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<FeedMark>> KeyStore::FeedHighWater() {
  absl::MutexLock db_lock(&db_mu_);
  try {
    SQLite::Statement read(*db_, "SELECT epoch, revision FROM feed_mark WHERE one = 1");
    if (!read.executeStep()) return std::nullopt;
    return FeedMark{read.getColumn(0).getString(), read.getColumn(1).getInt64()};
  } catch (const std::exception& e) {
    return KeyStoreError("feed mark", e.what());
  }
}

absl::Status KeyStore::RaiseFeedHighWater(const FeedMark& mark) {
  absl::MutexLock db_lock(&db_mu_);
  try {
    SQLite::Statement raise(
        *db_,
        "INSERT INTO feed_mark (one, epoch, revision) VALUES (1, ?, ?) ON CONFLICT (one) DO "
        "UPDATE SET revision = CASE WHEN epoch = excluded.epoch THEN max(revision, "
        "excluded.revision) ELSE excluded.revision END, epoch = excluded.epoch");
    raise.bind(1, mark.epoch);
    raise.bind(2, mark.revision);
    raise.exec();
  } catch (const std::exception& e) {
    return KeyStoreError("feed mark", e.what());
  }
  return absl::OkStatus();
}

absl::StatusOr<int> KeyStore::Rewrap(int limit) {
  if (limit < 1) return absl::InvalidArgumentError("key store: rewrap limit must be at least 1");
  absl::MutexLock db_lock(&db_mu_);
  int rewrapped = 0;
  try {
    SQLite::Transaction txn(*db_);
    SQLite::Statement select(*db_,
                             "SELECT case_id, wrapped_key FROM case_keys "
                             "WHERE wrapping_key_id != ? LIMIT ?");
    select.bind(1, ring_->current_key_id());
    select.bind(2, limit);
    std::vector<std::pair<std::string, std::string>> rows;
    while (select.executeStep()) {
      const SQLite::Column blob = select.getColumn(1);
      rows.emplace_back(select.getColumn(0).getString(),
                        std::string(static_cast<const char*>(blob.getBlob()),
                                    static_cast<size_t>(blob.getBytes())));
    }
    SQLite::Statement update(*db_,
                             "UPDATE case_keys SET wrapping_key_id = ?, wrapped_key = ? "
                             "WHERE case_id = ?");
    for (auto& [case_id, wrapped] : rows) {
      absl::StatusOr<std::string> raw = ring_->Open(wrapped, CaseKeyAssociatedData(case_id));
      if (!raw.ok()) {
        return absl::DataLossError(
            absl::StrCat("key store: the key of case ", case_id, ": ", raw.status().message()));
      }
      const std::string sealed = ring_->Seal(*raw, CaseKeyAssociatedData(case_id));
      OPENSSL_cleanse(raw->data(), raw->size());
      update.reset();
      update.bind(1, ring_->current_key_id());
      update.bind(2, sealed.data(), static_cast<int>(sealed.size()));
      update.bind(3, case_id);
      rewrapped += update.exec();
    }
    txn.commit();
  } catch (const std::exception& e) {
    return KeyStoreError("rewrap", e.what());
  }
  return rewrapped;
}

absl::StatusOr<std::map<std::string, int64_t>> KeyStore::UsageLocked() {
  std::map<std::string, int64_t> usage;
  try {
    SQLite::Statement select(
        *db_, "SELECT wrapping_key_id, COUNT(*) FROM case_keys GROUP BY wrapping_key_id");
    while (select.executeStep()) {
      usage[select.getColumn(0).getString()] = select.getColumn(1).getInt64();
    }
  } catch (const std::exception& e) {
    return KeyStoreError("usage", e.what());
  }
  return usage;
}

absl::StatusOr<std::map<std::string, int64_t>> KeyStore::Usage() {
  absl::MutexLock db_lock(&db_mu_);
  return UsageLocked();
}

absl::Status KeyStore::ReplaceKeys(std::shared_ptr<const KeyRing> ring) {
  if (ring == nullptr) return absl::InvalidArgumentError("key store: no key ring");
  absl::MutexLock db_lock(&db_mu_);
  absl::StatusOr<std::map<std::string, int64_t>> usage = UsageLocked();
  if (!usage.ok()) return usage.status();
  for (const auto& [key_id, count] : *usage) {
    if (!ring->HasKey(key_id)) {
      return absl::FailedPreconditionError(
          absl::StrCat("key file: key ", key_id, " still wraps ", count,
                       " case keys; keep it until they are re-wrapped"));
    }
  }
  ring_ = std::move(ring);
  return absl::OkStatus();
}

absl::Status KeyStore::Backup(const std::string& backup_path) {
  if (absl::Status s = CreateOwnerOnly(backup_path, true); !s.ok()) {
    return s.code() == absl::StatusCode::kAlreadyExists
               ? absl::AlreadyExistsError(absl::StrCat("--out: ", backup_path, " already exists"))
               : s;
  }
  absl::Status status;
  try {
    {
      absl::MutexLock db_lock(&db_mu_);
      CopyPages(*db_, backup_path);
    }
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
