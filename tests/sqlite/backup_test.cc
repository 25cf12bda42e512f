// Online backup under write load: the copy passes integrity_check, holds every
// write acknowledged before the backup began, and restored (RestoreDatabase,
// as `handoverd restore` does) the server serves those cases.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/store/sqlite/backup.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

TEST(BackupTest, AnOnlineBackupHoldsEveryAcknowledgedWriteAndRestores) {
  testing::TestServer server(testing::SqliteServerOptions(testing::NewTempDir()));
  auto op = server.ClientFor("operator-redcross");
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (int i = 0; writing && i < 5000; ++i) {
      auto created = op->CreateCase(testing::SampleForm(std::to_string(99050000 + i)),
                                    absl::StrCat("backup-", i));
      if (!created.ok()) continue;
      std::lock_guard lock(mu);
      acknowledged.push_back(created->name());
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<std::string> before;
  {
    std::lock_guard lock(mu);
    before = acknowledged;  // acknowledged before the backup begins
  }
  const std::string copy = testing::NewTempDir() + "/backup.db";
  const absl::Status backed_up = store::BackupDatabase(server.options().database_path, copy);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  writing = false;
  writer.join();
  ASSERT_TRUE(backed_up.ok()) << backed_up;
  ASSERT_GT(before.size(), 5u);

  {
    SQLite::Database db(copy, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
    for (const std::string& name : before) {
      SQLite::Statement row(db, "SELECT 1 FROM cases WHERE case_id = ?");
      row.bind(1, name.substr(6));
      EXPECT_TRUE(row.executeStep()) << name << " acknowledged before the backup but missing";
    }
  }
  EXPECT_EQ(store::BackupDatabase(server.options().database_path, copy).code(),
            absl::StatusCode::kAlreadyExists);

  // Restore: the server serves what was acknowledged before.
  server.Stop();
  auto restored = store::RestoreDatabase(server.options().database_path, copy);
  ASSERT_TRUE(restored.ok()) << restored.status();
  server.Restart();
  ASSERT_NE(server.server(), nullptr);
  auto reader = server.ClientFor("operator-redcross");
  for (size_t i = 0; i < before.size(); i += std::max<size_t>(1, before.size() / 10)) {
    EXPECT_TRUE(reader->GetCase(before[i]).ok()) << before[i];
  }
}

}  // namespace
}  // namespace handover
