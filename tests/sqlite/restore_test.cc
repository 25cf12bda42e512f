// Restoring a backup (store::RestoreDatabase, run by `handoverd restore`)
// never hands a feed revision out twice: the revision counter moves past
// every revision handed out before, older history counts as compacted and the
// feed gets a new epoch, so a synced copy whose cursor came from before the
// restore is refused (and re-syncs from a snapshot), never silently resumed
// past the events it missed. The epoch is on every feed response.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/sync_agent.h"
#include "common/errors.h"
#include "server/store/sqlite/backup.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

namespace fs = std::filesystem;
using client::HandoverClient;
using testing::CreateAndAssign;
using testing::SampleForm;
using testing::TestServer;

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

// Watch from `after`: the status the stream ends with if it sends nothing
// first (a refused cursor), else OK once a message arrived.
absl::Status WatchRefusal(HandoverClient& client, int64_t after) {
  v1::WatchRequest request;
  request.set_after_revision(after);
  auto stream = client.Watch(request);
  v1::WatchResponse item;
  if (stream->Next(&item)) {
    stream->Cancel();
    (void)stream->Finish();
    return absl::OkStatus();
  }
  return stream->Finish();
}

// Every Sync, Watch and ListCases response names the feed epoch; a restart
// keeps it (only a restore changes it), and a database from before epochs
// gets one when it is upgraded.
TEST(FeedEpochTest, EveryFeedResponseCarriesTheEpochAndARestartKeepsIt) {
  ServerOptions options = testing::SqliteServerOptions(testing::NewTempDir());
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
    // On the stream's first event and on every progress message.
    EXPECT_EQ(item.feed_epoch(), events == 0 || item.has_progress_revision() ? epoch : "");
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
    db.exec("ALTER TABLE cases DROP COLUMN hash_key_id");
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

TEST(RestoreTest, OldCursorsAreRefusedNeverResumedAndRevisionsAreNeverReused) {
  TestServer server(testing::SqliteServerOptions(testing::NewTempDir()));
  const std::string database = server.options().database_path;
  for (int i = 0; i < 3; ++i) CreateAndAssign(server, std::to_string(99060000 + i));
  const std::string backup = testing::NewTempDir() + "/backup.db";
  ASSERT_TRUE(store::BackupDatabase(database, backup).ok());
  const int64_t backup_head = server.server()->hub()->head_revision();
  ASSERT_EQ(backup_head, 6);
  // The tail the restore loses: its events were seen by 760 and the operator.
  for (int i = 0; i < 4; ++i) CreateAndAssign(server, std::to_string(99060100 + i));
  const int64_t head = server.server()->hub()->head_revision();
  ASSERT_EQ(head, 14);
  auto m760 = server.ClientFor("municipality-760");
  auto redcross = server.ClientFor("operator-redcross");
  const Synced municipality_before = SyncAll(*m760, 0);
  const Synced operator_before = SyncAll(*redcross, 0);
  ASSERT_TRUE(municipality_before.status.ok()) << municipality_before.status;
  ASSERT_EQ(municipality_before.cursor, head);
  ASSERT_EQ(operator_before.cursor, head);
  ASSERT_FALSE(municipality_before.epoch.empty());

  // Refused while the server holds the database, which stays as it was.
  auto busy = store::RestoreDatabase(database, backup);
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kFailedPrecondition) << busy.status();
  EXPECT_EQ(SyncAll(*m760, 0).cursor, head);
  EXPECT_FALSE(fs::exists(database + ".restoring"));

  server.Stop();
  auto restored = store::RestoreDatabase(database, backup);
  ASSERT_TRUE(restored.ok()) << restored.status();
  const int64_t base = head + store::kDefaultRevisionBump;
  EXPECT_EQ(restored->backup_head, backup_head);
  EXPECT_EQ(restored->replaced_head, head);
  EXPECT_EQ(restored->base_revision, base);
  EXPECT_NE(restored->feed_epoch, municipality_before.epoch);
  // The replaced database is kept, whole (its lost tail and access records);
  // nothing of it is left beside the restored one.
  ASSERT_FALSE(restored->replaced_path.empty());
  {
    SQLite::Database replaced(restored->replaced_path, SQLite::OPEN_READONLY);
    EXPECT_EQ(store::SqliteTxn(replaced, nullptr).HeadRevision(), head);
  }
  EXPECT_FALSE(fs::exists(database + "-wal"));
  EXPECT_FALSE(fs::exists(database + "-shm"));
  EXPECT_FALSE(fs::exists(database + ".restoring"));

  server.Restart();
  ASSERT_NE(server.server(), nullptr);
  m760 = server.ClientFor("municipality-760");
  redcross = server.ClientFor("operator-redcross");
  // New writes, past the old head: they take revisions after the base.
  for (int i = 0; i < 5; ++i) CreateAndAssign(server, std::to_string(99060200 + i));
  EXPECT_EQ(server.server()->hub()->head_revision(), base + 10);

  for (HandoverClient* client : {m760.get(), redcross.get()}) {
    for (int64_t cursor : {head, backup_head, int64_t{1}}) {
      const Synced resumed = SyncAll(*client, cursor);
      EXPECT_EQ(resumed.status.code(), absl::StatusCode::kOutOfRange)
          << "cursor " << cursor << " resumed past the events it missed";
      EXPECT_EQ(FeedCompactedRevision(resumed.status), base) << resumed.status;
      EXPECT_EQ(FeedCompactedRevision(WatchRefusal(*client, cursor)), base) << cursor;
    }
  }
  // From 0 (the oldest retained) and from a snapshot: only the new history.
  const Synced fresh = SyncAll(*m760, 0);
  ASSERT_TRUE(fresh.status.ok()) << fresh.status;
  EXPECT_EQ(fresh.epoch, restored->feed_epoch);
  ASSERT_EQ(fresh.revisions.size(), 5u);
  for (int64_t revision : fresh.revisions) EXPECT_GT(revision, base);
  v1::ListCasesRequest list;
  list.set_view(v1::CASE_VIEW_FULL);
  auto snapshot = m760->ListCases(list);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->cases_size(), 3 + 5) << "the backup's cases and the new ones";
  EXPECT_EQ(snapshot->revision(), base + 10);
  EXPECT_EQ(snapshot->feed_epoch(), restored->feed_epoch);
  EXPECT_TRUE(SyncAll(*m760, snapshot->revision()).status.ok());
}

