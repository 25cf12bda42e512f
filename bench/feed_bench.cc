// Feed benchmark: durable form updates at full rate, first with no watchers,
// then with N watchers on the municipality the cases are assigned to.
// Measures update throughput in both phases (the ratio is the cost of
// watching), events delivered per second, and commit-to-event latency: from
// the event's commit_time (taken in the write transaction, before the fsync)
// to its arrival at a watcher.
#include <CLI/CLI.hpp>

#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_support.h"

namespace handover::bench {
namespace {

using Clock = std::chrono::steady_clock;

double NowMicros() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs `writers` threads of UpdateForm over `cases` for `seconds`; returns updates/s.
double RunWriters(BenchServer& server, const std::vector<std::string>& cases, int writers,
                  double seconds) {
  std::atomic<int64_t> done{0};
  std::atomic<int64_t> failed{0};
  const auto stop_at = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      auto op = server.ClientFor("operator-redcross");
      for (int i = 0; Clock::now() < stop_at; ++i) {
        v1::UpdateFormRequest request;
        request.set_name(cases[(w + i * writers) % cases.size()]);
        request.mutable_form()->mutable_wishes_and_plans()->set_expectations(
            absl::StrCat("update ", w, "-", i));
        request.mutable_update_mask()->add_paths("wishes_and_plans.expectations");
        request.set_request_id(client::HandoverClient::NewRequestId());
        (op->UpdateForm(request).ok() ? done : failed)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed > 0) std::cerr << "feed_bench: " << failed << " updates failed\n";
  return done / elapsed;
}

}  // namespace

int Main(int argc, char** argv) {
  int watchers = 200, writers = 16, case_count = 32;
  double seconds = 5;
  std::string out = std::string(HANDOVER_SOURCE_DIR) + "/bench/results/feed.txt",
              dir = "/tmp/handover-feed-bench";
  CLI::App app{"feed_bench: watch latency and throughput"};
  app.add_option("--watchers", watchers)->capture_default_str();
  app.add_option("--writers", writers, "Concurrent update loops")->capture_default_str();
  app.add_option("--cases", case_count)->capture_default_str();
  app.add_option("--seconds", seconds, "Length of each phase")->capture_default_str();
  app.add_option("--out", out, "Also write the table here")->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (emptied)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::filesystem::remove_all(dir);
  ServerOptions options;
  options.service.watch.progress_interval = std::chrono::milliseconds(200);
  BenchServer server(dir, options);
  const std::vector<std::string> cases = CreateAssignedCases(server, case_count);

  const double alone = RunWriters(server, cases, writers, seconds);

  // Watchers from the current head.
  const int64_t start_revision = server.server().hub()->head_revision();
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::atomic<int64_t> events{0};
  std::atomic<int> ready{0};
  std::atomic<int64_t> target{INT64_MAX};
  std::vector<std::unique_ptr<client::HandoverClient>> clients;
  std::vector<std::unique_ptr<client::WatchStream>> streams(watchers);
  for (int i = 0; i < 8; ++i) clients.push_back(server.ClientFor("municipality-760"));
  std::vector<std::thread> threads;
  for (int w = 0; w < watchers; ++w) {
    threads.emplace_back([&, w] {
      v1::WatchRequest request;
      request.set_after_revision(start_revision);
      streams[w] = clients[w % clients.size()]->Watch(request);
      std::vector<double> mine;
      v1::WatchResponse item;
      bool counted = false;
      while (streams[w]->Next(&item)) {
        if (item.has_event()) {
          const auto& t = item.event().commit_time();
          mine.push_back((NowMicros() - (t.seconds() * 1e6 + t.nanos() / 1e3)) / 1000.0);
          ++events;
        } else {
          if (!counted) ++ready, counted = true;
          if (item.progress_revision() >= target) break;
        }
      }
      std::lock_guard lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  while (ready < watchers) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto start = Clock::now();
  const double watched = RunWriters(server, cases, writers, seconds);
  target = server.server().hub()->head_revision();
  for (auto& t : threads) t.join();
  const double drained = std::chrono::duration<double>(Clock::now() - start).count();

  const double p50 = Quantile(latencies_ms, 0.50), p99 = Quantile(latencies_ms, 0.99),
               max = Quantile(latencies_ms, 1.0);
  std::string table = absl::StrFormat(
      "feed_bench: %d watchers, %d writers, %d cases, %.0f s per phase\n"
      "| measure | value |\n|---|---|\n"
      "| durable updates/s, no watchers | %.0f |\n"
      "| durable updates/s, %d watchers | %.0f (%.2f x) |\n"
      "| events delivered/s (all watchers) | %.0f |\n"
      "| commit-to-event latency p50 / p99 / max | %.1f / %.1f / %.1f ms |\n",
      watchers, writers, case_count, seconds, alone, watchers, watched, watched / alone,
      events / drained, p50, p99, max);
  WriteTable(table, out);
  return 0;
}

}  // namespace handover::bench

int main(int argc, char** argv) { return handover::bench::Main(argc, argv); }
