// Cases: creation, idempotent retries, form versions and the etag, assignment,
// consents, erasure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include <google/protobuf/util/message_differencer.h>

#include "common/dates.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::Await;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::SampleForm;

std::vector<int64_t> Numbers(const store::VersionPage& page) {
  std::vector<int64_t> numbers;
  for (const v1::CaseVersion& version : page.versions) numbers.push_back(version.version());
  return numbers;
}

TEST_P(CaseConformance, CreatedCaseReadsBackAsWrittenAtVersionOne) {
  const v1::HandoverForm form = SampleForm("99000061");
  auto created = Create("create-1", form);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->meta.version(), 1);
  EXPECT_EQ(created->meta.etag(), "v1");
  EXPECT_EQ(created->meta.operator_id(), "redcross");
  EXPECT_EQ(created->facts.operator_id, "redcross");
  EXPECT_FALSE(created->facts.municipality_code.has_value());

  auto read = Get(CaseId(*created));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->meta.name(), created->meta.name());
  EXPECT_EQ(read->meta.version(), 1);
  EXPECT_EQ(read->meta.etag(), "v1");
  EXPECT_EQ(read->version.version(), 1);
  EXPECT_EQ(read->version.author_organisation(), "redcross");
  EXPECT_EQ(read->version.author_actor(), "conformance-actor");
  ASSERT_TRUE(read->form.has_value());
  EXPECT_TRUE(MessageDifferencer::Equals(*read->form, form)) << read->form->DebugString();
}

TEST_P(CaseConformance, UnknownCaseIsNotFound) {
  EXPECT_EQ(Get("0123456789abcdef").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Versions("0123456789abcdef").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(CaseConformance, RetriedCreateReplaysTheFirstResult) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok()) << created.status();
  auto again = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->meta.name(), created->meta.name());
  EXPECT_EQ(again->meta.etag(), "v1");
  auto page = List();
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->cases.size(), 1u) << "no second case";
  EXPECT_EQ(AllEvents().size(), 1u) << "no second event";
}

TEST_P(CaseConformance, RequestIdReusedForAnotherRequestIsAlreadyExists) {
  ASSERT_TRUE(Create("create-1", SampleForm("99000061")).ok());
  EXPECT_EQ(Create("create-1", SampleForm("99000062")).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(List()->cases.size(), 1u);
}

TEST_P(CaseConformance, RequestIdsAreScopedToTheOrganisation) {
  auto mine = Create("create-1", SampleForm("99000061"), kRedCross);
  auto theirs = Create("create-1", SampleForm("99000062"), kHanstholm);
  ASSERT_TRUE(mine.ok() && theirs.ok()) << theirs.status();
  EXPECT_NE(mine->meta.name(), theirs->meta.name());
}

TEST_P(CaseConformance, SecondLiveCaseForThePersonByTheSameOperatorIsAlreadyExists) {
  ASSERT_TRUE(Create("create-1", SampleForm("99000061")).ok());
  EXPECT_EQ(Create("create-2", SampleForm("99000061")).status().code(),
            absl::StatusCode::kAlreadyExists);
  // The same person written with a hyphen is the same person.
  EXPECT_EQ(Create("create-3", SampleForm("9900-0061")).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Another operator may have its own case for the person.
  EXPECT_TRUE(Create("create-4", SampleForm("99000061"), kHanstholm).ok());
}

TEST_P(CaseConformance, UpdateWritesANewVersionAndKeepsTheOldOne) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  const std::string id = CaseId(*created);
  v1::HandoverForm changed = SampleForm("99000061");
  changed.mutable_identity()->set_family_name("Eksempelsen-Andersen");
  auto updated = Update(id, changed, "v1", "update-1");
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->meta.version(), 2);
  EXPECT_EQ(updated->meta.etag(), "v2");

  auto first = Get(id, 1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->meta.version(), 1);
  EXPECT_EQ(first->form->identity().family_name(), "Eksempelsen");
  auto current = Get(id);
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(current->meta.version(), 2);
  EXPECT_EQ(current->meta.etag(), "v2");
  EXPECT_EQ(current->form->identity().family_name(), "Eksempelsen-Andersen");
  EXPECT_EQ(Get(id, 3).status().code(), absl::StatusCode::kNotFound);
}

