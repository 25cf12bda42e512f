// The access log's rules, over the backend: each record takes the next
// sequence and is chained to the one before (common/access_chain.h), and
// checkpoints sign the head. Call only inside a write transaction, whose
// commit order is the chain's order (backend.h, contract 3).
#pragma once

#include <cstdint>
#include <optional>

#include "common/signing.h"
#include "handover/v1/audit.pb.h"
#include "server/store/backend.h"

namespace handover::store {

// Assigns the next sequence (and the time, if unset), chains the hash and
// appends. Returns the entry written.
v1::AccessLogEntry AppendAccessRecord(WriteTxn& txn, v1::AccessRecord record);

// Signs and stores a checkpoint of the log's head if it has grown since the
// last one.
std::optional<v1::Checkpoint> AppendCheckpoint(WriteTxn& txn, const Signer& signer,
                                               int64_t now_micros);

}  // namespace handover::store
