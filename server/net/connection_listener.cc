#include "server/net/connection_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace handover::net {
namespace {

// "host:port" or "[v6]:port".
absl::Status SplitHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), port) ||
      *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError("listen: must be host:port");
  }
  *host = address.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

std::string PeerAddress(const sockaddr_storage& peer) {
  char text[INET6_ADDRSTRLEN] = "";
  if (peer.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(peer).sin_addr, text, sizeof text);
  } else if (peer.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr, text, sizeof text);
  }
  return text;
}

uint64_t InodeOf(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

int OpenReserve() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

}  // namespace

absl::Status EnsureDescriptorLimit(const ConnectionLimits& limits) {
  const rlim_t needed = static_cast<rlim_t>(limits.max_connections) + kDescriptorsBesideConnections;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::OkStatus();
  if (limit.rlim_cur >= needed) return absl::OkStatus();
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "max-connections: ", limits.max_connections, " needs a file limit of at least ", needed,
        " descriptors; the process may open at most ", limit.rlim_max,
        " (raise LimitNOFILE in the systemd unit, or --ulimit nofile in the container, or "
        "lower max-connections)"));
  }
  limit.rlim_cur = needed;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("max-connections: cannot raise the file limit to ", needed));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ConnectionListener>> ConnectionListener::Bind(
    const std::string& address, ConnectionLimits limits) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(address, &host, &port); !s.ok()) return s;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen: cannot listen on ", address, ": ", gai_strerror(rc)));
  }
  // "[::]:port" alone serves IPv4 too (dual stack); beside an IPv4 address
  // of its own, an IPv6 socket takes IPv6 only.
  bool has_ipv4 = false;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) has_ipv4 |= ai->ai_family == AF_INET;
  std::vector<int> fds;
  std::string last_error;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    // With port 0, every address takes the port the first one got.
    if (port != 0) {
      if (ai->ai_family == AF_INET) {
        reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_port = htons(port);
      } else if (ai->ai_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_port = htons(port);
      }
    }
    const int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (ai->ai_family == AF_INET6) {
      const int v6_only = has_ipv4 ? 1 : 0;
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6_only, sizeof v6_only);
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
      last_error = std::strerror(errno);
      close(fd);
      continue;
    }
    if (port == 0) {
      sockaddr_storage bound{};
      socklen_t length = sizeof bound;
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
      port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(bound).sin_port
                                              : reinterpret_cast<sockaddr_in6&>(bound).sin6_port);
    }
    fds.push_back(fd);
  }
  freeaddrinfo(found);
  if (fds.empty()) {
    return absl::UnavailableError(
        absl::StrCat("listen: cannot listen on ", address, ": ", last_error));
  }
  return std::unique_ptr<ConnectionListener>(new ConnectionListener(std::move(fds), port, limits));
}

ConnectionListener::ConnectionListener(std::vector<int> listen_fds, int port,
                                       ConnectionLimits limits)
    : listen_fds_(std::move(listen_fds)), port_(port), limits_(limits) {
  reserve_fd_ = OpenReserve();
  if (pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) wake_fds_[0] = wake_fds_[1] = -1;
}

ConnectionListener::~ConnectionListener() {
  Stop();
  for (int fd : wake_fds_) {
    if (fd >= 0) close(fd);
  }
  if (reserve_fd_ >= 0) close(reserve_fd_);
}

void ConnectionListener::Run(
    std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor) {
  acceptor_ = std::move(acceptor);
  thread_ = std::thread([this] { AcceptLoop(); });
}

