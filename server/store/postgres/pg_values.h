// How the PostgreSQL backend spells values in parameters and reads them from
// rows, shared by its row files.
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "server/policy/policy.h"
#include "server/store/row_values.h"

namespace handover::store {

// A bytea parameter (sent in binary) and a bytea column's bytes.
inline pqxx::binarystring Bytea(const std::string& bytes) { return pqxx::binarystring(bytes); }
inline std::string Bytes(const pqxx::field& field) { return pqxx::binarystring(field).str(); }

// Array literals for "= ANY($n::text[])" and "= ANY($n::bytea[])": a list as
// one parameter, so the statement's text is the same whatever its length.
std::string TextArray(const std::vector<std::string>& values);
std::string ByteaArray(const std::vector<std::string>& values);

// The policy's event filter over the events table, as in sqlite/case_rows.h:
// terms to append to a WHERE clause (each " AND ..."), whose parameters are
// numbered from `first`, and their values in order.
struct PgEventFilter {
  std::string conditions;
  std::vector<std::string> parameters;
};
PgEventFilter PgEventFilterOf(const policy::EventFilter& filter, int first);

}  // namespace handover::store
