// The access log's rows: an append-only, hash-chained table of AccessRecords
// with an index by case, and signed checkpoints. Append only on the writer
// connection, inside its transaction; read anywhere.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/signing.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/handover_service.pb.h"
#include "server/store/case_store.h"

namespace handover::store {

// Assigns the next sequence (and the time, if unset), chains the hash and
// appends. Returns the entry written.
v1::AccessLogEntry AppendAccessRecord(SQLite::Database& db, v1::AccessRecord record);

// Signs and stores a checkpoint for the log's head if it has grown since the
// last one.
std::optional<v1::Checkpoint> AppendCheckpoint(SQLite::Database& db, const Signer& signer,
                                               int64_t now_micros);

std::vector<v1::AccessLogEntry> QueryAccessRecords(SQLite::Database& db, const AccessQuery& query);

// Entries after `after_sequence` (at most `limit`), each followed by the
// checkpoint taken at it, if any.
std::vector<v1::ExportAccessLogResponse> ExportAccessRecords(SQLite::Database& db,
                                                             int64_t after_sequence, int limit);

// Every record naming one of the cases, oldest first.
std::vector<v1::AccessRecord> RecordsForCases(SQLite::Database& db,
                                              const std::vector<std::string>& case_ids);

}  // namespace handover::store
