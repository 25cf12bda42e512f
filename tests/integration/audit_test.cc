// The access log over the real server: one durable record per call that reads
// or writes personal data, refusals included, with the right sections; an
// export verifies offline and tampering is found and located; erasure removes
// the data from the file while the log's skeleton stays and still verifies.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/access_chain.h"
#include "common/dates.h"
#include "server/store/sealing.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::SampleForm;
using testing::TestServer;

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::vector<std::string> List(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return {items.begin(), items.end()};
}

class AuditTest : public ::testing::Test {
 protected:
  // Every record but those of the auditor's reading of the log.
  std::vector<v1::AccessRecord> Records() {
    std::vector<v1::AccessRecord> records;
    v1::QueryAccessLogRequest request;
    do {
      auto page = auditor_->QueryAccessLog(request);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const auto& entry : page->entries()) {
        const std::string& operation = entry.record().operation();
        if (operation != "QueryAccessLog" && operation != "ExportAccessLog" &&
            operation != "SubjectAccessReport") {
          records.push_back(entry.record());
        }
      }
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    return records;
  }

  std::vector<v1::ExportAccessLogResponse> Export() {
    std::vector<v1::ExportAccessLogResponse> items;
    EXPECT_TRUE(auditor_
                    ->ExportAccessLog([&](const v1::ExportAccessLogResponse& item) {
                      items.push_back(item);
                      return absl::OkStatus();
                    })
                    .ok());
    return items;
  }

  void Checkpoint() {
    ASSERT_TRUE(testing::Await<bool>([&](auto done) {
                  server_.server()->store()->WriteCheckpoint(done);
                }).ok());
  }

  std::string Assign(const std::string& name, const std::string& municipality,
                     v1::Date decision = MakeDate(2026, 5, 15)) {
    v1::AssignCaseRequest request;
    request.set_name(name);
    request.set_municipality_code(municipality);
    *request.mutable_decision_date() = decision;
    request.set_request_id(HandoverClient::NewRequestId());
    auto assigned = uds_->AssignCase(request);
    EXPECT_TRUE(assigned.ok()) << assigned.status();
    return name;
  }

  // On SQLite: the retention test looks for the sealed form in the files.
  TestServer server_{testing::SqliteServerOptions(testing::NewTempDir())};
  std::unique_ptr<HandoverClient> operator_ = server_.ClientFor("operator-redcross", "staff-a");
  std::unique_ptr<HandoverClient> uds_ = server_.ClientFor("immigration-service-uds", "visit-v");
  std::unique_ptr<HandoverClient> m760_ = server_.ClientFor("municipality-760", "caseworker-k");
  std::unique_ptr<HandoverClient> auditor_ = server_.ClientFor("auditor-dpo", "dpo-1");
};

