// OCES3 organisation certificates, named by CVR through the organisation
// register, beside the project CA's SPIFFE certificates, against the real
// server over mutual TLS with the certificates deploy/dev-pki.sh made for
// this run: each role by CVR; an unknown CVR and a serialNumber the register
// does not allow refused and recorded; a project-CA certificate with an OCES
// subject not taken for that organisation; a revoked certificate refused at
// the handshake while its sibling works (an expired one the client itself
// refuses to use); the register reloaded while the
// server runs.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
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
  for (const auto& entry : records->entries()) {
    if (entry.record().operation() == "ListCases" &&
        entry.record().outcome() == "PERMISSION_DENIED") {
      ++refused;
    }
  }
  EXPECT_EQ(refused, 2);
}

TEST(OcesIdentityTest, RevokedCertificateIsRefusedWhileItsSiblingWorks) {
  TestServer server(OcesOptions(RegisterCopy(), PkiFile("crl")));
  ASSERT_NE(server.server(), nullptr);
  EXPECT_TRUE(server.ClientFor("oces-municipality-760")->ListCases(AllCases()).ok());
  auto revoked = server.ClientFor("oces-municipality-760-revoked")->ListCases(AllCases());
  EXPECT_EQ(revoked.status().code(), absl::StatusCode::kUnavailable) << revoked.status();
  // An expired certificate: the client says so itself before connecting.
  auto expired = HandoverClient::Connect(
      testing::ClientOptionsFor(server.address(), "oces-municipality-760-expired"));
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated) << expired.status();
  auto rogue = server.ClientFor("oces-rogue-municipality-760")->ListCases(AllCases());
  EXPECT_EQ(rogue.status().code(), absl::StatusCode::kUnavailable) << rogue.status();
}

TEST(OcesIdentityTest, ANewCrlTakesEffectWithoutARestart) {
  // Start with CRLs that revoke nothing: the "revoked" certificate works.
  const std::string crl_dir = testing::NewTempDir() + "/crl";
  std::filesystem::copy(PkiFile("crl-empty"), crl_dir);
  TestServer server(OcesOptions(RegisterCopy(), crl_dir));
  ASSERT_NE(server.server(), nullptr);
  ASSERT_TRUE(server.ClientFor("oces-municipality-760-revoked")->ListCases(AllCases()).ok());
  // The OCES CA's newer CRL, added under the next number, is found at the
  // next handshake (a new connection: ClientFor opens one).
  std::filesystem::copy_file(PkiFile("crl/d21dee85.r0"), crl_dir + "/d21dee85.r1");
  auto revoked = server.ClientFor("oces-municipality-760-revoked")->ListCases(AllCases());
  EXPECT_EQ(revoked.status().code(), absl::StatusCode::kUnavailable) << revoked.status();
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
