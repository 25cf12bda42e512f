// A form update in two steps, so the costly part runs on a reader thread and
// the single writer thread only checks and inserts rows:
//
//   1. PrepareUpdate (a read snapshot): read the current version, apply the
//      mask, validate, and seal the next version.
//   2. CommitUpdate (the writer, in its transaction): if the case is still at
//      the prepared version and the key ring's current key made its
//      person hash, insert the rows; otherwise prepare again right there.
//
// Both steps run inside a transaction the caller owns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/store/backend.h"
#include "server/store/case_store.h"
#include "server/store/sealing.h"

namespace handover::store {

struct PreparedUpdate {
  // The case's current snapshot (form decrypted) the update was worked out on.
  CaseSnapshot current;
  // The form after the update; the same as current's form if `unchanged`.
  v1::HandoverForm merged;
  bool unchanged = false;
  // The next version (current's + 1) sealed under the case's key, and the
  // person hash under the ring's key `hash_key_id`; all empty if unchanged.
  std::string sealed;
  std::string person_hash;
  std::string hash_key_id;
};

// Step 1. Fails as the update would: NOT_FOUND, the authorizer's refusal,
// ABORTED for a stale etag, the validator's INVALID_ARGUMENT.
absl::StatusOr<PreparedUpdate> PrepareUpdate(ReadTxn& txn, const CaseCipher& cipher,
                                             const UpdateFormCommand& command,
                                             const Authorizer& authorize);

// Step 2, after the caller has checked the request id was not used before
// (recording it is the caller's too). `prepared` may be empty or stale; the
// result is the case as updated, with the version shown and its form.
absl::StatusOr<CaseSnapshot> CommitUpdate(WriteTxn& txn, const CaseCipher& cipher,
                                          const WriteContext& context,
                                          const UpdateFormCommand& command,
                                          const Authorizer& authorize,
                                          std::optional<PreparedUpdate> prepared);

}  // namespace handover::store
