// A connection's prepared statements, by their SQL: the first use of a
// statement prepares it under a generated name (libpqxx prepares it again by
// itself after a reconnect); later uses only execute it.
//
// Thread-compatible: used only by the thread that owns the connection.
#pragma once

#include <pqxx/pqxx>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace handover::store {

class PgStatements {
 public:
  explicit PgStatements(pqxx::connection& connection) : connection_(connection) {}
  PgStatements(const PgStatements&) = delete;
  PgStatements& operator=(const PgStatements&) = delete;

  // The prepared statement's name for `sql`, preparing it on first use.
  const std::string& Name(const std::string& sql);

 private:
  pqxx::connection& connection_;
  absl::flat_hash_map<std::string, std::string> names_;
};

// A connection and its prepared statements, owned by one thread at a time.
struct PgConnection {
  // Connects; throws pqxx::broken_connection with the server's message.
  explicit PgConnection(const std::string& url) : connection(url), statements(connection) {}
  pqxx::connection connection;
  PgStatements statements;
};

}  // namespace handover::store
