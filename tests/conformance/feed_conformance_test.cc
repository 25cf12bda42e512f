// The change feed: revisions in commit order without gaps, paging, cursors out
// of range, compaction, the commit listener, and the policy's event filter
// applied exactly as policy::MatchesEvent does (backend.h ReadEvents).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "absl/synchronization/mutex.h"
#include "common/errors.h"
#include "server/store/sealing.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {
namespace {

using testing::Await;
using ::testing::ElementsAreArray;
using testing::SampleForm;

// Collects what the commit listener is given.
class ListenerLog {
 public:
  store::CaseStore::CommitListener Listener() {
    return [this](std::vector<store::CommittedEvent> events, int64_t compacted) {
      absl::MutexLock lock(&mu_);
      ++calls_;
      compacted_through_ = compacted;
      for (store::CommittedEvent& event : events) events_.push_back(std::move(event));
    };
  }
  std::vector<store::CommittedEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  int64_t compacted_through() {
    absl::MutexLock lock(&mu_);
    return compacted_through_;
  }

 private:
  absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t compacted_through_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<store::CommittedEvent> events_ ABSL_GUARDED_BY(mu_);
};

std::vector<int64_t> RevisionsOf(const std::vector<v1::ChangeEvent>& events) {
  std::vector<int64_t> revisions;
  for (const v1::ChangeEvent& event : events) revisions.push_back(event.revision());
  return revisions;
}

TEST_P(FeedConformance, RevisionsIncreaseWithoutGaps) {
  EXPECT_EQ(Head(), 0);
  for (int i = 0; i < 4; ++i) {
    auto created = Create("create-" + std::to_string(i), SampleForm(std::to_string(99000061 + i)));
    ASSERT_TRUE(created.ok()) << created.status();
    v1::HandoverForm changed = SampleForm(std::to_string(99000061 + i));
    changed.mutable_identity()->set_given_names("Changed Fiktiva");
    ASSERT_TRUE(Update(CaseId(*created), changed, "v1", "update-" + std::to_string(i)).ok());
    ASSERT_TRUE(Assign(CaseId(*created), "760", "assign-" + std::to_string(i)).ok());
  }
  const std::vector<v1::ChangeEvent> events = AllEvents();
  ASSERT_EQ(events.size(), 12u);
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i].revision(), events[i - 1].revision() + 1) << "no gap, strictly increasing";
  }
  EXPECT_EQ(events.back().revision(), Head());
  for (const v1::ChangeEvent& event : events) {
    EXPECT_TRUE(event.has_commit_time());
    EXPECT_TRUE(event.case_name().starts_with("cases/"));
  }
  EXPECT_EQ(events[0].kind(), v1::EVENT_KIND_CASE_CREATED);
  EXPECT_EQ(events[0].version(), 1);
  EXPECT_EQ(events[1].kind(), v1::EVENT_KIND_FORM_UPDATED);
  EXPECT_EQ(events[1].version(), 2);
  EXPECT_EQ(events[2].kind(), v1::EVENT_KIND_ASSIGNED);
}

TEST_P(FeedConformance, PagesCoverTheFeedAndSayWhenCaughtUp) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        Create("create-" + std::to_string(i), SampleForm(std::to_string(99000061 + i))).ok());
  }
  const int64_t head = Head();
  auto first = Feed(0, 2);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->events.size(), 2u);
  EXPECT_FALSE(first->caught_up);
  EXPECT_EQ(first->scanned_through, first->events.back().event.revision());

  auto rest = Feed(first->scanned_through, 100);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->events.size(), 3u);
  EXPECT_TRUE(rest->caught_up);
  EXPECT_EQ(rest->scanned_through, head);

  auto at_head = Feed(head, 100);
  ASSERT_TRUE(at_head.ok()) << "the head itself is a valid cursor: " << at_head.status();
  EXPECT_TRUE(at_head->events.empty());
  EXPECT_TRUE(at_head->caught_up);
  EXPECT_EQ(at_head->scanned_through, head);
}

TEST_P(FeedConformance, FilteredPagesScanPastEventsTheCallerDoesNotSee) {
  ASSERT_TRUE(Create("create-1", SampleForm("99000061"), kRedCross).ok());
  ASSERT_TRUE(Create("create-2", SampleForm("99000062"), kHanstholm).ok());
  ASSERT_TRUE(Create("create-3", SampleForm("99000063"), kHanstholm).ok());
  auto page = Feed(0, 100, policy::EventFilterFor(kRedCross));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 1u);
  EXPECT_TRUE(page->caught_up);
  EXPECT_EQ(page->scanned_through, Head()) << "the caller has seen everything up to the head";
  auto none = Feed(0, 100, {.none = true});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->events.empty());
  EXPECT_EQ(none->scanned_through, Head());
}

