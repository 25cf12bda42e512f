// server/identity/certificate_facts.h: what a client certificate says, from
// certificates made for the test (fictional CVRs 9999xxxx, fictional names).
#include "server/identity/certificate_facts.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/signing.h"
#include "tests/testing/test_certificates.h"

namespace handover::identity {
namespace {

using testing::MakeTestCertificate;
using testing::TestCertificateSpec;

constexpr char kUuid[] = "0b7e7dee-5b1e-4d0c-9a0e-00000000a001";

CertificateFacts Read(const TestCertificateSpec& spec) {
  const absl::StatusOr<CertificateFacts> facts = ReadCertificate(MakeTestCertificate(spec));
  EXPECT_TRUE(facts.ok()) << facts.status();
  return facts.ok() ? *facts : CertificateFacts{};
}

// An OCES3 organisation (system) certificate's subject, most general first.
TestCertificateSpec Oces3(const std::string& organization_identifier) {
  return {.subject = {{"C", "DK"},
                      {"organizationIdentifier", organization_identifier},
                      {"O", "Testkommune Nord"},
                      {"serialNumber", absl::StrCat("UI:DK-O:G:", kUuid)},
                      {"CN", "Testsystem Sagsbehandling"}}};
}

// The first certificate of `pem` as DER, decoded without OpenSSL.
std::string DerOf(const std::string& pem) {
  std::string base64;
  for (absl::string_view line : absl::StrSplit(pem, '\n')) {
    if (line == "-----END CERTIFICATE-----") break;
    if (!line.empty() && line[0] != '-') absl::StrAppend(&base64, line);
  }
  std::string der;
  EXPECT_TRUE(absl::Base64Unescape(base64, &der));
  return der;
}

TEST(CertificateFactsTest, ReadsAnOces3OrganisationCertificate) {
  TestCertificateSpec spec = Oces3("NTRDK-99990001");
  spec.serial = 0x1234abcd;
  spec.not_before = "20250102030405Z";
  spec.not_after = "20280102030405Z";
  const std::string pem = MakeTestCertificate(spec);
  const absl::StatusOr<CertificateFacts> facts = ReadCertificate(pem);
  ASSERT_TRUE(facts.ok()) << facts.status();

  EXPECT_EQ(facts->cvr, "99990001");
  EXPECT_EQ(facts->serial_uuid, kUuid);
  EXPECT_EQ(facts->subject_serial_number, absl::StrCat("UI:DK-O:G:", kUuid));
  EXPECT_EQ(facts->common_name, "Testsystem Sagsbehandling");
  EXPECT_EQ(facts->organisation, "Testkommune Nord");
  EXPECT_EQ(facts->subject,
            absl::StrCat("CN=Testsystem Sagsbehandling,serialNumber=UI:DK-O:G:", kUuid,
                         ",O=Testkommune Nord,"
                         "organizationIdentifier=NTRDK-99990001,C=DK"));
  EXPECT_EQ(facts->issuer, facts->subject);  // self-signed
  EXPECT_TRUE(facts->spiffe_uris.empty());
  EXPECT_EQ(facts->not_before,
            absl::FromCivil(absl::CivilSecond(2025, 1, 2, 3, 4, 5), absl::UTCTimeZone()));
  EXPECT_EQ(facts->not_after,
            absl::FromCivil(absl::CivilSecond(2028, 1, 2, 3, 4, 5), absl::UTCTimeZone()));
  EXPECT_EQ(facts->serial_hex, "1234abcd");
  EXPECT_EQ(facts->sha256_fingerprint, absl::BytesToHexString(Sha256(DerOf(pem))));
}

TEST(CertificateFactsTest, ReadsTheCvrFromTheOlderOrganisationNameForm) {
  const CertificateFacts facts =
      Read({.subject = {
                {"C", "DK"}, {"O", "Testkommune Syd // CVR:99990002"}, {"CN", "Testsystem Syd"}}});
  EXPECT_EQ(facts.cvr, "99990002");
  EXPECT_EQ(facts.organisation, "Testkommune Syd // CVR:99990002");
  EXPECT_EQ(facts.serial_uuid, std::nullopt);
  EXPECT_EQ(facts.subject_serial_number, "");
}

TEST(CertificateFactsTest, ReadsSpiffeUrisAndNoCvrFromAProjectCertificate) {
  const CertificateFacts facts =
      Read({.subject = {{"O", "Fiktiv Asyl"}, {"CN", "fiktiv-asyl-1"}},
            .uris = {"https://fiktiv-asyl.example.test/",
                     "spiffe://handover.example.test/operator/fiktiv-asyl-1"}});
  EXPECT_EQ(facts.spiffe_uris,
            std::vector<std::string>{"spiffe://handover.example.test/operator/fiktiv-asyl-1"});
  EXPECT_EQ(facts.cvr, std::nullopt);
  EXPECT_EQ(facts.serial_uuid, std::nullopt);
  EXPECT_EQ(facts.common_name, "fiktiv-asyl-1");
}

TEST(CertificateFactsTest, MalformedOrganizationIdentifiersGiveNoCvr) {
  for (const char* value :
       {"NTRDK-9999000", "NTRDK-999900011", "NTRDK-9999000a", "NTRDK-", "NTRDK 99990001",
        "ntrdk-99990001", "NTRSE-99990001", "VATDK-99990001", "99990001", "NTRDK-99990001 "}) {
    EXPECT_EQ(Read(Oces3(value)).cvr, std::nullopt) << value;
  }
}

TEST(CertificateFactsTest, MalformedOrganisationNamesGiveNoCvr) {
  for (const char* value : {"Testkommune Nord // CVR:9999000", "Testkommune Nord // CVR:999900011",
                            "Testkommune Nord // CVR:9999000x", "Testkommune Nord // CVR: 99990001",
                            "Testkommune Nord // CVR:99990001 ", "Testkommune Nord CVR:99990001",
                            "Testkommune Nord // cvr:99990001", " // CVR:99990001",
                            "Testkommune Nord", "A // CVR:99990001 // CVR:99990002"}) {
    EXPECT_EQ(Read({.subject = {{"C", "DK"}, {"O", value}}}).cvr, std::nullopt) << value;
  }
}

TEST(CertificateFactsTest, AnOrganizationIdentifierInAnotherShapeIsNotOverriddenByTheName) {
  const CertificateFacts facts = Read({.subject = {{"C", "DK"},
                                                   {"organizationIdentifier", "NTRSE-99990001"},
                                                   {"O", "Testfirma // CVR:99990003"}}});
  EXPECT_EQ(facts.cvr, std::nullopt);
}

TEST(CertificateFactsTest, TheOrganizationIdentifierWinsOverTheName) {
  const CertificateFacts facts = Read({.subject = {{"C", "DK"},
                                                   {"organizationIdentifier", "NTRDK-99990001"},
                                                   {"O", "Testfirma // CVR:99990003"}}});
  EXPECT_EQ(facts.cvr, "99990001");
}

TEST(CertificateFactsTest, RepeatedAttributesGiveNoValue) {
  const CertificateFacts facts = Read({.subject = {{"C", "DK"},
                                                   {"organizationIdentifier", "NTRDK-99990001"},
                                                   {"organizationIdentifier", "NTRDK-99990002"},
                                                   {"O", "Testkommune Nord"},
                                                   {"O", "Testkommune Syd"},
                                                   {"CN", "Testsystem"}}});
  EXPECT_EQ(facts.cvr, std::nullopt);
  EXPECT_EQ(facts.organisation, "");
  EXPECT_EQ(facts.common_name, "Testsystem");

  const CertificateFacts old_form = Read({.subject = {{"O", "Testkommune Nord // CVR:99990001"},
                                                      {"O", "Testkommune Syd // CVR:99990002"}}});
  EXPECT_EQ(old_form.cvr, std::nullopt);
}

TEST(CertificateFactsTest, OnlyOrganisationSerialNumbersGiveAUuid) {
  for (const std::string& value :
       {absl::StrCat("UI:DK-E:G:", kUuid), absl::StrCat("UI:DK-O:G:", kUuid, "0"),
        std::string("UI:DK-O:G:0b7e7dee5b1e4d0c9a0e00000000a001"),
        std::string("UI:DK-O:G:0b7e7dee-5b1e-4d0c-9a0e-00000000a00g"), std::string(kUuid),
        std::string("CVR:99990001-UID:12345678")}) {
    const CertificateFacts facts =
        Read({.subject = {{"C", "DK"}, {"serialNumber", value}, {"CN", "Testsystem"}}});
    EXPECT_EQ(facts.serial_uuid, std::nullopt) << value;
    EXPECT_EQ(facts.subject_serial_number, value);
  }
}

TEST(CertificateFactsTest, TheUuidIsLowerCase) {
  EXPECT_EQ(UuidFromSerialNumber("UI:DK-O:G:0B7E7DEE-5B1E-4D0C-9A0E-00000000A001"),
            "0b7e7dee-5b1e-4d0c-9a0e-00000000a001");
  EXPECT_TRUE(IsUuid("0B7E7DEE-5b1e-4d0c-9a0e-00000000a001"));
  EXPECT_FALSE(IsUuid("0b7e7dee-5b1e-4d0c-9a0e00000000a0010"));
}

TEST(CertificateFactsTest, KeepsDanishLettersReadable) {
  const CertificateFacts facts =
      Read({.subject = {{"C", "DK"}, {"O", "Testkommune Nørre Æble // CVR:99990004"}}});
  EXPECT_EQ(facts.organisation, "Testkommune Nørre Æble // CVR:99990004");
  EXPECT_EQ(facts.subject, "O=Testkommune Nørre Æble // CVR:99990004,C=DK");
  EXPECT_EQ(facts.cvr, "99990004");
}

TEST(CertificateFactsTest, ReadsTheFirstCertificateOfAChain) {
  TestCertificateSpec leaf = Oces3("NTRDK-99990001");
  TestCertificateSpec issuer = {.subject = {{"C", "DK"}, {"O", "Test-CA"}, {"CN", "Test-CA"}}};
  const CertificateFacts facts =
      *ReadCertificate(MakeTestCertificate(leaf) + MakeTestCertificate(issuer));
  EXPECT_EQ(facts.cvr, "99990001");
}

TEST(CertificateFactsTest, RefusesWhatIsNotAPemCertificate) {
  const std::string pem = MakeTestCertificate(Oces3("NTRDK-99990001"));
  std::string corrupted = pem;
  corrupted[40] = corrupted[40] == 'A' ? '*' : 'A';
  corrupted[41] = '*';
  for (const std::string& text :
       {std::string(), std::string("not a certificate"), pem.substr(0, pem.size() / 2), corrupted,
        std::string("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n")}) {
    EXPECT_EQ(ReadCertificate(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace handover::identity
