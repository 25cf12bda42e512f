// The per-case data keys (case_keys.h) in PostgreSQL: the rows under the one
// key store (key_store.h).
//
// The keys live in a schema of their own, handover_keys, in the same
// database as the data, so `pg_dump --exclude-schema=handover_keys` makes a
// data backup without keys and `pg_dump --schema=handover_keys` a key
// backup. Table handover_keys.case_keys (case_id, key_id, wrapped): each key
// wrapped with KeyRing::Seal under the key file's current key (key_id) with
// the associated data CaseKeyAssociatedData(case_id). Its schema version is
// the one row of handover_keys.schema_version; migrations are numbered and
// run at Open in one transaction under an advisory lock, so replicas
// starting together migrate once.
//
// Several handoverd replicas may share the database. Each keeps a cache of
// unwrapped keys (filled at open); Get on a miss reads the row. A key that
// another replica deletes may stay in this replica's cache until it
// restarts; the erasure deletes the case's data rows in the same write, so
// once that commits the stale key has nothing left to open. All replicas
// must run with the same key file (a key wrapped under a key a replica
// lacks is DATA_LOSS there).
//
// What erasure leaves behind: Delete removes the row; once the erasing
// transaction has committed, Scrub (VACUUM FULL) rewrites the table without
// it, before the erasure is answered, so its bytes are in none of the
// table's pages (tests/postgres/pg_server_test.cc reads the table's file).
// PostgreSQL keeps the row in its WAL, WAL archives and standbys, as do key
// backups taken before, and the old file's blocks stay on the disk until
// reused. All of these hold the key only wrapped under the key file's key:
// rotating the key file (Rewrap until 0) and then retiring the old key
// finishes the erasure.
//
// Replicas raising the feed mark at once take turns on the table's lock
// (SHARE ROW EXCLUSIVE), so the highest mark stays.
//
// Threads: one connection, used by the key store under its mutex. When the
// connection breaks, the call that finds it broken connects again and runs
// once more.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/crypto.h"
#include "server/store/key_store.h"

namespace handover::store {

// The newest schema of handover_keys this binary knows.
inline constexpr int kPgKeySchemaVersion = 2;

// Connects to `url`, a libpq connection URI ("postgresql:///handover";
// what it leaves out comes from PGHOST, PGUSER etc.), migrates the schema
// and opens the key store over it. INVALID_ARGUMENT for a null ring,
// FAILED_PRECONDITION for a schema newer than this binary, UNAVAILABLE if
// PostgreSQL fails. Its Scrub is VACUUM FULL of the key table: it rewrites
// the table without the deleted rows, so their bytes leave the table's pages
// (a plain VACUUM only marks the space free, and cannot even do that while
// the erasing transaction is open); it takes the table's exclusive lock
// (about 100 bytes a key: milliseconds for thousands of keys, about a second
// per million), waiting at most a second for it (lock_timeout): a key dump
// in progress makes the scrub fail (logged), and the next erasure's scrub
// removes the row. So does a transaction that began before the erasure and
// is still open. Its Backup is always FAILED_PRECONDITION: the keys are
// backed up with `pg_dump --schema=handover_keys` (see the deploy
// documentation).
absl::StatusOr<std::unique_ptr<KeyStore>> OpenPgKeyStore(std::string url,
                                                         std::shared_ptr<const KeyRing> ring,
                                                         KeyStoreOptions options = {});

}  // namespace handover::store