// Moved from store_test.cc (StaleEtagIsAbortedAndWritesNothing).
TEST_P(CaseConformance, StaleEtagIsAbortedAndWritesNothing) {
  auto created = Create("r1", SampleForm());
  ASSERT_TRUE(created.ok());
  const std::string id = CaseId(*created);
  v1::HandoverForm second = SampleForm();
  second.mutable_identity()->set_given_names("Second Fiktiva");
  ASSERT_TRUE(Update(id, second, "v1", "r2").ok());
  const int64_t head = Head();

  v1::HandoverForm late = SampleForm();
  late.mutable_identity()->set_given_names("Late Fiktiva");
  auto stale = Update(id, late, "v1", "r3");
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(VersionsOf(id), ElementsAre(2, 1));
  EXPECT_EQ(Head(), head) << "no event";
  EXPECT_EQ(Get(id)->form->identity().given_names(), "Second Fiktiva");
  // The failed request id was not recorded: it can be used again.
  EXPECT_TRUE(Update(id, late, "v2", "r3").ok());
}

TEST_P(CaseConformance, EmptyEtagSkipsTheConcurrencyCheck) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  v1::HandoverForm changed = SampleForm("99000061");
  changed.mutable_identity()->set_given_names("Unchecked Fiktiva");
  auto updated = Update(CaseId(*created), changed, "", "update-1");
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->meta.version(), 2);
}

// Moved from store_test.cc (RetriedRequestIdReturnsTheFirstResult), its
// update half; the create half is RetriedCreateReplaysTheFirstResult.
TEST_P(CaseConformance, RetriedUpdateReplaysTheFirstResult) {
  auto created = Create("create-1", SampleForm());
  ASSERT_TRUE(created.ok());
  const std::string id = CaseId(*created);

  v1::HandoverForm changed = SampleForm();
  changed.mutable_identity()->set_given_names("Changed Fiktiva");
  auto first = Update(id, changed, "v1", "update-1");
  ASSERT_TRUE(first.ok());
  auto retry = Update(id, changed, "v1", "update-1");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->meta.version(), first->meta.version());
  EXPECT_EQ(retry->meta.etag(), first->meta.etag());
  EXPECT_THAT(VersionsOf(id), ElementsAre(2, 1));

  v1::HandoverForm other = SampleForm();
  other.mutable_identity()->set_given_names("Other Fiktiva");
  EXPECT_EQ(Update(id, other, "v2", "update-1").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(VersionsOf(id), ElementsAre(2, 1));
}

TEST_P(CaseConformance, UpdateMaskMergesOnlyTheNamedFields) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  v1::HandoverForm patch;
  patch.mutable_identity()->set_given_names("Masked Fiktiva");
  patch.mutable_languages()->set_mother_tongue("fa");  // not in the mask: ignored
  google::protobuf::FieldMask mask;
  mask.add_paths("identity.given_names");
  auto updated = Update(CaseId(*created), patch, "v1", "update-1", mask);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->meta.version(), 2);

  auto read = Get(CaseId(*created));
  ASSERT_TRUE(read.ok());
  v1::HandoverForm expected = SampleForm("99000061");
  expected.mutable_identity()->set_given_names("Masked Fiktiva");
  EXPECT_TRUE(MessageDifferencer::Equals(*read->form, expected)) << read->form->DebugString();
}

TEST_P(CaseConformance, UnchangedFormWritesNoNewVersion) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  const int64_t head = Head();
  auto same = Update(CaseId(*created), SampleForm("99000061"), "v1", "update-1");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->meta.version(), 1);
  EXPECT_EQ(same->meta.etag(), "v1");
  EXPECT_THAT(VersionsOf(CaseId(*created)), ElementsAre(1));
  EXPECT_EQ(Head(), head) << "no event";
}

