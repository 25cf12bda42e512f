// What only the SQLite store on a real file can show: migrations of old
// schemas, version rows the file itself keeps immutable, ciphertexts bound to
// their row, no personal data in plain in the file. The rules every backend
// keeps (etags, idempotent retries, durability across a restart, ...) are the
// conformance suite's: tests/conformance.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/crypto.h"
#include "common/serialize.h"
#include "handover/v1/handover_service.pb.h"
#include "server/store/database.h"
#include "server/store/sealing.h"
#include "server/store/sqlite/migrations.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "tests/testing/test_server.h"

namespace handover::store {
namespace {

using testing::Await;
using testing::NewTempDir;
using testing::SampleForm;

absl::Status AllowAll(const policy::CaseFacts&) { return absl::OkStatus(); }

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = NewTempDir() + "/store.db";
    keys_ = std::make_shared<const KeyRing>(*KeyRing::Parse(KeyRing::GenerateKeyLine("test-key")));
    Open();
  }

  void Open() {
    store_.reset();
    auto store = OpenDatabase({.path = path_}, {}, keys_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  WriteContext Context(const std::string& request_id, const google::protobuf::Message& request) {
    return WriteContext{{Role::kOperator, "redcross"}, "test-actor", request_id, &request};
  }

  absl::StatusOr<CaseSnapshot> Create(const std::string& request_id, const v1::HandoverForm& form) {
    v1::CreateCaseRequest request;
    request.set_request_id(request_id);
    *request.mutable_form() = form;
    return Await<CaseSnapshot>(
        [&](auto done) { store_->CreateCase(Context(request_id, request), form, done); });
  }

  absl::StatusOr<CaseSnapshot> Update(const std::string& case_id, const v1::HandoverForm& form,
                                      const std::string& etag, const std::string& request_id) {
    v1::UpdateFormRequest request;
    request.set_name("cases/" + case_id);
    *request.mutable_form() = form;
    request.set_etag(etag);
    request.set_request_id(request_id);
    UpdateFormCommand command{
        case_id, form, {}, etag, [](const v1::HandoverForm&) { return absl::OkStatus(); }};
    return Await<CaseSnapshot>([&](auto done) {
      store_->UpdateForm(Context(request_id, request), command, AllowAll, done);
    });
  }

  absl::StatusOr<CaseSnapshot> Get(const std::string& case_id, int64_t version = 0) {
    return Await<CaseSnapshot>(
        [&](auto done) { store_->GetCase(case_id, version, true, AllowAll, done); });
  }

  int64_t CountVersions() {
    SQLite::Database db(path_, SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT COUNT(*) FROM case_versions").getInt64();
  }

  std::string CaseId(const CaseSnapshot& snapshot) { return snapshot.meta.name().substr(6); }

  std::string path_;
  std::shared_ptr<const KeyRing> keys_;
  std::unique_ptr<DomainStore> store_;
};

// Migration 6 turns case_versions from a WITHOUT ROWID table into a rowid
// table. A database in the schema-5 shape, with real sealed versions, opens,
// migrates, and reads the same; the rows stay immutable.
TEST_F(StoreTest, Schema5VersionsSurviveMigration6) {
  auto created = Create("m6-create", SampleForm("99000061"));
  ASSERT_TRUE(created.ok()) << created.status();
  v1::HandoverForm changed = SampleForm("99000061");
  changed.mutable_wishes_and_plans()->set_expectations("Fictional second version");
  ASSERT_TRUE(Update(CaseId(*created), changed, "", "m6-update").ok());
  store_.reset();
  {
    // Back to schema 5's table, as an older server left it.
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    db.exec(R"sql(
      BEGIN;
      CREATE TABLE old_versions (
        case_id TEXT NOT NULL REFERENCES cases (case_id), version INTEGER NOT NULL,
        form BLOB NOT NULL, create_time INTEGER NOT NULL, author_organisation TEXT NOT NULL,
        author_actor TEXT NOT NULL, key_id TEXT, PRIMARY KEY (case_id, version)) WITHOUT ROWID;
      INSERT INTO old_versions SELECT case_id, version, form, create_time, author_organisation,
        author_actor, key_id FROM case_versions;
      DROP TABLE case_versions;
      ALTER TABLE old_versions RENAME TO case_versions;
      CREATE INDEX case_versions_by_key ON case_versions (key_id);
      ALTER TABLE feed_state DROP COLUMN feed_epoch;
      ALTER TABLE cases DROP COLUMN hash_key_id;
      PRAGMA user_version = 5;
      COMMIT;)sql");
    ASSERT_NE(db.execAndGet("SELECT sql FROM sqlite_schema WHERE name = 'case_versions'")
                  .getString()
                  .find("WITHOUT ROWID"),
              std::string::npos);
  }
  Open();

  SQLite::Database db(path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), LatestSchemaVersion());
  EXPECT_EQ(db.execAndGet("SELECT sql FROM sqlite_schema WHERE name = 'case_versions'")
                .getString()
                .find("WITHOUT ROWID"),
            std::string::npos);
  EXPECT_EQ(CountVersions(), 2);
  auto first = Get(CaseId(*created), 1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->form->identity().person_identifier(), "99000061");
  auto second = Get(CaseId(*created));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->meta.version(), 2);
  EXPECT_EQ(second->form->wishes_and_plans().expectations(), "Fictional second version");
  SQLite::Database writable(path_, SQLite::OPEN_READWRITE);
  EXPECT_THROW(writable.exec("UPDATE case_versions SET version = 9"), SQLite::Exception)
      << "still immutable";
}

// That an update keeps the earlier versions readable is the conformance
// suite's (tests/conformance); here, that the file itself refuses to change a
// version row.
// A database from before per-case keys: versions sealed directly under the
// key file, no key store entries. They read as they are, and the background
// step (Reencrypt) moves every one under its case's own key and labels the
// person hash; afterwards they read the same.
TEST_F(StoreTest, VersionsFromBeforeCaseKeysMoveUnderThem) {
  store_.reset();
  const std::vector<std::string> ids = {"feed000000000001", "feed000000000002"};
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    store::SqliteTxn rows(db, nullptr);
    const int64_t now = NowMicros();
    for (size_t i = 0; i < ids.size(); ++i) {
      const v1::HandoverForm form = SampleForm(std::to_string(99080000 + i));
      rows.InsertCase(ids[i], "redcross", PersonHash(*keys_, form.identity().person_identifier()),
                      "", now);
      for (int64_t v = 1; v <= 2; ++v) {
        rows.InsertVersion({.case_id = ids[i],
                            .version = v,
                            .sealed_form = keys_->Seal(SerializeDeterministic(form),
                                                       FormAssociatedData(ids[i], v)),
                            .key_id = keys_->current_key_id(),
                            .create_time = now,
                            .author_organisation = "redcross",
                            .author_actor = "test-actor"});
      }
      rows.SetCurrentVersion(ids[i], 2, now);
    }
  }
  Open();
  ASSERT_TRUE(Get(ids[0]).ok()) << "readable under the key file before the move";

