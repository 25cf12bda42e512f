// common/identity.h: SPIFFE URI parsing into a Principal, and the actor id.
#include "common/identity.h"

#include <gtest/gtest.h>

#include <string>

namespace handover {
namespace {

constexpr char kDomain[] = "handover.example.test";

absl::StatusOr<Principal> Parse(const std::string& uri) { return ParseSpiffeId(uri, kDomain); }

void ExpectUnauthenticated(const std::string& uri) {
  const absl::StatusOr<Principal> principal = Parse(uri);
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated) << uri;
}

void ExpectPrincipal(const std::string& uri, Role role, const std::string& organisation_id) {
  const absl::StatusOr<Principal> principal = Parse(uri);
  ASSERT_TRUE(principal.ok()) << uri << ": " << principal.status();
  EXPECT_EQ(principal->role, role) << uri;
  EXPECT_EQ(principal->organisation_id, organisation_id) << uri;
}

TEST(ParseSpiffeIdTest, ParsesEachRole) {
  ExpectPrincipal("spiffe://handover.example.test/operator/fiktiv-asyl-1", Role::kOperator,
                  "fiktiv-asyl-1");
  ExpectPrincipal("spiffe://handover.example.test/immigration-service/testudl",
                  Role::kImmigrationService, "testudl");
  ExpectPrincipal("spiffe://handover.example.test/municipality/999", Role::kMunicipality, "999");
  ExpectPrincipal("spiffe://handover.example.test/auditor/test-audit", Role::kAuditor,
                  "test-audit");
}

TEST(ParseSpiffeIdTest, RejectsOtherTrustDomains) {
  ExpectUnauthenticated("spiffe://other.example.test/operator/fiktiv-asyl-1");
  ExpectUnauthenticated("spiffe://handover.example.test.evil/operator/fiktiv-asyl-1");
  ExpectUnauthenticated("spiffe://example.test/operator/fiktiv-asyl-1");
}

TEST(ParseSpiffeIdTest, RejectsOtherSchemes) {
  ExpectUnauthenticated("https://handover.example.test/operator/fiktiv-asyl-1");
  ExpectUnauthenticated("handover.example.test/operator/fiktiv-asyl-1");
  ExpectUnauthenticated("");
}

TEST(ParseSpiffeIdTest, RejectsUnknownRole) {
  ExpectUnauthenticated("spiffe://handover.example.test/admin/fiktiv-asyl-1");
  ExpectUnauthenticated("spiffe://handover.example.test/Operator/fiktiv-asyl-1");
}

TEST(ParseSpiffeIdTest, RejectsOtherPathShapes) {
  ExpectUnauthenticated("spiffe://handover.example.test/operator/fiktiv-asyl-1/extra");
  ExpectUnauthenticated("spiffe://handover.example.test/operator/fiktiv-asyl-1/");
  ExpectUnauthenticated("spiffe://handover.example.test/operator");
  ExpectUnauthenticated("spiffe://handover.example.test/operator/");
}

TEST(ParseSpiffeIdTest, MunicipalityIdMustBeThreeDigits) {
  ExpectUnauthenticated("spiffe://handover.example.test/municipality/99");
  ExpectUnauthenticated("spiffe://handover.example.test/municipality/9999");
  ExpectUnauthenticated("spiffe://handover.example.test/municipality/fiktivby");
  ExpectUnauthenticated("spiffe://handover.example.test/municipality/99a");
}

TEST(ParseSpiffeIdTest, OrganisationIdIsLowerCaseLettersDigitsAndHyphens) {
  ExpectUnauthenticated("spiffe://handover.example.test/operator/Fiktiv-Asyl");
  ExpectUnauthenticated("spiffe://handover.example.test/operator/fiktiv_asyl");
  ExpectUnauthenticated("spiffe://handover.example.test/operator/" + std::string(64, 'a'));
  EXPECT_TRUE(Parse("spiffe://handover.example.test/operator/" + std::string(63, 'a')).ok());
}

void ExpectActorError(const std::string& actor, const std::string& rule) {
  EXPECT_EQ(ValidateActor(actor), absl::InvalidArgumentError("metadata x-handover-actor: " + rule))
      << actor;
}

TEST(ValidateActorTest, AcceptsAnAccountName) {
  EXPECT_TRUE(ValidateActor("caseworker-42").ok());
  EXPECT_TRUE(ValidateActor(std::string(128, 'a')).ok());
  EXPECT_TRUE(ValidateActor("svc:fiktiv/batch~1").ok());
}

TEST(ValidateActorTest, RejectsEmpty) { ExpectActorError("", "required"); }

TEST(ValidateActorTest, RejectsTooLong) {
  ExpectActorError(std::string(129, 'a'), "at most 128 characters");
}

TEST(ValidateActorTest, RejectsSpacesControlAndNonAscii) {
  ExpectActorError("case worker", "printable ASCII without spaces");
  ExpectActorError("caseworker\t42", "printable ASCII without spaces");
  ExpectActorError("caseworker\x7f", "printable ASCII without spaces");
  ExpectActorError("sagsbehandler-s\xc3\xb8ren", "printable ASCII without spaces");
}

}  // namespace
}  // namespace handover
