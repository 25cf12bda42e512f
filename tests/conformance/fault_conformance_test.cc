// Every write all-or-nothing, per task (backend.h, contract 1): each kind of
// write is made to fail at each of its steps in turn — after its k-th row
// operation or key-store call has run, for every k — alone and in the middle
// of a commit group with two other writes. Then nothing of the failed write
// is stored, the other writes are, the feed has no gap and no event of the
// failed write, the access log verifies with the refusal in it, and the
// retry with the same request id gives the answer the first call should
// have given. The faults come from tests/testing/fault_injection.h, between
// the engine and the domain store; no production code path can fire them.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/access_chain.h"
#include "tests/conformance/case_documents.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {
namespace {

using testing::SampleForm;
using testing::WriterHold;

// The case (and consent) a write acts on, made fresh for each run.
struct Target {
  std::string person;
  std::string case_id;
  std::string consent_id;
};

// A kind of write: the state it starts from, the write, and what it stores.
struct WriteKind {
  std::string name;
  // Feed events the write appends.
  int events = 1;
  // Makes the target's starting state (with writes that are not armed).
  std::function<void(FaultConformance&, Target&)> setup;
  // The write, with its access record.
  std::function<absl::Status(FaultConformance&, const Target&, const std::string& request_id)>
      write;
  // Checks the target is as the setup left it (`written` false) or as the
  // write leaves it (`written` true).
  std::function<void(FaultConformance&, const Target&, bool written)> check;
};

std::string FictionalPerson() {
  static int next = 0;
  return absl::StrCat(98000000 + ++next);
}

v1::AccessRecord OperatorRecord(const std::string& operation) {
  return StoreConformance::Record(kRedCross, operation);
}

// The checks and the runs, over the fixture.
class FaultRun {
 public:
  explicit FaultRun(FaultConformance& t) : t_(t) {}

  void CreateCase(Target& target) {
    target.person = FictionalPerson();
    auto created = t_.Create("setup-create-" + target.person, SampleForm(target.person));
    ASSERT_TRUE(created.ok()) << created.status();
    target.case_id = StoreConformance::CaseId(*created);
  }

  // The live cases of a person.
  std::vector<store::CaseSnapshot> CasesOf(const std::string& person) {
    store::CaseQuery query;
    query.person_identifier = person;
    auto page =
        testing::Await<store::CasePage>([&](auto done) { t_.store_->ListCases(query, done); });
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->cases : std::vector<store::CaseSnapshot>{};
  }

  store::CaseSnapshot Case(const std::string& case_id) {
    auto got = t_.Get(case_id);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : store::CaseSnapshot{};
  }

  // Access records whose outcome is not OK.
  int Refusals() {
    int refusals = 0;
    for (const v1::ExportAccessLogResponse& item : t_.Export()) {
      if (item.has_entry() && item.entry().record().outcome() != "OK") ++refusals;
    }
    return refusals;
  }

