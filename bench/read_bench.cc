// Read benchmark: GetCase of a typical form by the assigned municipality, N
// concurrent callers over mutual TLS, with durable access records (as in
// service) and, in the same run, with reads unrecorded — the cost of the
// access log.
#include <CLI/CLI.hpp>

#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include "absl/strings/str_format.h"
#include "bench/bench_support.h"

namespace handover::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  double qps = 0, p50_ms = 0, p99_ms = 0;
};

Result Run(const std::string& dir, bool record_reads, int callers, int case_count, double seconds) {
  std::filesystem::remove_all(dir);
  ServerOptions options;
  options.service.record_reads = record_reads;
  BenchServer server(dir, options);
  const std::vector<std::string> cases = CreateAssignedCases(server, case_count);
  std::vector<std::unique_ptr<client::HandoverClient>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(server.ClientFor("municipality-760"));
  std::mutex mu;
  std::vector<double> latencies;
  std::atomic<int64_t> failed{0};
  const auto stop_at = Clock::now() + std::chrono::duration<double>(seconds);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<double> mine;
      for (int i = 0; Clock::now() < stop_at; ++i) {
        const auto t0 = Clock::now();
        if (!clients[c % clients.size()]->GetCase(cases[(c + i) % cases.size()]).ok()) ++failed;
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed > 0) std::cerr << "read_bench: " << failed << " reads failed\n";
  Result result;
  result.qps = latencies.size() / elapsed;
  result.p50_ms = Quantile(latencies, 0.5);
  result.p99_ms = Quantile(latencies, 0.99);
  return result;
}

}  // namespace

int Main(int argc, char** argv) {
  int callers = 32, case_count = 200;
  double seconds = 5;
  std::string out = std::string(HANDOVER_SOURCE_DIR) + "/bench/results/read.txt",
              dir = "/tmp/handover-read-bench";
  CLI::App app{"read_bench: GetCase throughput with and without access records"};
  app.add_option("--callers", callers, "Concurrent GetCase loops")->capture_default_str();
  app.add_option("--cases", case_count)->capture_default_str();
  app.add_option("--seconds", seconds)->capture_default_str();
  app.add_option("--out", out)->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (emptied)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const Result off = Run(dir, false, callers, case_count, seconds);
  const Result on = Run(dir, true, callers, case_count, seconds);
  const std::string table = absl::StrFormat(
      "read_bench: GetCase, %d concurrent callers, %d cases, %.0f s each\n"
      "| access records | reads/s | p50 | p99 |\n|---|---|---|---|\n"
      "| off (measurement only) | %.0f | %.2f ms | %.2f ms |\n"
      "| on (as in service) | %.0f (%.2f x) | %.2f ms | %.2f ms |\n",
      callers, case_count, seconds, off.qps, off.p50_ms, off.p99_ms, on.qps, on.qps / off.qps,
      on.p50_ms, on.p99_ms);
  WriteTable(table, out);
  return 0;
}

}  // namespace handover::bench

int main(int argc, char** argv) { return handover::bench::Main(argc, argv); }
