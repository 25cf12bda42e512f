// The whole server on PostgreSQL when the database drops its connections
// (a restart, a failover, an administrator's pg_terminate_backend): the
// calls that find a connection broken fail with UNAVAILABLE, which clients
// retry; the next ones run on new connections; nothing acknowledged is lost
// and the feed goes on without a gap, watchers included.
#include <gtest/gtest.h>

#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/testing/postgres.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::SampleForm;
using testing::TestServer;

ServerOptions PostgresServerOptions(const std::string& url) {
  ServerOptions options = testing::PostgresServerOptions(url);
  options.service.watch.progress_interval = std::chrono::milliseconds(100);
  return options;
}

// Ends every connection handoverd holds to the database; how many.
int DropServerConnections(const std::string& url) {
  pqxx::connection admin(url);
  pqxx::nontransaction run(admin);
  return static_cast<int>(run.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = current_database() "
                                   "AND application_name LIKE 'handoverd-%'")
                              .size());
}

// Runs `call` until it is not UNAVAILABLE (at most 5 times); its last status.
template <typename Call>
absl::Status Retried(Call call, int* unavailable) {
  absl::Status status;
  for (int attempt = 0; attempt < 5; ++attempt) {
    status = call();
    if (status.code() != absl::StatusCode::kUnavailable) return status;
    ++*unavailable;
  }
  return status;
}

TEST(PostgresServerTest, ServesAgainAfterTheDatabaseDropsItsConnections) {
  const std::string url = testing::NewPostgresDatabase();
  TestServer server(PostgresServerOptions(url));
  ASSERT_NE(server.server(), nullptr);
  auto op = server.ClientFor("operator-redcross");
  auto first = op->CreateCase(SampleForm("99062000"), "first");
  ASSERT_TRUE(first.ok()) << first.status();

  // A watch that lives through the drop.
  auto watcher = server.ClientFor("operator-redcross");
  auto stream = watcher->Watch({});

  // writer, readers, feed watcher, key store
  EXPECT_GE(DropServerConnections(url), 4);
  int unavailable = 0;
  absl::StatusOr<v1::Case> second;
  absl::Status created = Retried(
      [&] {
        second = op->CreateCase(SampleForm("99062001"), "second");
        return second.status();
      },
      &unavailable);
  ASSERT_TRUE(created.ok()) << created;
  absl::Status read = Retried([&] { return op->GetCase(first->name()).status(); }, &unavailable);
  EXPECT_TRUE(read.ok()) << read;
  EXPECT_TRUE(op->GetCase(second->name()).ok());

  // The watch gets both creations, in order, without a gap.
  std::vector<int64_t> revisions;
  v1::WatchResponse item;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (revisions.size() < 2 && std::chrono::steady_clock::now() < deadline &&
         stream->Next(&item)) {
    if (item.has_event()) revisions.push_back(item.event().revision());
  }
  stream->Cancel();
  (void)stream->Finish();
  EXPECT_EQ(revisions, (std::vector<int64_t>{1, 2}));
  std::cerr << "calls that met a dropped connection and were retried: " << unavailable << "\n";
}

}  // namespace
}  // namespace handover
