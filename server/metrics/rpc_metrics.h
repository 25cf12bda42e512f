// Per-RPC request counts by status code and latency histograms, collected by
// a gRPC server interceptor and written in the Prometheus text format. Holds
// method names and numbers only: never anything from a request.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace handover::metrics {

class RpcMetrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets.
  static constexpr std::array<double, 14> kLatencyBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  // One finished call: its full method name ("/handover.v1.HandoverService/
  // GetCase"), status code and time from arrival to status.
  void Record(const std::string& method, grpc::StatusCode code, std::chrono::nanoseconds elapsed);
  // Appends handover_rpc_requests_total and handover_rpc_duration_seconds.
  void AppendPrometheus(std::string* out) const;
  // An interceptor factory that records every call into this object, which
  // must outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();

 private:
  struct Method {
    std::map<grpc::StatusCode, uint64_t> calls_by_code;
    std::array<uint64_t, kLatencyBuckets.size()> bucket_counts{};  // not cumulative
    uint64_t count = 0;
    double sum_seconds = 0;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Method> methods_ ABSL_GUARDED_BY(mu_);
};

}  // namespace handover::metrics
