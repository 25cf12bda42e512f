// The in-memory reference engine, `mem://<name>`: FOR TESTS AND DEVELOPMENT
// ONLY. Nothing it holds survives the process; there is no backup, no
// restore and no second replica. It exists so that the tests above the store
// (service, pipeline, policy, feed) run on an engine that needs no files and
// no server, and as the plainest reading of backend.h's contract: it passes
// the whole conformance suite (tests/conformance/), as SpiceDB's memdb does
// its datastore's.
//
// How it meets the contract: one writer thread takes groups of tasks from
// the write queue (write_queue.h) and works on a copy of the published
// tables; each task first copies the working tables as its savepoint, and a
// failed task's tables are put back before its after_rollback runs (1). A
// group is published as a whole after the pre-commit hook, and only then
// are its tasks answered and the commit hook run (1, 5). Revisions and
// access-log sequences are counters in the tables, so they are assigned in
// commit order and a rolled-back task's numbers go back with its copy (2,
// 3). A read runs on the tables published when it starts, which no one
// changes (4).
//
// Threads: Write and Read from any thread; tasks run on the engine's writer
// thread and reader threads. The named database outlives every store opened
// on it, until DropMemDatabase.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/store/backend.h"
#include "server/store/case_key_rows.h"

namespace handover::store {

struct MemDatabase;  // the tables one name holds (mem_backend.cc)

// INVALID_ARGUMENT "database: a mem:// name is 1 to 100 characters of
// [A-Za-z0-9._-]" for another name.
absl::Status CheckMemDatabaseName(const std::string& name);
// The database `name` names in this process, created empty with a new feed
// epoch on first use. CheckMemDatabaseName's error for a bad name.
absl::StatusOr<std::shared_ptr<MemDatabase>> OpenMemDatabase(const std::string& name);
// Forgets the named database (an open store keeps its tables until closed).
void DropMemDatabase(const std::string& name);

// The backend over `database`. `staging_directory`: where uploads are
// staged, created (or emptied of unfinished uploads) here; UNAVAILABLE if it
// cannot be.
absl::StatusOr<std::unique_ptr<Backend>> OpenMemBackend(std::shared_ptr<MemDatabase> database,
                                                        WriterOptions writer, ReaderOptions readers,
                                                        std::string staging_directory);
// The key rows over `database` (its Backup is FAILED_PRECONDITION: nothing
// to back up).
std::unique_ptr<CaseKeyRows> OpenMemKeyRows(std::shared_ptr<MemDatabase> database);

}  // namespace handover::store
