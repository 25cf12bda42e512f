// What a caller is told when storage fails, worded once for every engine.
// The answer says what happened to the write and what to do; the driver's
// own words (which may quote SQL, values or file names) go to the server log
// only, never into an answer.
//
// Threads: any. Each function logs one warning line.
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace handover::store {

// The database could not be reached (connecting, or the connection broke
// before the commit): UNAVAILABLE "the database cannot be reached; nothing
// was stored; retry".
absl::Status DatabaseUnreachable(absl::string_view driver_words);

// The group failed before its commit for another reason (`step` names it,
// e.g. "the key store"): UNAVAILABLE "<step> failed; nothing was stored;
// retry".
absl::Status NothingStored(absl::string_view step, absl::string_view driver_words);

// The connection broke while the commit was under way: the write may or may
// not be stored. UNAVAILABLE saying so; a retry with the same request id
// tells which (it replays the first result, or writes).
absl::Status CommitInDoubt(absl::string_view driver_words);

// A task's own storage error (an exception from a row operation): INTERNAL
// "storage error; nothing of this write was stored".
absl::Status TaskStorageError(absl::string_view driver_words);

// A read's storage error: INTERNAL "storage error; retry".
absl::Status ReadStorageError(absl::string_view driver_words);

// No read snapshot could be opened: UNAVAILABLE "the database cannot be
// reached; retry".
absl::Status SnapshotUnavailable(absl::string_view driver_words);

// A key store's operation `what` ("get", "put", ...) failed in its database:
// UNAVAILABLE "key store: <what> failed; retry".
absl::Status KeyStoreError(absl::string_view what, absl::string_view driver_words);

}  // namespace handover::store