TEST(RestoreTest, WithTheDatabaseLostTheBumpAloneMovesPastTheBackup) {
  TestServer server(testing::SqliteServerOptions(testing::NewTempDir()));
  const std::string database = server.options().database_path;
  for (int i = 0; i < 2; ++i) CreateAndAssign(server, std::to_string(99070000 + i));
  const std::string backup = testing::NewTempDir() + "/backup.db";
  ASSERT_TRUE(store::BackupDatabase(database, backup).ok());
  const int64_t backup_head = server.server()->hub()->head_revision();
  CreateAndAssign(server, "99070100");
  server.Stop();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(database + suffix);

  constexpr int64_t kBump = 1000;
  auto restored = store::RestoreDatabase(database, backup, kBump);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->backup_head, backup_head);
  EXPECT_FALSE(restored->replaced_head.has_value());
  EXPECT_EQ(restored->base_revision, backup_head + kBump);
  EXPECT_TRUE(restored->replaced_path.empty());

  server.Restart();
  ASSERT_NE(server.server(), nullptr);
  auto m760 = server.ClientFor("municipality-760");
  CreateAndAssign(server, "99070200");
  for (int64_t cursor : {backup_head, backup_head + 2}) {
    EXPECT_EQ(FeedCompactedRevision(SyncAll(*m760, cursor).status), restored->base_revision)
        << cursor;
  }
  const Synced fresh = SyncAll(*m760, 0);
  ASSERT_TRUE(fresh.status.ok()) << fresh.status;
  EXPECT_EQ(fresh.revisions, (std::vector<int64_t>{restored->base_revision + 2}))
      << "the new case's assignment; its creation is not 760's";
}

// The files a sync agent holds, by name.
std::set<std::string> CaseFiles(const std::string& dir) {
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir + "/cases")) {
    files.insert(entry.path().filename().string());
  }
  return files;
}

