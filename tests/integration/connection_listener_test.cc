// The accept loop when the process runs out of file descriptors (gRPC's own
// listener stopped accepting for good then, grpc/grpc#20418): the waiting
// connection is taken and closed with the reserve descriptor, counted, and
// accepting resumes by itself once descriptors return. Real sockets; the
// acceptor here stands in for gRPC's and keeps each socket it is handed (the
// whole server under a flood is tests/e2e/connection_flood_test.sh).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/net/connection_listener.h"

namespace handover::net {
namespace {

class KeepingAcceptor : public grpc::experimental::ExternalConnectionAcceptor {
 public:
  ~KeepingAcceptor() override {
    for (int fd : fds_) close(fd);
  }
  void HandleNewConnection(NewConnectionParameters* p) override {
    absl::MutexLock lock(&mu_);
    fds_.push_back(p->fd);
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return fds_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
};

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool WaitFor(const std::function<bool()>& condition) {
  for (int i = 0; i < 100 && !condition(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

TEST(ConnectionListenerTest, OutOfDescriptorsItDropsTheWaitingConnectionAndRecovers) {
  auto listener = ConnectionListener::Bind("127.0.0.1:0", ConnectionLimits{});
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto acceptor = std::make_unique<KeepingAcceptor>();
  KeepingAcceptor* kept = acceptor.get();
  (*listener)->Run(std::move(acceptor));
  const int port = (*listener)->port();

  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  int open_now = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++open_now;
  }
  low.rlim_cur = static_cast<rlim_t>(open_now + 64);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;
  for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers.push_back(fd);
  // One descriptor for the client's end; the listener finds none for its end.
  close(fillers.back());
  fillers.pop_back();
  const int starved = Connect(port);
  ASSERT_GE(starved, 0);
  EXPECT_TRUE(WaitFor([&] { return (*listener)->Stats().descriptors_exhausted_total >= 1; }));
  char byte;
  EXPECT_EQ(recv(starved, &byte, 1, 0), 0) << "the waiting connection was not closed";
  close(starved);
  EXPECT_EQ(kept->count(), 0u);

  for (int fd : fillers) close(fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  const int fine = Connect(port);
  ASSERT_GE(fine, 0);
  EXPECT_TRUE(WaitFor([&] { return kept->count() == 1; })) << "accepting did not resume";
  EXPECT_EQ((*listener)->Stats().accepted_total, 1);
  close(fine);
  (*listener)->Stop();
}

TEST(ConnectionListenerTest, ClosedConnectionsFreeTheirPlaceUnderTheCap) {
  auto listener = ConnectionListener::Bind("127.0.0.1:0",
                                           {.max_connections = 2, .max_connections_per_peer = 2});
  ASSERT_TRUE(listener.ok()) << listener.status();
  // This acceptor closes at once what it is handed, as gRPC does when a
  // connection ends.
  class ClosingAcceptor : public grpc::experimental::ExternalConnectionAcceptor {
   public:
    void HandleNewConnection(NewConnectionParameters* p) override { close(p->fd); }
  };
  (*listener)->Run(std::make_unique<ClosingAcceptor>());
  for (int i = 0; i < 5; ++i) {
    const int fd = Connect((*listener)->port());
    ASSERT_GE(fd, 0);
    close(fd);
  }
  EXPECT_TRUE(WaitFor([&] { return (*listener)->Stats().accepted_total == 5; }))
      << "closed connections still counted against the cap";
  EXPECT_EQ((*listener)->Stats().refused_at_cap_total, 0);
  // The open gauge falls as connections end, not only when a limit is hit
  // (it stayed at 1,402 after the probe's flood had closed).
  EXPECT_EQ((*listener)->Stats().open, 0);
  (*listener)->Stop();
}

// "[::]:port" is dual stack, as gRPC's own listener was: IPv4 clients get in.
TEST(ConnectionListenerTest, TheIpv6WildcardServesIpv4Too) {
  auto listener = ConnectionListener::Bind("[::]:0", ConnectionLimits{});
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto acceptor = std::make_unique<KeepingAcceptor>();
  KeepingAcceptor* kept = acceptor.get();
  (*listener)->Run(std::move(acceptor));
  const int fd = Connect((*listener)->port());
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(WaitFor([&] { return kept->count() == 1; }));
  close(fd);
  (*listener)->Stop();
}

}  // namespace
}  // namespace handover::net
