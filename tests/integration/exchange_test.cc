// The whole exchange over real mutual TLS: an operator pushes and updates, the
// Immigration Service assigns, the assigned municipality (and only it) reads,
// consent opens and closes the health details, a re-assignment moves access.
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "common/dates.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using testing::SampleForm;
using testing::TestServer;

bool Contains(const v1::Case& c, const std::string& withheld) {
  for (const auto& path : c.withheld_fields()) {
    if (path == withheld) return true;
  }
  return false;
}

class ExchangeTest : public ::testing::Test {
 protected:
  absl::StatusOr<v1::Case> Assign(const std::string& name, const std::string& municipality) {
    v1::AssignCaseRequest request;
    request.set_name(name);
    request.set_municipality_code(municipality);
    *request.mutable_decision_date() = MakeDate(2026, 5, 15);
    request.set_request_id(client::HandoverClient::NewRequestId());
    return uds_->AssignCase(request);
  }

  absl::StatusOr<v1::Consent> Consent(const std::string& name, v1::ConsentPurpose purpose) {
    v1::RecordConsentRequest request;
    request.set_parent(name);
    request.mutable_consent()->set_purpose(purpose);
    *request.mutable_consent()->mutable_given_date() = MakeDate(2026, 5, 1);
    request.set_request_id(client::HandoverClient::NewRequestId());
    return operator_->RecordConsent(request);
  }

  TestServer server_;
  std::unique_ptr<client::HandoverClient> operator_ = server_.ClientFor("operator-redcross");
  std::unique_ptr<client::HandoverClient> other_operator_ = server_.ClientFor("operator-hanstholm");
  std::unique_ptr<client::HandoverClient> uds_ = server_.ClientFor("immigration-service-uds");
  std::unique_ptr<client::HandoverClient> m760_ = server_.ClientFor("municipality-760");
  std::unique_ptr<client::HandoverClient> m147_ = server_.ClientFor("municipality-147");
  std::unique_ptr<client::HandoverClient> auditor_ = server_.ClientFor("auditor-dpo");
};

