#include "bench/server_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/bench_support.h"
#include "common/identity.h"
#include "handover/v1/handover_service.grpc.pb.h"

extern char** environ;

namespace handover::bench {
namespace {

// A port nobody listens on now (the kernel's pick for port 0).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

ServerProcess::ServerProcess(const std::string& handoverd, const std::string& pki,
                             const std::string& database, const std::vector<std::string>& extra,
                             const std::string& log_file)
    : port_(FreePort()) {
  const std::string log = log_file.empty() ? database + ".log" : log_file;
  std::vector<std::string> args = {handoverd,
                                   "--listen",
                                   absl::StrCat("127.0.0.1:", port_),
                                   "--cert",
                                   pki + "/server.pem",
                                   "--key",
                                   pki + "/server.key",
                                   "--client-ca",
                                   pki + "/ca.pem",
                                   "--key-file",
                                   pki + "/handover.key",
                                   "--audit-signing-key",
                                   pki + "/audit-signing.key",
                                   "--database",
                                   database,
                                   "--drain-ms",
                                   "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  if (posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), environ) != 0) {
    std::cerr << "bench: cannot start " << handoverd << "\n";
    std::exit(1);
  }
  posix_spawn_file_actions_destroy(&actions);
  auto stub = v1::HandoverService::NewStub(MutualTlsChannel(pki, "operator-redcross", port_));
  for (int i = 0; i < 200; ++i) {
    grpc::ClientContext context;
    context.AddMetadata(kActorMetadataKey, "bench");
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    v1::ListCasesRequest request;
    request.set_page_size(1);
    v1::ListCasesResponse response;
    if (stub->ListCases(&context, request, &response).ok()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "bench: handoverd did not answer; see " << log << "\n";
  std::exit(1);
}

ServerProcess::~ServerProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

int64_t ServerProcess::Status(const char* field) const {
  std::ifstream status(absl::StrCat("/proc/", pid_, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::strlen(field))) * 1024;
  }
  return 0;
}

int64_t ServerProcess::ResidentBytes() const { return Status("VmRSS:"); }
int64_t ServerProcess::PeakResidentBytes() const { return Status("VmHWM:"); }
void ServerProcess::ResetPeak() const {
  std::ofstream(absl::StrCat("/proc/", pid_, "/clear_refs")) << "5";
}

}  // namespace handover::bench
