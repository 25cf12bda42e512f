// Online backup of the database with SQLite's backup API: a consistent copy
// of everything committed when the copy's read transaction began, taken while
// the server keeps serving (WAL mode lets it read beside the writer).
#pragma once

#include <string>

#include "absl/status/status.h"

namespace handover::store {

// Copies `database_path` to `backup_path` (which must not exist), then checks
// the copy with PRAGMA integrity_check. Restore: stop the server, replace the
// database file with the copy (and delete its -wal and -shm files), start.
absl::Status BackupDatabase(const std::string& database_path, const std::string& backup_path);

}  // namespace handover::store
