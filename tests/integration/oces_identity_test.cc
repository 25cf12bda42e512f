// OCES3 organisation certificates, named by CVR through the organisation
// register, beside the project CA's SPIFFE certificates, against the real
// server over mutual TLS with the certificates deploy/dev-pki.sh made for
// this run: each role by CVR; an unknown CVR and a serialNumber the register
// does not allow refused and recorded; a project-CA certificate with an OCES
// subject not taken for that organisation; a revoked certificate refused
// while its sibling works (an expired one the client itself refuses to use);
// a new CRL reaching a connection already open; the register reloaded while
// the server runs. Every refusal leaves one line in the server log naming the
// peer's address (where gRPC tells it), the certificate and the reason.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::LogCapture;
using testing::PkiFile;
using testing::SampleForm;
using testing::TestServer;

ServerOptions OcesOptions(const std::string& register_file, const std::string& crl_dir) {
  ServerOptions options = testing::TestServerOptions(testing::NewTempDir());
  options.client_ca_file = PkiFile("client-cas.pem");
  options.oces_ca_file = PkiFile("oces-ca.pem");
  options.organisation_register_file = register_file;
  options.register_refresh_seconds = 1;
  options.crl_directory = crl_dir;
  options.crl_refresh_seconds = 1;
  return options;
}

// A copy of the dev PKI's register the test may change.
std::string RegisterCopy() {
  const std::string path = testing::NewTempDir() + "/organisations.toml";
  std::filesystem::copy_file(PkiFile("organisations.toml"), path);
  return path;
}

v1::ListCasesRequest AllCases() { return {}; }

TEST(OcesIdentityTest, EachRoleByCvrActsAsItsOrganisation) {
  TestServer server(OcesOptions(RegisterCopy(), PkiFile("crl")));
  ASSERT_NE(server.server(), nullptr);
  // Created by the operator's OCES certificate, assigned by the Immigration
  // Service's, read by municipality 760's: the same organisations as their
  // SPIFFE certificates.
  auto created = server.ClientFor("oces-operator-redcross")
                     ->CreateCase(SampleForm("99063000"), HandoverClient::NewRequestId());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->operator_id(), "redcross");
  v1::AssignCaseRequest assign;
  assign.set_name(created->name());
  assign.set_municipality_code("760");
  assign.set_request_id(HandoverClient::NewRequestId());
  ASSERT_TRUE(server.ClientFor("oces-immigration-service-uds")->AssignCase(assign).ok());
  EXPECT_TRUE(server.ClientFor("oces-municipality-760")->GetCase(created->name()).ok());
  EXPECT_TRUE(server.ClientFor("municipality-760")->GetCase(created->name()).ok());
  EXPECT_TRUE(server.ClientFor("operator-redcross")->GetCase(created->name()).ok());
  // The old subject form (O=<name> // CVR:<cvr>) names the same CVR; it has
  // no serialNumber UUID, and 760's entry allows only listed ones.
  auto old_form = server.ClientFor("oces-municipality-760-old-form")->GetCase(created->name());
  EXPECT_EQ(old_form.status().code(), absl::StatusCode::kPermissionDenied) << old_form.status();
  EXPECT_NE(old_form.status().message().find("CVR 99990023"), std::string::npos)
      << old_form.status();

  // The access records name the organisation by CVR and the certificate.
  v1::QueryAccessLogRequest query;
  query.set_case_name(created->name());
  auto records = server.ClientFor("oces-auditor-dpo")->QueryAccessLog(query);
  ASSERT_TRUE(records.ok()) << records.status();
  bool by_cvr = false;
  for (const auto& entry : records->entries()) {
    const v1::AccessRecord& record = entry.record();
    if (record.operation() == "GetCase" && record.organisation() == "760" &&
        record.organisation_cvr() == "99990023") {
      EXPECT_EQ(record.certificate_serial(), "b96dc8a5-91d8-4d04-8a4d-e0474a06f3fb");
      by_cvr = true;
    }
  }
  EXPECT_TRUE(by_cvr) << "no GetCase record naming CVR 99990023";
}

