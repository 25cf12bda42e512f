// Numbered schema migrations, applied in order at start-up. The database's
// `PRAGMA user_version` records the last one applied; each runs in its own
// transaction. Append new migrations; never edit an applied one.
#pragma once

#include <SQLiteCpp/Database.h>

namespace handover::store {

// The newest schema version this binary knows.
int LatestSchemaVersion();

// Brings the schema up to the newest version. Throws SQLite::Exception on
// failure; a database newer than this binary is an error too.
void Migrate(SQLite::Database& db);

}  // namespace handover::store
