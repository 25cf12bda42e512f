// Crypto-erasure: each case's data is sealed under a key of its own, kept in
// a key store apart from the data. Erase a case, then restore a data backup
// taken before the erasure, with the current key store (as docs/operations.md tells
// an operator to): the erased case's rows are back in the file, but they
// cannot be read or decrypted, and every other case can; at start the server
// deletes those rows too.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>

#include "client/handover_client.h"
#include "common/crypto.h"
#include "server/store/database.h"
#include "server/store/sealing.h"
#include "server/store/sqlite/backup.h"
#include "server/store/sqlite/case_rows.h"
#include "server/store/sqlite/key_store.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::CreateAndAssign;
using testing::SampleForm;
using testing::TestServer;

// The case's sealed forms, as they are in the database file.
std::vector<std::string> SealedForms(const std::string& database, const std::string& name) {
  SQLite::Database db(database, SQLite::OPEN_READONLY);
  SQLite::Statement forms(db, "SELECT form FROM case_versions WHERE case_id = ?");
  forms.bind(1, name.substr(6));
  std::vector<std::string> sealed;
  while (forms.executeStep()) sealed.push_back(store::Blob(forms.getColumn(0)));
  return sealed;
}

TEST(CryptoErasureTest, AnErasedCaseStaysUnreadableInADataBackupTakenBeforeTheErasure) {
  TestServer server(testing::SqliteServerOptions(testing::NewTempDir()));
  const std::string database = server.options().database_path;
  const std::string erased = CreateAndAssign(server, "99070001");
  const std::string kept = CreateAndAssign(server, "99070002");
  const std::string backup = testing::NewTempDir() + "/before-erasure.db";
  ASSERT_TRUE(store::BackupDatabase(database, backup).ok());
  ASSERT_FALSE(SealedForms(backup, erased).empty());

  auto op = server.ClientFor("operator-redcross");
  ASSERT_TRUE(op->EraseCase(erased, "person-request", HandoverClient::NewRequestId()).ok());
  server.Stop();
  ASSERT_TRUE(store::RestoreDatabase(database, backup).ok());

  // The erased case's sealed rows are in the restored file...
  const std::vector<std::string> sealed = SealedForms(database, erased);
  ASSERT_FALSE(sealed.empty());
  // ...but its key is gone from the key store, and nothing else opens them.
  auto ring = std::make_shared<const KeyRing>(*KeyRing::LoadFile(server.options().key_file));
  {
    auto keys = store::OpenSqliteKeyStore(database + ".keys", ring);
    ASSERT_TRUE(keys.ok()) << keys.status();
    EXPECT_EQ((*keys)->Get(erased.substr(6)).status().code(), absl::StatusCode::kNotFound);
    auto other = (*keys)->Get(kept.substr(6));
    ASSERT_TRUE(other.ok()) << other.status();
    for (const std::string& blob : sealed) {
      EXPECT_TRUE(DataKey::IsSealed(blob));
      EXPECT_FALSE(ring->Open(blob, store::FormAssociatedData(erased.substr(6), 1)).ok());
      EXPECT_FALSE(other->Open(blob, store::FormAssociatedData(erased.substr(6), 1)).ok());
    }
  }

  server.Restart();
  ASSERT_NE(server.server(), nullptr);

  // Through the service: the erased case does not exist for anyone; the
  // other case reads, lists and syncs as before.
  auto m760 = server.ClientFor("municipality-760");
  EXPECT_EQ(m760->GetCase(erased).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(server.ClientFor("operator-redcross")->GetCase(erased).status().code(),
            absl::StatusCode::kNotFound);
  auto read = m760->GetCase(kept);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->form().identity().person_identifier(), "99070002");
  auto listed = m760->ListCases({});
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->cases_size(), 1);
  EXPECT_EQ(listed->cases(0).name(), kept);

  // At start the server finishes the erasure the restore undid: the rows go
  // too, recorded in the access log, and the other case stays.
  for (int i = 0; i < 100 && !SealedForms(database, erased).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(SealedForms(database, erased).empty());
  EXPECT_FALSE(SealedForms(database, kept).empty());
  store::AccessQuery query{.case_id = erased.substr(6)};
  auto records = testing::Await<std::vector<v1::AccessLogEntry>>(
      [&](auto done) { server.server()->store()->QueryAccessLog(query, done); });
  ASSERT_TRUE(records.ok()) << records.status();
  int finished = 0;
  for (const v1::AccessLogEntry& entry : *records) {
    if (entry.record().purpose() == "erased-before-restore") ++finished;
  }
  EXPECT_EQ(finished, 1);
}

TEST(CryptoErasureTest, TheKeyStoreIsNotInTheDataBackupAndHasItsOwn) {
  TestServer server(testing::SqliteServerOptions(testing::NewTempDir()));
  const std::string database = server.options().database_path;
  const std::string name = CreateAndAssign(server, "99070003");
  const std::string dir = testing::NewTempDir();
  ASSERT_TRUE(store::BackupDatabase(database, dir + "/data.db").ok());
  {
    SQLite::Database copy(dir + "/data.db", SQLite::OPEN_READONLY);
    SQLite::Statement tables(copy, "SELECT name FROM sqlite_schema WHERE type = 'table'");
    while (tables.executeStep()) EXPECT_NE(tables.getColumn(0).getString(), "case_keys");
  }
  auto ring = std::make_shared<const KeyRing>(*KeyRing::LoadFile(server.options().key_file));
  ASSERT_TRUE(
      store::BackupKeyStore(*store::ParseDatabaseUrl(database), ring, dir + "/keys.db").ok());
  auto copy = store::OpenSqliteKeyStore(dir + "/keys.db", ring);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_TRUE((*copy)->Get(name.substr(6)).ok());
}

}  // namespace
}  // namespace handover
