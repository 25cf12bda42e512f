// Online backup of the database with SQLite's backup API: a consistent copy
// of everything committed when the copy's read transaction began, taken while
// the server keeps serving (WAL mode lets it read beside the writer); and the
// restore of such a copy, which never hands a feed revision out twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/store/restore_result.h"

namespace handover::store {

// Copies `database_path` to `backup_path` (which must not exist), then checks
// the copy with PRAGMA integrity_check. Restore it with RestoreDatabase, never
// by copying the file back by hand.
absl::Status BackupDatabase(const std::string& database_path, const std::string& backup_path);

// Replaces the database at `database_path` (if any) with the backup at
// `backup_path`, as etcd restores a snapshot (--bump-revision,
// --mark-compacted), so that no feed revision is ever handed out twice and a
// client's old cursor is refused rather than silently resumed:
//
//  1. Takes SQLite's exclusive lock on the current database and reads its
//     head revision: FAILED_PRECONDITION if another process (a running
//     handoverd) has it open. The lock is held until the file is replaced,
//     so a server cannot start on it meanwhile. A current database that
//     cannot be read is replaced all the same, its head unknown.
//  2. Copies the backup to "<database>.restoring" beside it, checks it with
//     PRAGMA integrity_check (DATA_LOSS if it fails) and brings its schema up
//     to date (a backup newer than this binary is refused).
//  3. In one transaction: moves the events revision counter to the base
//     revision max(backup head, current head) + `bump_revisions`, deletes the
//     backup's events and marks everything through the base compacted (every
//     cursor from before the restore gets OUT_OF_RANGE with FeedCompacted
//     naming the base, and re-syncs from a snapshot), and gives the feed a
//     new epoch.
//  4. Keeps the current database as "<database>.replaced-<UTC time>" (its
//     write-ahead log, if one is left, beside it as "...-wal"; its -shm is
//     deleted), atomically renames the copy into place, and syncs the
//     directory: at every moment `database_path` is either the old database
//     or the restored one.
//
// handoverd must be stopped first (step 1 refuses otherwise) and started
// again after, with the key file the backup was made under. INVALID_ARGUMENT
// for a bump below 1 or one that overflows the counter, NOT_FOUND for a
// missing backup, UNAVAILABLE with SQLite's or the file system's message for
// any other failure, after which the current database is untouched.
absl::StatusOr<RestoreResult> RestoreDatabase(const std::string& database_path,
                                              const std::string& backup_path,
                                              int64_t bump_revisions = kDefaultRevisionBump);

}  // namespace handover::store
