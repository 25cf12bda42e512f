#include "server/store/database.h"

#include <filesystem>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "server/store/sqlite/backup.h"
#include "server/store/sqlite/key_store.h"
#include "server/store/sqlite/sqlite_backend.h"

namespace handover::store {

absl::StatusOr<DatabaseUrl> ParseDatabaseUrl(const std::string& database) {
  constexpr std::string_view kSqlite = "sqlite://";
  DatabaseUrl url{.engine = DatabaseUrl::Engine::kSqlite, .path = database};
  if (database.rfind(kSqlite, 0) == 0) {
    url.path = database.substr(kSqlite.size());
  } else if (const size_t scheme = database.find("://"); scheme != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "database: ", database.substr(0, scheme),
        ":// is not a backend this handoverd has; use sqlite:///path/to/handover.db or a path"));
  }
  if (url.path.empty()) return absl::InvalidArgumentError("database: required");
  return url;
}

absl::StatusOr<std::unique_ptr<DomainStore>> OpenDatabase(const DatabaseUrl& url,
                                                          OpenOptions options,
                                                          std::shared_ptr<const KeyRing> keys) {
  // The backend first: it configures SQLite's page caches for the process,
  // which only works before SQLite's first use (the key store's open).
  auto backend = SqliteBackend::Open({url.path, options.writer, options.readers});
  if (!backend.ok()) return backend.status();
  auto case_keys = KeyStore::Open(KeyStorePath(url), keys);
  if (!case_keys.ok()) return case_keys.status();
  return DomainStore::Open(*std::move(backend), *std::move(case_keys), std::move(keys),
                           std::move(options.domain));
}

std::string KeyStorePath(const DatabaseUrl& url) { return url.path + ".keys"; }

absl::Status BackupKeyStore(const DatabaseUrl& url, std::shared_ptr<const KeyRing> keys,
                            const std::string& backup_path) {
  auto key_store = KeyStore::Open(KeyStorePath(url), std::move(keys));
  if (!key_store.ok()) return key_store.status();
  return (*key_store)->Backup(backup_path);
}

std::string DatabaseDirectory(const DatabaseUrl& url) {
  return std::filesystem::absolute(url.path).parent_path().string();
}

absl::Status BackupStore(const DatabaseUrl& url, const std::string& backup_path) {
  return BackupDatabase(url.path, backup_path);
}

absl::StatusOr<RestoreResult> RestoreStore(const DatabaseUrl& url, const std::string& backup_path,
                                           int64_t bump_revisions) {
  return RestoreDatabase(url.path, backup_path, bump_revisions);
}

}  // namespace handover::store
