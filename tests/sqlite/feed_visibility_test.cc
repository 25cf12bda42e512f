// Who may see a feed event: policy::MaySeeEvent is the rule. This walks every
// role x event audience and checks the rule against the cases written out
// below, and that the two places that apply it without calling it per event
// agree with it: the store's SQL filter (the SQLite backend's ReadEvents, run on a real
// database file holding one event per audience) and the feed hub's in-memory
// tail (FeedHub::ReadTail).
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "server/feed/feed_hub.h"
#include "server/policy/policy.h"
#include "server/store/database.h"
#include "server/store/sqlite/case_rows.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "tests/testing/test_server.h"

namespace handover::policy {
namespace {

using testing::Await;
using testing::NewTempDir;

struct NamedCaller {
  const char* name;
  Principal principal;
};

// Every role; for the roles bound to one organisation, also another one of
// the same role, so "mine" and "someone else's" are both walked.
const std::vector<NamedCaller> kCallers = {
    {"operator redcross", {Role::kOperator, "redcross"}},
    {"operator hanstholm", {Role::kOperator, "hanstholm"}},
    {"immigration service", {Role::kImmigrationService, "uds"}},
    {"municipality 760", {Role::kMunicipality, "760"}},
    {"municipality 147", {Role::kMunicipality, "147"}},
    {"auditor", {Role::kAuditor, "dpo"}},
};

// Every audience an event can carry: either operator, unaddressed or
// addressed to either municipality, revocation or not.
std::vector<EventAudience> AllAudiences() {
  std::vector<EventAudience> audiences;
  for (const char* operator_id : {"redcross", "hanstholm"}) {
    for (std::optional<std::string> municipality :
         {std::optional<std::string>(), std::optional<std::string>("760"),
          std::optional<std::string>("147")}) {
      for (bool municipality_only : {false, true}) {
        audiences.push_back(EventAudience{operator_id, municipality, municipality_only});
      }
    }
  }
  return audiences;
}

std::string Describe(const NamedCaller& caller, const EventAudience& audience) {
  return absl::StrCat(caller.name, " / event of ", audience.operator_id, ", addressed to ",
                      audience.municipality_code.value_or("nobody"),
                      audience.municipality_only ? ", municipality only" : "");
}

// The rule as DESIGN.md and the access table state it, written out apart
// from the policy.
bool Expected(const Principal& caller, const EventAudience& audience) {
  switch (caller.role) {
    case Role::kOperator:
      return audience.operator_id == caller.organisation_id && !audience.municipality_only;
    case Role::kImmigrationService:
      return !audience.municipality_only;
    case Role::kMunicipality:
      return audience.municipality_code == caller.organisation_id;
    case Role::kAuditor:
      return false;
  }
  return false;
}

TEST(FeedVisibilityTest, PolicyMatchesTheRuleForEveryRoleAndAudience) {
  for (const NamedCaller& caller : kCallers) {
    for (const EventAudience& audience : AllAudiences()) {
      EXPECT_EQ(MaySeeEvent(caller.principal, audience), Expected(caller.principal, audience))
          << Describe(caller, audience);
      EXPECT_EQ(MatchesEvent(EventFilterFor(caller.principal), audience),
                MaySeeEvent(caller.principal, audience))
          << Describe(caller, audience);
    }
  }
}

// One event per audience, revisions 1..n in AllAudiences() order.
class FeedVisibilityStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = NewTempDir() + "/feed.db";
    keys_ = std::make_shared<const KeyRing>(*KeyRing::Parse(KeyRing::GenerateKeyLine("test-key")));
    {
      // Opening creates the schema; the events go in while it is closed.
      auto created = store::OpenDatabase({.path = path_}, {}, keys_);
      ASSERT_TRUE(created.ok()) << created.status();
    }
    {
      SQLite::Database db(path_, SQLite::OPEN_READWRITE);
      store::SqliteTxn txn(db, nullptr);
      for (const EventAudience& audience : audiences_) {
        txn.AppendEvent(
            store::EventRow{.case_id = "0123456789abcdef",
                            .kind = audience.municipality_only ? v1::EVENT_KIND_ACCESS_REVOKED
                                                               : v1::EVENT_KIND_FORM_UPDATED,
                            .version = 1,
                            .operator_id = audience.operator_id,
                            .municipality_code = audience.municipality_code,
                            .municipality_only = audience.municipality_only},
            1);
      }
      committed_ = txn.EventsAfter(0);
    }
    auto store = store::OpenDatabase({.path = path_}, {}, keys_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_EQ(committed_.size(), audiences_.size());
  }

