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

// `url` with its application_name set to `name` (unless it sets one), so
// pg_stat_activity tells a replica's writer, readers and feed watcher apart.
std::string WithApplicationName(const std::string& url, const std::string& name);

// Whether `error` (thrown by a statement on `connection`) means the
// connection is gone — a restart, pg_terminate_backend, a network failure —
// so that connecting again may help.
bool ConnectionBroke(const std::exception& error, const pqxx::connection_base& connection);

// A connection and its prepared statements, owned by one thread at a time.
struct PgConnection {
  // Connects as application `name`; throws pqxx::broken_connection with the
  // server's message.
  // Errors are terse: PostgreSQL's DETAIL lines can quote row values, and
  // the driver's words go to the log.
  PgConnection(const std::string& url, const std::string& name)
      : connection(WithApplicationName(url, name)), statements(connection) {
    connection.set_verbosity(pqxx::connection_base::terse);
  }
  pqxx::connection connection;
  PgStatements statements;
};

}  // namespace handover::store