TEST(OcesIdentityTest, UnknownCvrAndUnlistedSerialAreRefusedAndRecorded) {
  LogCapture log;  // outlives the server
  TestServer server(OcesOptions(RegisterCopy(), PkiFile("crl")));
  ASSERT_NE(server.server(), nullptr);
  auto unknown = server.ClientFor("oces-unregistered")->ListCases(AllCases());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kPermissionDenied) << unknown.status();
  EXPECT_NE(unknown.status().message().find("99990058 is not in the organisation register"),
            std::string::npos)
      << unknown.status();
  auto unlisted = server.ClientFor("oces-municipality-760-unlisted")->ListCases(AllCases());
  EXPECT_EQ(unlisted.status().code(), absl::StatusCode::kPermissionDenied) << unlisted.status();
  // A project-CA certificate with 760's OCES subject and no SPIFFE name.
  auto impostor = server.ClientFor("oces-municipality-760-project-ca")->ListCases(AllCases());
  EXPECT_EQ(impostor.status().code(), absl::StatusCode::kUnauthenticated) << impostor.status();

  v1::QueryAccessLogRequest query;
  auto records = server.ClientFor("auditor-dpo")->QueryAccessLog(query);
  ASSERT_TRUE(records.ok()) << records.status();
  int refused = 0;
  std::set<std::string> knocked;  // what each refusal's record says of the certificate
  for (const auto& entry : records->entries()) {
    const v1::AccessRecord& record = entry.record();
    if (record.operation() == "ListCases" && record.outcome() == "PERMISSION_DENIED") {
      ++refused;
      EXPECT_EQ(record.peer(), "127.0.0.1");
      knocked.insert(absl::StrCat(record.organisation_cvr(), " ", record.certificate_serial(), " ",
                                  record.certificate_issuer()));
    }
  }
  EXPECT_EQ(refused, 2);
  const std::string issuer = "CN=Fictional OCES3 issuing CA,O=Handover development (not OCES),C=DK";
  EXPECT_EQ(knocked,
            (std::set<std::string>{"99990058 4afc846a-af5a-4d2a-93be-bb5accd9c3c3 " + issuer,
                                   "99990023 1c13f6ad-cf3b-442b-82ed-14e7f5bbf120 " + issuer}));

  // The server log names the peer, the certificate (an organisation
  // certificate: its whole subject) and the rule.
  EXPECT_EQ(log.LinesWith({"[warning] client certificate refused at the call from ipv4:127.0.0.1:",
                           "CVR 99990058 is not in the organisation register",
                           "organizationIdentifier=NTRDK-99990058",
                           "serialNumber=UI:DK-O:G:4afc846a-af5a-4d2a-93be-bb5accd9c3c3",
                           "CN=Fictional unregistered system", " CVR 99990058 ",
                           "CN=Fictional OCES3 issuing CA"})
                .size(),
            1u);
  EXPECT_EQ(log.LinesWith({"refused at the call from ipv4:127.0.0.1:",
                           "UI:DK-O:G:1c13f6ad-cf3b-442b-82ed-14e7f5bbf120"})
                .size(),
            1u);
}