TEST_P(CaseConformance, ListVersionsIsNewestFirstAndPages) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  const std::string id = CaseId(*created);
  for (int i = 2; i <= 5; ++i) {
    v1::HandoverForm form = SampleForm("99000061");
    form.mutable_wishes_and_plans()->set_expectations("Fictional version " + std::to_string(i));
    ASSERT_TRUE(Update(id, form, "", "update-" + std::to_string(i)).ok());
  }
  auto all = Versions(id);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Numbers(*all), ElementsAre(5, 4, 3, 2, 1));
  EXPECT_EQ(all->next_before_version, 0);
  for (const v1::CaseVersion& version : all->versions) {
    EXPECT_FALSE(version.has_form()) << "metadata only";
    EXPECT_EQ(version.author_organisation(), "redcross");
  }

  std::vector<int64_t> paged;
  int64_t before = 0;
  int pages = 0;
  do {
    auto page = Versions(id, before, 2);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->versions.size(), 2u);
    for (int64_t n : Numbers(*page)) paged.push_back(n);
    before = page->next_before_version;
    ASSERT_LT(++pages, 10);
  } while (before != 0);
  EXPECT_THAT(paged, ElementsAre(5, 4, 3, 2, 1));
  EXPECT_THAT(Numbers(*Versions(id, 3)), ElementsAre(2, 1));
}

TEST_P(CaseConformance, AssignEmitsAssignedAddressedToTheMunicipality) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  const int64_t head = Head();
  auto assigned = Assign(CaseId(*created), "760", "assign-1");
  ASSERT_TRUE(assigned.ok()) << assigned.status();
  EXPECT_EQ(assigned->facts.municipality_code, "760");
  EXPECT_EQ(assigned->meta.assignment().municipality_code(), "760");
  EXPECT_EQ(assigned->meta.version(), 1) << "an assignment is not a form version";

  auto events = Feed(head);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->events.size(), 1u);
  EXPECT_EQ(events->events[0].event.kind(), v1::EVENT_KIND_ASSIGNED);
  EXPECT_EQ(events->events[0].event.case_name(), created->meta.name());
  auto municipality = Feed(head, 100, policy::EventFilterFor({Role::kMunicipality, "760"}));
  ASSERT_TRUE(municipality.ok());
  EXPECT_EQ(municipality->events.size(), 1u) << "addressed to 760";
}

TEST_P(CaseConformance, ReassignRevokesAccessForTheOldMunicipalityOnly) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(Assign(CaseId(*created), "760", "assign-1").ok());
  const int64_t head = Head();
  auto reassigned = Assign(CaseId(*created), "147", "assign-2");
  ASSERT_TRUE(reassigned.ok()) << reassigned.status();
  EXPECT_EQ(reassigned->facts.municipality_code, "147");
  EXPECT_EQ(reassigned->meta.assignment().previous_municipality_code(), "760");

  auto all = Feed(head);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->events.size(), 2u);
  EXPECT_EQ(all->events[0].event.kind(), v1::EVENT_KIND_ACCESS_REVOKED);
  EXPECT_EQ(all->events[1].event.kind(), v1::EVENT_KIND_ASSIGNED);
  auto kinds = [&](const Principal& caller) {
    std::vector<v1::EventKind> seen;
    auto page = Feed(head, 100, policy::EventFilterFor(caller));
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return seen;
    for (const store::FeedEvent& item : page->events) seen.push_back(item.event.kind());
    return seen;
  };
  EXPECT_THAT(kinds({Role::kMunicipality, "760"}), ElementsAre(v1::EVENT_KIND_ACCESS_REVOKED));
  EXPECT_THAT(kinds({Role::kMunicipality, "147"}), ElementsAre(v1::EVENT_KIND_ASSIGNED));
  EXPECT_THAT(kinds(kRedCross), ElementsAre(v1::EVENT_KIND_ASSIGNED));
  EXPECT_THAT(kinds(kImmigration), ElementsAre(v1::EVENT_KIND_ASSIGNED));
}

TEST_P(CaseConformance, AssignToTheSameMunicipalityIsFailedPrecondition) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(Assign(CaseId(*created), "760", "assign-1").ok());
  const int64_t head = Head();
  EXPECT_EQ(Assign(CaseId(*created), "760", "assign-2").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Head(), head);
}

