// Certificate reload: the server re-reads its certificate files while
// serving; a client that trusts only the new certificate's CA connects after
// the reload, without a restart.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

namespace fs = std::filesystem;

absl::Status ListWithCa(const std::string& address, const std::string& ca) {
  client::ClientOptions options;
  options.server = address;
  options.certificate_file = testing::PkiFile("municipality-760.pem");
  options.private_key_file = testing::PkiFile("municipality-760.key");
  options.ca_file = ca;
  options.actor = "reload-test";
  options.timeout = std::chrono::seconds(3);
  auto client = client::HandoverClient::Connect(options);
  if (!client.ok()) return client.status();
  return (*client)->ListCases({}).status();
}

TEST(CertificateReloadTest, NewConnectionsUseTheRenewedCertificate) {
  const std::string dir = testing::NewTempDir();
  const std::string renewed = dir + "/renewed-pki";
  ASSERT_EQ(
      std::system(absl::StrCat(HANDOVER_SOURCE_DIR, "/deploy/dev-pki.sh ", renewed, " > /dev/null")
                      .c_str()),
      0);
  for (const char* file : {"server.pem", "server.key"}) {
    fs::copy_file(testing::PkiFile(file), dir + "/" + file);
  }
  ServerOptions options = testing::TestServerOptions(dir);
  options.certificate_file = dir + "/server.pem";
  options.private_key_file = dir + "/server.key";
  options.tls_refresh_seconds = 1;
  testing::TestServer server(options);

  EXPECT_TRUE(ListWithCa(server.address(), testing::PkiFile("ca.pem")).ok());
  EXPECT_EQ(ListWithCa(server.address(), renewed + "/ca.pem").code(),
            absl::StatusCode::kUnavailable)
      << "the renewed CA does not vouch for the old certificate";

  // Renew: replace the files in place (key first, then certificate).
  fs::copy_file(renewed + "/server.key", dir + "/server.key", fs::copy_options::overwrite_existing);
  fs::copy_file(renewed + "/server.pem", dir + "/server.pem", fs::copy_options::overwrite_existing);
  absl::Status status;
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    status = ListWithCa(server.address(), renewed + "/ca.pem");
    if (status.ok()) break;
  }
  EXPECT_TRUE(status.ok()) << status;
}

}  // namespace
}  // namespace handover
