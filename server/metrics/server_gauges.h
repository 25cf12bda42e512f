// The server's state at one moment, in the Prometheus text format: the group
// commit writer (commits, batch sizes, queue depth, refusals), watchers
// connected, client connections open and refused, and the database's size
// on disk.
#pragma once

#include <cstdint>
#include <string>

#include "server/net/connection_listener.h"
#include "server/store/group_commit_writer.h"

namespace handover::metrics {

struct ServerGauges {
  store::WriterStats writer;
  size_t watchers = 0;
  int64_t database_bytes = 0;  // the database file plus its write-ahead log
  net::ConnectionStats connections;
  uint64_t disk_free_bytes = 0;  // on the database's filesystem
  bool disk_low = false;         // below the reserve: writes refused
};

void AppendServerGauges(const ServerGauges& gauges, std::string* out);

// Size of the SQLite database at `path` with its -wal file; 0 if missing.
int64_t DatabaseBytes(const std::string& path);

}  // namespace handover::metrics