  // The revisions MaySeeEvent lets `caller` see.
  std::set<int64_t> Allowed(const Principal& caller) const {
    std::set<int64_t> allowed;
    for (size_t i = 0; i < audiences_.size(); ++i) {
      if (MaySeeEvent(caller, audiences_[i])) allowed.insert(static_cast<int64_t>(i) + 1);
    }
    return allowed;
  }

  static std::set<int64_t> Revisions(const store::FeedPage& page) {
    std::set<int64_t> revisions;
    for (const store::FeedEvent& item : page.events) revisions.insert(item.event.revision());
    return revisions;
  }

  const std::vector<EventAudience> audiences_ = AllAudiences();
  std::string path_;
  std::shared_ptr<const KeyRing> keys_;
  std::unique_ptr<store::DomainStore> store_;
  std::vector<store::CommittedEvent> committed_;
};

TEST_F(FeedVisibilityStoreTest, StoredAudiencesReadBackAsWritten) {
  for (size_t i = 0; i < committed_.size(); ++i) {
    EXPECT_EQ(committed_[i].event.revision(), static_cast<int64_t>(i) + 1);
    EXPECT_EQ(committed_[i].audience.operator_id, audiences_[i].operator_id);
    EXPECT_EQ(committed_[i].audience.municipality_code, audiences_[i].municipality_code);
    EXPECT_EQ(committed_[i].audience.municipality_only, audiences_[i].municipality_only);
  }
}

TEST_F(FeedVisibilityStoreTest, StoreSqlFilterAgreesWithThePolicy) {
  for (const NamedCaller& caller : kCallers) {
    store::FeedQuery query;
    query.filter = EventFilterFor(caller.principal);
    query.after_revision = 0;
    query.page_size = 1000;
    absl::StatusOr<store::FeedPage> page =
        Await<store::FeedPage>([&](auto done) { store_->ReadFeed(std::move(query), done); });
    ASSERT_TRUE(page.ok()) << caller.name << ": " << page.status();
    EXPECT_EQ(Revisions(*page), Allowed(caller.principal)) << caller.name;
  }
}

TEST_F(FeedVisibilityStoreTest, FeedHubTailAgreesWithThePolicy) {
  feed::FeedHub hub(std::chrono::hours(1), nullptr);
  hub.NotifyCommit(committed_, 0);
  for (const NamedCaller& caller : kCallers) {
    store::FeedPage page;
    ASSERT_TRUE(hub.ReadTail(EventFilterFor(caller.principal), 0, 1000, &page)) << caller.name;
    EXPECT_EQ(Revisions(page), Allowed(caller.principal)) << caller.name;
  }
}

// Every caller sees something and misses something, so neither check above
// passes by letting everything or nothing through (the auditor sees nothing).
TEST_F(FeedVisibilityStoreTest, TheTableIsNotTrivial) {
  for (const NamedCaller& caller : kCallers) {
    const size_t allowed = Allowed(caller.principal).size();
    EXPECT_LT(allowed, audiences_.size()) << caller.name;
    if (caller.principal.role != Role::kAuditor) {
      EXPECT_GT(allowed, 0u) << caller.name;
    }
  }
}

}  // namespace
}  // namespace handover::policy