TEST_F(AuditTest, EveryCallLeavesExactlyOneRecordWithItsSections) {
  auto created = operator_->CreateCase(SampleForm(), "create-1");  // 1
  ASSERT_TRUE(created.ok());
  const std::string name = created->name();
  EXPECT_FALSE(m760_->GetCase(name).ok());  // 2 refused
  ASSERT_TRUE(uds_->GetCase(name).ok());    // 3
  Assign(name, "760");                      // 4
  ASSERT_TRUE(m760_->GetCase(name).ok());   // 5
  ASSERT_TRUE(m760_->ListCases({}).ok());   // 6
  v1::SyncRequest sync;
  sync.set_include_cases(true);
  ASSERT_TRUE(m760_->Sync(sync).ok());                  // 7
  EXPECT_FALSE(auditor_->GetCase(name).ok());           // 8 refused (role)
  EXPECT_FALSE(m760_->GetCase("cases/nonsense").ok());  // 9 refused (input)

  const std::vector<v1::AccessRecord> records = Records();
  ASSERT_EQ(records.size(), 9u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].sequence(), static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(records[0].operation(), "CreateCase");
  EXPECT_EQ(records[0].organisation(), "redcross");
  EXPECT_EQ(records[0].actor(), "staff-a");
  EXPECT_EQ(List(records[0].case_names()), std::vector<std::string>{name});
  EXPECT_EQ(records[0].version(), 1);
  EXPECT_EQ(records[1].outcome(), "NOT_FOUND");
  EXPECT_EQ(records[1].organisation(), "760");
  EXPECT_EQ(records[2].operation(), "GetCase");
  EXPECT_EQ(records[2].role(), "immigration-service");
  EXPECT_NE(std::find(records[2].sections().begin(), records[2].sections().end(), "health"),
            records[2].sections().end());
  EXPECT_EQ(std::find(records[2].sections().begin(), records[2].sections().end(), "documents"),
            records[2].sections().end())
      << "the Immigration Service's view has no documents, so none were disclosed";
  EXPECT_EQ(records[3].operation(), "AssignCase");
  EXPECT_EQ(records[3].sections(0), "assignment");
  EXPECT_NE(std::find(records[3].sections().begin(), records[3].sections().end(), "identity"),
            records[3].sections().end())
      << "the answer to AssignCase carries the case back: its sections count as disclosed";
  EXPECT_EQ(records[4].outcome(), "OK");
  EXPECT_EQ(records[4].actor(), "caseworker-k");
  EXPECT_EQ(records[5].operation(), "ListCases");
  EXPECT_EQ(List(records[5].case_names()), std::vector<std::string>{name});
  EXPECT_EQ(List(records[5].sections()), std::vector<std::string>{"case"});
  EXPECT_EQ(records[6].operation(), "Sync");
  EXPECT_EQ(List(records[6].case_names()), std::vector<std::string>{name});
  EXPECT_EQ(records[7].outcome(), "PERMISSION_DENIED");
  EXPECT_EQ(records[8].outcome(), "INVALID_ARGUMENT");
  for (const auto& record : records) {
    EXPECT_GT(record.time().seconds(), 1700000000) << "every record carries its time";
  }
}

// A Sync page with several events of one case (and of another) names each
// case once in its record.
TEST_F(AuditTest, ASyncPageNamesEachCaseOnce) {
  std::vector<std::string> names;
  for (const char* person : {"99000071", "99000072"}) {
    auto created = operator_->CreateCase(SampleForm(person), std::string("create-") + person);
    ASSERT_TRUE(created.ok());
    names.push_back(created->name());
    Assign(created->name(), "760");
    for (int i = 0; i < 2; ++i) {
      v1::UpdateFormRequest update;
      update.set_name(created->name());
      update.mutable_form()->mutable_wishes_and_plans()->set_expectations("Fictional update " +
                                                                          std::to_string(i));
      update.mutable_update_mask()->add_paths("wishes_and_plans.expectations");
      update.set_request_id(std::string("update-") + person + "-" + std::to_string(i));
      ASSERT_TRUE(operator_->UpdateForm(update).ok());
    }
  }
  v1::SyncRequest sync;
  sync.set_include_cases(true);
  auto page = m760_->Sync(sync);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events_size(), 6) << "an assignment and two updates for each case";
  const std::vector<v1::AccessRecord> records = Records();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().operation(), "Sync");
  EXPECT_EQ(List(records.back().case_names()), names);
}

