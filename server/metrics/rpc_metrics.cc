#include "server/metrics/rpc_metrics.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace handover::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Lives for one call: notes the status as it is sent, records when the call
// is over (gRPC deletes interceptors then). A call that ends without a status
// sent (the client went away) counts as CANCELLED.
class RecordingInterceptor : public grpc::experimental::Interceptor {
 public:
  RecordingInterceptor(RpcMetrics* metrics, const char* method)
      : metrics_(metrics), method_(method ? method : "unknown") {}
  ~RecordingInterceptor() override {
    metrics_->Record(method_, code_, std::chrono::steady_clock::now() - start_);
  }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      code_ = methods->GetSendStatus().error_code();
    }
    methods->Proceed();
  }

 private:
  RpcMetrics* const metrics_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  grpc::StatusCode code_ = grpc::StatusCode::CANCELLED;
};

class RecordingFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RecordingFactory(RpcMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RecordingInterceptor(metrics_, info->method());
  }

 private:
  RpcMetrics* const metrics_;
};

}  // namespace

void RpcMetrics::Record(const std::string& method, grpc::StatusCode code,
                        std::chrono::nanoseconds elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const size_t bucket = std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), seconds) -
                        kLatencyBuckets.begin();
  absl::MutexLock lock(&mu_);
  Method& m = methods_[method];
  ++m.calls_by_code[code];
  if (bucket < m.bucket_counts.size()) ++m.bucket_counts[bucket];
  ++m.count;
  m.sum_seconds += seconds;
}

void RpcMetrics::AppendPrometheus(std::string* out) const {
  absl::MutexLock lock(&mu_);
  absl::StrAppend(out,
                  "# HELP handover_rpc_requests_total Finished RPCs by method and status code.\n"
                  "# TYPE handover_rpc_requests_total counter\n");
  for (const auto& [method, m] : methods_) {
    for (const auto& [code, n] : m.calls_by_code) {
      absl::StrAppend(out, "handover_rpc_requests_total{method=\"", method, "\",code=\"",
                      absl::StatusCodeToString(static_cast<absl::StatusCode>(code)), "\"} ", n,
                      "\n");
    }
  }
  absl::StrAppend(out,
                  "# HELP handover_rpc_duration_seconds Time from a call's arrival to its "
                  "status, by method.\n"
                  "# TYPE handover_rpc_duration_seconds histogram\n");
  for (const auto& [method, m] : methods_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += m.bucket_counts[i];
      absl::StrAppend(out, "handover_rpc_duration_seconds_bucket{method=\"", method, "\",le=\"",
                      kLatencyBuckets[i], "\"} ", cumulative, "\n");
    }
    absl::StrAppend(
        out, "handover_rpc_duration_seconds_bucket{method=\"", method, "\",le=\"+Inf\"} ", m.count,
        "\n", "handover_rpc_duration_seconds_sum{method=\"", method, "\"} ", m.sum_seconds, "\n",
        "handover_rpc_duration_seconds_count{method=\"", method, "\"} ", m.count, "\n");
  }
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RpcMetrics::InterceptorFactory() {
  return std::make_unique<RecordingFactory>(this);
}

}  // namespace handover::metrics
