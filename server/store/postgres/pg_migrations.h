// The PostgreSQL backend's schema, as numbered migrations (pg_migrations.cc)
// recorded in the table handover_schema. Several replicas may start at once:
// the migrations run in one transaction under a transaction-scoped advisory
// lock, so exactly one of them migrates and the others find it done.
#pragma once

#include <pqxx/pqxx>

namespace handover::store {

// The newest schema version this binary knows.
int LatestPgSchemaVersion();

// Brings the database to LatestPgSchemaVersion(). Throws std::runtime_error
// if the database's schema is newer than this binary (a newer replica has
// migrated it: this one must be upgraded too), pqxx's exceptions otherwise.
void MigratePg(pqxx::connection& connection);

}  // namespace handover::store
