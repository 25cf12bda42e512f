#include "server/metrics/server_gauges.h"

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace handover::metrics {
namespace {

void AppendSample(std::string* out, const char* name, const char* type, const char* help,
                  uint64_t value) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, " ",
                  value, "\n");
}

}  // namespace

void AppendServerGauges(const ServerGauges& g, std::string* out) {
  AppendSample(out, "handover_writer_commits_total", "counter",
               "Write transactions (group commits).", g.writer.groups);
  AppendSample(out, "handover_writer_tasks_total", "counter",
               "Writes carried by those transactions.", g.writer.tasks);
  AppendSample(out, "handover_writer_rejected_total", "counter",
               "Writes refused with RESOURCE_EXHAUSTED because the queue was full.",
               g.writer.rejected);
  AppendSample(out, "handover_writer_queue_depth", "gauge", "Writes waiting for the writer now.",
               g.writer.queue_depth);
  absl::StrAppend(out,
                  "# HELP handover_writer_batch_size Writes per group commit.\n"
                  "# TYPE handover_writer_batch_size histogram\n");
  uint64_t cumulative = 0;
  const auto& bounds = store::WriteQueueStats::kBatchBuckets;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    cumulative += g.writer.batch_sizes[i];
    absl::StrAppend(out, "handover_writer_batch_size_bucket{le=\"", bounds[i], "\"} ", cumulative,
                    "\n");
  }
  absl::StrAppend(out, "handover_writer_batch_size_bucket{le=\"+Inf\"} ", g.writer.groups, "\n",
                  "handover_writer_batch_size_sum ", g.writer.tasks, "\n",
                  "handover_writer_batch_size_count ", g.writer.groups, "\n");
  AppendSample(out, "handover_watchers", "gauge", "Watch streams open now.", g.watchers);
  AppendSample(out, "handover_database_bytes", "gauge",
               "Size of the database file and its write-ahead log.",
               static_cast<uint64_t>(g.database_bytes));
  AppendSample(out, "handover_disk_free_bytes", "gauge", "Free space on the database's filesystem.",
               g.disk_free_bytes);
  AppendSample(out, "handover_disk_low", "gauge",
               "1 while free space is below disk-reserve-mb: client writes are refused.",
               g.disk_low ? 1 : 0);
  const net::ConnectionStats& c = g.connections;
  AppendSample(out, "handover_connections_open", "gauge", "Client connections open now.",
               static_cast<uint64_t>(c.open));
  AppendSample(out, "handover_connections_accepted_total", "counter",
               "Client connections admitted.", static_cast<uint64_t>(c.accepted_total));
  absl::StrAppend(out,
                  "# HELP handover_connections_refused_total Connections closed at once: over "
                  "max-connections (cap), over max-connections-per-peer (peer), or no file "
                  "descriptor left (descriptors).\n"
                  "# TYPE handover_connections_refused_total counter\n",
                  "handover_connections_refused_total{reason=\"cap\"} ", c.refused_at_cap_total,
                  "\nhandover_connections_refused_total{reason=\"peer\"} ",
                  c.refused_per_peer_total,
                  "\nhandover_connections_refused_total{reason=\"descriptors\"} ",
                  c.descriptors_exhausted_total, "\n");
}

}  // namespace handover::metrics
