// The PostgreSQL backend's schema, as numbered migrations (pg_migrations.cc)
// recorded in the table handover_schema. Several replicas may start at once:
// the migrations run in one transaction under a transaction-scoped advisory
// lock, so exactly one of them migrates and the others find it done.
#pragma once

#include <pqxx/pqxx>

#include "absl/status/status.h"

namespace handover::store {

// The newest schema version this binary knows.
int LatestPgSchemaVersion();

// Brings the database to LatestPgSchemaVersion(). FAILED_PRECONDITION,
// naming both versions, if the database's schema is newer than this binary
// (a newer replica has migrated it: this one must be upgraded too); throws
// pqxx's exceptions when PostgreSQL fails.
absl::Status MigratePg(pqxx::connection& connection);

}  // namespace handover::store