TEST_F(ExchangeTest, PushAssignPullWithConsentAndReassignment) {
  // The operator pushes the form and keeps it current.
  auto created = operator_->CreateCase(SampleForm(), "create-1");
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string name = created->name();
  EXPECT_EQ(created->state(), v1::CASE_STATE_ASYLUM);
  EXPECT_EQ(created->version(), 1);
  EXPECT_EQ(created->operator_id(), "redcross");

  v1::UpdateFormRequest update;
  update.set_name(name);
  update.mutable_form()->mutable_languages()->set_mother_tongue("ar");
  update.mutable_form()->mutable_languages()->set_danish_level(v1::CEFR_LEVEL_A2);
  update.mutable_update_mask()->add_paths("languages.danish_level");
  update.set_etag(created->etag());
  update.set_request_id("update-1");
  auto updated = operator_->UpdateForm(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version(), 2);
  EXPECT_EQ(updated->form().languages().danish_level(), v1::CEFR_LEVEL_A2);
  EXPECT_EQ(updated->form().identity().family_name(), "Eksempelsen") << "mask kept the rest";

  // Before assignment no municipality sees it.
  EXPECT_EQ(m760_->GetCase(name).status().code(), absl::StatusCode::kNotFound);
  auto none = m760_->ListCases({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->cases_size(), 0);

  // The Immigration Service sees what assignment needs, and assigns.
  auto seen_by_uds = uds_->GetCase(name);
  ASSERT_TRUE(seen_by_uds.ok()) << seen_by_uds.status();
  EXPECT_FALSE(seen_by_uds->form().health().has_medical_record_reference());
  EXPECT_EQ(seen_by_uds->form().documents_size(), 0);
  EXPECT_TRUE(Contains(*seen_by_uds, "documents"));
  auto assigned = Assign(name, "760");
  ASSERT_TRUE(assigned.ok()) << assigned.status();
  EXPECT_EQ(assigned->state(), v1::CASE_STATE_ASSIGNED);
  EXPECT_EQ(FormatDate(assigned->assignment().takeover_date()), "2026-07-01");

  // The assigned municipality lists and reads it, without health details.
  auto listed = m760_->ListCases({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->cases_size(), 1);
  EXPECT_EQ(listed->cases(0).name(), name);
  EXPECT_FALSE(listed->cases(0).has_form()) << "list defaults to the basic view";
  auto read = m760_->GetCase(name);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->form().identity().family_name(), "Eksempelsen");
  EXPECT_FALSE(read->form().health().has_medical_record_reference());
  EXPECT_TRUE(read->form().health().special_needs_description().empty());
  EXPECT_TRUE(Contains(*read, "health.medical_record_reference"));
  EXPECT_EQ(read->form().documents_size(), 1);

  // Another municipality, another operator and the auditor are refused.
  EXPECT_EQ(m147_->GetCase(name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other_operator_->GetCase(name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(auditor_->GetCase(name).status().code(), absl::StatusCode::kPermissionDenied);

  // Versions: the municipality reads the history.
  v1::ListVersionsRequest versions_request;
  versions_request.set_parent(name);
  auto versions = m760_->ListVersions(versions_request);
  ASSERT_TRUE(versions.ok()) << versions.status();
  ASSERT_EQ(versions->versions_size(), 2);
  EXPECT_EQ(versions->versions(0).version(), 2);
  auto first = m760_->GetVersion(name + "/versions/1");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->form().languages().danish_level(), v1::CEFR_LEVEL_A1);
  EXPECT_FALSE(first->form().health().has_medical_record_reference());
  EXPECT_EQ(m147_->GetVersion(name + "/versions/1").status().code(), absl::StatusCode::kNotFound);

  // Consent opens the medical record reference; withdrawal closes it at once.
  auto consent = Consent(name, v1::CONSENT_PURPOSE_MEDICAL_RECORD);
  ASSERT_TRUE(consent.ok()) << consent.status();
  auto with_consent = m760_->GetCase(name);
  ASSERT_TRUE(with_consent.ok());
  EXPECT_EQ(with_consent->form().health().medical_record_reference().record_identifier(),
            "EMAR-TEST-0001");
  EXPECT_TRUE(with_consent->form().health().special_needs_description().empty())
      << "a medical-record consent does not cover health needs";
  ASSERT_TRUE(operator_->WithdrawConsent(consent->name(), "withdraw-1").ok());
  auto withdrawn = m760_->GetCase(name);
  ASSERT_TRUE(withdrawn.ok());
  EXPECT_FALSE(withdrawn->form().health().has_medical_record_reference());
  EXPECT_EQ(operator_->WithdrawConsent(consent->name(), "withdraw-2").status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Re-assignment: the earlier municipality loses access, the new one gains it.
  auto moved = Assign(name, "147");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->assignment().previous_municipality_code(), "760");
  EXPECT_EQ(m760_->GetCase(name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m760_->ListVersions(versions_request).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(m147_->GetCase(name).ok());
  EXPECT_EQ(Assign(name, "147").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ExchangeTest, RolesThatMayNeverCallAreDenied) {
  EXPECT_EQ(m760_->CreateCase(SampleForm(), "m-create").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(uds_->CreateCase(SampleForm(), "u-create").status().code(),
            absl::StatusCode::kPermissionDenied);
  auto created = operator_->CreateCase(SampleForm(), "create-1");
  ASSERT_TRUE(created.ok());
  v1::AssignCaseRequest assign;
  assign.set_name(created->name());
  assign.set_municipality_code("760");
  assign.set_request_id("op-assign");
  EXPECT_EQ(operator_->AssignCase(assign).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(auditor_->ListCases({}).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(ExchangeTest, ListingPagesFindsByPersonAndScopesToTheCaller) {
  std::set<std::string> mine;
  for (int i = 0; i < 5; ++i) {
    auto c =
        operator_->CreateCase(SampleForm(std::to_string(99200000 + i)), "c" + std::to_string(i));
    ASSERT_TRUE(c.ok()) << c.status();
    mine.insert(c->name());
  }
  ASSERT_TRUE(other_operator_->CreateCase(SampleForm("99299999"), "other").ok());

  std::set<std::string> seen;
  v1::ListCasesRequest request;
  request.set_page_size(2);
  int pages = 0;
  do {
    auto page = operator_->ListCases(request);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    for (const auto& c : page->cases()) EXPECT_TRUE(seen.insert(c.name()).second) << "duplicate";
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  EXPECT_EQ(seen, mine) << "an operator lists exactly its own cases";
  EXPECT_EQ(pages, 3);

  auto all = uds_->ListCases({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->cases_size(), 6) << "the Immigration Service lists every case";

  v1::ListCasesRequest find;
  find.set_person_identifier("99200003");
  find.set_view(v1::CASE_VIEW_FULL);
  auto found = uds_->ListCases(find);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->cases_size(), 1);
  EXPECT_EQ(found->cases(0).form().identity().person_identifier(), "99200003");
  EXPECT_FALSE(found->cases(0).form().health().has_medical_record_reference());
  find.set_person_identifier("99200003");
  auto not_theirs = other_operator_->ListCases(find);
  ASSERT_TRUE(not_theirs.ok());
  EXPECT_EQ(not_theirs->cases_size(), 0);

  // A corrected identifier is found under the new one only; an update that
  // leaves it alone keeps it findable.
  v1::UpdateFormRequest correct;
  correct.set_name(found->cases(0).name());
  correct.mutable_form()->mutable_identity()->set_person_identifier("99200013");
  correct.mutable_update_mask()->add_paths("identity.person_identifier");
  correct.set_request_id("correct-identifier");
  ASSERT_TRUE(operator_->UpdateForm(correct).ok());
  v1::UpdateFormRequest other_field;
  other_field.set_name(found->cases(0).name());
  other_field.mutable_form()->mutable_wishes_and_plans()->set_expectations("Fictional update");
  other_field.mutable_update_mask()->add_paths("wishes_and_plans.expectations");
  other_field.set_request_id("other-field");
  ASSERT_TRUE(operator_->UpdateForm(other_field).ok());
  auto by_old = uds_->ListCases(find);
  ASSERT_TRUE(by_old.ok());
  EXPECT_EQ(by_old->cases_size(), 0);
  find.set_person_identifier("99200013");
  auto by_new = uds_->ListCases(find);
  ASSERT_TRUE(by_new.ok());
  ASSERT_EQ(by_new->cases_size(), 1);
  EXPECT_EQ(by_new->cases(0).name(), found->cases(0).name());
}

TEST_F(ExchangeTest, AcknowledgedWritesSurviveAServerRestart) {
  auto created = operator_->CreateCase(SampleForm(), "create-1");
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(Assign(created->name(), "760").ok());
  server_.Restart();
  auto m760 = server_.ClientFor("municipality-760");
  auto read = m760->GetCase(created->name());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->form().identity().given_names(), "Testa Fiktiva");
}

}  // namespace
}  // namespace handover