TEST_F(AuditTest, TheOtherCallsAreRecordedOnceEachToo) {
  auto created = operator_->CreateCase(SampleForm(), "create-1");
  ASSERT_TRUE(created.ok());
  const std::string name = created->name();
  Assign(name, "760");
  const size_t before = Records().size();

  v1::UpdateFormRequest update;
  update.set_name(name);
  update.mutable_form()->mutable_languages()->set_danish_level(v1::CEFR_LEVEL_B1);
  update.mutable_update_mask()->add_paths("languages.danish_level");
  update.set_request_id("update-1");
  ASSERT_TRUE(operator_->UpdateForm(update).ok());
  v1::ListVersionsRequest versions;
  versions.set_parent(name);
  ASSERT_TRUE(m760_->ListVersions(versions).ok());
  ASSERT_TRUE(m760_->GetVersion(name + "/versions/1").ok());
  v1::RecordConsentRequest consent;
  consent.set_parent(name);
  consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_MEDICAL_RECORD);
  *consent.mutable_consent()->mutable_given_date() = MakeDate(2026, 5, 1);
  consent.set_request_id("consent-1");
  auto given = operator_->RecordConsent(consent);
  ASSERT_TRUE(given.ok());
  ASSERT_TRUE(operator_->WithdrawConsent(given->name(), "withdraw-1").ok());
  v1::WatchRequest watch;
  watch.set_include_cases(true);
  auto stream = m760_->Watch(watch);
  v1::WatchResponse item;
  ASSERT_TRUE(stream->Next(&item));  // the first batch, which carries the case
  stream->Cancel();
  (void)stream->Finish();
  ASSERT_TRUE(operator_->EraseCase(name, "person-request", "erase-1").ok());

  const std::vector<v1::AccessRecord> all = Records();
  std::vector<std::string> operations;
  for (size_t i = before; i < all.size(); ++i) operations.push_back(all[i].operation());
  EXPECT_EQ(operations,
            (std::vector<std::string>{"UpdateForm", "ListVersions", "GetVersion", "RecordConsent",
                                      "WithdrawConsent", "Watch", "EraseCase"}));
  for (size_t i = before; i < all.size(); ++i) {
    EXPECT_EQ(List(all[i].case_names()), std::vector<std::string>{name}) << all[i].operation();
    EXPECT_EQ(all[i].outcome(), "OK") << all[i].operation();
  }
  EXPECT_EQ(all[before].sections(0), "languages");
  EXPECT_EQ(all[before + 3].sections(0), "consents");
  EXPECT_EQ(all.back().purpose(), "person-request");
}

TEST_F(AuditTest, ExportVerifiesAndTamperingIsFoundWhereItIs) {
  auto created = operator_->CreateCase(SampleForm(), "create-1");
  ASSERT_TRUE(created.ok());
  Assign(created->name(), "760");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(m760_->GetCase(created->name()).ok());
  Checkpoint();
  std::vector<v1::ExportAccessLogResponse> items = Export();
  ASSERT_TRUE(items[0].has_public_key_pem());
  const std::string key = items[0].public_key_pem();
  auto report = VerifyAccessLog(items, key);
  ASSERT_TRUE(report.ok()) << report.status();
  // Items: [0] key, [1..5] records 1..5, [6] checkpoint, [7] the export's own record.
  EXPECT_EQ(report->records, 6);
  EXPECT_EQ(report->checkpoints, 1);
  EXPECT_EQ(report->signed_through, 5);

  auto changed = items;
  changed[3].mutable_entry()->mutable_record()->set_actor("someone-else");
  EXPECT_EQ(VerifyAccessLog(changed, key).status().message(),
            "line 4: record 3 does not match its hash (changed)");

  auto deleted = items;
  deleted.erase(deleted.begin() + 2);
  EXPECT_EQ(VerifyAccessLog(deleted, key).status().message(),
            "line 3: record 2 is missing (deleted)");

  auto swapped = items;
  std::swap(swapped[2], swapped[3]);
  EXPECT_EQ(VerifyAccessLog(swapped, key).status().message(),
            "line 3: records 2 and 3 are swapped (reordered)");

  // A forger who rewrites every hash is caught by the signed checkpoint.
  auto forged = items;
  forged[3].mutable_entry()->mutable_record()->set_actor("someone-else");
  std::string previous = forged[2].entry().hash();
  for (int i = 3; i <= 5; ++i) {
    forged[i].mutable_entry()->set_hash(ChainHash(previous, forged[i].entry().record()));
    previous = forged[i].entry().hash();
  }
  EXPECT_EQ(VerifyAccessLog(forged, key).status().message(),
            "line 7: checkpoint at record 5 does not match the log before it");
  forged[6].mutable_checkpoint()->set_head_hash(previous);
  EXPECT_EQ(VerifyAccessLog(forged, key).status().message(),
            "line 7: checkpoint at record 5 is not signed by the given key");
}

