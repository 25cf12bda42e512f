// Durability: what was acknowledged is there after the store is closed and
// opened again, with the same feed epoch and head.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include <google/protobuf/util/message_differencer.h>

#include "common/access_chain.h"
#include "handover/v1/handover_service.pb.h"
#include "server/store/sealing.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::Await;
using testing::SampleForm;

bool SameEvents(const std::vector<v1::ChangeEvent>& a, const std::vector<v1::ChangeEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!MessageDifferencer::Equals(a[i], b[i])) return false;
  }
  return true;
}

TEST_P(PersistenceConformance, EverythingIsThereAfterAReopen) {
  auto created =
      Create("create-1", SampleForm("99000061"), kRedCross, Record(kRedCross, "CreateCase"));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string id = CaseId(*created);
  v1::HandoverForm changed = SampleForm("99000061");
  changed.mutable_identity()->set_given_names("Changed Fiktiva");
  ASSERT_TRUE(Update(id, changed, "v1", "update-1").ok());
  ASSERT_TRUE(Assign(id, "760", "assign-1").ok());
  auto consent = GiveConsent(id, v1::CONSENT_PURPOSE_HEALTH_NEEDS, "consent-1");
  ASSERT_TRUE(consent.ok());
  ASSERT_TRUE(Await<bool>([&](auto done) { store_->WriteCheckpoint(done); }).ok());

  const std::string epoch = store_->feed_epoch();
  ASSERT_FALSE(epoch.empty());
  const int64_t head = Head();
  const std::vector<v1::ChangeEvent> events = AllEvents();
  const std::vector<v1::ExportAccessLogResponse> log = Export();
  auto before = Get(id);
  ASSERT_TRUE(before.ok());

  Reopen();
  EXPECT_EQ(store_->feed_epoch(), epoch);
  EXPECT_EQ(Head(), head);
  EXPECT_TRUE(SameEvents(AllEvents(), events));
  const std::vector<v1::ExportAccessLogResponse> log_after = Export();
  ASSERT_EQ(log_after.size(), log.size());
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(log_after[i], log[i])) << i;
  }
  EXPECT_TRUE(VerifyAccessLog(log_after, signer_->public_key_pem()).ok());

  auto after = Get(id);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(MessageDifferencer::Equals(after->meta, before->meta)) << after->meta.DebugString();
  EXPECT_TRUE(MessageDifferencer::Equals(*after->form, changed));
  EXPECT_EQ(after->facts.municipality_code, "760");
  ASSERT_EQ(after->facts.consents.size(), 1u);
  EXPECT_EQ(Get(id, 1)->form->identity().given_names(), "Testa Fiktiva");
  EXPECT_THAT(VersionsOf(id), ::testing::ElementsAre(2, 1));

  // The invariants and the remembered requests hold across the reopen too.
  EXPECT_EQ(Create("create-2", SampleForm("99000061")).status().code(),
            absl::StatusCode::kAlreadyExists);
  auto replayed = Update(id, changed, "v1", "update-1");
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->meta.version(), 2);
  EXPECT_EQ(Assign(id, "760", "assign-2").status().code(), absl::StatusCode::kFailedPrecondition);

  // New events continue after the old head; new records after the old log.
  ASSERT_TRUE(Create("create-3", SampleForm("99000062")).ok());
  EXPECT_EQ(AllEvents().back().revision(), head + 1);
  int64_t entries = 0;
  for (const v1::ExportAccessLogResponse& item : log) entries += item.has_entry() ? 1 : 0;
  auto sequence = Await<int64_t>([&](auto done) {
    store_->RecordAccess(Record(kRedCross, "GetCase", created->meta.name()), done);
  });
  ASSERT_TRUE(sequence.ok()) << sequence.status();
  EXPECT_EQ(*sequence, entries + 1);
  EXPECT_TRUE(VerifyAccessLog(Export(), signer_->public_key_pem()).ok()) << "chained to the old";
}

TEST_P(PersistenceConformance, CompactionIsThereAfterAReopen) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        Create("create-" + std::to_string(i), SampleForm(std::to_string(99000061 + i))).ok());
  }
  const int64_t head = Head();
  ASSERT_TRUE(
      Await<int64_t>([&](auto done) { store_->CompactFeed(store::NowMicros() + 1, done); }).ok());
  Reopen();
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(Feed(1).status().code(), absl::StatusCode::kOutOfRange);
  ASSERT_TRUE(Create("create-new", SampleForm("99000069")).ok());
  EXPECT_EQ(AllEvents().front().revision(), head + 1);
}

// Moved from store_test.cc.
TEST_P(PersistenceConformance, EverythingAcknowledgedSurvivesARestart) {
  constexpr int kCases = 200;
  std::vector<std::promise<absl::StatusOr<store::CaseSnapshot>>> results(kCases);
  std::vector<v1::CreateCaseRequest> requests(kCases);
  for (int i = 0; i < kCases; ++i) {
    requests[i].set_request_id("bulk-" + std::to_string(i));
    *requests[i].mutable_form() = SampleForm(std::to_string(99100000 + i));
    store_->CreateCase(Context(kRedCross, requests[i].request_id(), requests[i]),
                       requests[i].form(), [&results, i](absl::StatusOr<store::CaseSnapshot> r) {
                         results[i].set_value(std::move(r));
                       });
  }
  std::vector<std::string> ids;
  for (auto& result : results) {
    auto snapshot = result.get_future().get();
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    ids.push_back(CaseId(*snapshot));
  }
  const store::WriteQueueStats stats = store_->write_stats();
  EXPECT_EQ(stats.tasks, static_cast<uint64_t>(kCases));
  EXPECT_LT(stats.groups, stats.tasks) << "concurrent writes should share commits";

  Reopen();
  for (int i = 0; i < kCases; ++i) {
    auto snapshot = Get(ids[i]);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_EQ(snapshot->form->identity().person_identifier(), std::to_string(99100000 + i));
  }
}

}  // namespace
}  // namespace handover::conformance
