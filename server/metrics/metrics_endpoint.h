// The optional plain-HTTP endpoint that serves GET /metrics in the Prometheus
// text format. It serves numbers only (rpc_metrics.h, server_gauges.h), so it carries no
// personal data; bind it to an address only the monitoring system reaches.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace handover::metrics {

class MetricsEndpoint {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one) and answers
  // GET /metrics with whatever `render` returns at that moment.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, std::function<std::string()> render);
  // Stops listening and waits for the serving thread.
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace handover::metrics