TEST_P(FeedConformance, CursorBeyondTheHeadIsOutOfRange) {
  ASSERT_TRUE(Create("create-1", SampleForm("99000061")).ok());
  auto ahead = Feed(Head() + 1);
  EXPECT_EQ(ahead.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(FeedCompactedRevision(ahead.status()).has_value()) << ahead.status();
}

TEST_P(FeedConformance, CompactedCursorIsOutOfRangeAndRevisionsAreNotReused) {
  ListenerLog log;
  store_->SetCommitListener(log.Listener());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        Create("create-" + std::to_string(i), SampleForm(std::to_string(99000061 + i))).ok());
  }
  const int64_t head = Head();
  auto compacted =
      Await<int64_t>([&](auto done) { store_->CompactFeed(store::NowMicros() + 1, done); });
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  EXPECT_EQ(*compacted, head);
  EXPECT_EQ(log.compacted_through(), head) << "the listener hears of the compaction";
  EXPECT_EQ(Head(), head) << "the head survives compaction";

  auto stale = Feed(1);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(FeedCompactedRevision(stale.status()), head) << stale.status();
  auto from_oldest = Feed(0);
  ASSERT_TRUE(from_oldest.ok()) << from_oldest.status();
  EXPECT_TRUE(from_oldest->events.empty());
  EXPECT_TRUE(from_oldest->caught_up);
  EXPECT_EQ(from_oldest->scanned_through, head);

  ASSERT_TRUE(Create("create-new", SampleForm("99000069")).ok());
  const std::vector<v1::ChangeEvent> after = AllEvents();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].revision(), head + 1) << "revisions are never reused";
  auto resumed = Feed(head);
  ASSERT_TRUE(resumed.ok()) << "the compacted-through revision is resumable";
  EXPECT_EQ(resumed->events.size(), 1u);
}

TEST_P(FeedConformance, CompactionKeepsEventsNewerThanTheCutoff) {
  ASSERT_TRUE(Create("create-1", SampleForm("99000061")).ok());
  auto compacted = Await<int64_t>([&](auto done) { store_->CompactFeed(1, done); });
  ASSERT_TRUE(compacted.ok());
  EXPECT_EQ(*compacted, 0) << "nothing was old enough";
  EXPECT_EQ(AllEvents().size(), 1u);
}

TEST_P(FeedConformance, CommitListenerGetsEveryEventOnceInOrder) {
  ListenerLog log;
  store_->SetCommitListener(log.Listener());
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(Assign(CaseId(*created), "760", "assign-1").ok());
  ASSERT_TRUE(Assign(CaseId(*created), "147", "assign-2").ok());
  ASSERT_TRUE(GiveConsent(CaseId(*created), v1::CONSENT_PURPOSE_HEALTH_NEEDS, "consent-1").ok());
  // A write that fails and a record alone add no event.
  EXPECT_FALSE(Assign(CaseId(*created), "147", "assign-3").ok());
  v1::AccessRecord record = Record(kRedCross, "GetCase", created->meta.name());
  ASSERT_TRUE(Await<int64_t>([&](auto done) { store_->RecordAccess(record, done); }).ok());

  const std::vector<v1::ChangeEvent> read = AllEvents();
  std::vector<int64_t> heard;
  for (const store::CommittedEvent& event : log.events()) {
    heard.push_back(event.event.revision());
  }
  EXPECT_THAT(heard, ElementsAreArray(RevisionsOf(read)));
  const std::vector<store::CommittedEvent> events = log.events();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[2].event.kind(), v1::EVENT_KIND_ACCESS_REVOKED);
  EXPECT_EQ(events[2].audience.municipality_code, "760");
  EXPECT_TRUE(events[2].audience.municipality_only);
  EXPECT_EQ(events[3].event.kind(), v1::EVENT_KIND_ASSIGNED);
  EXPECT_EQ(events[3].audience.municipality_code, "147");
  EXPECT_FALSE(events[3].audience.municipality_only);
  for (const store::CommittedEvent& event : events) {
    EXPECT_EQ(event.audience.operator_id, "redcross");
  }

  store_->SetCommitListener(nullptr);
  ASSERT_TRUE(Create("create-2", SampleForm("99000062")).ok());
  EXPECT_EQ(log.events().size(), 5u) << "nullptr stops the calls";
}

TEST_P(FeedConformance, ListenerSetLaterStartsAfterTheHead) {
  ASSERT_TRUE(Create("create-1", SampleForm("99000061")).ok());
  const int64_t head = Head();
  ListenerLog log;
  store_->SetCommitListener(log.Listener());
  ASSERT_TRUE(Create("create-2", SampleForm("99000062")).ok());
  const std::vector<store::CommittedEvent> events = log.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.revision(), head + 1);
}

