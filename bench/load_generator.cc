#include "bench/load_generator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/str_format.h"
#include "bench/bench_support.h"

namespace handover::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Collects outcomes from many threads.
class Outcomes {
 public:
  void Add(grpc::StatusCode code, double ms) {
    std::lock_guard lock(mu_);
    ++codes_[code];
    if (code == grpc::StatusCode::OK) {
      ok_ms_.push_back(ms);
    } else if (code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
               code == grpc::StatusCode::UNAVAILABLE) {
      refused_ms_.push_back(ms);
    }
  }
  void Fill(LoadResult* result) {
    std::lock_guard lock(mu_);
    result->codes = codes_;
    result->ok_p50_ms = Quantile(ok_ms_, 0.5);
    result->ok_p99_ms = Quantile(ok_ms_, 0.99);
    result->refused_p99_ms = Quantile(refused_ms_, 0.99);
  }

 private:
  std::mutex mu_;
  std::map<grpc::StatusCode, int64_t> codes_;
  std::vector<double> ok_ms_, refused_ms_;
};

// Waits until every started call has ended.
class InFlight {
 public:
  void Begin() { ++count_; }
  void End() {
    std::lock_guard lock(mu_);
    if (--count_ == 0) idle_.notify_all();
  }
  int64_t count() const { return count_; }
  void AwaitIdle() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [this] { return count_ == 0; });
  }

 private:
  std::atomic<int64_t> count_{0};
  std::mutex mu_;
  std::condition_variable idle_;
};

}  // namespace

int64_t LoadResult::ok() const {
  auto it = codes.find(grpc::StatusCode::OK);
  return it == codes.end() ? 0 : it->second;
}

LoadResult RunLoad(const LoadOptions& options, const StartCall& start) {
  Outcomes outcomes;
  InFlight in_flight;
  std::atomic<int64_t> next{0};
  LoadResult result;
  const auto begin = Clock::now();
  const auto end = begin + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(options.seconds));

  // Starts the next call; when it ends, records it and runs `then`. (These
  // live until every call has ended.)
  auto start_one = [&](const std::function<void()>& then) {
    const int64_t i = next++;
    const auto t0 = Clock::now();
    in_flight.Begin();
    start(i, [&, t0](const grpc::Status& status) {
      outcomes.Add(status.error_code(), MillisSince(t0));
      then();
      in_flight.End();
    });
  };
  // Closed loop: each slot starts its next call when the previous ends.
  std::function<void()> launch = [&] {
    if (Clock::now() < end) start_one(launch);
  };
  const std::function<void()> nothing = [] {};
  if (options.rate <= 0) {
    for (int s = 0; s < options.concurrency; ++s) launch();
  } else {
    // Open loop: start on schedule, whatever the answers.
    const auto interval = std::chrono::duration<double>(1.0 / options.rate);
    auto due = begin;
    while (Clock::now() < end) {
      std::this_thread::sleep_until(due);
      due += std::chrono::duration_cast<Clock::duration>(interval);
      if (in_flight.count() >= options.max_in_flight) {
        ++result.skipped;
        continue;
      }
      start_one(nothing);
    }
  }
  // Measure until the deadline; then let the stragglers finish unmeasured.
  std::this_thread::sleep_until(end);
  result.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  outcomes.Fill(&result);
  in_flight.AwaitIdle();
  return result;
}

std::string Thousands(double value) {
  const std::string digits = absl::StrFormat("%.0f", std::abs(value));
  std::string out = value < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace handover::bench
