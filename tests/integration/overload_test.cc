// Overload: a client connection gets at most `max-concurrent-streams` calls
// in flight; its further calls wait on the client (HTTP/2 flow control), not
// in the server, and go through as soon as one of the first ends. Reads
// beyond the read queue are refused at once with RESOURCE_EXHAUSTED.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/testing/test_server.h"

namespace handover {
namespace {

std::unique_ptr<client::HandoverClient> ClientWithTimeout(const testing::TestServer& server,
                                                          std::chrono::milliseconds timeout) {
  client::ClientOptions options;
  options.server = server.address();
  options.certificate_file = testing::PkiFile("municipality-760.pem");
  options.private_key_file = testing::PkiFile("municipality-760.key");
  options.ca_file = testing::PkiFile("ca.pem");
  options.actor = "test-actor";
  options.timeout = timeout;
  auto client = client::HandoverClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

TEST(OverloadTest, AConnectionHasAtMostMaxConcurrentStreamsCallsInFlight) {
  ServerOptions options = testing::TestServerOptions(testing::NewTempDir());
  options.max_concurrent_streams = 2;
  options.service.watch.progress_interval = std::chrono::milliseconds(100);
  testing::TestServer server(options);
  ASSERT_NE(server.server(), nullptr);
  auto client = ClientWithTimeout(server, std::chrono::milliseconds(700));
  ASSERT_NE(client, nullptr);
  // Warm up: the connection is up and has the server's settings.
  ASSERT_TRUE(client->ListCases({}).ok());

  // Two open Watch streams take both slots on this connection.
  auto first = client->Watch({});
  auto second = client->Watch({});
  v1::WatchResponse item;
  ASSERT_TRUE(first->Next(&item));
  ASSERT_TRUE(second->Next(&item));

  // A third call waits on the client until its deadline.
  EXPECT_EQ(client->ListCases({}).status().code(), absl::StatusCode::kDeadlineExceeded);

  // Another connection is not held back.
  auto other = server.ClientFor("municipality-760");
  EXPECT_TRUE(other->ListCases({}).ok());

  // When one stream ends, the waiting call goes through.
  first->Cancel();
  first->Finish().IgnoreError();
  EXPECT_TRUE(client->ListCases({}).ok());
  second->Cancel();
  second->Finish().IgnoreError();
}

TEST(OverloadTest, ReadsBeyondTheQueueAreRefusedAtOnce) {
  ServerOptions options = testing::TestServerOptions(testing::NewTempDir());
  options.readers.threads = 1;
  options.readers.max_queue = 1;
  testing::TestServer server(options);
  ASSERT_NE(server.server(), nullptr);
  auto redcross = server.ClientFor("operator-redcross");
  auto created = redcross->CreateCase(testing::SampleForm("99000077"), "overload-case");
  ASSERT_TRUE(created.ok()) << created.status();

  // 48 reads at once over 4 connections, against one reader with room for one
  // more waiting.
  std::vector<std::unique_ptr<client::HandoverClient>> clients;
  for (int c = 0; c < 4; ++c) clients.push_back(server.ClientFor("operator-redcross"));
  std::atomic<bool> go{false};
  std::mutex mu;
  std::map<absl::StatusCode, int> codes;
  std::vector<double> refused_ms;
  std::vector<std::thread> threads;
  for (int i = 0; i < 48; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      const auto start = std::chrono::steady_clock::now();
      auto read = clients[i % clients.size()]->GetCase(created->name());
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      std::lock_guard lock(mu);
      ++codes[read.status().code()];
      if (read.status().code() == absl::StatusCode::kResourceExhausted) {
        refused_ms.push_back(ms);
        EXPECT_NE(read.status().message().find("read queue is full"), std::string::npos)
            << read.status();
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_GT(codes[absl::StatusCode::kOk], 0);
  EXPECT_GT(codes[absl::StatusCode::kResourceExhausted], 0);
  EXPECT_EQ(codes[absl::StatusCode::kOk] + codes[absl::StatusCode::kResourceExhausted], 48)
      << "no other outcome";
  for (double ms : refused_ms) EXPECT_LT(ms, 2000) << "refused at once, not after waiting";
}

}  // namespace
}  // namespace handover
