// handoverctl's check of its own certificate before it connects, on the
// certificates deploy/dev-pki.sh made for this run.
#include "client/own_certificate.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/testing/test_server.h"

namespace handover::client {
namespace {

std::string Read(const std::string& name) {
  std::ifstream in(testing::PkiFile(name));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status Check(const std::string& cert, const std::string& key) {
  return CheckOwnCertificate(Read(cert), cert, Read(key), key);
}

TEST(OwnCertificateTest, AValidCertificateWithItsKeyPasses) {
  EXPECT_TRUE(Check("municipality-760.pem", "municipality-760.key").ok());
  EXPECT_TRUE(Check("oces-municipality-760.pem", "oces-municipality-760.key").ok());
}

TEST(OwnCertificateTest, AnExpiredCertificateIsRefusedWithItsDate) {
  absl::Status status =
      Check("oces-municipality-760-expired.pem", "oces-municipality-760-expired.key");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_NE(status.message().find("expired on 2024-12-31"), std::string::npos) << status;
}

TEST(OwnCertificateTest, AnotherCertificatesKeyIsRefused) {
  absl::Status status = Check("municipality-760.pem", "municipality-147.key");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_NE(status.message().find("is not the private key of the certificate"), std::string::npos)
      << status;
}

TEST(OwnCertificateTest, AFileWithoutPemIsNamed) {
  absl::Status status = CheckOwnCertificate("not a certificate", "x.pem", "", "x.key");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("cert: x.pem"), std::string::npos) << status;
}

}  // namespace
}  // namespace handover::client