  // Revisions 1, 2, 3, ... up to the head, and the chain verifies.
  void ExpectFeedAndLogWhole() {
    const std::vector<v1::ChangeEvent> events = t_.AllEvents();
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].revision(), static_cast<int64_t>(i) + 1) << "a gap in the feed";
    }
    EXPECT_EQ(t_.Head(), static_cast<int64_t>(events.size()));
    auto verified = VerifyAccessLog(t_.Export(), t_.signer_->public_key_pem());
    EXPECT_TRUE(verified.ok()) << verified.status();
  }

  // The steps a successful write of `kind` takes.
  std::vector<std::string> CountSteps(const WriteKind& kind) {
    Target target;
    kind.setup(t_, target);
    t_.plan_.ArmNextWrite(0);
    absl::Status counted = kind.write(t_, target, "count-" + kind.name);
    EXPECT_TRUE(counted.ok()) << counted;
    return t_.plan_.steps_taken();
  }

  // Fails `kind` at step `step`, alone or between two other writes of one
  // commit group; checks; retries.
  void FailAt(const WriteKind& kind, int step, bool grouped) {
    SCOPED_TRACE(
        absl::StrCat(kind.name, " failing after step ", step, grouped ? " in a group" : " alone"));
    Target target;
    const int failures_before_setup = FailedParts();
    kind.setup(t_, target);
    if (FailedParts() > failures_before_setup) return;
    const std::string request_id = absl::StrCat(kind.name, "-", step, grouped ? "-grouped" : "");
    const int64_t head = t_.Head();
    const int refusals = Refusals();

    absl::Status failed;
    std::vector<absl::StatusOr<store::CaseSnapshot>> others;
    std::vector<std::string> other_people;
    if (!grouped) {
      t_.plan_.ArmNextWrite(step);
      failed = kind.write(t_, target, request_id);
    } else {
      auto other = [this, &other_people]() {
        other_people.push_back(FictionalPerson());
        return std::async(std::launch::async, [this, person = other_people.back()] {
          return t_.Create("other-" + person, SampleForm(person), kRedCross,
                           OperatorRecord("CreateCase"));
        });
      };
      WriterHold hold(*t_.faulty_);
      auto before = other();
      ASSERT_TRUE(hold.AwaitQueued(1));
      t_.plan_.ArmNextWrite(step);
      auto armed =
          std::async(std::launch::async, [&] { return kind.write(t_, target, request_id); });
      ASSERT_TRUE(hold.AwaitQueued(2));
      auto after = other();
      ASSERT_TRUE(hold.AwaitQueued(3));
      hold.Release();
      failed = armed.get();
      others.push_back(before.get());
      others.push_back(after.get());
    }

    ASSERT_TRUE(t_.plan_.fired()) << "the write took fewer steps than when counted";
    SCOPED_TRACE("the failing step: " + t_.plan_.steps_taken().back());
    EXPECT_FALSE(failed.ok());
    for (size_t i = 0; i < others.size(); ++i) {
      ASSERT_TRUE(others[i].ok()) << others[i].status();
      EXPECT_EQ(CasesOf(other_people[i]).size(), 1u) << "another write of the group was lost";
    }
    // Nothing of the failed write: no event, no row, only its refusal record.
    EXPECT_EQ(t_.Head(), head + static_cast<int64_t>(others.size()));
    kind.check(t_, target, false);
    EXPECT_EQ(Refusals(), refusals + 1);
    ExpectFeedAndLogWhole();

    // The retry gives what the first call should have given.
    absl::Status retried = kind.write(t_, target, request_id);
    ASSERT_TRUE(retried.ok()) << retried;
    EXPECT_EQ(t_.Head(), head + static_cast<int64_t>(others.size()) + kind.events);
    kind.check(t_, target, true);
    ExpectFeedAndLogWhole();
  }

  // Every step, alone and grouped; each run goes on after a failed one and
  // the count of failed runs is printed.
  void EveryStep(const WriteKind& kind) {
    const std::vector<std::string> steps = CountSteps(kind);
    ASSERT_FALSE(steps.empty());
    int runs = 0, failed_runs = 0;
    for (bool grouped : {false, true}) {
      for (int step = 1; step <= static_cast<int>(steps.size()); ++step) {
        const int failures_before = FailedParts();
        FailAt(kind, step, grouped);
        ++runs;
        if (FailedParts() > failures_before) ++failed_runs;
      }
    }
    std::cout << "[ faults   ] " << kind.name << ": " << steps.size() << " steps ("
              << absl::StrJoin(steps, ", ") << "); " << failed_runs << " of " << runs
              << " runs failed\n";
  }

  static int FailedParts() {
    const ::testing::TestResult* result =
        ::testing::UnitTest::GetInstance()->current_test_info()->result();
    int failed = 0;
    for (int i = 0; i < result->total_part_count(); ++i) {
      if (result->GetTestPartResult(i).failed()) ++failed;
    }
    return failed;
  }

  FaultConformance& t_;
};

const WriteKind kCreate{
    .name = "create",
    .setup = [](FaultConformance&, Target& target) { target.person = FictionalPerson(); },
    .write =
        [](FaultConformance& t, const Target& target, const std::string& request_id) {
          return t
              .Create(request_id, SampleForm(target.person), kRedCross,
                      OperatorRecord("CreateCase"))
              .status();
        },
    .check =
        [](FaultConformance& t, const Target& target, bool written) {
          const auto cases = FaultRun(t).CasesOf(target.person);
          ASSERT_EQ(cases.size(), written ? 1u : 0u);
          if (written) EXPECT_EQ(cases[0].meta.version(), 1);
        }};

const WriteKind kUpdate{
    .name = "update",
    .setup = [](FaultConformance& t, Target& target) { FaultRun(t).CreateCase(target); },
    .write =
        [](FaultConformance& t, const Target& target, const std::string& request_id) {
          v1::HandoverForm form = SampleForm(target.person);
          form.mutable_identity()->set_given_names("Fictional-Updated");
          return t
              .Update(target.case_id, form, "v1", request_id, {}, kRedCross,
                      OperatorRecord("UpdateForm"))
              .status();
        },
    .check =
        [](FaultConformance& t, const Target& target, bool written) {
          const store::CaseSnapshot current = FaultRun(t).Case(target.case_id);
          EXPECT_EQ(current.meta.version(), written ? 2 : 1);
          EXPECT_EQ(t.VersionsOf(target.case_id).size(), written ? 2u : 1u);
        }};

