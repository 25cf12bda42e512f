// Durability: what was acknowledged is there after the store is closed and
// opened again, with the same feed epoch and head.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_cat.h"
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

// The key store keeps the feed's high-water mark apart from the data
// (case_keys.h FeedMark), raised at open and at close. A database whose feed
// ends below it in the same epoch (put back by hand from an older copy) is
// refused at open; a lower mark of the same epoch never lowers it; a mark of
// another epoch (the data restored since) is replaced.
TEST_P(PersistenceConformance, FeedMarkIsRaisedNeverLoweredAndRefusesAnOlderFeed) {
  ASSERT_TRUE(Create("mark-1", SampleForm("99000071")).ok());
  ASSERT_TRUE(Create("mark-2", SampleForm("99000072")).ok());
  const std::string epoch = store_->feed_epoch();
  const int64_t head = Head();
  store_.reset();  // closing raises the mark to the head

  // The key store's mark after raising it to `raise`, then the open on it.
  auto open_after = [&](const store::FeedMark& raise, store::FeedMark* mark) {
    auto parts = opener_(keys_);
    EXPECT_TRUE(parts.ok()) << parts.status();
    if (!parts.ok()) return parts.status();
    EXPECT_TRUE(parts->case_keys->RaiseFeedHighWater(raise).ok());
    auto read = parts->case_keys->FeedHighWater();
    EXPECT_TRUE(read.ok() && read->has_value()) << read.status();
    if (read.ok() && read->has_value()) *mark = **read;
    return store::DomainStore::Open(std::move(parts->backend), std::move(parts->case_keys), keys_,
                                    options_)
        .status();
  };
  store::FeedMark mark;
  // Lower, same epoch: kept at the head; the open goes on.
  EXPECT_TRUE(open_after({epoch, 1}, &mark).ok());
  EXPECT_EQ(mark.epoch, epoch);
  EXPECT_EQ(mark.revision, head);
  // Higher, same epoch: revisions up to it were handed out; the feed is behind.
  const absl::Status refused = open_after({epoch, head + 3}, &mark);
  EXPECT_EQ(mark.revision, head + 3);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(std::string(refused.message()),
              ::testing::HasSubstr(absl::StrCat("its feed ends at revision ", head,
                                                ", but revisions up to ", head + 3)));
  // Another epoch: replaced; the open raises it to this epoch's head.
  EXPECT_EQ(open_after({"another-epoch", head + 100}, &mark).code(), absl::StatusCode::kOk);
  EXPECT_EQ(mark.epoch, "another-epoch");
  EXPECT_TRUE(open_after({epoch, 0}, &mark).ok());
  EXPECT_EQ(mark.epoch, epoch);
  EXPECT_EQ(mark.revision, head);
}

}  // namespace
}  // namespace handover::conformance