TEST(OcesIdentityTest, RevokedCertificateIsRefusedWhileItsSiblingWorks) {
  LogCapture log;
  TestServer server(OcesOptions(RegisterCopy(), PkiFile("crl")));
  ASSERT_NE(server.server(), nullptr);
  EXPECT_TRUE(server.ClientFor("oces-municipality-760")->ListCases(AllCases()).ok());
  // Revoked: the handshake completes (the issuer is known), the call is
  // refused with the reason.
  auto revoked = server.ClientFor("oces-municipality-760-revoked")->ListCases(AllCases());
  EXPECT_EQ(revoked.status().code(), absl::StatusCode::kUnauthenticated) << revoked.status();
  EXPECT_TRUE(
      absl::StrContains(revoked.status().message(), "client certificate refused: revoked on 20"))
      << revoked.status();
  EXPECT_TRUE(
      absl::StrContains(revoked.status().message(), "by the CRL of CN=Fictional OCES3 issuing CA"))
      << revoked.status();
  EXPECT_EQ(log.LinesWith({"refused at the call from ipv4:127.0.0.1:", ": revoked on 20",
                           "serialNumber=UI:DK-O:G:a08cb468-1cfb-4e64-8690-31a4e9e1379d"})
                .size(),
            1u);
  // The refusal's access record says which organisation knocked, and with
  // which certificate.
  auto records = server.ClientFor("auditor-dpo")->QueryAccessLog(v1::QueryAccessLogRequest());
  ASSERT_TRUE(records.ok()) << records.status();
  int revoked_records = 0;
  for (const auto& entry : records->entries()) {
    const v1::AccessRecord& record = entry.record();
    if (record.outcome() != "UNAUTHENTICATED") continue;
    ++revoked_records;
    EXPECT_EQ(record.organisation_cvr(), "99990023");
    EXPECT_EQ(record.certificate_serial(), "a08cb468-1cfb-4e64-8690-31a4e9e1379d");
    EXPECT_TRUE(absl::StartsWith(record.certificate_issuer(), "CN=Fictional OCES3 issuing CA"))
        << record.certificate_issuer();
    EXPECT_EQ(record.peer(), "127.0.0.1");
    EXPECT_TRUE(record.organisation().empty());
  }
  EXPECT_EQ(revoked_records, 1);
  // An expired certificate: the client says so itself before connecting.
  auto expired = HandoverClient::Connect(
      testing::ClientOptionsFor(server.address(), "oces-municipality-760-expired"));
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated) << expired.status();
  // A client that does not check (any gRPC client) is told by the server.
  const grpc::Status sent =
      testing::SendRawRequest(server.address(), "/handover.v1.HandoverService/ListCases", "",
                              "oces-municipality-760-expired");
  EXPECT_EQ(sent.error_code(), grpc::StatusCode::UNAUTHENTICATED) << sent.error_message();
  EXPECT_EQ(sent.error_message(), "client certificate refused: expired on 2024-12-31T23:59:59Z");
  // A CA the service does not know: no connection at all, and a log line
  // without the address (gRPC's verifier is not told it).
  auto rogue = server.ClientFor("oces-rogue-municipality-760")->ListCases(AllCases());
  EXPECT_EQ(rogue.status().code(), absl::StatusCode::kUnavailable) << rogue.status();
  EXPECT_FALSE(log.LinesWith({"refused at the TLS handshake", "unknown CA: issued by CN=rogue-ca",
                              "serialNumber=UI:DK-O:G:b96dc8a5-91d8-4d04-8a4d-e0474a06f3fb"})
                   .empty());
}

TEST(OcesIdentityTest, ANewCrlReachesAConnectionAlreadyOpen) {
  // Start with CRLs that revoke nothing: the "revoked" certificate works.
  const std::string crl_dir = testing::NewTempDir() + "/crl";
  std::filesystem::copy(PkiFile("crl-empty"), crl_dir);
  TestServer server(OcesOptions(RegisterCopy(), crl_dir));
  ASSERT_NE(server.server(), nullptr);
  auto connection = server.ClientFor("oces-municipality-760-revoked");
  ASSERT_TRUE(connection->ListCases(AllCases()).ok());
  // The OCES CA's newer CRL, under any name: the open connection's next call
  // after the next look at the directory (every second here) is refused.
  std::filesystem::copy_file(PkiFile("crl/d21dee85.r0"), crl_dir + "/oces-ca-newest.crl");
  absl::Status status;
  for (int i = 0; i < 50 && status.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = connection->ListCases(AllCases()).status();
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "revoked")) << status;
  EXPECT_TRUE(server.ClientFor("oces-municipality-760")->ListCases(AllCases()).ok());
}

TEST(OcesIdentityTest, TheRegisterIsReloadedWhileTheServerRuns) {
  const std::string register_file = RegisterCopy();
  TestServer server(OcesOptions(register_file, PkiFile("crl")));
  ASSERT_NE(server.server(), nullptr);
  auto before = server.ClientFor("oces-unregistered")->ListCases(AllCases());
  ASSERT_EQ(before.status().code(), absl::StatusCode::kPermissionDenied) << before.status();
  {
    std::ofstream out(register_file, std::ios::app);
    out << "\n[[organisation]]\ncvr = \"99990058\"\nrole = \"municipality\"\n"
           "municipality_code = \"147\"\nname = \"Fictional late municipality\"\n";
  }
  absl::Status after = before.status();
  for (int i = 0; i < 40 && !after.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = server.ClientFor("oces-unregistered")->ListCases(AllCases()).status();
  }
  EXPECT_TRUE(after.ok()) << after;
}

}  // namespace
}  // namespace handover
