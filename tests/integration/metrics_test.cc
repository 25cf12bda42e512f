// Metrics: GET /metrics on the optional HTTP port reports, in the Prometheus
// text format, calls per RPC and status code, latency histograms, the
// writer's commits and batch sizes, open watchers and the database size, and
// nothing personal.
#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>
#include <thread>

#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;

std::string Scrape(int port) {
  httplib::Client http("127.0.0.1", port);
  auto response = http.Get("/metrics");
  if (!response || response->status != 200) return "";
  return response->body;
}

// The value of the sample whose line starts with `series` (name and labels).
double Sample(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(MetricsTest, CountsCallsByMethodAndCodeAndReportsTheServersState) {
  ServerOptions options = testing::TestServerOptions(testing::NewTempDir());
  options.metrics_listen_address = "127.0.0.1:0";
  options.service.watch.progress_interval = std::chrono::milliseconds(100);
  testing::TestServer server(options);
  ASSERT_NE(server.server(), nullptr);
  const int port = server.server()->metrics_port();
  ASSERT_GT(port, 0);

  auto redcross = server.ClientFor("operator-redcross");
  auto m760 = server.ClientFor("municipality-760");
  const v1::HandoverForm form = testing::SampleForm("99000042");
  auto created = redcross->CreateCase(form, HandoverClient::NewRequestId());
  ASSERT_TRUE(created.ok()) << created.status();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(redcross->GetCase(created->name()).ok());
  EXPECT_EQ(m760->GetCase(created->name()).status().code(), absl::StatusCode::kNotFound);
  auto watch = m760->Watch({});
  v1::WatchResponse first;
  ASSERT_TRUE(watch->Next(&first));  // the stream is open on the server

  const std::string text = Scrape(port);
  ASSERT_FALSE(text.empty());
  const std::string get_case = "/handover.v1.HandoverService/GetCase";
  EXPECT_EQ(Sample(text, "handover_rpc_requests_total{method=\"" + get_case + "\",code=\"OK\"}"),
            3);
  EXPECT_EQ(
      Sample(text, "handover_rpc_requests_total{method=\"" + get_case + "\",code=\"NOT_FOUND\"}"),
      1);
  EXPECT_EQ(Sample(text, "handover_rpc_duration_seconds_count{method=\"" + get_case + "\"}"), 4);
  EXPECT_EQ(
      Sample(text, "handover_rpc_duration_seconds_bucket{method=\"" + get_case + "\",le=\"+Inf\"}"),
      4);
  EXPECT_GT(Sample(text, "handover_rpc_duration_seconds_sum{method=\"" + get_case + "\"}"), 0);
  // Creating the case and four audited reads: at least one commit, five tasks.
  EXPECT_GE(Sample(text, "handover_writer_commits_total"), 1);
  EXPECT_GE(Sample(text, "handover_writer_tasks_total"), 5);
  // The finite buckets, counted apart from the commits, hold every commit.
  EXPECT_EQ(Sample(text, "handover_writer_batch_size_bucket{le=\"256\"}"),
            Sample(text, "handover_writer_commits_total"));
  EXPECT_EQ(Sample(text, "handover_writer_queue_depth"), 0);
  EXPECT_EQ(Sample(text, "handover_watchers"), 1);
  // The in-memory engine's sealed bytes and access log (a SQLite file is
  // larger, but what counts is that the gauge reads the engine).
  EXPECT_GT(Sample(text, "handover_database_bytes"), 512);
  // Every line is a comment or "<series> <number>".
  std::istringstream lines(text);
  std::string line;
  const std::regex sample(R"(^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$)");
  while (std::getline(lines, line)) {
    if (line.starts_with("# ")) continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
  }
  // Numbers and method names only: nothing from the form.
  EXPECT_EQ(text.find(form.identity().family_name()), std::string::npos);
  EXPECT_EQ(text.find("99000042"), std::string::npos);

  watch->Cancel();
  for (int i = 0; i < 100 && Sample(Scrape(port), "handover_watchers") != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Sample(Scrape(port), "handover_watchers"), 0);
}

TEST(MetricsTest, EndpointIsOffUnlessConfigured) {
  testing::TestServer server;
  ASSERT_NE(server.server(), nullptr);
  EXPECT_EQ(server.server()->metrics_port(), 0);
}

}  // namespace
}  // namespace handover
