// The access log's tamper evidence, shared by the server (which writes it)
// and handoverctl (which verifies exports offline):
//
//   hash(n) = SHA-256(hash(n-1) || deterministic bytes of record n), hash(0) = 32 zero bytes
//   checkpoint = Ed25519 signature of CheckpointMessage(sequence, hash(sequence))
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "handover/v1/audit.pb.h"

namespace handover {

std::string ChainHash(absl::string_view previous_hash, const v1::AccessRecord& record);
std::string CheckpointMessage(int64_t sequence, absl::string_view head_hash);
inline const std::string kGenesisHash(32, '\0');

struct VerifyReport {
  int64_t records = 0;
  int64_t checkpoints = 0;
  // Records up to this sequence are covered by a verified signature.
  int64_t signed_through = 0;
};

// Checks an export item by item (`items[i]` came from line `i + 1`): sequences
// 1, 2, 3... without gaps, each hash chained to the one before, and every
// checkpoint signed by `public_key_pem` and matching the log at its sequence.
// DATA_LOSS naming the line and sequence of the first problem, told apart:
//   "record 3 does not match its hash (changed)": altered
//   "record 2 is missing (deleted)", "records 2 to 4 are missing (deleted)"
//   "records 2 and 3 are swapped (reordered)": two neighbours exchanged
//   "record 5 comes before record 2, which is on line 7 (reordered)"
//   "record 2 is duplicated (also on line 3)"
// or a checkpoint that does not match the log or is not signed by the key.
// Messages name line and sequence numbers only, never record content.
absl::StatusOr<VerifyReport> VerifyAccessLog(const std::vector<v1::ExportAccessLogResponse>& items,
                                             absl::string_view public_key_pem);

}  // namespace handover
