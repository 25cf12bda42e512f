// Baseline P: what PostgreSQL alone does on this machine with the durability
// handoverd asks of it (synchronous_commit=on), and the database perf_bench's
// PostgreSQL rows run on.
#pragma once

#include <cstddef>
#include <string>

namespace handover::bench {

// P: a naive server's durable writes, shaped like W (sqlite_baselines.h):
// `writers` threads, each with its own connection to `url`, each write its
// own transaction (insert a form of `form_bytes` random bytes, as
// incompressible as a sealed one, as a new version; update the case row),
// committed with synchronous_commit=on, for `seconds`. The tables live in a
// schema `baseline_p` of that database, dropped afterwards. Writes/s. Exits
// with a message if PostgreSQL fails.
double PgNaiveWritesPerSecond(const std::string& url, int writers, double seconds,
                              size_t form_bytes);

// Creates the database `url` names (through the database `postgres` of the
// same server) if it does not exist. Exits with a message if it cannot, or if
// the database already holds tables: a run's cases are sealed under its own
// scratch key, so every run needs an empty database.
void CreateEmptyPgDatabase(const std::string& url);

// "PostgreSQL 15.18, fsync on, synchronous_commit on": the server's version
// and the settings a session of handoverd's gets, for the table. Warns on
// stderr (and says so in the result) when they make commits not durable, as
// pg_virtualenv's fsync=off does unless given -o fsync=on.
std::string DescribePgServer(const std::string& url);

}  // namespace handover::bench
