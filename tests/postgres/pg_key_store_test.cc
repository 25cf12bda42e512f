// server/store/postgres/pg_key_store.h on a real PostgreSQL (a fresh
// database per test, tests/testing/postgres.h): per-case data keys,
// erasure, several replicas on one database, re-wrapping after a key file
// rotation, the schema version and its migration lock. Case ids are
// fictional.
#include "server/store/postgres/pg_key_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/testing/postgres.h"

namespace handover::store {
namespace {

// Fixed, obviously fake wrapping keys.
const std::string kLineA = "test-wrap-a " + std::string(64, 'a');
const std::string kLineB = "test-wrap-b " + std::string(64, 'b');

std::shared_ptr<const KeyRing> Ring(const std::string& text) {
  absl::StatusOr<KeyRing> ring = KeyRing::Parse(text);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return std::make_shared<const KeyRing>(*std::move(ring));
}

std::string CaseId(int i) { return absl::StrCat("case-fiktiv-", 100000 + i); }

std::map<std::string, DataKey> NewKeys(int from, int count) {
  std::map<std::string, DataKey> keys;
  for (int i = from; i < from + count; ++i) keys.emplace(CaseId(i), DataKey::Generate());
  return keys;
}

constexpr KeyStoreOptions kNoCache{.max_cached_keys = 0};

class PgKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = testing::NewPostgresDatabase();
    ring_ = Ring(kLineA);
    store_ = MustOpen();
  }