TEST_P(CaseConformance, ConsentIsRecordedAndWithdrawnOnce) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  const std::string id = CaseId(*created);
  auto consent = GiveConsent(id, v1::CONSENT_PURPOSE_HEALTH_NEEDS, "consent-1");
  ASSERT_TRUE(consent.ok()) << consent.status();
  EXPECT_EQ(consent->purpose(), v1::CONSENT_PURPOSE_HEALTH_NEEDS);
  EXPECT_TRUE(consent->name().starts_with(created->meta.name() + "/consents/"));
  EXPECT_FALSE(consent->has_withdraw_time());
  const std::string consent_id = consent->name().substr(consent->name().rfind('/') + 1);
  auto facts = Get(id)->facts;
  ASSERT_EQ(facts.consents.size(), 1u);
  EXPECT_FALSE(facts.consents[0].withdrawn);

  auto withdrawn = Withdraw(id, consent_id, "withdraw-1");
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status();
  EXPECT_TRUE(withdrawn->has_withdraw_time());
  EXPECT_TRUE(Get(id)->facts.consents[0].withdrawn);
  EXPECT_EQ(Withdraw(id, consent_id, "withdraw-2").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Withdraw(id, "0123456789abcdef", "withdraw-3").status().code(),
            absl::StatusCode::kNotFound);

  std::vector<v1::EventKind> kinds;
  for (const v1::ChangeEvent& event : AllEvents()) kinds.push_back(event.kind());
  EXPECT_THAT(kinds, ElementsAre(v1::EVENT_KIND_CASE_CREATED, v1::EVENT_KIND_CONSENT_GIVEN,
                                 v1::EVENT_KIND_CONSENT_WITHDRAWN));
}

TEST_P(CaseConformance, WithdrawalListsWithdrawnFieldsWhenNoConsentCoversThePurpose) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  const std::string id = CaseId(*created);
  ASSERT_TRUE(Assign(id, "760", "assign-1").ok());
  auto first = GiveConsent(id, v1::CONSENT_PURPOSE_HEALTH_NEEDS, "consent-1");
  auto second = GiveConsent(id, v1::CONSENT_PURPOSE_HEALTH_NEEDS, "consent-2");
  ASSERT_TRUE(first.ok() && second.ok());
  auto id_of = [](const v1::Consent& c) { return c.name().substr(c.name().rfind('/') + 1); };
  const std::vector<std::string> covered =
      policy::FieldsCoveredBy(v1::CONSENT_PURPOSE_HEALTH_NEEDS);
  ASSERT_THAT(covered, Not(IsEmpty()));

  int64_t head = Head();
  ASSERT_TRUE(Withdraw(id, id_of(*first), "withdraw-1").ok());
  auto still_covered = Feed(head);
  ASSERT_EQ(still_covered->events.size(), 1u);
  EXPECT_THAT(still_covered->events[0].event.withdrawn_fields(), IsEmpty())
      << "the second consent still covers the purpose";

  head = Head();
  ASSERT_TRUE(Withdraw(id, id_of(*second), "withdraw-2").ok());
  auto uncovered = Feed(head);
  ASSERT_EQ(uncovered->events.size(), 1u);
  const auto& fields = uncovered->events[0].event.withdrawn_fields();
  EXPECT_EQ(std::vector<std::string>(fields.begin(), fields.end()), covered);
}

TEST_P(CaseConformance, ErasedCaseIsNotFoundToEveryoneAndItsEventsRemain) {
  auto erased = Create("create-1", SampleForm("99000061"));
  auto kept = Create("create-2", SampleForm("99000062"));
  ASSERT_TRUE(erased.ok() && kept.ok());
  const std::string id = CaseId(*erased);
  ASSERT_TRUE(Assign(id, "760", "assign-1").ok());
  const std::vector<v1::ChangeEvent> before = AllEvents();

  auto name = Erase(id, "erase-1");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(*name, erased->meta.name());

  EXPECT_EQ(Get(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Get(id, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Versions(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Update(id, SampleForm("99000061"), "", "update-1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Assign(id, "147", "assign-2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Erase(id, "erase-2").status().code(), absl::StatusCode::kNotFound);

  auto page = List();
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->cases.size(), 1u);
  EXPECT_EQ(page->cases[0].meta.name(), kept->meta.name());

  const std::vector<v1::ChangeEvent> after = AllEvents();
  ASSERT_EQ(after.size(), before.size() + 1);
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(after[i], before[i])) << after[i].DebugString();
  }
  EXPECT_EQ(after.back().kind(), v1::EVENT_KIND_CASE_ERASED);
  EXPECT_EQ(after.back().case_name(), erased->meta.name());
  auto municipality =
      Feed(before.back().revision(), 100, policy::EventFilterFor({Role::kMunicipality, "760"}));
  ASSERT_EQ(municipality->events.size(), 1u) << "the municipality holding it hears it";

  // The person has no live case with the operator any more.
  EXPECT_TRUE(Create("create-3", SampleForm("99000061")).ok());
  auto report = Await<store::SubjectAccessFindings>(
      [&](auto done) { store_->SubjectAccess("99000061", done); });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->case_names, ::testing::Contains(erased->meta.name())) << "erased cases too";
}

