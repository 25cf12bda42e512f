#include "tests/testing/test_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/dates.h"
#include "common/identity.h"

namespace handover::testing {

std::string PkiFile(const std::string& name) { return absl::StrCat(HANDOVER_TEST_PKI, "/", name); }

std::string NewTempDir() {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = absl::StrCat(::testing::TempDir(), "handover-", info ? info->name() : "global",
                                 "-", getpid(), "-", counter++);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

ServerOptions TestServerOptions(const std::string& dir) {
  ServerOptions options = SqliteServerOptions(dir);
  // A name as unique as the directory: the in-memory engine's databases live
  // as long as the process, so a restarted server finds its own again.
  std::string name = std::filesystem::path(dir).filename().string();
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
  }
  options.database_path = absl::StrCat("mem://", name.substr(0, 100));
  options.staging_directory = absl::StrCat(dir, "/staging");
  return options;
}

ServerOptions SqliteServerOptions(const std::string& dir) {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.certificate_file = PkiFile("server.pem");
  options.private_key_file = PkiFile("server.key");
  options.client_ca_file = PkiFile("ca.pem");
  options.key_file = PkiFile("handover.key");
  options.audit_signing_key_file = PkiFile("audit-signing.key");
  options.database_path = absl::StrCat(dir, "/handover.db");
  options.readers.threads = 2;
  options.drain_delay = std::chrono::milliseconds(0);
  return options;
}

TestServer::TestServer(ServerOptions options) : options_(std::move(options)) {
  options_.listen_address = "127.0.0.1:0";
  Restart();
}

TestServer::~TestServer() = default;

void TestServer::Stop() { server_.reset(); }

void TestServer::Restart() {
  server_.reset();
  auto server = HandoverServer::Start(options_);
  if (!server.ok()) {
    ADD_FAILURE() << "server did not start: " << server.status();
    return;
  }
  server_ = *std::move(server);
  port_ = server_->port();
  options_.listen_address = absl::StrCat("127.0.0.1:", port_);  // the same port next time
}

client::ClientOptions ClientOptionsFor(const std::string& address, const std::string& identity) {
  client::ClientOptions options;
  options.server = address;
  options.certificate_file = PkiFile(identity + ".pem");
  options.private_key_file = PkiFile(identity + ".key");
  options.ca_file = PkiFile("ca.pem");
  return options;
}

std::string TestServer::address() const { return absl::StrCat("localhost:", port_); }

std::unique_ptr<client::HandoverClient> TestServer::ClientFor(const std::string& identity,
                                                              const std::string& actor) const {
  client::ClientOptions options = ClientOptionsFor(address(), identity);
  options.actor = actor;
  options.timeout = std::chrono::seconds(10);
  auto client = client::HandoverClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

void ExpectStartRefusedAsAnOlderCopy(const ServerOptions& options, int64_t feed_end,
                                     int64_t marked) {
  auto refused = HandoverServer::Start(options);
  ASSERT_FALSE(refused.ok()) << "a database put back by hand was accepted";
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(
      refused.status().message(),
      absl::StrCat("its feed ends at revision ", feed_end, ", but revisions up to ", marked,
                   " were handed out in its feed epoch")))
      << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "handoverd restore --from"))
      << refused.status();
}

grpc::Status SendRawRequest(const std::string& address, const std::string& method,
                            const std::string& request, const std::string& identity,
                            std::string* response) {
  // gRPC's own channel: none of handoverctl's checks of its certificate.
  auto read = [](const std::string& name) {
    std::ifstream in(PkiFile(name));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  grpc::SslCredentialsOptions tls{.pem_root_certs = read("ca.pem"),
                                  .pem_private_key = read(identity + ".key"),
                                  .pem_cert_chain = read(identity + ".pem")};
  grpc::GenericStub stub(grpc::CreateChannel(address, grpc::SslCredentials(tls)));
  grpc::ClientContext context;
  context.AddMetadata(std::string(kActorMetadataKey), "probe-1");
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(request);
  grpc::ByteBuffer sent(&slice, 1), received;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &sent, &received,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  grpc::Status status = done.get_future().get();
  if (response != nullptr && status.ok()) {
    std::vector<grpc::Slice> slices;
    (void)received.Dump(&slices);
    response->clear();
    for (const auto& piece : slices) response->append(piece.begin(), piece.end());
  }
  return status;
}

int HealthStatus(const std::string& address, const std::string& service, grpc::Status* failure) {
  // HealthCheckRequest: field 1, the service name; the response's field 1 is
  // the status.
  std::string request;
  if (!service.empty()) request = std::string(1, '\x0a') + char(service.size()) + service;
  std::string response;
  grpc::Status status = SendRawRequest(address, "/grpc.health.v1.Health/Check", request,
                                       "municipality-760", &response);
  if (failure != nullptr) *failure = status;
  if (!status.ok()) return -1;
  return response.size() == 2 && response[0] == '\x08' ? response[1] : 0;
}

v1::HandoverForm SampleForm(const std::string& person_identifier) {
  v1::HandoverForm form;
  v1::Identity* identity = form.mutable_identity();
  identity->set_person_identifier(person_identifier);
  identity->set_given_names("Testa Fiktiva");
  identity->set_family_name("Eksempelsen");
  *identity->mutable_date_of_birth() = MakeDate(1990, 3, 14);
  identity->set_sex(v1::SEX_FEMALE);
  identity->add_nationalities("SY");
  identity->add_spoken_languages("ar");
  form.mutable_household()->set_type(v1::HOUSEHOLD_TYPE_SINGLE_ADULT);
  form.mutable_residence()->set_permit_type(v1::PERMIT_TYPE_CONVENTION_STATUS);
  form.mutable_languages()->set_mother_tongue("ar");
  form.mutable_languages()->set_danish_level(v1::CEFR_LEVEL_A1);
  v1::Health* health = form.mutable_health();
  health->set_special_needs(true);
  health->set_special_needs_description("Fictional: needs a ground-floor home");
  health->mutable_medical_record_reference()->set_system("E-mar");
  health->mutable_medical_record_reference()->set_record_identifier("EMAR-TEST-0001");
  auto* permit = form.add_documents();
  permit->set_type(v1::DOCUMENT_TYPE_RESIDENCE_PERMIT);
  permit->set_handed_over(true);
  form.add_documents()->set_type(v1::DOCUMENT_TYPE_MEDICAL_RECORD);
  return form;
}

std::string CreateAndAssign(const TestServer& server, const std::string& person) {
  auto created = server.ClientFor("operator-redcross")
                     ->CreateCase(SampleForm(person), client::HandoverClient::NewRequestId());
  EXPECT_TRUE(created.ok()) << created.status();
  if (!created.ok()) return "";
  v1::AssignCaseRequest assign;
  assign.set_name(created->name());
  assign.set_municipality_code("760");
  assign.set_request_id(client::HandoverClient::NewRequestId());
  EXPECT_TRUE(server.ClientFor("immigration-service-uds")->AssignCase(assign).ok());
  return created->name();
}

}  // namespace handover::testing
