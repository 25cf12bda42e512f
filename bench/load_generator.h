// The load generator: drives asynchronous gRPC calls (callback API) from one
// client thread pool, either closed-loop (a fixed number always in flight) or
// open-loop (started at a fixed rate whatever the answers), and measures each
// call from start to status.
#pragma once

#include <grpcpp/support/status.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace handover::bench {

struct LoadOptions {
  // Calls in flight at once (closed loop). Default 32.
  int concurrency = 32;
  // Calls started per second (open loop) instead; 0 for closed loop.
  double rate = 0;
  // Open loop: beyond this many in flight the generator skips a start (and
  // counts it), so the client itself never grows without bound.
  int max_in_flight = 20000;
  double seconds = 5;
};

struct LoadResult {
  double seconds = 0;
  int64_t skipped = 0;  // open loop: not started, max_in_flight reached
  std::map<grpc::StatusCode, int64_t> codes;
  // Latency of successful calls, and of refused ones (RESOURCE_EXHAUSTED or
  // UNAVAILABLE), in milliseconds.
  double ok_p50_ms = 0, ok_p99_ms = 0, refused_p99_ms = 0;

  int64_t ok() const;
  double ok_per_second() const { return ok() / seconds; }
};

// Starts call number `i`; calls `done` with its status when it ends, from any
// thread.
using StartCall = std::function<void(int64_t i, std::function<void(const grpc::Status&)> done)>;

// Runs `start` under `options` until the time is up and every call ended.
LoadResult RunLoad(const LoadOptions& options, const StartCall& start);

// "12,345" style.
std::string Thousands(double value);

}  // namespace handover::bench
