// server/identity/organisation_register.h: the register file's checks, and
// who a certificate's facts name. Fictional CVRs (9999xxxx) and names.
#include "server/identity/organisation_register.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/test_certificates.h"
#include "tests/testing/test_server.h"

namespace handover::identity {
namespace {

constexpr char kAllowedUuid[] = "0b7e7dee-5b1e-4d0c-9a0e-00000000a001";
constexpr char kOtherUuid[] = "0b7e7dee-5b1e-4d0c-9a0e-00000000a002";

constexpr char kRegister[] = R"(# A fictional register.
[[organisation]]
cvr = "99990001"
role = "municipality"
municipality_code = "999"
name = "Testkommune Nord"

[[organisation]]
cvr = "99990002"
role = "operator"
id = "fiktiv-asyl-1"
name = "Fiktiv Asyl ApS"
certificate_serials = [
  "0B7E7DEE-5B1E-4D0C-9A0E-00000000A001",  # upper case is the same UUID
]

[[organisation]]
cvr = "99990003"
role = "immigration-service"
id = "testudl"
name = "Testudlændingestyrelsen"

[[organisation]]
cvr = "99990004"
role = "auditor"
id = "test-audit"
name = "Testrevision"
)";

std::shared_ptr<const OrganisationRegister> Good() {
  auto reg = OrganisationRegister::Parse(kRegister, "organisations.toml");
  EXPECT_TRUE(reg.ok()) << reg.status();
  return reg.ok() ? *reg : nullptr;
}

CertificateFacts FactsFor(std::optional<std::string> cvr,
                          std::optional<std::string> uuid = std::nullopt) {
  return {.cvr = std::move(cvr), .serial_uuid = std::move(uuid), .serial_hex = "1234abcd"};
}

void ExpectError(const std::string& toml, const std::string& message) {
  const auto reg = OrganisationRegister::Parse(toml, "organisations.toml");
  EXPECT_EQ(reg.status().code(), absl::StatusCode::kInvalidArgument) << toml;
  EXPECT_EQ(reg.status().message(), message) << toml;
}

// One entry after a good first one, so errors name entry #2.
std::string Second(const std::string& entry) {
  return absl::StrCat(
      "[[organisation]]\ncvr = \"99990001\"\nrole = \"municipality\"\n"
      "municipality_code = \"999\"\nname = \"Testkommune Nord\"\n\n[[organisation]]\n",
      entry);
}

TEST(OrganisationRegisterTest, ReadsEveryEntry) {
  const auto reg = Good();
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(reg->size(), 4u);
  const RegisteredOrganisation* entry = reg->Find("99990002");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->principal, (Principal{Role::kOperator, "fiktiv-asyl-1"}));
  EXPECT_EQ(entry->name, "Fiktiv Asyl ApS");
  EXPECT_EQ(entry->certificate_serials, std::vector<std::string>{kAllowedUuid});
  EXPECT_EQ(reg->Find("99990009"), nullptr);
}

TEST(OrganisationRegisterTest, IdentifiesEachRole) {
  const auto reg = Good();
  ASSERT_NE(reg, nullptr);
  struct Case {
    std::string cvr;
    Principal principal;
    std::string name;
  };
  for (const Case& c :
       {Case{"99990001", {Role::kMunicipality, "999"}, "Testkommune Nord"},
        Case{"99990002", {Role::kOperator, "fiktiv-asyl-1"}, "Fiktiv Asyl ApS"},
        Case{"99990003", {Role::kImmigrationService, "testudl"}, "Testudlændingestyrelsen"},
        Case{"99990004", {Role::kAuditor, "test-audit"}, "Testrevision"}}) {
    const absl::StatusOr<RegisteredCaller> caller = reg->Identify(FactsFor(c.cvr, kAllowedUuid));
    ASSERT_TRUE(caller.ok()) << c.cvr << ": " << caller.status();
    EXPECT_EQ(caller->principal, c.principal) << c.cvr;
    EXPECT_EQ(caller->cvr, c.cvr);
    EXPECT_EQ(caller->name, c.name);
    EXPECT_EQ(caller->serial_uuid, kAllowedUuid);
    EXPECT_EQ(caller->certificate_serial, "1234abcd");
  }
}

TEST(OrganisationRegisterTest, WithoutAnAllowListEveryCertificateOfTheCvrIsAccepted) {
  const auto reg = Good();
  ASSERT_NE(reg, nullptr);
  EXPECT_TRUE(reg->Identify(FactsFor("99990001")).ok());
  EXPECT_TRUE(reg->Identify(FactsFor("99990001", kOtherUuid)).ok());
}

TEST(OrganisationRegisterTest, RefusesACvrNotInTheRegister) {
  const auto reg = Good();
  ASSERT_NE(reg, nullptr);
  const absl::Status status = reg->Identify(FactsFor("99990009")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "client certificate: CVR 99990009 is not in the organisation register");
}

