// The server's state at one moment, in the Prometheus text format: the group
// commit writer (commits, batch sizes, queue depth, refusals), watchers
// connected, client connections open and refused, and the database's size
// on disk.
#pragma once

#include <cstdint>
#include <string>

#include "server/net/connection_listener.h"
#include "server/store/backend.h"

namespace handover::metrics {

struct ServerGauges {
  store::WriteQueueStats writer;
  size_t watchers = 0;
  int64_t database_bytes = 0;  // what the database takes on disk (Backend::storage_bytes)
  net::ConnectionStats connections;
  uint64_t disk_free_bytes = 0;  // on the database's filesystem
  bool disk_low = false;         // below the reserve: writes refused
};

void AppendServerGauges(const ServerGauges& gauges, std::string* out);

}  // namespace handover::metrics