TEST_P(FeedConformance, IncludeCasesAttachesTheCurrentCaseTheAuthorizerAllows) {
  auto mine = Create("create-1", SampleForm("99000061"), kRedCross);
  auto theirs = Create("create-2", SampleForm("99000062"), kHanstholm);
  ASSERT_TRUE(mine.ok() && theirs.ok());
  v1::HandoverForm changed = SampleForm("99000061");
  changed.mutable_identity()->set_given_names("Changed Fiktiva");
  ASSERT_TRUE(Update(CaseId(*mine), changed, "v1", "update-1").ok());

  store::FeedQuery query;
  query.filter = SeesEverything();
  query.include_cases = true;
  query.authorize = [](const policy::CaseFacts& facts) {
    return facts.operator_id == "redcross" ? absl::OkStatus() : absl::NotFoundError("not yours");
  };
  auto page = Await<store::FeedPage>([&](auto done) { store_->ReadFeed(query, done); });
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events.size(), 3u);
  for (const store::FeedEvent& item : page->events) {
    if (item.event.case_name() == mine->meta.name()) {
      ASSERT_TRUE(item.snapshot.has_value());
      EXPECT_EQ(item.snapshot->meta.version(), 2) << "the case as it is now";
      ASSERT_TRUE(item.snapshot->form.has_value());
      EXPECT_EQ(item.snapshot->form->identity().given_names(), "Changed Fiktiva");
    } else {
      EXPECT_FALSE(item.snapshot.has_value()) << "the authorizer refused it";
    }
  }
}

// The backend applies the policy's filter exactly as policy::MatchesEvent
// does, for every caller and every audience the domain writes can produce
// (tests/sqlite/feed_visibility_test.cc covers the policy itself).
TEST_P(FeedConformance, EventFilterAgreesWithThePolicyForEveryCallerAndAudience) {
  ListenerLog log;
  store_->SetCommitListener(log.Listener());
  std::vector<policy::EventAudience> expected;
  auto created = [&](const Principal& by, const std::string& person) {
    auto c = Create("create-" + person, SampleForm(person), by);
    EXPECT_TRUE(c.ok()) << c.status();
    expected.push_back({by.organisation_id, std::nullopt, false});
    return c.ok() ? CaseId(*c) : "";
  };
  const std::string a = created(kRedCross, "99000061");
  const std::string b = created(kHanstholm, "99000062");
  struct Step {
    std::string case_id;
    std::string op;
    std::optional<std::string> from;
    std::string to;
  };
  const std::vector<Step> steps = {
      {a, "redcross", std::nullopt, "760"}, {b, "hanstholm", std::nullopt, "147"},
      {a, "redcross", "760", "147"},        {b, "hanstholm", "147", "760"},
      {a, "redcross", "147", "760"},        {b, "hanstholm", "760", "147"}};
  int n = 0;
  for (const Step& step : steps) {
    ASSERT_TRUE(Assign(step.case_id, step.to, "assign-" + std::to_string(n++)).ok());
    if (step.from) expected.push_back({step.op, step.from, true});
    expected.push_back({step.op, step.to, false});
  }
  v1::HandoverForm changed = SampleForm("99000061");
  changed.mutable_identity()->set_given_names("Changed Fiktiva");
  ASSERT_TRUE(Update(a, changed, "", "update-a", {}, kRedCross).ok());
  expected.push_back({"redcross", "760", false});

  // The store reports each event's audience as it was written.
  const std::vector<store::CommittedEvent> committed = log.events();
  ASSERT_EQ(committed.size(), expected.size());
  std::set<std::tuple<std::string, std::string, bool>> distinct;
  for (size_t i = 0; i < committed.size(); ++i) {
    EXPECT_EQ(committed[i].audience.operator_id, expected[i].operator_id) << i;
    EXPECT_EQ(committed[i].audience.municipality_code, expected[i].municipality_code) << i;
    EXPECT_EQ(committed[i].audience.municipality_only, expected[i].municipality_only) << i;
    distinct.insert({expected[i].operator_id, expected[i].municipality_code.value_or(""),
                     expected[i].municipality_only});
  }
  EXPECT_EQ(distinct.size(), 10u) << "2 operators x {none, 760, 147, 760 only, 147 only}";

  const std::vector<Principal> callers = {kRedCross,
                                          kHanstholm,
                                          kImmigration,
                                          {Role::kMunicipality, "760"},
                                          {Role::kMunicipality, "147"},
                                          {Role::kMunicipality, "999"},
                                          {Role::kAuditor, "dpo"}};
  for (const Principal& caller : callers) {
    std::vector<int64_t> allowed;
    for (size_t i = 0; i < committed.size(); ++i) {
      if (policy::MaySeeEvent(caller, expected[i])) {
        allowed.push_back(committed[i].event.revision());
      }
    }
    for (int page_size : {1, 3, 100}) {
      EXPECT_THAT(RevisionsOf(AllEvents(policy::EventFilterFor(caller), page_size)),
                  ElementsAreArray(allowed))
          << caller.organisation_id << ", pages of " << page_size;
    }
  }
}

}  // namespace
}  // namespace handover::conformance
