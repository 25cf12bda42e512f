// How a replica learns of commits made by the others: a thread with its own
// connection LISTENs on the channel kFeedChannel, and calls `wake` when a
// notification arrives and at least once per `poll_interval` anyway. A
// notification is only a hint (its payload, the new head revision, is not
// trusted): `wake` reads the feed itself, so a lost notification (a
// dropped connection, a restart) delays an event by at most the poll
// interval and never loses it.
//
// Threads: `wake` runs on the watcher's thread with the watcher's
// connection. The destructor stops the thread (within a fifth of a second).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/time/time.h"

namespace handover::store {

struct PgConnection;  // pg_statements.h

// The channel every replica NOTIFYs after a commit that wrote events.
inline constexpr char kFeedChannel[] = "handover_feed";

class PgCommitWatcher {
 public:
  PgCommitWatcher(std::string url, absl::Duration poll_interval,
                  std::function<void(PgConnection&)> wake);
  ~PgCommitWatcher();
  PgCommitWatcher(const PgCommitWatcher&) = delete;
  PgCommitWatcher& operator=(const PgCommitWatcher&) = delete;

 private:
  void Run();

  const std::string url_;
  const absl::Duration poll_interval_;
  const std::function<void(PgConnection&)> wake_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace handover::store