  int moved = 0;
  for (absl::StatusOr<int> step = 1; step.ok() && *step > 0;) {
    step = Await<int>([&](auto done) { store_->Reencrypt(3, done); });
    ASSERT_TRUE(step.ok()) << step.status();
    moved += *step;
  }
  EXPECT_EQ(moved, 4 + 2) << "four versions and two person hashes";
  auto usage = Await<std::map<std::string, int64_t>>([&](auto done) { store_->KeyUsage(done); });
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ((*usage)[kCaseKeyId], 4);
  EXPECT_EQ((*usage)[keys_->current_key_id()], 2 + 2) << "two case keys wrapped, two hashes";
  {
    SQLite::Database db(path_, SQLite::OPEN_READONLY);
    store::SqliteTxn rows(db, nullptr);
    for (const std::string& id : ids) {
      for (int64_t v = 1; v <= 2; ++v) {
        EXPECT_TRUE(DataKey::IsSealed(rows.LoadVersion(id, v, true)->sealed_form));
      }
    }
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    auto read = Get(ids[i], 1);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->form->identity().person_identifier(), std::to_string(99080000 + i));
  }
}

TEST_F(StoreTest, VersionsAreImmutable) {
  auto created = Create("r1", SampleForm());
  ASSERT_TRUE(created.ok()) << created.status();
  v1::HandoverForm changed = SampleForm();
  changed.mutable_identity()->set_family_name("Eksempelsen-Andersen");
  ASSERT_TRUE(Update(CaseId(*created), changed, "v1", "r2").ok());

  SQLite::Database db(path_, SQLite::OPEN_READWRITE);
  EXPECT_THROW(db.exec("UPDATE case_versions SET create_time = 0"), SQLite::Exception);
  EXPECT_EQ(CountVersions(), 2);
}

TEST_F(StoreTest, CiphertextMovedToAnotherRowFailsToDecrypt) {
  auto a = Create("a", SampleForm("99000001"));
  auto b = Create("b", SampleForm("99000002"));
  ASSERT_TRUE(a.ok() && b.ok());
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    SQLite::Statement move(db,
                           "UPDATE case_versions SET form = (SELECT form FROM case_versions "
                           "WHERE case_id = ?) WHERE case_id = ?");
    db.exec("DROP TRIGGER case_versions_are_immutable");  // an attacker with the file
    move.bind(1, CaseId(*a));
    move.bind(2, CaseId(*b));
    EXPECT_EQ(move.exec(), 1);
  }
  EXPECT_EQ(Get(CaseId(*b)).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Get(CaseId(*a)).ok());
}

TEST_F(StoreTest, PersonalDataIsNotInTheFileInPlain) {
  ASSERT_TRUE(Create("r1", SampleForm("99000001")).ok());
  store_.reset();  // checkpoint and close
  std::ifstream in(path_, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 0u);
  EXPECT_EQ(bytes.find("Eksempelsen"), std::string::npos);
  EXPECT_EQ(bytes.find("99000001"), std::string::npos);
  EXPECT_EQ(bytes.find("EMAR-TEST-0001"), std::string::npos);
}

}  // namespace
}  // namespace handover::store