TEST_F(AuditTest, SubjectAccessReportListsEveryAccessToThePersonsData) {
  auto mine = operator_->CreateCase(SampleForm("99000001"), "create-1");
  auto other = operator_->CreateCase(SampleForm("99000002"), "create-2");
  ASSERT_TRUE(mine.ok() && other.ok());
  Assign(mine->name(), "760");
  ASSERT_TRUE(m760_->GetCase(mine->name()).ok());
  ASSERT_TRUE(uds_->GetCase(other->name()).ok());
  auto report = auditor_->SubjectAccessReport("99000001");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(List(report->case_names()), std::vector<std::string>{mine->name()});
  std::vector<std::string> operations;
  for (const auto& record : report->records()) operations.push_back(record.operation());
  EXPECT_EQ(operations, (std::vector<std::string>{"CreateCase", "AssignCase", "GetCase"}));
  EXPECT_EQ(report->records(2).organisation(), "760");
  EXPECT_EQ(m760_->SubjectAccessReport("99000001").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuditTest, RetentionErasesThePersonalDataAndKeepsAVerifiableLog) {
  // Decided in January 2020: responsibility passed on 1 March 2020, long ago.
  auto created = operator_->CreateCase(SampleForm(), "create-1");
  ASSERT_TRUE(created.ok());
  const std::string name = created->name();
  Assign(name, "760", MakeDate(2020, 1, 10));
  const std::string db_path = server_.options().database_path;
  std::string sealed;
  {
    SQLite::Database db(db_path, SQLite::OPEN_READONLY);
    auto version = store::SqliteTxn(db, nullptr).LoadVersion(name.substr(6), 1, true);
    ASSERT_TRUE(version.has_value());
    sealed = version->sealed_form;
  }

  // Before: the sealed form is in the files (database or write-ahead log).
  ASSERT_NE((FileBytes(db_path) + FileBytes(db_path + "-wal")).find(sealed.substr(20, 48)),
            std::string::npos);

  auto count = testing::Await<int>([&](auto done) {
    server_.server()->store()->EraseExpired(MakeDate(2021, 1, 1), "retention", done);
  });
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 1);

  EXPECT_EQ(operator_->GetCase(name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m760_->GetCase(name).status().code(), absl::StatusCode::kNotFound);
  // Neither the sealed form nor any readable trace is left in the files.
  server_.Stop();
  for (const std::string& file : {db_path, db_path + "-wal"}) {
    const std::string bytes = FileBytes(file);
    EXPECT_EQ(bytes.find(sealed.substr(20, 48)), std::string::npos) << file;
    EXPECT_EQ(bytes.find("Eksempelsen"), std::string::npos) << file;
    EXPECT_EQ(bytes.find("EMAR-TEST-0001"), std::string::npos) << file;
  }
  server_.Restart();
  auditor_ = server_.ClientFor("auditor-dpo");
  Checkpoint();
  auto items = Export();
  auto report = VerifyAccessLog(items, items[0].public_key_pem());
  ASSERT_TRUE(report.ok()) << report.status();
  auto subject = auditor_->SubjectAccessReport("99000001");
  ASSERT_TRUE(subject.ok());
  std::vector<std::string> purposes;
  for (const auto& record : subject->records()) purposes.push_back(record.purpose());
  EXPECT_NE(std::find(purposes.begin(), purposes.end(), "retention-expired"), purposes.end())
      << "the erasure is on the person's record";
}

TEST_F(AuditTest, TheOperatorErasesOnRequestWithAReason) {
  auto created = operator_->CreateCase(SampleForm(), "create-1");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(operator_->EraseCase(created->name(), "", "erase-0").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m760_->EraseCase(created->name(), "person-request", "erase-1").status().code(),
            absl::StatusCode::kPermissionDenied);
  auto erased = operator_->EraseCase(created->name(), "person-request", "erase-2");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(operator_->GetCase(created->name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(operator_->EraseCase(created->name(), "person-request", "erase-2").ok())
      << "a retry returns the first result";
  const auto records = Records();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().operation(), "EraseCase");
  EXPECT_EQ(records.back().purpose(), "person-request");
  // The person may be pushed again as a new case later.
  EXPECT_TRUE(operator_->CreateCase(SampleForm(), "create-2").ok());
}

}  // namespace
}  // namespace handover
