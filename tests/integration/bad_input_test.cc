// Malformed, missing and oversize input: INVALID_ARGUMENT (or
// RESOURCE_EXHAUSTED past the message limit) naming the field path, and
// nothing written.
#include <gtest/gtest.h>

#include "tests/testing/test_server.h"

namespace handover {
namespace {

using testing::SampleForm;
using testing::TestServer;
using testing::TestServerOptions;

ServerOptions SmallLimits() {
  ServerOptions options = TestServerOptions(testing::NewTempDir());
  options.max_receive_message_bytes = 64 * 1024;
  options.service.form_limits.max_text_bytes = 200;
  options.service.form_limits.max_list_items = 5;
  return options;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = operator_->CreateCase(SampleForm(), "create-1");
    ASSERT_TRUE(created.ok()) << created.status();
    existing_ = *created;
  }

  // Nothing was written: still one case, at its first version.
  void ExpectUnchanged() {
    auto cases = operator_->ListCases({});
    ASSERT_TRUE(cases.ok());
    ASSERT_EQ(cases->cases_size(), 1);
    EXPECT_EQ(cases->cases(0).version(), 1);
    EXPECT_EQ(cases->cases(0).state(), v1::CASE_STATE_ASYLUM);
  }

  void ExpectInvalid(const absl::Status& status, const std::string& message) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(status.message(), message);
    ExpectUnchanged();
  }

  absl::Status Update(const v1::HandoverForm& form, std::vector<std::string> paths = {}) {
    v1::UpdateFormRequest request;
    request.set_name(existing_.name());
    *request.mutable_form() = form;
    for (auto& p : paths) request.mutable_update_mask()->add_paths(p);
    request.set_request_id(client::HandoverClient::NewRequestId());
    return operator_->UpdateForm(request).status();
  }

  TestServer server_{SmallLimits()};
  std::unique_ptr<client::HandoverClient> operator_ = server_.ClientFor("operator-redcross");
  std::unique_ptr<client::HandoverClient> uds_ = server_.ClientFor("immigration-service-uds");
  v1::Case existing_;
};

TEST_F(BadInputTest, MissingFields) {
  ExpectInvalid(operator_->CreateCase(SampleForm("99000002"), "").status(), "request_id: required");
  v1::HandoverForm no_name = SampleForm("99000002");
  no_name.mutable_identity()->clear_family_name();
  ExpectInvalid(operator_->CreateCase(no_name, "r1").status(),
                "form.identity.family_name: required");
  v1::HandoverForm no_household = SampleForm("99000002");
  no_household.clear_household();
  ExpectInvalid(operator_->CreateCase(no_household, "r2").status(),
                "form.household.type: required");
}

TEST_F(BadInputTest, MalformedFields) {
  v1::HandoverForm bad_country = SampleForm("99000002");
  bad_country.mutable_identity()->add_nationalities("XX");
  ExpectInvalid(operator_->CreateCase(bad_country, "r1").status(),
                "form.identity.nationalities[1]: must be an ISO 3166-1 alpha-2 country code in "
                "upper case");
  v1::HandoverForm bad_date = SampleForm("99000002");
  bad_date.mutable_identity()->mutable_date_of_birth()->set_day(31);
  bad_date.mutable_identity()->mutable_date_of_birth()->set_month(2);
  ExpectInvalid(operator_->CreateCase(bad_date, "r2").status(),
                "form.identity.date_of_birth: must be a real calendar date (year 1-9999)");
  ExpectInvalid(operator_->GetCase("cases/not-a-case").status(),
                "name: must be cases/{case} with a 16-hex-digit case id");

  v1::HandoverForm minor_report = SampleForm();
  minor_report.add_documents()->set_type(v1::DOCUMENT_TYPE_SOCIAL_REPORT);
  ExpectInvalid(Update(minor_report),
                "form.documents[2].type: a social report is only for an "
                "unaccompanied minor");
  ExpectInvalid(Update(SampleForm(), {"identity.no_such_field"}),
                "update_mask.paths[0]: not a field path of HandoverForm");
  // A mask that would leave the form invalid is caught on the merged result.
  v1::HandoverForm empty;
  ExpectInvalid(Update(empty, {"identity.given_names"}), "form.identity.given_names: required");

  v1::AssignCaseRequest assign;
  assign.set_name(existing_.name());
  assign.set_municipality_code("76");
  assign.set_request_id("a1");
  ExpectInvalid(uds_->AssignCase(assign).status(),
                "municipality_code: required, a three-digit municipality code");

  v1::RecordConsentRequest consent;
  consent.set_parent(existing_.name());
  consent.set_request_id("c1");
  consent.mutable_consent()->mutable_given_date()->set_year(2026);
  ExpectInvalid(operator_->RecordConsent(consent).status(),
                "consent.purpose: required, one of the ConsentPurpose values");
}

TEST_F(BadInputTest, OversizeFields) {
  v1::HandoverForm long_text = SampleForm("99000002");
  long_text.mutable_wishes_and_plans()->set_expectations(std::string(201, 'x'));
  const absl::Status status = operator_->CreateCase(long_text, "r1").status();
  ExpectInvalid(status, "form.wishes_and_plans.expectations: at most 200 bytes");
  EXPECT_EQ(status.message().find("xxx"), std::string::npos) << "never echo the value";

  v1::HandoverForm long_list = SampleForm("99000002");
  for (int i = 0; i < 6; ++i) long_list.mutable_informal_competences()->add_skills("skill");
  ExpectInvalid(operator_->CreateCase(long_list, "r2").status(),
                "form.informal_competences.skills: at most 5 items");

  v1::HandoverForm huge = SampleForm("99000002");
  huge.mutable_wishes_and_plans()->set_expectations(std::string(100 * 1024, 'x'));
  EXPECT_EQ(operator_->CreateCase(huge, "r3").status().code(),
            absl::StatusCode::kResourceExhausted);
  ExpectUnchanged();
}

}  // namespace
}  // namespace handover
