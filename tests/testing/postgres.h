// Test support for the PostgreSQL backend: a new, empty database per call on
// the server the environment names. ./test.sh runs ctest under Debian's
// pg_virtualenv, which starts a throw-away cluster and exports PGHOST,
// PGPORT, PGUSER and PGPASSWORD; a test run without them fails (it never
// skips: a missing PostgreSQL is a broken test set-up, not a pass).
#pragma once

#include <string>

#include "server/server.h"

namespace handover::testing {

// Creates a database with a fresh name and returns its connection URL
// ("postgresql:///handover_test_<pid>_<n>", the rest from the environment).
// Throws std::runtime_error if there is no server to create it on.
std::string NewPostgresDatabase();

// The test server's options (TestServerOptions) on the PostgreSQL database
// `url`, staging uploads in a new directory of its own.
ServerOptions PostgresServerOptions(const std::string& url);

}  // namespace handover::testing