TEST(OrganisationRegisterTest, RefusesACertificateWithoutCvr) {
  const auto reg = Good();
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(reg->Identify(FactsFor(std::nullopt)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(OrganisationRegisterTest, AllowsOnlyListedSerialNumbers) {
  const auto reg = Good();
  ASSERT_NE(reg, nullptr);
  EXPECT_TRUE(reg->Identify(FactsFor("99990002", kAllowedUuid)).ok());
  EXPECT_TRUE(reg->Identify(FactsFor("99990002", "0B7E7DEE-5B1E-4D0C-9A0E-00000000A001")).ok());

  const absl::Status other = reg->Identify(FactsFor("99990002", kOtherUuid)).status();
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(other.message(), absl::StrCat("client certificate: serialNumber ", kOtherUuid,
                                          " is not allowed for CVR 99990002"));
  const absl::Status none = reg->Identify(FactsFor("99990002")).status();
  EXPECT_EQ(none.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(none.message(),
            "client certificate: a certificate without a serialNumber UUID is not allowed for CVR "
            "99990002");
}

TEST(OrganisationRegisterTest, IdentifiesTheHolderOfAnOces3Certificate) {
  const auto reg = Good();
  ASSERT_NE(reg, nullptr);
  auto facts = ReadCertificate(testing::MakeTestCertificate(
      {.subject = {{"C", "DK"},
                   {"organizationIdentifier", "NTRDK-99990002"},
                   {"O", "Fiktiv Asyl ApS"},
                   {"serialNumber", absl::StrCat("UI:DK-O:G:", kAllowedUuid)},
                   {"CN", "Fiktiv Asyl Sagssystem"}},
       .serial = 0x2a}));
  ASSERT_TRUE(facts.ok()) << facts.status();
  const absl::StatusOr<RegisteredCaller> caller = reg->Identify(*facts);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->principal, (Principal{Role::kOperator, "fiktiv-asyl-1"}));
  EXPECT_EQ(caller->serial_uuid, kAllowedUuid);
  EXPECT_EQ(caller->certificate_serial, "2a");
}

TEST(OrganisationRegisterTest, AnEmptyFileIsAnEmptyRegister) {
  const auto reg = OrganisationRegister::Parse("# nobody yet\n", "organisations.toml");
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ((*reg)->size(), 0u);
  EXPECT_EQ((*reg)->Identify(FactsFor("99990001")).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(OrganisationRegisterTest, LoadsAFile) {
  const std::string path = testing::NewTempDir() + "/organisations.toml";
  std::ofstream(path) << kRegister;
  const auto reg = OrganisationRegister::Load(path);
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ((*reg)->size(), 4u);

  const auto missing = OrganisationRegister::Load(path + ".missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            absl::StrCat("organisation register ", path, ".missing: cannot be read"));
}

TEST(OrganisationRegisterTest, NamesTheLineOfATomlSyntaxError) {
  const auto reg =
      OrganisationRegister::Parse("[[organisation]]\ncvr = \"99990001\n", "organisations.toml");
  EXPECT_EQ(reg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(reg.status().message(), "organisations.toml:2: ")) << reg.status();
}

TEST(OrganisationRegisterTest, RefusesOtherTopLevelKeys) {
  ExpectError("version = 1\n",
              "organisations.toml:1: unknown key \"version\" (the register holds only "
              "[[organisation]] tables)");
  ExpectError("[organisation]\ncvr = \"99990001\"\n",
              "organisations.toml:1: organisation: must be tables written [[organisation]]");
}

TEST(OrganisationRegisterTest, NamesTheEntryAndFieldOfEachError) {
  ExpectError(Second("cvr = \"99990002\"\nrole = \"operator\"\nid = \"fiktiv-asyl-1\"\n"
                     "name = \"Fiktiv Asyl ApS\"\ncertificate_serial = []\n"),
              "organisations.toml:12: organisation #2 (cvr 99990002): certificate_serial: "
              "unknown key (expected cvr, role, municipality_code, id, name, "
              "certificate_serials)");
  ExpectError(Second("role = \"operator\"\n"),
              "organisations.toml:7: organisation #2: cvr: required (8 digits)");
  ExpectError(Second("cvr = 99990002\n"),
              "organisations.toml:8: organisation #2: cvr: must be a string in quotes (8 "
              "digits)");
  ExpectError(Second("cvr = \"9999002\"\n"),
              "organisations.toml:8: organisation #2: cvr: must be 8 digits");
  ExpectError(Second("cvr = \"9999000x\"\n"),
              "organisations.toml:8: organisation #2: cvr: must be 8 digits");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"mayor\"\n"),
              "organisations.toml:9: organisation #2 (cvr 99990002): role: unknown role "
              "\"mayor\" (expected operator, immigration-service, municipality or auditor)");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"municipality\"\nname = \"Testkommune Syd\"\n"),
              "organisations.toml:7: organisation #2 (cvr 99990002): municipality_code: "
              "required (3 digits)");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"municipality\"\nmunicipality_code = \"98\"\n"),
              "organisations.toml:10: organisation #2 (cvr 99990002): municipality_code: must "
              "be 3 digits");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"municipality\"\nmunicipality_code = 998\n"),
              "organisations.toml:10: organisation #2 (cvr 99990002): municipality_code: must "
              "be a string in quotes (3 digits)");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"municipality\"\nmunicipality_code = \"998\"\n"
                     "id = \"syd\"\n"),
              "organisations.toml:11: organisation #2 (cvr 99990002): id: not for "
              "municipalities (their id is municipality_code)");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"operator\"\nname = \"Fiktiv Asyl ApS\"\n"),
              "organisations.toml:7: organisation #2 (cvr 99990002): id: required "
              "([a-z0-9-]{1,63})");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"operator\"\nid = \"Fiktiv Asyl\"\n"),
              "organisations.toml:10: organisation #2 (cvr 99990002): id: must match "
              "[a-z0-9-]{1,63}");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"auditor\"\nmunicipality_code = \"998\"\n"),
              "organisations.toml:10: organisation #2 (cvr 99990002): municipality_code: only "
              "for municipalities (use id)");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"auditor\"\nid = \"test-audit\"\n"),
              "organisations.toml:7: organisation #2 (cvr 99990002): name: required (the "
              "display name)");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"auditor\"\nid = \"test-audit\"\nname = \"\"\n"),
              "organisations.toml:11: organisation #2 (cvr 99990002): name: must be 1 to 200 "
              "characters without control characters");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"auditor\"\nid = \"test-audit\"\n"
                     "name = \"Test\\trevision\"\n"),
              "organisations.toml:11: organisation #2 (cvr 99990002): name: must be 1 to 200 "
              "characters without control characters");
}

