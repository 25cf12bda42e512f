// The server's own accept loop. gRPC 1.51 accepts every connection it is
// offered until the process runs out of file descriptors, and then stops
// accepting for good (grpc/grpc#20418). This listener accepts instead and
// hands each admitted socket to gRPC (ServerBuilder's external connection
// acceptor), so that:
//   - at most `max_connections` connections are open at once, and at most
//     `max_connections_per_peer` from one IP address: beyond either, a new
//     connection is accepted and closed at once (counted, logged once a
//     minute);
//   - one descriptor is held in reserve: when accept fails for lack of
//     descriptors, the reserve is released to accept and close the waiting
//     connection, and accepting resumes as soon as descriptors return.
// Connections end inside gRPC (handshake timeout, idle or maximum age, the
// peer closing); the listener notices by the socket's descriptor being gone
// (checked when a limit would refuse, and at every Stats(), so the open
// gauge falls as connections end).
//
// Threads: one accept thread of its own; Stats() from any thread.
#pragma once

#include <grpcpp/server_builder.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace handover::net {

struct ConnectionLimits {
  // Connections open at once. Default 8192.
  int max_connections = 8192;
  // Connections open at once from one IP address. Default 2048 (a hosting
  // provider may carry many organisations' systems behind one address).
  int max_connections_per_peer = 2048;
};

// Descriptors the process needs besides its connections: the database and
// its readers, staging files of uploads, the metrics endpoint, gRPC's own.
inline constexpr int kDescriptorsBesideConnections = 512;

// Makes sure the process may open max_connections plus the descriptors it
// needs besides them: raises the soft RLIMIT_NOFILE up to the hard limit if
// needed; FAILED_PRECONDITION naming `max-connections` and the limit if even
// the hard limit is too low.
absl::Status EnsureDescriptorLimit(const ConnectionLimits& limits);

struct ConnectionStats {
  int64_t open = 0;            // admitted and not yet seen closed
  int64_t accepted_total = 0;  // admitted and handed to gRPC
  int64_t refused_at_cap_total = 0;
  int64_t refused_per_peer_total = 0;
  int64_t descriptors_exhausted_total = 0;  // accepts that found no descriptor
};

class ConnectionListener {
 public:
  // Binds and listens on `address` ("host:port"; port 0 picks a free one;
  // every address the host resolves to). Accepting starts with Run.
  static absl::StatusOr<std::unique_ptr<ConnectionListener>> Bind(const std::string& address,
                                                                  ConnectionLimits limits);
  // Stop, then closes the rest.
  ~ConnectionListener();

  int port() const { return port_; }

  // Starts accepting and handing admitted connections to `acceptor` (which
  // must outlive the listener's Stop). Call once, after the gRPC server has
  // started.
  void Run(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor);
  // Stops accepting and closes the listening sockets, so new connections are
  // refused (connections already handed over are gRPC's). Call before
  // shutting the gRPC server down. Idempotent.
  void Stop();

  ConnectionStats Stats();

 private:
  struct Open {
    uint64_t inode;    // the socket's identity: the descriptor number is reused
    std::string peer;  // IP address, without the port
  };

  ConnectionListener(std::vector<int> listen_fds, int port, ConnectionLimits limits);
  void AcceptLoop();
  void AcceptOne(int listen_fd);
  // Forgets connections whose descriptor is closed or now names another file.
  void PruneClosed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int CountFrom(const std::string& peer) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // "cap" if the listener is at max_connections, "peer" if `peer` is at
  // max_connections_per_peer, else nullptr.
  const char* OverLimit(const std::string& peer) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Logs a refusal kind at most once a minute (a flood would flood the log).
  void LogRefusal(const char* what, std::chrono::steady_clock::time_point* last);

  const std::vector<int> listen_fds_;
  const int port_;
  const ConnectionLimits limits_;
  int reserve_fd_ = -1;         // accept thread only
  int wake_fds_[2] = {-1, -1};  // Stop writes to [1] to end the loop
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point last_cap_log_{}, last_peer_log_{}, last_fd_log_{};

  mutable absl::Mutex mu_;
  std::map<int, Open> open_ ABSL_GUARDED_BY(mu_);  // by descriptor
  ConnectionStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace handover::net
