// Lifecycle: grpc.health.v1 says SERVING while up and NOT_SERVING during the
// drain before shutdown, while calls are still answered; afterwards new calls
// are refused.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "testing/grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using grpc::health::v1::HealthCheckResponse;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(LifecycleTest, HealthReportsNotServingDuringTheDrainWhileCallsStillWork) {
  ServerOptions options = testing::TestServerOptions(testing::NewTempDir());
  options.drain_delay = std::chrono::milliseconds(1500);
  testing::TestServer server(options);
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = Read(testing::PkiFile("ca.pem"));
  tls.pem_cert_chain = Read(testing::PkiFile("municipality-760.pem"));
  tls.pem_private_key = Read(testing::PkiFile("municipality-760.key"));
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(server.address(), grpc::SslCredentials(tls)));
  auto check = [&](grpc::Status* status) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest request;
    HealthCheckResponse response;
    *status = health->Check(&context, request, &response);
    return response.status();
  };
  grpc::Status status;
  EXPECT_EQ(check(&status), HealthCheckResponse::SERVING);
  ASSERT_TRUE(status.ok()) << status.error_message();

  auto m760 = server.ClientFor("municipality-760");
  std::thread stopper([&] { server.server()->Shutdown(std::chrono::seconds(5)); });
  HealthCheckResponse::ServingStatus seen = HealthCheckResponse::SERVING;
  for (int i = 0; i < 100 && seen == HealthCheckResponse::SERVING; ++i) {
    seen = check(&status);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(seen, HealthCheckResponse::NOT_SERVING);
  EXPECT_TRUE(m760->ListCases({}).ok()) << "calls are still served while draining";
  stopper.join();
  EXPECT_EQ(m760->ListCases({}).status().code(), absl::StatusCode::kUnavailable)
      << "after the drain, new calls are refused";
}

}  // namespace
}  // namespace handover
