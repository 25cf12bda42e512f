#include "bench/bench_support.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/dates.h"

namespace handover::bench {

void MakeDevPki(const std::string& pki) {
  const std::string command =
      absl::StrCat(HANDOVER_SOURCE_DIR, "/deploy/dev-pki.sh ", pki, " > /dev/null");
  if (std::system(command.c_str()) != 0) {
    std::cerr << "bench: dev-pki.sh failed\n";
    std::exit(1);
  }
}

BenchServer::BenchServer(const std::string& dir, ServerOptions options) : pki_(dir + "/pki") {
  spdlog::set_level(spdlog::level::warn);  // the tables are the output
  std::filesystem::create_directories(dir);
  MakeDevPki(pki_);
  options.listen_address = "127.0.0.1:0";
  options.drain_delay = std::chrono::milliseconds(0);
  options.certificate_file = pki_ + "/server.pem";
  options.private_key_file = pki_ + "/server.key";
  options.client_ca_file = pki_ + "/ca.pem";
  options.key_file = pki_ + "/handover.key";
  options.audit_signing_key_file = pki_ + "/audit-signing.key";
  options.database_path = dir + "/handover.db";
  auto server = HandoverServer::Start(options);
  if (!server.ok()) {
    std::cerr << "bench: server did not start: " << server.status() << "\n";
    std::exit(1);
  }
  server_ = *std::move(server);
}

std::unique_ptr<client::HandoverClient> BenchServer::ClientFor(const std::string& identity) const {
  return BenchClient(pki_, server_->port(), identity);
}

std::unique_ptr<client::HandoverClient> BenchClient(const std::string& pki, int port,
                                                    const std::string& identity) {
  client::ClientOptions options;
  options.server = absl::StrCat("localhost:", port);
  options.timeout = std::chrono::seconds(120);
  options.certificate_file = pki + "/" + identity + ".pem";
  options.private_key_file = pki + "/" + identity + ".key";
  options.ca_file = pki + "/ca.pem";
  options.actor = "bench";
  auto client = client::HandoverClient::Connect(options);
  if (!client.ok()) {
    std::cerr << "bench: " << client.status() << "\n";
    std::exit(1);
  }
  return *std::move(client);
}

std::shared_ptr<grpc::Channel> MutualTlsChannel(const std::string& pki, const std::string& identity,
                                                int port, int index) {
  client::ClientOptions options;
  options.server = absl::StrCat("localhost:", port);
  options.certificate_file = pki + "/" + identity + ".pem";
  options.private_key_file = pki + "/" + identity + ".key";
  options.ca_file = pki + "/ca.pem";
  grpc::ChannelArguments arguments;
  arguments.SetInt("handover.bench.channel", index);
  arguments.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  auto channel = client::MutualTlsChannel(options, arguments);
  if (!channel.ok()) {
    std::cerr << "bench: " << channel.status() << "\n";
    std::exit(1);
  }
  return *std::move(channel);
}

std::vector<std::string> CreateAssignedCases(const BenchServer& server, int count) {
  auto op = server.ClientFor("operator-redcross");
  auto uds = server.ClientFor("immigration-service-uds");
  std::vector<std::string> cases;
  for (int i = 0; i < count; ++i) {
    auto created = op->CreateCase(BenchForm(std::to_string(99000000 + i)),
                                  client::HandoverClient::NewRequestId());
    v1::AssignCaseRequest assign;
    assign.set_name(created.ok() ? created->name() : "");
    assign.set_municipality_code("760");
    assign.set_request_id(client::HandoverClient::NewRequestId());
    if (!created.ok() || !uds->AssignCase(assign).ok()) {
      std::cerr << "bench: setup failed\n";
      std::exit(1);
    }
    cases.push_back(created->name());
  }
  return cases;
}

void SeedAssignedCases(store::CaseStore* store, int64_t first, int64_t count,
                       const std::string& municipality) {
  constexpr int kInFlight = 2000;
  std::mutex mu;
  std::condition_variable changed;
  int in_flight = 0;
  std::atomic<int64_t> failed{0};
  auto finish = [&](bool ok) {
    if (!ok) ++failed;
    std::lock_guard lock(mu);
    --in_flight;
    changed.notify_all();
  };
  for (int64_t i = first; i < first + count; ++i) {
    {
      std::unique_lock lock(mu);
      changed.wait(lock, [&] { return in_flight < kInFlight; });
      ++in_flight;
    }
    auto request = std::make_shared<v1::CreateCaseRequest>();
    *request->mutable_form() = BenchForm(std::to_string(90000000 + i));
    request->set_request_id(absl::StrCat("seed-", i));
    store::WriteContext create{{Role::kOperator, "redcross"},
                               "bench-seed",
                               request->request_id(),
                               request.get(),
                               std::nullopt};
    store->CreateCase(create, request->form(), [=, &finish](absl::StatusOr<store::CaseSnapshot> c) {
      if (!c.ok()) return finish(false);
      auto assign = std::make_shared<v1::AssignCaseRequest>();
      assign->set_name(c->meta.name());
      assign->set_municipality_code(municipality);
      assign->set_request_id(absl::StrCat("seed-assign-", i));
      store::WriteContext context{{Role::kImmigrationService, "uds"},
                                  "bench-seed",
                                  assign->request_id(),
                                  assign.get(),
                                  std::nullopt};
      store->AssignCase(
          context, {c->meta.name().substr(6), municipality, MakeDate(2026, 5, 15)},
          [](const policy::CaseFacts&) { return absl::OkStatus(); },
          [assign, request, &finish](absl::StatusOr<store::CaseSnapshot> a) { finish(a.ok()); });
    });
  }
  std::unique_lock lock(mu);
  changed.wait(lock, [&] { return in_flight == 0; });
  if (failed > 0) {
    std::cerr << "bench: seeding failed for " << failed << " cases\n";
    std::exit(1);
  }
}

void WriteTable(const std::string& table, const std::string& path) {
  std::cout << table;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << table;
}

double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * values.size()))];
}

v1::HandoverForm BenchForm(const std::string& person_identifier, size_t bytes) {
  v1::HandoverForm form;
  form.mutable_identity()->set_person_identifier(person_identifier);
  form.mutable_identity()->set_given_names("Bench Fiktiv");
  form.mutable_identity()->set_family_name("Testsen");
  *form.mutable_identity()->mutable_date_of_birth() = MakeDate(1990, 1, 1);
  form.mutable_household()->set_type(v1::HOUSEHOLD_TYPE_SINGLE_ADULT);
  form.mutable_languages()->set_mother_tongue("ar");
  const size_t per_item = 200;
  for (size_t n = 0; n * per_item < bytes && n < 40; ++n) {
    form.mutable_informal_competences()->add_skills(std::string(per_item, 's'));
  }
  return form;
}

}  // namespace handover::bench