// What a sync agent of 760 must hold: a file per case 760 may see now.
std::set<std::string> ServerCases(HandoverClient& client) {
  std::set<std::string> files;
  v1::ListCasesRequest request;
  do {
    auto page = client.ListCases(request);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    for (const auto& c : page->cases()) files.insert(c.name().substr(6) + ".json");
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return files;
}

// The second probe copied a backup over a stopped server's database by
// hand: same feed epoch, 3,110 events then silently skipped by synced
// copies. The key store keeps the feed's mark apart from the data, so the
// start refuses the copy and says what to do; `restore` of it starts.
TEST(RestoreTest, AHandCopiedBackupIsRefusedAtStartAndRestoreIsTheWay) {
  TestServer server(testing::SqliteServerOptions(testing::NewTempDir()));
  const std::string database = server.options().database_path;
  CreateAndAssign(server, "99070300");
  const std::string backup = testing::NewTempDir() + "/backup.db";
  ASSERT_TRUE(store::BackupDatabase(database, backup).ok());
  CreateAndAssign(server, "99070301");
  server.Stop();
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(database + suffix);
  fs::copy_file(backup, database, fs::copy_options::overwrite_existing);

  testing::ExpectStartRefusedAsAnOlderCopy(server.options(), 2, 4);

  ASSERT_TRUE(store::RestoreDatabase(database, backup).ok());
  server.Restart();
  ASSERT_NE(server.server(), nullptr);
  // And a clean restart over the same database is never refused.
  server.Restart();
  EXPECT_NE(server.server(), nullptr);
}

// The epoch is what catches a cursor the revisions cannot: the database lost
// and a bump too small for the tail it had, so the agent's cursor (in the lost
// tail) is inside the restored feed's range once new writes pass it. The
// agent sees the new epoch and starts again from a snapshot instead of
// skipping the new events before its cursor.
TEST(RestoreTest, TheSyncAgentStartsAgainFromASnapshotInANewEpoch) {
  TestServer server(testing::SqliteServerOptions(testing::NewTempDir()));
  const std::string database = server.options().database_path;
  CreateAndAssign(server, "99090000");
  const std::string backup = testing::NewTempDir() + "/backup.db";
  ASSERT_TRUE(store::BackupDatabase(database, backup).ok());
  for (int i = 0; i < 3; ++i) CreateAndAssign(server, std::to_string(99090100 + i));
  const std::string dir = testing::NewTempDir();
  auto m760 = server.ClientFor("municipality-760");
  int64_t cursor = 0;
  {
    client::SyncAgent agent(m760.get(), dir);
    ASSERT_TRUE(agent.CatchUp().ok());
    cursor = agent.cursor();
  }
  ASSERT_EQ(cursor, 8);
  ASSERT_EQ(CaseFiles(dir).size(), 4u);
  {
    std::ifstream in(dir + "/cursor");
    std::string revision, epoch;
    std::getline(in, revision);
    std::getline(in, epoch);
    EXPECT_EQ(revision, "8");
    EXPECT_EQ(epoch, server.server()->store()->feed_epoch()) << "stored beside the cursor";
  }
  server.Stop();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(database + suffix);
  auto restored = store::RestoreDatabase(database, backup, 1);
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_EQ(restored->base_revision, 3);
  server.Restart();
  ASSERT_NE(server.server(), nullptr);
  m760 = server.ClientFor("municipality-760");
  for (int i = 0; i < 4; ++i) CreateAndAssign(server, std::to_string(99090200 + i));
  ASSERT_EQ(server.server()->hub()->head_revision(), 11);
  v1::SyncRequest at_cursor;
  at_cursor.set_after_revision(cursor);
  ASSERT_TRUE(m760->Sync(at_cursor).ok()) << "the revisions alone cannot tell";

  client::SyncAgent agent(m760.get(), dir);
  ASSERT_TRUE(agent.CatchUp().ok());
  EXPECT_EQ(agent.stats().snapshots, 1) << "a new epoch: start again from a snapshot";
  EXPECT_EQ(agent.cursor(), 11);
  EXPECT_EQ(CaseFiles(dir), ServerCases(*m760))
      << "the lost tail's cases gone, every new case there (also those before the old cursor)";
  EXPECT_EQ(CaseFiles(dir).size(), 1u + 4u);
}

TEST(RestoreTest, ABadBackupOrBumpLeavesTheDatabaseAsItWas) {
  TestServer server(testing::SqliteServerOptions(testing::NewTempDir()));
  const std::string database = server.options().database_path;
  CreateAndAssign(server, "99080000");
  const std::string epoch = server.server()->store()->feed_epoch();
  server.Stop();
  const std::string dir = testing::NewTempDir();
  std::ofstream(dir + "/garbage.db") << "not a database, not even close to one";
  EXPECT_FALSE(store::RestoreDatabase(database, dir + "/garbage.db").ok());
  EXPECT_EQ(store::RestoreDatabase(database, dir + "/missing.db").status().code(),
            absl::StatusCode::kNotFound);
  const std::string backup = dir + "/backup.db";
  ASSERT_TRUE(store::BackupDatabase(database, backup).ok());
  EXPECT_EQ(store::RestoreDatabase(database, backup, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  for (const auto& entry : fs::directory_iterator(fs::path(database).parent_path())) {
    EXPECT_EQ(entry.path().string().find(".replaced-"), std::string::npos) << entry.path();
    EXPECT_EQ(entry.path().string().find(".restoring"), std::string::npos) << entry.path();
  }

  server.Restart();
  ASSERT_NE(server.server(), nullptr);
  EXPECT_EQ(server.server()->store()->feed_epoch(), epoch);
  const Synced synced = SyncAll(*server.ClientFor("municipality-760"), 0);
  ASSERT_TRUE(synced.status.ok()) << synced.status;
  EXPECT_EQ(synced.revisions, (std::vector<int64_t>{2}));
}

}  // namespace
}  // namespace handover