TEST_P(CaseConformance, EraseExpiredErasesCasesPastTheirTakeoverDate) {
  auto expired = Create("create-1", SampleForm("99000061"));
  auto recent = Create("create-2", SampleForm("99000062"));
  auto unassigned = Create("create-3", SampleForm("99000063"));
  ASSERT_TRUE(expired.ok() && recent.ok() && unassigned.ok());
  // Takeover 2020-03-01, and 2026-03-01.
  ASSERT_TRUE(Assign(CaseId(*expired), "760", "assign-1", MakeDate(2020, 1, 10)).ok());
  ASSERT_TRUE(Assign(CaseId(*recent), "760", "assign-2", MakeDate(2026, 1, 10)).ok());

  auto erased =
      Await<int>([&](auto done) { store_->EraseExpired(MakeDate(2021, 1, 1), "retention", done); });
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 1);
  EXPECT_EQ(Get(CaseId(*expired)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Get(CaseId(*recent)).ok());
  EXPECT_TRUE(Get(CaseId(*unassigned)).ok());
  EXPECT_EQ(AllEvents().back().kind(), v1::EVENT_KIND_CASE_ERASED);

  store::AccessQuery query;
  query.case_id = CaseId(*expired);
  auto records = Await<std::vector<v1::AccessLogEntry>>(
      [&](auto done) { store_->QueryAccessLog(query, done); });
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].record().operation(), "EraseCase");
  EXPECT_EQ((*records)[0].record().actor(), "retention");
  EXPECT_EQ((*records)[0].record().outcome(), "OK");

  auto again =
      Await<int>([&](auto done) { store_->EraseExpired(MakeDate(2021, 1, 1), "retention", done); });
  EXPECT_EQ(*again, 0);
}

TEST_P(CaseConformance, ListCasesPagesInIdOrder) {
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) {
    auto c = Create("create-" + std::to_string(i), SampleForm(std::to_string(99000061 + i)));
    ASSERT_TRUE(c.ok());
    created.insert(c->meta.name());
  }
  std::vector<std::string> listed;
  std::string after;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10);
    auto page = List(2, after);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const store::CaseSnapshot& c : page->cases) listed.push_back(c.meta.name());
    if (page->last_case_id.empty()) break;
    after = page->last_case_id;
  }
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), created);
  EXPECT_EQ(listed.size(), created.size());
}

TEST_P(CaseConformance, ListCasesFindsThePersonAndKeepsToTheScope) {
  ASSERT_TRUE(Create("create-1", SampleForm("99000061"), kRedCross).ok());
  ASSERT_TRUE(Create("create-2", SampleForm("99000062"), kRedCross).ok());
  ASSERT_TRUE(Create("create-3", SampleForm("99000061"), kHanstholm).ok());
  auto list = [&](store::CaseQuery query) {
    auto page = Await<store::CasePage>([&](auto done) { store_->ListCases(query, done); });
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->cases.size() : 0u;
  };
  EXPECT_EQ(list({.person_identifier = "99000061"}), 2u);
  EXPECT_EQ(list({.person_identifier = "9900-0061"}), 2u) << "the same person";
  EXPECT_EQ(list({.scope = store::CaseQuery::Scope::kOperator, .organisation_id = "hanstholm"}),
            1u);
  EXPECT_EQ(list({.scope = store::CaseQuery::Scope::kOperator,
                  .organisation_id = "redcross",
                  .person_identifier = "99000062"}),
            1u);
  EXPECT_EQ(list({.scope = store::CaseQuery::Scope::kMunicipality, .organisation_id = "760"}), 0u);
}

}  // namespace
}  // namespace handover::conformance
