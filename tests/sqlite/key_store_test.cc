// server/store/sqlite/key_store.h on a real SQLite file: per-case data keys,
// crypto-erasure that leaves no wrapped key in the file or its WAL, the key
// cache, re-wrapping after a key file rotation, backups and concurrency.
// Case ids are fictional.
#include "server/store/sqlite/key_store.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/store/key_cache.h"
#include "tests/testing/test_server.h"

namespace handover::store {
namespace {

using testing::NewTempDir;

// Fixed, obviously fake wrapping keys.
const std::string kLineA = "test-wrap-a " + std::string(64, 'a');
const std::string kLineB = "test-wrap-b " + std::string(64, 'b');

std::shared_ptr<const KeyRing> Ring(const std::string& text) {
  absl::StatusOr<KeyRing> ring = KeyRing::Parse(text);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return std::make_shared<const KeyRing>(*std::move(ring));
}

std::string CaseId(int i) { return absl::StrCat("case-fiktiv-", 100000 + i); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool FileContains(const std::string& path, const std::string& bytes) {
  return ReadFile(path).find(bytes) != std::string::npos;
}

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir();
    path_ = dir_ + "/handover.db.keys";
    ring_ = Ring(kLineA);
    Reopen();
  }

  void Reopen(KeyStoreOptions options = {}) {
    store_.reset();
    auto store = OpenSqliteKeyStore(path_, ring_, options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  DataKey MustCreate(const std::string& case_id) {
    absl::StatusOr<DataKey> key = store_->Create(case_id);
    EXPECT_TRUE(key.ok()) << key.status();
    return key.ok() ? *key : DataKey::Generate();
  }

  // The wrapped key as stored, read over a connection of its own.
  std::string WrappedKey(const std::string& case_id) {
    SQLite::Database db(path_, SQLite::OPEN_READONLY);
    SQLite::Statement select(db, "SELECT wrapped_key FROM case_keys WHERE case_id = ?");
    select.bind(1, case_id);
    if (!select.executeStep()) return "";
    const SQLite::Column blob = select.getColumn(0);
    return std::string(static_cast<const char*>(blob.getBlob()), blob.getBytes());
  }

  void Corrupt(const std::string& case_id) {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    db.setBusyTimeout(5000);
    SQLite::Statement update(db, "UPDATE case_keys SET wrapped_key = x'00' WHERE case_id = ?");
    update.bind(1, case_id);
    ASSERT_EQ(update.exec(), 1);
  }

  std::string dir_;
  std::string path_;
  std::shared_ptr<const KeyRing> ring_;
  std::unique_ptr<KeyStore> store_;
};

TEST_F(KeyStoreTest, CreateGetDelete) {
  const DataKey key = MustCreate(CaseId(1));
  absl::StatusOr<DataKey> got = store_->Get(CaseId(1));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, key);
  EXPECT_EQ(store_->Create(CaseId(1)).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->Get(CaseId(1)), key);  // the refused Create changed nothing

  ASSERT_TRUE(store_->Delete(CaseId(1)).ok());
  EXPECT_EQ(store_->Get(CaseId(1)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete(CaseId(1)).ok());  // idempotent
  EXPECT_EQ(store_->Get(CaseId(2)).status().code(), absl::StatusCode::kNotFound);
  // A case erased and created again gets a new key.
  EXPECT_NE(MustCreate(CaseId(1)), key);
}

TEST_F(KeyStoreTest, FilesAreOwnerOnlyAndTheSchemaIsVersioned) {
  MustCreate(CaseId(1));
  for (const std::string& file : {path_, path_ + "-wal"}) {
    struct stat st;
    ASSERT_EQ(stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600) << file;
  }
  SQLite::Database db(path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), kSqliteKeySchemaVersion);
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST_F(KeyStoreTest, OpenRefusesANewerSchema) {
  store_.reset();
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = 99");
  }
  EXPECT_EQ(OpenSqliteKeyStore(path_, ring_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KeyStoreTest, DeleteLeavesNoWrappedKeyInTheFileOrItsWal) {
  for (int i = 0; i < 50; ++i) MustCreate(CaseId(i));
  const std::string wrapped = WrappedKey(CaseId(7));
  ASSERT_FALSE(wrapped.empty());
  // The scan finds the key while it is there: in the WAL (not checkpointed
  // yet) or the main file.
  ASSERT_TRUE(FileContains(path_, wrapped) || FileContains(path_ + "-wal", wrapped));

  ASSERT_TRUE(store_->Delete(CaseId(7)).ok());
  EXPECT_FALSE(FileContains(path_, wrapped));
  EXPECT_FALSE(FileContains(path_ + "-wal", wrapped));
  EXPECT_EQ(std::filesystem::file_size(path_ + "-wal"), 0u);
  // The other keys are untouched, and a later write goes on as usual.
  EXPECT_TRUE(store_->Get(CaseId(8)).ok());
  MustCreate(CaseId(99));
  EXPECT_FALSE(FileContains(path_ + "-wal", wrapped));

  // The same once the key has been checkpointed into the main file.
  const std::string wrapped9 = WrappedKey(CaseId(9));
  store_.reset();  // closing checkpoints everything into the main file
  ASSERT_TRUE(FileContains(path_, wrapped9));
  Reopen();
  ASSERT_TRUE(store_->Delete(CaseId(9)).ok());
  EXPECT_FALSE(FileContains(path_, wrapped9));
  EXPECT_FALSE(FileContains(path_ + "-wal", wrapped9));
}

TEST_F(KeyStoreTest, GetAfterCreateIsACacheHit) {
  const DataKey key = MustCreate(CaseId(1));
  Corrupt(CaseId(1));  // only a cached key can still be returned
  absl::StatusOr<DataKey> got = store_->Get(CaseId(1));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, key);

  Reopen(KeyStoreOptions{.max_cached_keys = 0});
  EXPECT_EQ(store_->Get(CaseId(1)).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(KeyStoreTest, DeleteDropsTheCachedKey) {
  MustCreate(CaseId(1));
  ASSERT_TRUE(store_->Get(CaseId(1)).ok());
  ASSERT_TRUE(store_->Delete(CaseId(1)).ok());
  EXPECT_EQ(store_->Get(CaseId(1)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(KeyStoreTest, ReopenReadsKeysBack) {
  std::map<std::string, DataKey> keys;
  for (int i = 0; i < 20; ++i) keys.emplace(CaseId(i), MustCreate(CaseId(i)));
  Reopen();
  for (const auto& [case_id, key] : keys) {
    absl::StatusOr<DataKey> got = store_->Get(case_id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, key) << case_id;
  }
  // A key is bound to its case: moved to another case's row it is refused.
  const std::string wrapped = WrappedKey(CaseId(0));
  store_.reset();
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    SQLite::Statement update(db, "UPDATE case_keys SET wrapped_key = ? WHERE case_id = ?");
    update.bind(1, wrapped.data(), static_cast<int>(wrapped.size()));
    update.bind(2, CaseId(1));
    ASSERT_EQ(update.exec(), 1);
  }
  Reopen();
  EXPECT_EQ(store_->Get(CaseId(1)).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(KeyStoreTest, RewrapAfterAddingAKeyToTheRing) {
  std::map<std::string, DataKey> keys;
  for (int i = 0; i < 25; ++i) keys.emplace(CaseId(i), MustCreate(CaseId(i)));
  EXPECT_EQ(*store_->Usage(), (std::map<std::string, int64_t>{{"test-wrap-a", 25}}));

  ASSERT_TRUE(store_->ReplaceKeys(Ring(kLineA + "\n" + kLineB)).ok());
  EXPECT_EQ(*store_->Rewrap(10), 10);
  EXPECT_EQ(*store_->Rewrap(10), 10);
  EXPECT_EQ(*store_->Rewrap(10), 5);
  EXPECT_EQ(*store_->Rewrap(10), 0);
  EXPECT_EQ(*store_->Usage(), (std::map<std::string, int64_t>{{"test-wrap-b", 25}}));
  EXPECT_EQ(KeyRing::SealedKeyId(WrappedKey(CaseId(3))), "test-wrap-b");
  EXPECT_EQ(store_->Rewrap(0).status().code(), absl::StatusCode::kInvalidArgument);

  // The old key can go now; keys unwrap under the new one alone.
  ASSERT_TRUE(store_->ReplaceKeys(Ring(kLineB)).ok());
  ring_ = Ring(kLineB);
  Reopen(KeyStoreOptions{.max_cached_keys = 0});
  for (const auto& [case_id, key] : keys) {
    absl::StatusOr<DataKey> got = store_->Get(case_id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, key) << case_id;
  }
}

TEST_F(KeyStoreTest, ReplaceKeysRefusesARingMissingAKeyInUse) {
  const DataKey key = MustCreate(CaseId(1));
  const absl::Status refused = store_->ReplaceKeys(Ring(kLineB));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("test-wrap-a"), std::string::npos) << refused;
  // The old ring stays: new keys are wrapped under it, old ones unwrap.
  MustCreate(CaseId(2));
  EXPECT_EQ(*store_->Usage(), (std::map<std::string, int64_t>{{"test-wrap-a", 2}}));
  Reopen(KeyStoreOptions{.max_cached_keys = 0});
  EXPECT_EQ(*store_->Get(CaseId(1)), key);
  EXPECT_EQ(store_->ReplaceKeys(nullptr).code(), absl::StatusCode::kInvalidArgument);
  // An empty store takes any ring.
  ASSERT_TRUE(store_->Delete(CaseId(1)).ok());
  ASSERT_TRUE(store_->Delete(CaseId(2)).ok());
  EXPECT_TRUE(store_->ReplaceKeys(Ring(kLineB)).ok());
}

TEST_F(KeyStoreTest, BackupIsAConsistentCopyThatOpens) {
  std::map<std::string, DataKey> keys;
  for (int i = 0; i < 30; ++i) keys.emplace(CaseId(i), MustCreate(CaseId(i)));
  const std::string backup = dir_ + "/keys.backup";
  ASSERT_TRUE(store_->Backup(backup).ok());
  EXPECT_EQ(store_->Backup(backup).code(), absl::StatusCode::kAlreadyExists);
  struct stat st;
  ASSERT_EQ(stat(backup.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  // Changes after the backup are not in it.
  ASSERT_TRUE(store_->Delete(CaseId(0)).ok());
  MustCreate(CaseId(100));

  auto copy = OpenSqliteKeyStore(backup, ring_, KeyStoreOptions{.max_cached_keys = 0});
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(*(*copy)->Usage(), (std::map<std::string, int64_t>{{"test-wrap-a", 30}}));
  for (const auto& [case_id, key] : keys) {
    absl::StatusOr<DataKey> got = (*copy)->Get(case_id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, key) << case_id;
  }
  EXPECT_EQ((*copy)->Get(CaseId(100)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(KeyStoreTest, RestoreBringsBackTheBackupsKeysErasedOnesToo) {
  const DataKey key = MustCreate(CaseId(1));
  const std::string backup = dir_ + "/keys.backup";
  ASSERT_TRUE(store_->Backup(backup).ok());
  ASSERT_TRUE(store_->Delete(CaseId(1)).ok());
  store_.reset();

  EXPECT_EQ(RestoreKeyStore(path_, backup).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RestoreKeyStore(dir_ + "/other.keys", dir_ + "/missing").code(),
            absl::StatusCode::kNotFound);
  const std::string not_a_key_store = dir_ + "/other.db";
  {
    SQLite::Database db(not_a_key_store, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE t (x)");
  }
  EXPECT_EQ(RestoreKeyStore(dir_ + "/other.keys", not_a_key_store).code(),
            absl::StatusCode::kDataLoss);

  std::filesystem::rename(path_, dir_ + "/lost.keys");
  ASSERT_TRUE(RestoreKeyStore(path_, backup).ok());
  Reopen();
  // Why key store backups are kept only briefly: the erased case's key is back.
  absl::StatusOr<DataKey> got = store_->Get(CaseId(1));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, key);
}

TEST_F(KeyStoreTest, CreateManyInOneTransactionResumes) {
  constexpr int kCases = 60'000;
  std::vector<std::string> ids;
  for (int i = 0; i < kCases; ++i) ids.push_back(CaseId(i));
  std::map<std::string, DataKey> keys;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(store_->CreateMany(ids, &keys).ok());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  std::cout << "CreateMany of " << kCases
            << " keys: " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
            << " ms\n";
  EXPECT_EQ(keys.size(), static_cast<size_t>(kCases));
  EXPECT_EQ(*store_->Usage(), (std::map<std::string, int64_t>{{"test-wrap-a", kCases}}));

  // Again, with some new cases: existing keys are returned, not replaced.
  std::vector<std::string> again = {CaseId(5), CaseId(kCases), CaseId(5), CaseId(kCases + 1)};
  std::map<std::string, DataKey> resumed;
  ASSERT_TRUE(store_->CreateMany(again, &resumed).ok());
  EXPECT_EQ(resumed.size(), 3u);
  EXPECT_EQ(resumed.at(CaseId(5)), keys.at(CaseId(5)));
  Reopen(KeyStoreOptions{.max_cached_keys = 0});
  EXPECT_EQ(*store_->Get(CaseId(kCases)), resumed.at(CaseId(kCases)));
  EXPECT_EQ(*store_->Get(CaseId(kCases - 1)), keys.at(CaseId(kCases - 1)));
}

TEST_F(KeyStoreTest, ConcurrentGetCreateDelete) {
  Reopen(KeyStoreOptions{.max_cached_keys = 64});  // small: evictions and misses too
  constexpr int kShared = 200;
  std::map<std::string, DataKey> shared;
  for (int i = 0; i < kShared; ++i) shared.emplace(CaseId(i), MustCreate(CaseId(i)));

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  // Writers: create, read back, erase, and check the erasure, on their own cases.
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const std::string id = CaseId(1000 * (t + 1) + i);
        absl::StatusOr<DataKey> created = store_->Create(id);
        absl::StatusOr<DataKey> got = store_->Get(id);
        if (!created.ok() || !got.ok() || *created != *got) ++failures;
        if (i % 2 == 0) {
          if (!store_->Delete(id).ok()) ++failures;
          if (store_->Get(id).status().code() != absl::StatusCode::kNotFound) ++failures;
        }
      }
    });
  }
  // Readers: the shared cases' keys never change.
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (int i = t; i < kShared; i += 3) {
          absl::StatusOr<DataKey> got = store_->Get(CaseId(i));
          if (!got.ok() || *got != shared.at(CaseId(i))) ++failures;
        }
      }
    });
  }
  // Two threads racing to create the same cases: exactly one wins each.
  std::atomic<int> created{0};
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        absl::StatusOr<DataKey> key = store_->Create(CaseId(5000 + i));
        if (key.ok()) {
          ++created;
        } else if (key.status().code() != absl::StatusCode::kAlreadyExists) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(created.load(), 100);
  EXPECT_EQ(*store_->Usage(),
            (std::map<std::string, int64_t>{{"test-wrap-a", kShared + 3 * 50 + 100}}));
}

// Not a benchmark, a sanity bound and a number for the record: Get on a hit
// must cost about a mutex and a hash lookup; on a miss, a SQLite point read
// and an unwrap.
TEST_F(KeyStoreTest, GetHitAndMissTimings) {
  constexpr int kCases = 2000;
  std::vector<std::string> ids;
  for (int i = 0; i < kCases; ++i) ids.push_back(CaseId(i));
  std::map<std::string, DataKey> keys;
  ASSERT_TRUE(store_->CreateMany(ids, &keys).ok());

  auto per_get = [&](int rounds) {
    const auto start = std::chrono::steady_clock::now();
    for (int round = 0; round < rounds; ++round) {
      for (const std::string& id : ids) {
        if (!store_->Get(id).ok()) ADD_FAILURE() << id;
      }
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    return std::chrono::duration<double, std::micro>(elapsed).count() / (rounds * kCases);
  };
  const double hit_us = per_get(50);  // all cached by CreateMany
  Reopen(KeyStoreOptions{.max_cached_keys = 0});
  const double miss_us = per_get(2);
  std::cout << "KeyStore::Get: hit " << hit_us << " us, miss " << miss_us << " us\n";
  RecordProperty("get_hit_us", std::to_string(hit_us));
  RecordProperty("get_miss_us", std::to_string(miss_us));
  EXPECT_LT(hit_us, 20.0);
  EXPECT_LT(miss_us, 2000.0);
}

TEST(KeyCacheTest, HoldsAtMostItsBoundAndEvictsOneWhenFull) {
  KeyCache cache(2);
  const DataKey a = DataKey::Generate(), b = DataKey::Generate(), c = DataKey::Generate();
  cache.Put("a", a);
  cache.Put("b", b);
  cache.Put("c", c);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(*cache.Get("c"), c) << "the newest key is kept";
  EXPECT_NE(cache.Get("a").has_value(), cache.Get("b").has_value()) << "exactly one evicted";
  cache.Put("c", b);  // replaces
  EXPECT_EQ(*cache.Get("c"), b);
  EXPECT_EQ(cache.size(), 2u);
  cache.Erase("c");
  cache.Erase("missing");
  EXPECT_FALSE(cache.Get("c").has_value());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(KeyCacheTest, ZeroEntriesCachesNothing) {
  KeyCache cache(0);
  cache.Put("a", DataKey::Generate());
  EXPECT_FALSE(cache.Get("a").has_value());
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace handover::store
