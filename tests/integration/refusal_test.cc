// Mutual TLS is the only way in: a client without a certificate, with one
// from another CA, or with an unknown role is refused, and so is a call that
// does not say who is acting.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "handover/v1/handover_service.grpc.pb.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using testing::PkiFile;
using testing::TestServer;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A raw stub, so the test controls exactly what is presented.
std::unique_ptr<v1::HandoverService::Stub> RawStub(const TestServer& server,
                                                   const std::string& identity) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = Read(PkiFile("ca.pem"));
  if (!identity.empty()) {
    tls.pem_cert_chain = Read(PkiFile(identity + ".pem"));
    tls.pem_private_key = Read(PkiFile(identity + ".key"));
  }
  return v1::HandoverService::NewStub(
      grpc::CreateChannel(server.address(), grpc::SslCredentials(tls)));
}

grpc::Status ListWith(v1::HandoverService::Stub& stub, bool with_actor = true) {
  grpc::ClientContext context;
  if (with_actor) context.AddMetadata("x-handover-actor", "test-actor");
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::ListCasesRequest request;
  v1::ListCasesResponse response;
  return stub.ListCases(&context, request, &response);
}

class RefusalTest : public ::testing::Test {
 protected:
  TestServer server_;
};

TEST_F(RefusalTest, ValidCertificateIsAccepted) {
  auto stub = RawStub(server_, "municipality-760");
  EXPECT_TRUE(ListWith(*stub).ok());
}

TEST_F(RefusalTest, ClientWithoutCertificateIsRefused) {
  auto stub = RawStub(server_, "");
  EXPECT_EQ(ListWith(*stub).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(RefusalTest, ClientFromAnotherCaIsRefused) {
  auto stub = RawStub(server_, "operator-rogue");
  EXPECT_EQ(ListWith(*stub).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(RefusalTest, ClientWithUnknownRoleIsRefused) {
  auto stub = RawStub(server_, "visitor-nobody");
  const grpc::Status status = ListWith(*stub);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(status.error_message().find("unknown role"), std::string::npos)
      << status.error_message();
}

TEST_F(RefusalTest, CallWithoutActorIsRefused) {
  auto stub = RawStub(server_, "municipality-760");
  const grpc::Status status = ListWith(*stub, /*with_actor=*/false);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "metadata x-handover-actor: required");
}

TEST_F(RefusalTest, ClientThatDoesNotTrustTheServerDoesNotConnect) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = Read(PkiFile("rogue-ca.pem"));
  tls.pem_cert_chain = Read(PkiFile("municipality-760.pem"));
  tls.pem_private_key = Read(PkiFile("municipality-760.key"));
  auto stub = v1::HandoverService::NewStub(
      grpc::CreateChannel(server_.address(), grpc::SslCredentials(tls)));
  EXPECT_EQ(ListWith(*stub).error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace handover