const WriteKind kAssign{
    .name = "assign",
    .setup = [](FaultConformance& t, Target& target) { FaultRun(t).CreateCase(target); },
    .write =
        [](FaultConformance& t, const Target& target, const std::string& request_id) {
          return t
              .Assign(target.case_id, "760", request_id, StoreConformance::DefaultDecisionDate(),
                      StoreConformance::Record(kImmigration, "AssignCase"))
              .status();
        },
    .check =
        [](FaultConformance& t, const Target& target, bool written) {
          const store::CaseSnapshot current = FaultRun(t).Case(target.case_id);
          EXPECT_EQ(current.facts.municipality_code.value_or("none"), written ? "760" : "none");
        }};

// A re-assignment: the old municipality's access is revoked (two events).
const WriteKind kRevoke{
    .name = "revoke",
    .events = 2,
    .setup =
        [](FaultConformance& t, Target& target) {
          FaultRun(t).CreateCase(target);
          ASSERT_TRUE(t.Assign(target.case_id, "760", "setup-assign-" + target.person).ok());
        },
    .write =
        [](FaultConformance& t, const Target& target, const std::string& request_id) {
          return t
              .Assign(target.case_id, "147", request_id, StoreConformance::DefaultDecisionDate(),
                      StoreConformance::Record(kImmigration, "AssignCase"))
              .status();
        },
    .check =
        [](FaultConformance& t, const Target& target, bool written) {
          const store::CaseSnapshot current = FaultRun(t).Case(target.case_id);
          EXPECT_EQ(current.facts.municipality_code.value_or("none"), written ? "147" : "760");
        }};

const WriteKind kConsent{
    .name = "consent",
    .setup = [](FaultConformance& t, Target& target) { FaultRun(t).CreateCase(target); },
    .write =
        [](FaultConformance& t, const Target& target, const std::string& request_id) {
          return t
              .GiveConsent(target.case_id, v1::CONSENT_PURPOSE_MEDICAL_RECORD, request_id,
                           OperatorRecord("RecordConsent"))
              .status();
        },
    .check =
        [](FaultConformance& t, const Target& target, bool written) {
          const store::CaseSnapshot current = FaultRun(t).Case(target.case_id);
          EXPECT_EQ(current.facts.consents.size(), written ? 1u : 0u);
        }};

const WriteKind kWithdraw{
    .name = "withdraw",
    .setup =
        [](FaultConformance& t, Target& target) {
          FaultRun(t).CreateCase(target);
          auto consent = t.GiveConsent(target.case_id, v1::CONSENT_PURPOSE_MEDICAL_RECORD,
                                       "setup-consent-" + target.person);
          ASSERT_TRUE(consent.ok()) << consent.status();
          target.consent_id = consent->name().substr(consent->name().rfind('/') + 1);
        },
    .write =
        [](FaultConformance& t, const Target& target, const std::string& request_id) {
          return t
              .Withdraw(target.case_id, target.consent_id, request_id,
                        OperatorRecord("WithdrawConsent"))
              .status();
        },
    .check =
        [](FaultConformance& t, const Target& target, bool written) {
          const store::CaseSnapshot current = FaultRun(t).Case(target.case_id);
          ASSERT_EQ(current.facts.consents.size(), 1u);
          EXPECT_EQ(current.facts.consents[0].withdrawn, written);
        }};

// Erasure deletes the case's key first, durably (case_keys.h): a fault after
// that step rolls the rows back, but they can no longer be opened (the case
// is crypto-erased); the retry finishes the erasure.
const WriteKind kErase{
    .name = "erase",
    .setup = [](FaultConformance& t, Target& target) { FaultRun(t).CreateCase(target); },
    .write =
        [](FaultConformance& t, const Target& target, const std::string& request_id) {
          return t.Erase(target.case_id, request_id, OperatorRecord("EraseCase")).status();
        },
    .check =
        [](FaultConformance& t, const Target& target, bool written) {
          const std::vector<std::string> steps = t.plan_.steps_taken();
          const bool key_gone =
              written || std::find(steps.begin(), steps.end(), "CaseKeys::Delete") != steps.end();
          // Keyless, the case is listed nowhere and reads as NOT_FOUND.
          EXPECT_EQ(FaultRun(t).CasesOf(target.person).size(), key_gone ? 0u : 1u);
          EXPECT_EQ(t.Get(target.case_id).status().code(),
                    key_gone ? absl::StatusCode::kNotFound : absl::StatusCode::kOk);
        }};

