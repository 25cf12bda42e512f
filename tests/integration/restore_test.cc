// The feed epoch: every feed response names the history its revisions belong
// to; a restart keeps it, an upgraded database gets one.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::SampleForm;
using testing::TestServer;

// Creates a case as the Red Cross and assigns it to 760: two events, both
// 760's.
void CreateAndAssign(const TestServer& server, const std::string& person) {
  auto op = server.ClientFor("operator-redcross");
  auto created = op->CreateCase(SampleForm(person), HandoverClient::NewRequestId());
  ASSERT_TRUE(created.ok()) << created.status();
  v1::AssignCaseRequest assign;
  assign.set_name(created->name());
  assign.set_municipality_code("760");
  assign.set_request_id(HandoverClient::NewRequestId());
  ASSERT_TRUE(server.ClientFor("immigration-service-uds")->AssignCase(assign).ok());
}

// Syncs from `after` until caught up: the cursor, the epoch, the revisions.
struct Synced {
  absl::Status status;
  int64_t cursor = 0;
  std::string epoch;
  std::vector<int64_t> revisions;
};
Synced SyncAll(HandoverClient& client, int64_t after) {
  Synced synced;
  v1::SyncRequest request;
  request.set_after_revision(after);
  for (;;) {
    auto page = client.Sync(request);
    if (!page.ok()) {
      synced.status = page.status();
      return synced;
    }
    for (const auto& event : page->events()) synced.revisions.push_back(event.revision());
    synced.cursor = page->next_after_revision();
    synced.epoch = page->feed_epoch();
    request.set_after_revision(page->next_after_revision());
    if (page->caught_up()) return synced;
  }
}

// Every Sync, Watch and ListCases response names the feed epoch; a restart
// keeps it (only a restore changes it), and a database from before epochs
// gets one when it is upgraded.
TEST(FeedEpochTest, EveryFeedResponseCarriesTheEpochAndARestartKeepsIt) {
  ServerOptions options = testing::TestServerOptions(testing::NewTempDir());
  options.service.watch.progress_interval = std::chrono::milliseconds(50);
  TestServer server(options);
  CreateAndAssign(server, "99050000");
  CreateAndAssign(server, "99050001");
  const std::string epoch = server.server()->store()->feed_epoch();
  EXPECT_EQ(epoch.size(), 32u);
  EXPECT_EQ(epoch.find_first_not_of("0123456789abcdef"), std::string::npos) << epoch;
  auto m760 = server.ClientFor("municipality-760");
  EXPECT_EQ(SyncAll(*m760, 0).epoch, epoch);
  auto listed = m760->ListCases({});
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->feed_epoch(), epoch);
  auto stream = m760->Watch({});
  v1::WatchResponse item;
  int events = 0;
  while (stream->Next(&item)) {  // the two assignments, then progress
    EXPECT_EQ(item.feed_epoch(), epoch);
    if (item.has_event()) ++events;
    if (item.has_progress_revision()) break;
  }
  EXPECT_EQ(events, 2);
  EXPECT_TRUE(item.has_progress_revision());
  stream->Cancel();
  (void)stream->Finish();

  server.Restart();
  ASSERT_NE(server.server(), nullptr);
  EXPECT_EQ(server.server()->store()->feed_epoch(), epoch);

  // A database from before migration 7.
  server.Stop();
  {
    SQLite::Database db(server.options().database_path, SQLite::OPEN_READWRITE);
    db.exec("ALTER TABLE feed_state DROP COLUMN feed_epoch");
    db.exec("PRAGMA user_version = 6");
  }
  server.Restart();
  ASSERT_NE(server.server(), nullptr);
  const std::string upgraded = server.server()->store()->feed_epoch();
  EXPECT_EQ(upgraded.size(), 32u);
  EXPECT_NE(upgraded, epoch);
  EXPECT_EQ(SyncAll(*server.ClientFor("municipality-760"), 0).revisions,
            (std::vector<int64_t>{2, 4}))
      << "the feed itself is as it was";
}

}  // namespace
}  // namespace handover
