// The database a `--database` option names, and what is done to it as a
// whole: open it as a store, back it up online, restore a backup. The one
// place outside a backend's folder that knows which backends exist; the
// server and handoverd's commands go through it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/crypto.h"
#include "server/store/backend.h"
#include "server/store/domain_store.h"
#include "server/store/restore_result.h"

namespace handover::store {

struct DatabaseUrl {
  enum class Engine { kSqlite, kPostgres, kMemory };
  Engine engine = Engine::kSqlite;
  // kSqlite: the file. kPostgres: the libpq connection URI, as given.
  // kMemory: the in-process database's name.
  std::string path;
};

// "sqlite:///var/lib/h.db" (an absolute path after "sqlite://"),
// "sqlite://h.db" (relative), or a plain path (SQLite);
// "postgresql://user@host:port/db?sslmode=verify-full" or "postgres://..."
// (PostgreSQL; libpq reads what the URI leaves out, the password included,
// from PGPASSFILE or the environment); "mem://<name>" (the in-memory
// reference engine, mem/mem_backend.h: tests and development only, nothing
// survives the process). INVALID_ARGUMENT naming `database` for an empty
// one, another scheme, or a password in the URI (it would show in the
// process list).
absl::StatusOr<DatabaseUrl> ParseDatabaseUrl(const std::string& database);

struct OpenOptions {
  WriterOptions writer;
  ReaderOptions readers;
  DomainStoreOptions domain;
  // Where uploads are staged: see StagingDirectory.
  std::string staging_directory;
};

// Where uploads are staged on this host (emptied when the store opens):
// `configured` if set; else SQLite "<path>.staging", PostgreSQL
// "handoverd.staging" in the working directory (give each replica on one
// host its own), memory "handoverd-mem-<name>-<pid>.staging" in the
// temporary directory.
std::string StagingDirectory(const DatabaseUrl& url, const std::string& configured);

// A database's two halves, opened but not yet joined into a store: the rows
// (backend.h) and the case keys kept apart from them (case_keys.h).
struct StoreParts {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<CaseKeys> case_keys;
};

// Opens (creating and migrating if needed) the backend and key store that
// OpenDatabase joins with DomainStore::Open. Apart so that tests can put a
// decorator between them and the domain store (tests/testing/fault_injection.h).
absl::StatusOr<StoreParts> OpenStoreParts(const DatabaseUrl& url, const OpenOptions& options,
                                          std::shared_ptr<const KeyRing> keys);

// Opens (creating and migrating if needed) the database as a store.
absl::StatusOr<std::unique_ptr<DomainStore>> OpenDatabase(const DatabaseUrl& url,
                                                          OpenOptions options,
                                                          std::shared_ptr<const KeyRing> keys);

// Where the case keys are kept, apart from the data (case_keys.h): SQLite,
// "<path>.keys"; PostgreSQL, the schema handover_keys of the same database
// (pg_key_store.h). A data backup does not contain them.
std::string KeyStorePath(const DatabaseUrl& url);
// An online copy of the key store (`keys` opens it). It brings erased
// cases' keys back: keep such copies briefly (README, "Backups").
absl::Status BackupKeyStore(const DatabaseUrl& url, std::shared_ptr<const KeyRing> keys,
                            const std::string& backup_path);

// The directory whose disk the reserve watches: SQLite, the database's;
// PostgreSQL and memory, the staging directory's (the database server
// watches its own).
std::string DatabaseDirectory(const DatabaseUrl& url, const std::string& staging_directory);

// A consistent online copy (the server keeps serving), checked.
// SQLite: sqlite/backup.h BackupDatabase.
absl::Status BackupStore(const DatabaseUrl& url, const std::string& backup_path);
// Replaces the database with a backup so that no feed revision is handed out
// twice (the server must be stopped). SQLite: sqlite/backup.h RestoreDatabase.
absl::StatusOr<RestoreResult> RestoreStore(const DatabaseUrl& url, const std::string& backup_path,
                                           int64_t bump_revisions = kDefaultRevisionBump);

}  // namespace handover::store