TEST(OrganisationRegisterTest, ChecksCertificateSerials) {
  const std::string entry =
      "cvr = \"99990002\"\nrole = \"operator\"\nid = \"fiktiv-asyl-1\"\n"
      "name = \"Fiktiv Asyl ApS\"\n";
  ExpectError(Second(entry + "certificate_serials = \"" + kAllowedUuid + "\"\n"),
              "organisations.toml:12: organisation #2 (cvr 99990002): certificate_serials: must "
              "be a list of UUIDs");
  ExpectError(Second(entry + "certificate_serials = []\n"),
              "organisations.toml:12: organisation #2 (cvr 99990002): certificate_serials: "
              "empty (leave it out to allow every certificate of the organisation)");
  ExpectError(Second(entry + "certificate_serials = [\n  \"" + kAllowedUuid +
                     "\",\n  \"UI:DK-O:G:" + kOtherUuid + "\",\n]\n"),
              "organisations.toml:14: organisation #2 (cvr 99990002): certificate_serials[1]: "
              "must be a UUID (8-4-4-4-12 hex digits, in quotes)");
  ExpectError(Second(entry + "certificate_serials = [\"" + kAllowedUuid + "\", 7]\n"),
              "organisations.toml:12: organisation #2 (cvr 99990002): certificate_serials[1]: "
              "must be a UUID (8-4-4-4-12 hex digits, in quotes)");
  ExpectError(Second(entry + "certificate_serials = [\"" + kAllowedUuid + "\", \"" +
                     "0B7E7DEE-5B1E-4D0C-9A0E-00000000A001\"]\n"),
              absl::StrCat("organisations.toml:12: organisation #2 (cvr 99990002): "
                           "certificate_serials[1]: ",
                           kAllowedUuid, " is listed twice"));
}

TEST(OrganisationRegisterTest, RefusesDuplicateCvrsAndPrincipals) {
  ExpectError(Second("cvr = \"99990001\"\nrole = \"auditor\"\nid = \"test-audit\"\n"
                     "name = \"Testrevision\"\n"),
              "organisations.toml:8: organisation #2 (cvr 99990001): cvr: already "
              "organisation #1's");
  ExpectError(Second("cvr = \"99990002\"\nrole = \"municipality\"\nmunicipality_code = \"999\"\n"
                     "name = \"Testkommune Nord igen\"\n"),
              "organisations.toml:10: organisation #2 (cvr 99990002): municipality_code: "
              "municipality 999 is already organisation #1's");
  // The same id in two roles names two principals.
  const auto reg = OrganisationRegister::Parse(
      "[[organisation]]\ncvr = \"99990001\"\nrole = \"operator\"\nid = \"fiktiv\"\n"
      "name = \"Fiktiv Asyl ApS\"\n"
      "[[organisation]]\ncvr = \"99990002\"\nrole = \"auditor\"\nid = \"fiktiv\"\n"
      "name = \"Fiktiv Revision\"\n",
      "organisations.toml");
  EXPECT_TRUE(reg.ok()) << reg.status();
}

}  // namespace
}  // namespace handover::identity
