// The per-case data keys (case_keys.h) in SQLite: the rows under the one key
// store (key_store.h), in a small database of their own beside the main one
// (the server uses "<database>.keys"). Table case_keys (case_id,
// wrapping_key_id, wrapped_key) and the one-row table feed_mark. The database
// runs in WAL mode with synchronous=FULL and secure_delete=ON; its schema
// version is its PRAGMA user_version. The file (and so its -wal and -shm) is
// created 0600.
//
// What erasure leaves behind: secure_delete zeroes the deleted row in the
// main file, and EraseTraces (run by KeyStore::Delete) truncates the WAL,
// whose earlier frames hold the page with the wrapped key.
//
// Threads: one connection, used by the key store under its mutex.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/crypto.h"
#include "server/store/key_store.h"

namespace handover::store {

// The newest SQLite key store schema this binary knows.
inline constexpr int kSqliteKeySchemaVersion = 2;

// Opens (creating if needed, mode 0600) and migrates the key store at
// `path`. INVALID_ARGUMENT for a null ring, FAILED_PRECONDITION for a schema
// newer than this binary, UNAVAILABLE if SQLite fails. Its Backup is SQLite's
// online backup to a new file (ALREADY_EXISTS if it exists), created 0600,
// synced and checked with PRAGMA integrity_check (DATA_LOSS, and the copy
// removed, if it fails); it brings erased cases' keys back: keep it briefly.
absl::StatusOr<std::unique_ptr<KeyStore>> OpenSqliteKeyStore(const std::string& path,
                                                             std::shared_ptr<const KeyRing> ring,
                                                             KeyStoreOptions options = {});

// Restores a key store backup (from its Backup) to `key_store_path`,
// for when the key store itself is lost or damaged: a restored key store
// lacks the keys of cases created after the backup (their data cannot be
// read) and holds again the keys of cases erased after it (Delete them
// again). handoverd must be stopped. FAILED_PRECONDITION if
// `key_store_path` (or its -wal) exists: move the old one aside first;
// NOT_FOUND for a missing backup; DATA_LOSS if the backup fails its
// integrity check or has no key store schema; UNAVAILABLE otherwise. The
// copy is written to "<key_store_path>.restoring", synced, and renamed into
// place.
absl::Status RestoreKeyStore(const std::string& key_store_path, const std::string& backup_path);

}  // namespace handover::store
