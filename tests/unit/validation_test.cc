// common/validation.h: every rule fails with INVALID_ARGUMENT
// "<field path>: <rule>" and never repeats the offending value.
#include "common/validation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/dates.h"

namespace handover {
namespace {

constexpr char kCase[] = "cases/0123456789abcdef";

// The smallest form that passes: the required identity fields and a household type.
v1::HandoverForm MinimalForm() {
  v1::HandoverForm form;
  v1::Identity* identity = form.mutable_identity();
  identity->set_person_identifier("99000001");
  identity->set_given_names("Testperson");
  identity->set_family_name("Fiktiv");
  *identity->mutable_date_of_birth() = MakeDate(1990, 1, 1);
  form.mutable_household()->set_type(v1::HOUSEHOLD_TYPE_SINGLE_ADULT);
  return form;
}

void ExpectError(const v1::HandoverForm& form, const std::string& message,
                 const FormLimits& limits = {}) {
  EXPECT_EQ(ValidateForm(form, limits), absl::InvalidArgumentError(message));
}

void ExpectValid(const v1::HandoverForm& form, const FormLimits& limits = {}) {
  EXPECT_EQ(ValidateForm(form, limits), absl::OkStatus());
}

TEST(ValidateFormTest, MinimalFormIsValid) { ExpectValid(MinimalForm()); }

TEST(ValidateFormTest, FullyFilledFormIsValid) {
  v1::HandoverForm form = MinimalForm();
  v1::Identity* identity = form.mutable_identity();
  identity->set_person_identifier("9900-0001");
  identity->set_personal_number("010190-9999");
  identity->set_sex(v1::SEX_FEMALE);
  identity->add_nationalities("SY");
  identity->add_nationalities("AF");
  identity->add_spoken_languages("ar");
  identity->add_spoken_languages("prs");
  identity->set_interpreter_needed(true);
  identity->set_interpreter_language("ar");
  v1::Household* household = form.mutable_household();
  household->set_type(v1::HOUSEHOLD_TYPE_FAMILY_WITH_CHILDREN);
  household->add_related_cases(kCase);
  v1::Child* child = household->add_children();
  child->set_given_names("Testbarn");
  *child->mutable_date_of_birth() = MakeDate(2020, 2, 29);
  v1::Residence* residence = form.mutable_residence();
  residence->set_permit_type(v1::PERMIT_TYPE_PROTECTION_STATUS);
  *residence->mutable_permit_date() = MakeDate(2025, 6, 1);
  *residence->mutable_permit_expiry_date() = MakeDate(2025, 6, 1);
  v1::Activity* activity = form.mutable_asylum_stay()->add_activities();
  activity->set_kind(v1::ACTIVITY_KIND_DANISH_LESSONS);
  *activity->mutable_start_date() = MakeDate(2025, 1, 6);
  v1::Education* education = form.mutable_formal_competences()->add_education();
  education->set_level(v1::ISCED_LEVEL_BACHELOR);
  education->set_country("SY");
  education->set_years(30);
  v1::WorkExperience* work = form.mutable_formal_competences()->add_work_experience();
  work->set_isco_code("2221");
  work->set_country("TR");
  work->set_years(60);
  form.mutable_formal_competences()->add_work_experience()->set_isco_code("2");
  form.mutable_languages()->set_mother_tongue("ar");
  v1::LanguageSkill* skill = form.mutable_languages()->add_other_languages();
  skill->set_language("en");
  skill->set_level(v1::CEFR_LEVEL_B1);
  form.add_documents()->set_type(v1::DOCUMENT_TYPE_CHILDCARE_STATEMENT);
  form.add_documents()->set_type(v1::DOCUMENT_TYPE_RESIDENCE_PERMIT);
  form.mutable_handover_conversation()->add_topics(v1::CONVERSATION_TOPIC_BENEFITS);
  ExpectValid(form);
}

TEST(ValidateFormTest, RequiredFields) {
  v1::HandoverForm form = MinimalForm();
  form.mutable_identity()->clear_person_identifier();
  ExpectError(form, "form.identity.person_identifier: required");

  form = MinimalForm();
  form.mutable_identity()->clear_given_names();
  ExpectError(form, "form.identity.given_names: required");

  form = MinimalForm();
  form.mutable_identity()->clear_family_name();
  ExpectError(form, "form.identity.family_name: required");

  form = MinimalForm();
  form.mutable_identity()->clear_date_of_birth();
  ExpectError(form, "form.identity.date_of_birth: required");

  form = MinimalForm();
  form.mutable_household()->clear_type();
  ExpectError(form, "form.household.type: required");

  ExpectError(v1::HandoverForm(), "form.identity.person_identifier: required");
}

TEST(ValidateFormTest, PathPrefixRootsEveryPath) {
  v1::HandoverForm form = MinimalForm();
  form.mutable_identity()->clear_given_names();
  EXPECT_EQ(ValidateForm(form, {}, "update.form"),
            absl::InvalidArgumentError("update.form.identity.given_names: required"));
}

TEST(ValidateFormTest, PersonIdentifierShape) {
  v1::HandoverForm form = MinimalForm();
  form.mutable_identity()->set_person_identifier("99-00-0001");
  ExpectError(form,
              "form.identity.person_identifier: must be 6 to 12 digits, optionally with one "
              "hyphen inside");
}

TEST(ValidateFormTest, DateOfBirthNotInTheFuture) {
  v1::HandoverForm form = MinimalForm();
  const v1::Date today = TodayUtc();
  *form.mutable_identity()->mutable_date_of_birth() = today;
  ExpectValid(form);
  *form.mutable_identity()->mutable_date_of_birth() = MakeDate(today.year() + 1, 1, 1);
  ExpectError(form, "form.identity.date_of_birth: must not be in the future");
}

TEST(ValidateFormTest, DatesMustBeRealCalendarDates) {
  const std::string rule = ": must be a real calendar date (year 1-9999)";
  v1::HandoverForm form = MinimalForm();
  *form.mutable_identity()->mutable_date_of_birth() = MakeDate(2001, 2, 30);
  ExpectError(form, "form.identity.date_of_birth" + rule);

  form = MinimalForm();
  *form.mutable_identity()->mutable_date_of_birth() = MakeDate(2001, 1, 257);
  ExpectError(form, "form.identity.date_of_birth" + rule);

  form = MinimalForm();
  form.mutable_identity()->mutable_date_of_birth()->Clear();  // present but 0000-00-00
  ExpectError(form, "form.identity.date_of_birth" + rule);

  form = MinimalForm();
  form.mutable_asylum_stay()->add_activities();
  *form.mutable_asylum_stay()->add_activities()->mutable_end_date() = MakeDate(2025, 4, 31);
  ExpectError(form, "form.asylum_stay.activities[1].end_date" + rule);

  form = MinimalForm();
  form.mutable_household()->set_type(v1::HOUSEHOLD_TYPE_FAMILY_WITH_CHILDREN);
  *form.mutable_household()->add_children()->mutable_date_of_birth() = MakeDate(2019, 2, 29);
  ExpectError(form, "form.household.children[0].date_of_birth" + rule);
}

TEST(ValidateFormTest, CountryCodes) {
  const std::string rule = ": must be an ISO 3166-1 alpha-2 country code in upper case";
  v1::HandoverForm form = MinimalForm();
  form.mutable_identity()->add_nationalities("SY");
  form.mutable_identity()->add_nationalities("XX");
  ExpectError(form, "form.identity.nationalities[1]" + rule);

  form = MinimalForm();
  form.mutable_identity()->add_nationalities("sy");
  ExpectError(form, "form.identity.nationalities[0]" + rule);

  form = MinimalForm();
  form.mutable_formal_competences()->add_education()->set_country("SYR");
  ExpectError(form, "form.formal_competences.education[0].country" + rule);

  form = MinimalForm();
  form.mutable_formal_competences()->add_work_experience()->set_country("QQ");
  ExpectError(form, "form.formal_competences.work_experience[0].country" + rule);
}

TEST(ValidateFormTest, LanguageCodes) {
  const std::string rule = ": must be an ISO 639 language code (2 or 3 lower-case letters)";
  v1::HandoverForm form = MinimalForm();
  form.mutable_identity()->add_spoken_languages("ar");
  form.mutable_identity()->add_spoken_languages("AR");
  ExpectError(form, "form.identity.spoken_languages[1]" + rule);

  form = MinimalForm();
  form.mutable_identity()->add_spoken_languages("arab");
  ExpectError(form, "form.identity.spoken_languages[0]" + rule);

  form = MinimalForm();
  form.mutable_identity()->set_interpreter_language("a");
  ExpectError(form, "form.identity.interpreter_language" + rule);

  form = MinimalForm();
  form.mutable_languages()->set_mother_tongue("Arabic");
  ExpectError(form, "form.languages.mother_tongue" + rule);

  form = MinimalForm();
  form.mutable_languages()->add_other_languages()->set_language("en");
  form.mutable_languages()->add_other_languages()->set_language("e1");
  ExpectError(form, "form.languages.other_languages[1].language" + rule);

  form = MinimalForm();
  form.mutable_languages()->add_other_languages()->set_level(v1::CEFR_LEVEL_A2);
  ExpectError(form, "form.languages.other_languages[0].language: required");
}

TEST(ValidateFormTest, InterpreterNeededRequiresALanguage) {
  v1::HandoverForm form = MinimalForm();
  form.mutable_identity()->set_interpreter_needed(true);
  ExpectError(form, "form.identity.interpreter_language: required when interpreter_needed");
  form.mutable_identity()->set_interpreter_language("ti");
  ExpectValid(form);
}

TEST(ValidateFormTest, PersonalNumber) {
  const std::string error =
      "form.identity.personal_number: must be ten digits DDMMYYSSSS (a hyphen after DDMMYY is "
      "allowed)";
  v1::HandoverForm form = MinimalForm();
  for (const char* valid : {"0101909999", "010190-9999", "2902009999", "3112999999"}) {
    form.mutable_identity()->set_personal_number(valid);
    EXPECT_TRUE(ValidateForm(form, {}).ok()) << valid;
  }
  for (const char* invalid : {"3102909999", "0113909999", "0001909999", "010190999", "01019099999",
                              "01019-09999", "010190 9999", "01019O9999", "010190--9999"}) {
    form.mutable_identity()->set_personal_number(invalid);
    EXPECT_EQ(ValidateForm(form, {}), absl::InvalidArgumentError(error)) << invalid;
  }
}

TEST(ValidateFormTest, ChildrenOnlyInAFamilyWithChildren) {
  const std::string error = "form.household.children: only for HOUSEHOLD_TYPE_FAMILY_WITH_CHILDREN";
  v1::HandoverForm form = MinimalForm();
  form.mutable_household()->add_children()->set_given_names("Testbarn");
  ExpectError(form, error);
  form.mutable_household()->set_type(v1::HOUSEHOLD_TYPE_UNACCOMPANIED_MINOR);
  ExpectError(form, error);
  form.mutable_household()->set_type(v1::HOUSEHOLD_TYPE_FAMILY_WITH_CHILDREN);
  ExpectValid(form);
}

TEST(ValidateFormTest, RelatedCasesAreCaseNames) {
  const std::string rule = ": must be cases/{case} with a 16-hex-digit case id";
  for (const char* bad : {"0123456789abcdef", "cases/0123456789ABCDEF", "cases/0123456789abcde",
                          "cases/0123456789abcdef/versions/1", "kases/0123456789abcdef", ""}) {
    v1::HandoverForm form = MinimalForm();
    form.mutable_household()->add_related_cases(kCase);
    form.mutable_household()->add_related_cases(bad);
    EXPECT_EQ(ValidateForm(form, {}),
              absl::InvalidArgumentError("form.household.related_cases[1]" + rule))
        << bad;
  }
}

TEST(ValidateFormTest, EducationYearsFromZeroToThirty) {
  const std::string error = "form.formal_competences.education[0].years: must be from 0 to 30";
  v1::HandoverForm form = MinimalForm();
  v1::Education* education = form.mutable_formal_competences()->add_education();
  education->set_years(0);
  ExpectValid(form);
  education->set_years(30);
  ExpectValid(form);
  education->set_years(31);
  ExpectError(form, error);
  education->set_years(-1);
  ExpectError(form, error);
}

TEST(ValidateFormTest, WorkYearsFromZeroToSixty) {
  v1::HandoverForm form = MinimalForm();
  form.mutable_formal_competences()->add_work_experience()->set_years(61);
  ExpectError(form, "form.formal_competences.work_experience[0].years: must be from 0 to 60");
}

TEST(ValidateFormTest, IscoCodes) {
  const std::string error =
      "form.formal_competences.work_experience[1].isco_code: must be an ISCO-08 code of 1 to 4 "
      "digits";
  for (const char* bad : {"22211", "22a1", "-1", " 222"}) {
    v1::HandoverForm form = MinimalForm();
    form.mutable_formal_competences()->add_work_experience()->set_isco_code("22");
    form.mutable_formal_competences()->add_work_experience()->set_isco_code(bad);
    EXPECT_EQ(ValidateForm(form, {}), absl::InvalidArgumentError(error)) << bad;
  }
}

TEST(ValidateFormTest, DocumentTypeRequired) {
  v1::HandoverForm form = MinimalForm();
  form.add_documents()->set_note("Testnote");
  ExpectError(form, "form.documents[0].type: required");
}

TEST(ValidateFormTest, SocialReportOnlyForAnUnaccompaniedMinor) {
  v1::HandoverForm form = MinimalForm();
  form.add_documents()->set_type(v1::DOCUMENT_TYPE_RESIDENCE_PERMIT);
  form.add_documents()->set_type(v1::DOCUMENT_TYPE_SOCIAL_REPORT);
  ExpectError(form, "form.documents[1].type: a social report is only for an unaccompanied minor");
  form.mutable_household()->set_type(v1::HOUSEHOLD_TYPE_FAMILY_WITH_CHILDREN);
  ExpectError(form, "form.documents[1].type: a social report is only for an unaccompanied minor");
  form.mutable_household()->set_type(v1::HOUSEHOLD_TYPE_UNACCOMPANIED_MINOR);
  ExpectValid(form);
}

TEST(ValidateFormTest, ChildcareStatementOnlyForAFamilyWithChildren) {
  const std::string error =
      "form.documents[0].type: a school, club or kindergarten statement is only for a family "
      "with children under 18";
  v1::HandoverForm form = MinimalForm();
  form.add_documents()->set_type(v1::DOCUMENT_TYPE_CHILDCARE_STATEMENT);
  ExpectError(form, error);
  form.mutable_household()->set_type(v1::HOUSEHOLD_TYPE_COUPLE_WITHOUT_CHILDREN);
  ExpectError(form, error);
  form.mutable_household()->set_type(v1::HOUSEHOLD_TYPE_FAMILY_WITH_CHILDREN);
  ExpectValid(form);
}

TEST(ValidateFormTest, StringsAtMostMaxTextBytes) {
  const FormLimits limits{.max_text_bytes = 10, .max_list_items = 100};
  v1::HandoverForm form = MinimalForm();
  form.mutable_identity()->set_given_names("Testperson");  // exactly 10 bytes
  ExpectValid(form, limits);
  form.mutable_identity()->set_given_names("Testpersonx");
  ExpectError(form, "form.identity.given_names: at most 10 bytes", limits);

  // Bytes, not characters: six two-byte letters are 12 bytes.
  form = MinimalForm();
  form.mutable_identity()->set_family_name("\xc3\x98\xc3\x98\xc3\x98\xc3\x98\xc3\x98\xc3\x98");
  ExpectError(form, "form.identity.family_name: at most 10 bytes", limits);

  form = MinimalForm();
  form.mutable_informal_competences()->add_skills("Testskill");
  form.mutable_informal_competences()->add_skills("Testskill-2");
  ExpectError(form, "form.informal_competences.skills[1]: at most 10 bytes", limits);

  form = MinimalForm();
  form.mutable_health()->mutable_medical_record_reference()->set_clinic("Testklinik Fiktivby");
  ExpectError(form, "form.health.medical_record_reference.clinic: at most 10 bytes", limits);
}

TEST(ValidateFormTest, TextHoldsNoControlCharacters) {
  v1::HandoverForm form = MinimalForm();
  form.mutable_identity()->set_given_names(std::string("Test\0person", 11));
  ExpectError(form,
              "form.identity.given_names: must not contain control characters (tab and line "
              "breaks only)");
  form = MinimalForm();
  form.mutable_informal_competences()->add_skills("Testskill");
  form.mutable_informal_competences()->add_skills("Test\x1b[2Jskill");
  ExpectError(form,
              "form.informal_competences.skills[1]: must not contain control characters (tab and "
              "line breaks only)");
  form = MinimalForm();
  form.mutable_identity()->set_family_name("Fiktiv\x7f");
  EXPECT_FALSE(ValidateForm(form, {}).ok());
  // Tab and line breaks are text.
  form = MinimalForm();
  form.mutable_wishes_and_plans()->set_expectations("Line one\r\nLine two\twith a tab");
  ExpectValid(form);
}

TEST(ValidateFormTest, ListsAtMostMaxListItems) {
  const FormLimits limits{.max_text_bytes = 4096, .max_list_items = 2};
  v1::HandoverForm form = MinimalForm();
  form.mutable_identity()->add_nationalities("SY");
  form.mutable_identity()->add_nationalities("AF");
  ExpectValid(form, limits);
  form.mutable_identity()->add_nationalities("ER");
  ExpectError(form, "form.identity.nationalities: at most 2 items", limits);

  form = MinimalForm();
  for (int i = 0; i < 3; ++i) form.add_documents()->set_type(v1::DOCUMENT_TYPE_HANDOVER_FORM);
  ExpectError(form, "form.documents: at most 2 items", limits);

  form = MinimalForm();
  for (int i = 0; i < 3; ++i) form.mutable_asylum_stay()->add_activities();
  ExpectError(form, "form.asylum_stay.activities: at most 2 items", limits);
}

TEST(ValidateFormTest, UnknownEnumValues) {
  v1::HandoverForm form = MinimalForm();
  form.mutable_identity()->set_sex(static_cast<v1::Sex>(99));
  ExpectError(form, "form.identity.sex: unknown enum value");

  form = MinimalForm();
  form.mutable_household()->set_type(static_cast<v1::HouseholdType>(99));
  ExpectError(form, "form.household.type: unknown enum value");

  form = MinimalForm();
  form.mutable_languages()->add_other_languages()->set_language("en");
  form.mutable_languages()->add_other_languages()->set_level(static_cast<v1::CefrLevel>(-1));
  ExpectError(form, "form.languages.other_languages[1].level: unknown enum value");

  form = MinimalForm();
  form.mutable_handover_conversation()->add_topics(v1::CONVERSATION_TOPIC_ECONOMY);
  form.mutable_handover_conversation()->add_topics(static_cast<v1::ConversationTopic>(10));
  ExpectError(form, "form.handover_conversation.topics[1]: unknown enum value");
}

TEST(ValidateFormTest, ResidenceExpiryNotBeforePermitDate) {
  v1::HandoverForm form = MinimalForm();
  *form.mutable_residence()->mutable_permit_date() = MakeDate(2025, 6, 1);
  *form.mutable_residence()->mutable_permit_expiry_date() = MakeDate(2025, 5, 31);
  ExpectError(form, "form.residence.permit_expiry_date: must not be before residence.permit_date");
  *form.mutable_residence()->mutable_permit_expiry_date() = MakeDate(2027, 6, 1);
  ExpectValid(form);
}

// Messages name the path and the rule, never the value: the value may be
// personal data and the message ends up in logs.
TEST(ValidateFormTest, MessagesNeverContainTheOffendingValue) {
  const FormLimits limits{.max_text_bytes = 16, .max_list_items = 100};
  struct Case {
    std::string value;
    void (*set)(v1::HandoverForm&, const std::string&);
  };
  const std::vector<Case> cases = {
      {"Testperson-Overlong-Name",
       [](v1::HandoverForm& f, const std::string& v) { f.mutable_identity()->set_given_names(v); }},
      {"QQ", [](v1::HandoverForm& f,
                const std::string& v) { f.mutable_identity()->add_nationalities(v); }},
      {"xyzw", [](v1::HandoverForm& f,
                  const std::string& v) { f.mutable_identity()->add_spoken_languages(v); }},
      {"3102909999", [](v1::HandoverForm& f,
                        const std::string& v) { f.mutable_identity()->set_personal_number(v); }},
      {"99x00001", [](v1::HandoverForm& f,
                      const std::string& v) { f.mutable_identity()->set_person_identifier(v); }},
      {"cases/fiktiv", [](v1::HandoverForm& f,
                          const std::string& v) { f.mutable_household()->add_related_cases(v); }},
      {"98765",
       [](v1::HandoverForm& f, const std::string& v) {
         f.mutable_formal_competences()->add_work_experience()->set_isco_code(v);
       }},
  };
  for (const Case& c : cases) {
    v1::HandoverForm form = MinimalForm();
    c.set(form, c.value);
    const absl::Status status = ValidateForm(form, limits);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.value;
    EXPECT_EQ(std::string(status.message()).find(c.value), std::string::npos) << status;
  }
}

TEST(ValidateReasonCodeTest, OneHomeForTheShapeOfAReasonCode) {
  EXPECT_TRUE(ValidateReasonCode("retention-expired", "reason").ok());
  EXPECT_TRUE(ValidateReasonCode("case:2026.05_x", "reason").ok());
  EXPECT_TRUE(ValidateReasonCode(std::string(64, 'a'), "reason").ok());
  for (const std::string& bad : {std::string(), std::string(65, 'a'), std::string("Retention"),
                                 std::string("a b"), std::string("navn: Fictional Person")}) {
    EXPECT_EQ(ValidateReasonCode(bad, "reason"),
              absl::InvalidArgumentError("reason: 1 to 64 of a-z 0-9 . _ : - (a reason code)"))
        << bad;
  }
}

TEST(ValidateRequestIdTest, AcceptsTheAllowedCharacters) {
  EXPECT_TRUE(ValidateRequestId("req-2026.05:test_1", "request_id").ok());
  EXPECT_TRUE(ValidateRequestId("a", "request_id").ok());
  EXPECT_TRUE(ValidateRequestId(std::string(128, 'r'), "request_id").ok());
}

TEST(ValidateRequestIdTest, Rejects) {
  EXPECT_EQ(ValidateRequestId("", "request_id"),
            absl::InvalidArgumentError("request_id: required"));
  EXPECT_EQ(ValidateRequestId(std::string(129, 'r'), "request_id"),
            absl::InvalidArgumentError("request_id: at most 128 characters"));
  for (const char* bad : {"req 1", "req/1", "req\n1", "r\xc3\xa9q", "req+1"}) {
    EXPECT_EQ(ValidateRequestId(bad, "update.request_id"),
              absl::InvalidArgumentError("update.request_id: only letters, digits and . _ : -"))
        << bad;
  }
}

TEST(ValidatePersonIdentifierTest, AcceptsSixToTwelveDigitsWithOneInnerHyphen) {
  for (const char* id : {"990001", "99000001", "990000000001", "9900-0001", "9-900001"}) {
    EXPECT_TRUE(ValidatePersonIdentifier(id, "person_identifier").ok()) << id;
  }
}

TEST(ValidatePersonIdentifierTest, Rejects) {
  EXPECT_EQ(ValidatePersonIdentifier("", "person_identifier"),
            absl::InvalidArgumentError("person_identifier: required"));
  const absl::Status shape = absl::InvalidArgumentError(
      "person_identifier: must be 6 to 12 digits, optionally with one hyphen inside");
  for (const char* bad : {"99001", "9900000000001", "-99000001", "99000001-", "99-00-0001",
                          "9900--0001", "9900 0001", "99OOOOO1", "99-001"}) {
    EXPECT_EQ(ValidatePersonIdentifier(bad, "person_identifier"), shape) << bad;
  }
}

// Both spellings of one identifier are one person (the store hashes the
// canonical form), and canonicalising keeps a valid identifier valid.
TEST(ValidatePersonIdentifierTest, TheHyphenCarriesNoMeaning) {
  EXPECT_EQ(CanonicalPersonIdentifier("9900-0001"), "99000001");
  EXPECT_EQ(CanonicalPersonIdentifier("9-900001"), CanonicalPersonIdentifier("9900001"));
  EXPECT_EQ(CanonicalPersonIdentifier("99000001"), "99000001");
  for (const char* id : {"990001", "9900-0001", "9-900001"}) {
    EXPECT_TRUE(ValidatePersonIdentifier(CanonicalPersonIdentifier(id), "person_identifier").ok())
        << id;
  }
}

}  // namespace
}  // namespace handover
