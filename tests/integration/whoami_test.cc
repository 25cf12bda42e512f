// WhoAmI against the real server over mutual TLS, with the certificates
// deploy/dev-pki.sh made for this run: a SPIFFE caller of each role sees its
// role, organisation and its certificate's notAfter (read here with OpenSSL,
// not with the server's reader); an OCES3 caller also sees its CVR, the
// register's name and its certificate's serialNumber UUID; each call is in
// the access log as "WhoAmI", naming no case; unknown fields are refused.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <string>

#include "tests/testing/test_server.h"

namespace handover {
namespace {

using testing::PkiFile;
using testing::TestServer;

// The notAfter of the PKI's certificate `identity`, in Unix seconds; -1 if
// it cannot be read.
int64_t NotAfterOf(const std::string& identity) {
  FILE* file = fopen(PkiFile(identity + ".pem").c_str(), "r");
  if (file == nullptr) return -1;
  X509* cert = PEM_read_X509(file, nullptr, nullptr, nullptr);
  fclose(file);
  if (cert == nullptr) return -1;
  std::tm tm{};
  const bool ok = ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1;
  X509_free(cert);
  return ok ? static_cast<int64_t>(timegm(&tm)) : -1;
}

// A server trusting both dev CAs, naming OCES3 certificates through the
// PKI's register.
ServerOptions OcesOptions() {
  ServerOptions options = testing::TestServerOptions(testing::NewTempDir());
  options.client_ca_file = PkiFile("client-cas.pem");
  options.oces_ca_file = PkiFile("oces-ca.pem");
  options.organisation_register_file = PkiFile("organisations.toml");
  return options;
}

// The WhoAmI records in the access log, as the auditor `auditor` reads it.
std::vector<v1::AccessRecord> WhoAmIRecords(const TestServer& server,
                                            const std::string& auditor = "auditor-dpo") {
  std::vector<v1::AccessRecord> found;
  auto log = server.ClientFor(auditor)->QueryAccessLog(v1::QueryAccessLogRequest());
  EXPECT_TRUE(log.ok()) << log.status();
  if (!log.ok()) return found;
  for (const auto& entry : log->entries()) {
    if (entry.record().operation() == "WhoAmI") found.push_back(entry.record());
  }
  return found;
}

TEST(WhoAmITest, SpiffeCallerSeesItsRoleOrganisationAndExpiry) {
  TestServer server;
  ASSERT_NE(server.server(), nullptr);
  auto me = server.ClientFor("municipality-760", "caseworker-k1")->WhoAmI();
  ASSERT_TRUE(me.ok()) << me.status();
  EXPECT_EQ(me->role(), "municipality");
  EXPECT_EQ(me->organisation_id(), "760");
  EXPECT_EQ(me->municipality_code(), "760");
  EXPECT_EQ(me->naming(), "spiffe");
  EXPECT_EQ(me->organisation_cvr(), "");
  EXPECT_EQ(me->organisation_name(), "");
  EXPECT_EQ(me->actor(), "caseworker-k1");
  const int64_t not_after = NotAfterOf("municipality-760");
  ASSERT_GT(not_after, 0);
  EXPECT_EQ(me->certificate_expire_time().seconds(), not_after);

  auto op = server.ClientFor("operator-redcross")->WhoAmI();
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->role(), "operator");
  EXPECT_EQ(op->organisation_id(), "redcross");
  EXPECT_EQ(op->municipality_code(), "") << "only municipalities have a code";
  EXPECT_EQ(op->certificate_expire_time().seconds(), NotAfterOf("operator-redcross"));
  for (const auto& [identity, role] :
       {std::pair<std::string, std::string>{"immigration-service-uds", "immigration-service"},
        {"auditor-dpo", "auditor"}}) {
    auto other = server.ClientFor(identity)->WhoAmI();
    ASSERT_TRUE(other.ok()) << identity << ": " << other.status();
    EXPECT_EQ(other->role(), role);
  }

  // Recorded like any read: one record per call, naming no case.
  const std::vector<v1::AccessRecord> records = WhoAmIRecords(server);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].organisation(), "760");
  EXPECT_EQ(records[0].role(), "municipality");
  EXPECT_EQ(records[0].actor(), "caseworker-k1");
  EXPECT_EQ(records[0].outcome(), "OK");
  for (const v1::AccessRecord& record : records) {
    EXPECT_TRUE(record.case_names().empty()) << record.ShortDebugString();
    EXPECT_TRUE(record.sections().empty()) << record.ShortDebugString();
  }
}

TEST(WhoAmITest, OcesCallerSeesItsCvrRegisterNameAndSerial) {
  TestServer server(OcesOptions());
  ASSERT_NE(server.server(), nullptr);
  auto me = server.ClientFor("oces-municipality-760", "system-esdh")->WhoAmI();
  ASSERT_TRUE(me.ok()) << me.status();
  EXPECT_EQ(me->role(), "municipality");
  EXPECT_EQ(me->organisation_id(), "760");
  EXPECT_EQ(me->municipality_code(), "760");
  EXPECT_EQ(me->naming(), "oces");
  EXPECT_EQ(me->organisation_cvr(), "99990023");
  EXPECT_EQ(me->organisation_name(), "Fictional Ringkøbing-Skjern Municipality");
  EXPECT_EQ(me->certificate_serial(), "b96dc8a5-91d8-4d04-8a4d-e0474a06f3fb");
  EXPECT_EQ(me->actor(), "system-esdh");
  const int64_t not_after = NotAfterOf("oces-municipality-760");
  ASSERT_GT(not_after, 0);
  EXPECT_EQ(me->certificate_expire_time().seconds(), not_after);

  auto op = server.ClientFor("oces-operator-redcross")->WhoAmI();
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->organisation_id(), "redcross");
  EXPECT_EQ(op->municipality_code(), "");
  EXPECT_EQ(op->organisation_cvr(), "99990007");
  EXPECT_EQ(op->naming(), "oces");

  // The record names the organisation by CVR and the certificate.
  const std::vector<v1::AccessRecord> records = WhoAmIRecords(server, "oces-auditor-dpo");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].organisation(), "760");
  EXPECT_EQ(records[0].organisation_cvr(), "99990023");
  EXPECT_EQ(records[0].certificate_serial(), "b96dc8a5-91d8-4d04-8a4d-e0474a06f3fb");
  EXPECT_EQ(records[0].outcome(), "OK");
  EXPECT_TRUE(records[0].case_names().empty());
}

TEST(WhoAmITest, AnUnknownFieldIsRefusedAndRecorded) {
  TestServer server;
  ASSERT_NE(server.server(), nullptr);
  // Field 1, varint 1: WhoAmIRequest has no fields.
  const grpc::Status status =
      testing::SendRawRequest(server.address(), "/handover.v1.HandoverService/WhoAmI",
                              std::string("\x08\x01", 2), "operator-redcross");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const std::vector<v1::AccessRecord> records = WhoAmIRecords(server);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome(), "INVALID_ARGUMENT");
}

}  // namespace
}  // namespace handover