  std::unique_ptr<KeyStore> MustOpen(KeyStoreOptions options = {}) {
    auto store = OpenPgKeyStore(url_, ring_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  void Reopen(KeyStoreOptions options = {}) {
    store_.reset();
    store_ = MustOpen(options);
    ASSERT_NE(store_, nullptr);
  }

  // Runs `sql` over a connection of its own; the result's first field.
  std::string Query(const std::string& sql) {
    pqxx::connection conn(url_);
    pqxx::nontransaction txn(conn);
    const pqxx::result result = txn.exec(sql);
    return result.empty() || result[0][0].is_null() ? "" : result[0][0].as<std::string>();
  }

  void ExpectKeys(KeyStore& store, const std::map<std::string, DataKey>& keys) {
    for (const auto& [case_id, key] : keys) {
      absl::StatusOr<DataKey> got = store.Get(case_id);
      ASSERT_TRUE(got.ok()) << case_id << ": " << got.status();
      EXPECT_EQ(*got, key) << case_id;
    }
  }

  std::string url_;
  std::shared_ptr<const KeyRing> ring_;
  std::unique_ptr<KeyStore> store_;
};

TEST_F(PgKeyStoreTest, PutGetAcrossReopen) {
  const std::map<std::string, DataKey> keys = NewKeys(0, 20);
  ASSERT_TRUE(store_->Put(keys).ok());
  ExpectKeys(*store_, keys);
  Reopen(kNoCache);  // every Get reads its row
  ExpectKeys(*store_, keys);
  Reopen();  // the cache is filled at open
  ExpectKeys(*store_, keys);
  EXPECT_EQ(Query("SELECT count(*) FROM handover_keys.case_keys"), "20");
  EXPECT_EQ(Query("SELECT version FROM handover_keys.schema_version"),
            std::to_string(kPgKeySchemaVersion));
}

TEST_F(PgKeyStoreTest, GetOfAnUnknownCaseIsNotFound) {
  EXPECT_EQ(store_->Get(CaseId(1)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgKeyStoreTest, PutKeepsAnExistingKey) {
  const std::map<std::string, DataKey> keys = NewKeys(0, 2);
  ASSERT_TRUE(store_->Put(keys).ok());
  EXPECT_TRUE(store_->Put(keys).ok()) << "the same keys again change nothing";

  // Another key for a case that has one is refused, and the whole Put with it.
  std::map<std::string, DataKey> other = NewKeys(1, 2);
  const absl::Status refused = store_->Put(other);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInternal) << refused;
  Reopen(kNoCache);
  ExpectKeys(*store_, keys);
  EXPECT_EQ(store_->Get(CaseId(2)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgKeyStoreTest, DeleteErasesTheKeyAndScrubRewritesTheTable) {
  const std::map<std::string, DataKey> keys = NewKeys(0, 3);
  ASSERT_TRUE(store_->Put(keys).ok());
  ASSERT_TRUE(store_->Get(CaseId(1)).ok());  // cached

  ASSERT_TRUE(store_->Delete(CaseId(1)).ok());
  EXPECT_EQ(store_->Get(CaseId(1)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete(CaseId(1)).ok());  // idempotent
  EXPECT_EQ(Query(absl::StrCat("SELECT count(*) FROM handover_keys.case_keys WHERE case_id = '",
                               CaseId(1), "'")),
            "0");
  // Scrub rewrites the table (VACUUM FULL): a new file under it.
  const std::string file = Query("SELECT pg_relation_filepath('handover_keys.case_keys')");
  ASSERT_TRUE(store_->Scrub().ok());
  EXPECT_NE(Query("SELECT pg_relation_filepath('handover_keys.case_keys')"), file);
  Reopen();
  EXPECT_EQ(store_->Get(CaseId(1)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->Get(CaseId(0)).ok());
  EXPECT_TRUE(store_->Get(CaseId(2)).ok());
}

TEST_F(PgKeyStoreTest, TwoReplicasShareTheKeys) {
  std::unique_ptr<KeyStore> other = MustOpen();
  ASSERT_NE(other, nullptr);
  const std::map<std::string, DataKey> keys = NewKeys(0, 5);
  ASSERT_TRUE(store_->Put(keys).ok());
  ExpectKeys(*other, keys);  // cache misses there: read from the table

  // An erasure on one replica: the other's cache may keep the key until it
  // restarts (the case's data is gone by then), but nothing read afresh does.
  ASSERT_TRUE(store_->Delete(CaseId(3)).ok());
  EXPECT_TRUE(other->Get(CaseId(3)).ok());
  EXPECT_EQ(MustOpen(kNoCache)->Get(CaseId(3)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgKeyStoreTest, AStoredKeyIsBoundToItsCase) {
  ASSERT_TRUE(store_->Put(NewKeys(0, 2)).ok());
  Query(
      absl::StrCat("UPDATE handover_keys.case_keys SET wrapped = (SELECT wrapped FROM "
                   "handover_keys.case_keys WHERE case_id = '",
                   CaseId(0), "') WHERE case_id = '", CaseId(1), "'"));
  EXPECT_TRUE(store_->Get(CaseId(1)).ok()) << "still cached";
  Reopen(kNoCache);
  EXPECT_EQ(store_->Get(CaseId(1)).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(store_->Get(CaseId(0)).ok());
}

TEST_F(PgKeyStoreTest, RewrapAfterAddingAKeyToTheRing) {
  const std::map<std::string, DataKey> keys = NewKeys(0, 25);
  ASSERT_TRUE(store_->Put(keys).ok());
  EXPECT_EQ(*store_->Usage(), (std::map<std::string, int64_t>{{"test-wrap-a", 25}}));

  ASSERT_TRUE(store_->ReplaceKeys(Ring(kLineA + "\n" + kLineB)).ok());
  EXPECT_EQ(*store_->Rewrap(10), 10);
  EXPECT_EQ(*store_->Rewrap(10), 10);
  EXPECT_EQ(*store_->Rewrap(10), 5);
  EXPECT_EQ(*store_->Rewrap(10), 0);
  EXPECT_EQ(*store_->Usage(), (std::map<std::string, int64_t>{{"test-wrap-b", 25}}));
  EXPECT_EQ(Query("SELECT count(*) FROM handover_keys.case_keys WHERE key_id <> 'test-wrap-b'"),
            "0");
  EXPECT_EQ(store_->Rewrap(0).status().code(), absl::StatusCode::kInvalidArgument);

  // The old key can go now; keys unwrap under the new one alone.
  ASSERT_TRUE(store_->ReplaceKeys(Ring(kLineB)).ok());
  ring_ = Ring(kLineB);
  Reopen(kNoCache);
  ExpectKeys(*store_, keys);
}

TEST_F(PgKeyStoreTest, ReplaceKeysRefusesARingMissingAKeyInUse) {
  const std::map<std::string, DataKey> keys = NewKeys(1, 1);
  ASSERT_TRUE(store_->Put(keys).ok());
  const absl::Status refused = store_->ReplaceKeys(Ring(kLineB));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("test-wrap-a"), std::string::npos) << refused;
  // The old ring stays: new keys are wrapped under it, old ones unwrap.
  ASSERT_TRUE(store_->Put(NewKeys(2, 1)).ok());
  EXPECT_EQ(*store_->Usage(), (std::map<std::string, int64_t>{{"test-wrap-a", 2}}));
  Reopen(kNoCache);
  ExpectKeys(*store_, keys);
  EXPECT_EQ(store_->ReplaceKeys(nullptr).code(), absl::StatusCode::kInvalidArgument);
  // An empty store takes any ring.
  ASSERT_TRUE(store_->Delete(CaseId(1)).ok());
  ASSERT_TRUE(store_->Delete(CaseId(2)).ok());
  EXPECT_TRUE(store_->ReplaceKeys(Ring(kLineB)).ok());
}

TEST_F(PgKeyStoreTest, OpenRefusesANewerSchema) {
  store_.reset();
  Query("UPDATE handover_keys.schema_version SET version = 99");
  const absl::Status refused = OpenPgKeyStore(url_, ring_).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("99"), std::string::npos) << refused;
  EXPECT_NE(refused.message().find(absl::StrCat("binary's ", kPgKeySchemaVersion)),
            std::string::npos)
      << refused;
}

TEST_F(PgKeyStoreTest, ReplicasStartingTogetherMigrateOnce) {
  for (int round = 0; round < 3; ++round) {
    const std::string url = testing::NewPostgresDatabase();
    constexpr int kReplicas = 4;
    std::vector<absl::Status> opened(kReplicas);
    std::vector<std::thread> threads;
    for (int i = 0; i < kReplicas; ++i) {
      threads.emplace_back([&, i] { opened[i] = OpenPgKeyStore(url, ring_).status(); });
    }
    for (std::thread& thread : threads) thread.join();
    for (const absl::Status& status : opened) EXPECT_TRUE(status.ok()) << status;
    url_ = url;
    EXPECT_EQ(Query("SELECT count(*) || ' ' || max(version) FROM handover_keys.schema_version"),
              absl::StrCat("1 ", kPgKeySchemaVersion));
  }
}

TEST_F(PgKeyStoreTest, CreateManyResumes) {
  std::map<std::string, DataKey> keys;
  ASSERT_TRUE(store_->CreateMany({CaseId(0), CaseId(1), CaseId(0)}, &keys).ok());
  EXPECT_EQ(keys.size(), 2u);
  std::map<std::string, DataKey> resumed;
  ASSERT_TRUE(store_->CreateMany({CaseId(1), CaseId(2)}, &resumed).ok());
  EXPECT_EQ(resumed.at(CaseId(1)), keys.at(CaseId(1)));
  keys.insert(resumed.begin(), resumed.end());
  Reopen(kNoCache);
  ExpectKeys(*store_, keys);
}

TEST_F(PgKeyStoreTest, BackupPointsToPgDump) {
  const absl::Status refused = store_->Backup("/nonexistent/keys.backup");
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("pg_dump --schema=handover_keys"), std::string::npos) << refused;
}

TEST_F(PgKeyStoreTest, ReconnectsAfterTheServerDropsTheConnection) {
  const std::map<std::string, DataKey> keys = NewKeys(0, 1);
  ASSERT_TRUE(store_->Put(keys).ok());
  Reopen(kNoCache);
  Query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  // The call that finds the connection broken may fail; the next reconnects.
  absl::StatusOr<DataKey> got = store_->Get(CaseId(0));
  if (!got.ok()) {
    EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
    got = store_->Get(CaseId(0));
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, keys.at(CaseId(0)));
}

TEST_F(PgKeyStoreTest, ConcurrentPutGetDelete) {
  Reopen(KeyStoreOptions{.max_cached_keys = 16});  // small: misses too
  const std::map<std::string, DataKey> shared = NewKeys(0, 50);
  ASSERT_TRUE(store_->Put(shared).ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        const std::map<std::string, DataKey> mine = NewKeys(1000 * (t + 1) + i, 1);
        const std::string& id = mine.begin()->first;
        absl::StatusOr<DataKey> got;
        if (!store_->Put(mine).ok() || !(got = store_->Get(id)).ok() || *got != mine.at(id)) {
          ++failures;
        }
        if (!store_->Delete(id).ok()) ++failures;
        if (store_->Get(id).status().code() != absl::StatusCode::kNotFound) ++failures;
        const std::string other = CaseId((t * 7 + i) % 50);
        got = store_->Get(other);
        if (!got.ok() || *got != shared.at(other)) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store_->Usage(), (std::map<std::string, int64_t>{{"test-wrap-a", 50}}));
}

}  // namespace
}  // namespace handover::store
