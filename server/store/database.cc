#include "server/store/database.h"

#include <filesystem>
#include <string_view>

#include <unistd.h>
#include "absl/strings/str_cat.h"

#include "server/store/key_store.h"
#include "server/store/mem/mem_backend.h"
#include "server/store/postgres/pg_backend.h"
#include "server/store/postgres/pg_key_store.h"
#include "server/store/postgres/pg_restore.h"
#include "server/store/sqlite/backup.h"
#include "server/store/sqlite/key_store.h"
#include "server/store/sqlite/sqlite_backend.h"

namespace handover::store {

namespace {

bool StartsWith(const std::string& text, std::string_view prefix) {
  return text.rfind(prefix, 0) == 0;
}

// Whether a PostgreSQL URI's authority ("user:password@host") has a password.
bool HasPassword(const std::string& uri) {
  const size_t start = uri.find("://") + 3;
  const size_t end = uri.find_first_of("/?", start);
  const std::string authority = uri.substr(start, end == std::string::npos ? end : end - start);
  const size_t at = authority.rfind('@');
  return at != std::string::npos && authority.substr(0, at).find(':') != std::string::npos;
}

}  // namespace

absl::StatusOr<DatabaseUrl> ParseDatabaseUrl(const std::string& database) {
  constexpr std::string_view kSqlite = "sqlite://";
  DatabaseUrl url{.engine = DatabaseUrl::Engine::kSqlite, .path = database};
  if (StartsWith(database, "postgresql://") || StartsWith(database, "postgres://")) {
    if (HasPassword(database)) {
      return absl::InvalidArgumentError(
          "database: a password in the URL would show in the process list; put it in "
          "PGPASSFILE (~/.pgpass) or PGPASSWORD");
    }
    return DatabaseUrl{.engine = DatabaseUrl::Engine::kPostgres, .path = database};
  }
  if (StartsWith(database, "mem://")) {
    const std::string name = database.substr(6);
    if (absl::Status s = CheckMemDatabaseName(name); !s.ok()) return s;
    return DatabaseUrl{.engine = DatabaseUrl::Engine::kMemory, .path = name};
  }
  if (StartsWith(database, kSqlite)) {
    url.path = database.substr(kSqlite.size());
  } else if (const size_t scheme = database.find("://"); scheme != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "database: ", database.substr(0, scheme),
        ":// is not a backend this handoverd has; use sqlite:///path/to/handover.db, a "
        "path, postgresql://user@host/database, or mem://name (tests only)"));
  }
  if (url.path.empty()) return absl::InvalidArgumentError("database: required");
  return url;
}

absl::StatusOr<StoreParts> OpenStoreParts(const DatabaseUrl& url, const OpenOptions& options,
                                          std::shared_ptr<const KeyRing> keys) {
  StoreParts parts;
  if (url.engine == DatabaseUrl::Engine::kMemory) {
    auto database = OpenMemDatabase(url.path);
    if (!database.ok()) return database.status();
    auto case_keys = KeyStore::Open(OpenMemKeyRows(*database), std::move(keys));
    if (!case_keys.ok()) return case_keys.status();
    auto backend = OpenMemBackend(*database, options.writer, options.readers,
                                  StagingDirectory(url, options.staging_directory));
    if (!backend.ok()) return backend.status();
    parts.backend = *std::move(backend);
    parts.case_keys = *std::move(case_keys);
    return parts;
  }
  if (url.engine == DatabaseUrl::Engine::kPostgres) {
    auto backend =
        PgBackend::Open({.url = url.path,
                         .staging_directory = StagingDirectory(url, options.staging_directory),
                         .writer = options.writer,
                         .readers = options.readers});
    if (!backend.ok()) return backend.status();
    auto case_keys = OpenPgKeyStore(url.path, std::move(keys));
    if (!case_keys.ok()) return case_keys.status();
    parts.backend = *std::move(backend);
    parts.case_keys = *std::move(case_keys);
    return parts;
  }
  // The backend first: it configures SQLite's page caches for the process,
  // which only works before SQLite's first use (the key store's open).
  auto backend = SqliteBackend::Open({url.path, options.writer, options.readers});
  if (!backend.ok()) return backend.status();
  auto case_keys = OpenSqliteKeyStore(KeyStorePath(url), std::move(keys));
  if (!case_keys.ok()) return case_keys.status();
  parts.backend = *std::move(backend);
  parts.case_keys = *std::move(case_keys);
  return parts;
}

absl::StatusOr<std::unique_ptr<DomainStore>> OpenDatabase(const DatabaseUrl& url,
                                                          OpenOptions options,
                                                          std::shared_ptr<const KeyRing> keys) {
  auto parts = OpenStoreParts(url, options, keys);
  if (!parts.ok()) return parts.status();
  return DomainStore::Open(std::move(parts->backend), std::move(parts->case_keys), std::move(keys),
                           std::move(options.domain));
}

std::string StagingDirectory(const DatabaseUrl& url, const std::string& configured) {
  if (!configured.empty()) return configured;
  if (url.engine == DatabaseUrl::Engine::kMemory) {
    return (std::filesystem::temp_directory_path() /
            absl::StrCat("handoverd-mem-", url.path, "-", ::getpid(), ".staging"))
        .string();
  }
  return url.engine == DatabaseUrl::Engine::kPostgres ? "handoverd.staging" : url.path + ".staging";
}

std::string KeyStorePath(const DatabaseUrl& url) { return url.path + ".keys"; }

absl::Status BackupKeyStore(const DatabaseUrl& url, std::shared_ptr<const KeyRing> keys,
                            const std::string& backup_path) {
  if (url.engine == DatabaseUrl::Engine::kMemory) {
    return absl::FailedPreconditionError("backup: mem:// holds nothing to back up");
  }
  if (url.engine == DatabaseUrl::Engine::kPostgres) {
    auto key_store = OpenPgKeyStore(url.path, std::move(keys));
    if (!key_store.ok()) return key_store.status();
    return (*key_store)->Backup(backup_path);
  }
  auto key_store = OpenSqliteKeyStore(KeyStorePath(url), std::move(keys));
  if (!key_store.ok()) return key_store.status();
  return (*key_store)->Backup(backup_path);
}

std::string DatabaseDirectory(const DatabaseUrl& url, const std::string& staging_directory) {
  return std::filesystem::absolute(url.engine == DatabaseUrl::Engine::kSqlite ? url.path
                                                                              : staging_directory)
      .parent_path()
      .string();
}

absl::Status BackupStore(const DatabaseUrl& url, const std::string& backup_path) {
  if (url.engine == DatabaseUrl::Engine::kMemory) {
    return absl::FailedPreconditionError("backup: mem:// holds nothing to back up");
  }
  if (url.engine == DatabaseUrl::Engine::kPostgres) {
    return absl::FailedPreconditionError(
        "backup: a PostgreSQL database is backed up with pg_dump (deploy/postgresql.md)");
  }
  return BackupDatabase(url.path, backup_path);
}

absl::StatusOr<RestoreResult> RestoreStore(const DatabaseUrl& url, const std::string& backup_path,
                                           int64_t bump_revisions) {
  if (url.engine == DatabaseUrl::Engine::kMemory) {
    return absl::FailedPreconditionError("restore: mem:// has nothing to restore into");
  }
  if (url.engine == DatabaseUrl::Engine::kPostgres) {
    return RestorePgDatabase(url.path, backup_path, bump_revisions);
  }
  return RestoreDatabase(url.path, backup_path, bump_revisions);
}

}  // namespace handover::store
