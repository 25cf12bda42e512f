// The whole server on PostgreSQL (real mutual TLS, a real database on the
// cluster ./test.sh starts), restored from a pg_dump archive with
// `handoverd restore` (store::RestoreStore): no feed revision is handed out
// twice, older cursors are refused, and a case erased after the archive was
// made stays erased (its key is gone; the start finishes the erasure).
#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "server/store/database.h"
#include "tests/testing/postgres.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::CreateAndAssign;
using testing::SampleForm;
using testing::TestServer;

// Syncs from `after` until caught up: the status and the revisions.
absl::StatusOr<std::vector<int64_t>> SyncAll(HandoverClient& client, int64_t after) {
  std::vector<int64_t> revisions;
  v1::SyncRequest request;
  request.set_after_revision(after);
  for (;;) {
    auto page = client.Sync(request);
    if (!page.ok()) return page.status();
    for (const auto& event : page->events()) revisions.push_back(event.revision());
    request.set_after_revision(page->next_after_revision());
    if (page->caught_up()) return revisions;
  }
}

// The data without the keys, as deploy/postgresql.md says to take it: the
// archive's path ("" and a test failure if pg_dump failed).
std::string DumpData(const std::string& url) {
  const std::string archive = testing::NewTempDir() + "/data.dump";
  const int code =
      std::system(absl::StrCat("pg_dump --format=custom --exclude-schema=handover_keys "
                               "--file=",
                               archive, " '", url, "'")
                      .c_str());
  EXPECT_EQ(code, 0) << "pg_dump";
  return code == 0 ? archive : "";
}

TEST(PostgresRestoreTest, RestoredFeedNeverReusesARevisionAndErasuresStay) {
  const std::string url = testing::NewPostgresDatabase();
  TestServer server(testing::PostgresServerOptions(url));
  ASSERT_NE(server.server(), nullptr);
  const std::string erased_later = CreateAndAssign(server, "99061000");
  CreateAndAssign(server, "99061001");
  const int64_t archive_head = server.server()->hub()->head_revision();
  ASSERT_EQ(archive_head, 4);

  const std::string archive = DumpData(url);
  ASSERT_FALSE(archive.empty());
  // After the archive: one more case, and an erasure.
  CreateAndAssign(server, "99061002");
  ASSERT_TRUE(server.ClientFor("operator-redcross")
                  ->EraseCase(erased_later, "test", HandoverClient::NewRequestId())
                  .ok());
  const int64_t head = server.server()->hub()->head_revision();
  ASSERT_EQ(head, 7);
  server.Stop();

  const store::DatabaseUrl database = *store::ParseDatabaseUrl(url);
  auto restored = store::RestoreStore(database, archive);
  ASSERT_TRUE(restored.ok()) << restored.status();
  const int64_t base = head + store::kDefaultRevisionBump;
  EXPECT_EQ(restored->backup_head, archive_head);
  EXPECT_EQ(restored->replaced_head, head);
  EXPECT_EQ(restored->base_revision, base);

  server.Restart();
  ASSERT_NE(server.server(), nullptr);
  auto m760 = server.ClientFor("municipality-760");
  // The case erased after the archive was made stays erased.
  EXPECT_EQ(m760->GetCase(erased_later).status().code(), absl::StatusCode::kNotFound);
  for (int64_t cursor : {head, archive_head, int64_t{1}}) {
    const auto resumed = SyncAll(*m760, cursor);
    EXPECT_EQ(resumed.status().code(), absl::StatusCode::kOutOfRange) << cursor;
    EXPECT_EQ(FeedCompactedRevision(resumed.status()), base) << cursor;
  }
  CreateAndAssign(server, "99061003");
  const auto fresh = SyncAll(*m760, 0);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  // The start's erasure of the restored case, then the new case's two.
  ASSERT_FALSE(fresh->empty());
  for (int64_t revision : *fresh) EXPECT_GT(revision, base);
}

TEST(PostgresRestoreTest, MissingArchiveIsNotFoundAndChangesNothing) {
  const std::string url = testing::NewPostgresDatabase();
  auto restored = store::RestoreStore(*store::ParseDatabaseUrl(url), "/nonexistent/data.dump");
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kNotFound) << restored.status();
}

// The second probe put a data dump back with pg_restore alone, not with
// `handoverd restore`: the feed went back 3,110 revisions in the same epoch
// and a synced copy silently skipped them. Now the key store keeps the feed's
// mark, and the start refuses such a database, saying what to do.
TEST(PostgresRestoreTest, ADumpPutBackWithoutHandoverdRestoreIsRefusedAtStart) {
  const std::string url = testing::NewPostgresDatabase();
  TestServer server(testing::PostgresServerOptions(url));
  ASSERT_NE(server.server(), nullptr);
  CreateAndAssign(server, "99061100");
  const std::string archive = DumpData(url);
  ASSERT_FALSE(archive.empty());
  CreateAndAssign(server, "99061101");
  server.Stop();
  ASSERT_EQ(std::system(absl::StrCat("pg_restore --clean --single-transaction --dbname='", url,
                                     "' ", archive)
                            .c_str()),
            0);
  testing::ExpectStartRefusedAsAnOlderCopy(server.options(), 2, 4);
  // `handoverd restore` of the same dump is the way: the server starts.
  ASSERT_TRUE(store::RestoreStore(*store::ParseDatabaseUrl(url), archive).ok());
  server.Restart();
  EXPECT_NE(server.server(), nullptr);
}

}  // namespace
}  // namespace handover
