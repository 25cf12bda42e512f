// Overload: a client connection gets at most `max-concurrent-streams` calls
// in flight; its further calls wait on the client (HTTP/2 flow control), not
// in the server, and go through as soon as one of the first ends.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace handover
