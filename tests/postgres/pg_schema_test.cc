// The PostgreSQL schema's migrations: several replicas starting at once on a
// new database migrate it once (an advisory lock), and a replica refuses a
// schema newer than it knows instead of writing to it.
#include <gtest/gtest.h>

#include <future>
#include <pqxx/pqxx>
#include <vector>

#include "common/crypto.h"
#include "server/store/database.h"
#include "tests/testing/postgres.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

absl::StatusOr<std::unique_ptr<store::DomainStore>> Open(const std::string& url) {
  store::OpenOptions options;
  options.readers.threads = 1;
  options.staging_directory = testing::NewTempDir() + "/staging";
  return store::OpenDatabase(
      *store::ParseDatabaseUrl(url), std::move(options),
      std::make_shared<const KeyRing>(*KeyRing::Parse(KeyRing::GenerateKeyLine("schema-test"))));
}

TEST(PostgresSchemaTest, ReplicasStartingTogetherMigrateOnce) {
  const std::string url = testing::NewPostgresDatabase();
  std::vector<std::future<absl::Status>> opens;
  for (int i = 0; i < 4; ++i) {
    opens.push_back(std::async(std::launch::async, [&url] { return Open(url).status(); }));
  }
  for (auto& open : opens) EXPECT_TRUE(open.get().ok());
  pqxx::connection connection(url);
  pqxx::nontransaction read(connection);
  EXPECT_EQ(read.exec("SELECT count(*) FROM handover_schema")[0][0].as<int>(), 1);
  EXPECT_EQ(read.exec("SELECT count(*) FROM feed_head")[0][0].as<int>(), 1);
}

TEST(PostgresSchemaTest, ANewerSchemaIsRefusedAndLeftAlone) {
  const std::string url = testing::NewPostgresDatabase();
  ASSERT_TRUE(Open(url).ok());
  {
    pqxx::connection connection(url);
    pqxx::nontransaction write(connection);
    write.exec0("UPDATE handover_schema SET version = 99");
  }
  auto refused = Open(url);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_NE(refused.status().message().find("99"), std::string::npos) << refused.status();
  pqxx::connection connection(url);
  pqxx::nontransaction read(connection);
  EXPECT_EQ(read.exec("SELECT version FROM handover_schema")[0][0].as<int>(), 99);
}

}  // namespace
}  // namespace handover