void ConnectionListener::Stop() {
  if (stopping_.exchange(true)) return;
  if (wake_fds_[1] >= 0) {
    const char byte = 0;
    [[maybe_unused]] ssize_t n = write(wake_fds_[1], &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
  // New connections are refused from now on, not left waiting in the backlog.
  for (int fd : listen_fds_) close(fd);
}

ConnectionStats ConnectionListener::Stats() {
  absl::MutexLock lock(&mu_);
  PruneClosed();  // connections gRPC ended since: the gauge counts open ones only
  ConnectionStats stats = stats_;
  stats.open = static_cast<int64_t>(open_.size());
  return stats;
}

void ConnectionListener::AcceptLoop() {
  std::vector<pollfd> polled;
  for (int fd : listen_fds_) polled.push_back({fd, POLLIN, 0});
  polled.push_back({wake_fds_[0], POLLIN, 0});
  while (!stopping_) {
    // The timeout bounds how long a reserve-less loop waits for descriptors.
    const int ready = poll(polled.data(), polled.size(), reserve_fd_ < 0 ? 100 : 1000);
    if (stopping_) break;
    if (reserve_fd_ < 0) reserve_fd_ = OpenReserve();
    if (ready <= 0) continue;
    for (size_t i = 0; i + 1 < polled.size(); ++i) {
      if (polled[i].revents & POLLIN) AcceptOne(polled[i].fd);
    }
  }
}

void ConnectionListener::AcceptOne(int listen_fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  const int fd =
      accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno != EMFILE && errno != ENFILE) return;  // EAGAIN, a peer gone before accept
    {
      absl::MutexLock lock(&mu_);
      ++stats_.descriptors_exhausted_total;
    }
    LogRefusal("no file descriptor left: a connection was accepted and closed", &last_fd_log_);
    // Take the waiting connection off the queue with the reserve, so the
    // loop does not spin on it; the reserve is reopened when one is free.
    if (reserve_fd_ >= 0) {
      close(reserve_fd_);
      reserve_fd_ = -1;
      const int dropped = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (dropped >= 0) close(dropped);
      reserve_fd_ = OpenReserve();
    }
    return;
  }
  const std::string from = PeerAddress(peer);
  const char* refused = nullptr;
  {
    absl::MutexLock lock(&mu_);
    open_.erase(fd);  // a closed connection's reused number
    if (OverLimit(from) != nullptr) PruneClosed();
    if (const char* kind = OverLimit(from); kind != nullptr) {
      refused = kind;
      ++(kind[0] == 'c' ? stats_.refused_at_cap_total : stats_.refused_per_peer_total);
    } else {
      open_[fd] = Open{InodeOf(fd), from};
      ++stats_.accepted_total;
    }
  }
  if (refused != nullptr) {
    close(fd);
    if (refused[0] == 'c') {
      LogRefusal("max-connections reached: new connections are closed at once", &last_cap_log_);
    } else {
      LogRefusal(
          "max-connections-per-peer reached by an address: its new connections are "
          "closed at once",
          &last_peer_log_);
    }
    return;
  }
  const int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters parameters;
  parameters.listener_fd = listen_fd;
  parameters.fd = fd;
  acceptor_->HandleNewConnection(&parameters);
}

void ConnectionListener::PruneClosed() {
  for (auto it = open_.begin(); it != open_.end();) {
    const uint64_t inode = InodeOf(it->first);
    it = (inode == 0 || inode != it->second.inode) ? open_.erase(it) : std::next(it);
  }
}

const char* ConnectionListener::OverLimit(const std::string& peer) const {
  if (static_cast<int>(open_.size()) >= limits_.max_connections) return "cap";
  if (CountFrom(peer) >= limits_.max_connections_per_peer) return "peer";
  return nullptr;
}

int ConnectionListener::CountFrom(const std::string& peer) const {
  int count = 0;
  for (const auto& [fd, open] : open_) count += open.peer == peer;
  return count;
}

void ConnectionListener::LogRefusal(const char* what, std::chrono::steady_clock::time_point* last) {
  const auto now = std::chrono::steady_clock::now();
  if (*last != std::chrono::steady_clock::time_point{} && now - *last < std::chrono::minutes(1)) {
    return;
  }
  *last = now;
  spdlog::warn("{} (counted in handover_connections_refused_total)", what);
}

}  // namespace handover::net