std::string FictionalPdf(const std::string& person) {
  std::string content = "%PDF-1.4 fictional test document for " + person + "\n";
  content.resize(2500, 'x');  // three chunks of the suite's 1 KiB
  return content;
}

const WriteKind kUpload{
    .name = "upload",
    .setup = [](FaultConformance& t, Target& target) { FaultRun(t).CreateCase(target); },
    .write =
        [](FaultConformance& t, const Target& target, const std::string& request_id) {
          return CaseDocuments(*t.store_, target.case_id)
              .Add(request_id, FictionalPdf(target.person), v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, "",
                   OperatorRecord("UploadDocument"))
              .status();
        },
    .check =
        [](FaultConformance& t, const Target& target, bool written) {
          auto listed = CaseDocuments(*t.store_, target.case_id).List(true);
          ASSERT_TRUE(listed.ok()) << listed.status();
          ASSERT_EQ(listed->documents.size(), written ? 1u : 0u);
          if (written) EXPECT_EQ(listed->documents[0].document.version(), 1);
        }};

TEST_P(FaultConformance, CreateIsAllOrNothingAtEveryStep) { FaultRun(*this).EveryStep(kCreate); }
TEST_P(FaultConformance, UpdateIsAllOrNothingAtEveryStep) { FaultRun(*this).EveryStep(kUpdate); }
TEST_P(FaultConformance, AssignIsAllOrNothingAtEveryStep) { FaultRun(*this).EveryStep(kAssign); }
TEST_P(FaultConformance, RevokeIsAllOrNothingAtEveryStep) { FaultRun(*this).EveryStep(kRevoke); }
TEST_P(FaultConformance, ConsentIsAllOrNothingAtEveryStep) { FaultRun(*this).EveryStep(kConsent); }
TEST_P(FaultConformance, WithdrawIsAllOrNothingAtEveryStep) {
  FaultRun(*this).EveryStep(kWithdraw);
}
TEST_P(FaultConformance, EraseIsAllOrNothingAtEveryStep) { FaultRun(*this).EveryStep(kErase); }
TEST_P(FaultConformance, UploadIsAllOrNothingAtEveryStep) { FaultRun(*this).EveryStep(kUpload); }

// The pre-commit hook (the group's new case keys made durable) fails: the
// whole group is rolled back and every write in it is told UNAVAILABLE;
// each retry then gives its answer.
TEST_P(FaultConformance, FailedPreCommitRollsBackTheWholeGroupAndSaysSo) {
  Target updated, assigned;
  FaultRun run(*this);
  run.CreateCase(updated);
  run.CreateCase(assigned);
  ASSERT_FALSE(HasFatalFailure());
  Target created{.person = FictionalPerson()};
  const int64_t head = Head();
  std::vector<absl::Status> results;
  {
    WriterHold hold(*faulty_);
    auto create = std::async(std::launch::async,
                             [&] { return kCreate.write(*this, created, "group-create"); });
    ASSERT_TRUE(hold.AwaitQueued(1));
    plan_.ArmNextWrite(testing::FaultPlan::kPreCommit);
    auto update = std::async(std::launch::async,
                             [&] { return kUpdate.write(*this, updated, "group-update"); });
    ASSERT_TRUE(hold.AwaitQueued(2));
    auto assign = std::async(std::launch::async,
                             [&] { return kAssign.write(*this, assigned, "group-assign"); });
    ASSERT_TRUE(hold.AwaitQueued(3));
    hold.Release();
    results = {create.get(), update.get(), assign.get()};
  }
  for (const absl::Status& result : results) {
    EXPECT_EQ(result.code(), absl::StatusCode::kUnavailable) << result;
  }
  EXPECT_EQ(Head(), head);
  kCreate.check(*this, created, false);
  kUpdate.check(*this, updated, false);
  kAssign.check(*this, assigned, false);
  run.ExpectFeedAndLogWhole();

  EXPECT_TRUE(kCreate.write(*this, created, "group-create").ok());
  EXPECT_TRUE(kUpdate.write(*this, updated, "group-update").ok());
  EXPECT_TRUE(kAssign.write(*this, assigned, "group-assign").ok());
  EXPECT_EQ(Head(), head + 3);
  kCreate.check(*this, created, true);
  kUpdate.check(*this, updated, true);
  kAssign.check(*this, assigned, true);
  run.ExpectFeedAndLogWhole();
}

}  // namespace
}  // namespace handover::conformance
