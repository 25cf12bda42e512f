#include "server/store/postgres/pg_commit_watcher.h"

#include <chrono>
#include <exception>
#include <memory>
#include <pqxx/pqxx>

#include <spdlog/spdlog.h>

#include "server/store/postgres/pg_statements.h"

namespace handover::store {
namespace {

class FeedListener final : public pqxx::notification_receiver {
 public:
  FeedListener(pqxx::connection& connection, bool* notified)
      : pqxx::notification_receiver(connection, kFeedChannel), notified_(notified) {}
  void operator()(const std::string&, int) override { *notified_ = true; }

 private:
  bool* notified_;
};

}  // namespace

PgCommitWatcher::PgCommitWatcher(std::string url, absl::Duration poll_interval,
                                 std::function<void(PgConnection&)> wake)
    : url_(std::move(url)),
      poll_interval_(poll_interval),
      wake_(std::move(wake)),
      thread_([this] { Run(); }) {}

PgCommitWatcher::~PgCommitWatcher() {
  stopping_ = true;
  thread_.join();
}

void PgCommitWatcher::Run() {
  constexpr long kSliceMicros = 200'000;  // how soon a stop is noticed
  while (!stopping_) {
    try {
      PgConnection connection(url_, "handoverd-feed-watcher");
      bool notified = false;
      FeedListener listener(connection.connection, &notified);
      absl::Time next_poll = absl::Now();
      while (!stopping_) {
        connection.connection.await_notification(0, kSliceMicros);
        if (notified || absl::Now() >= next_poll) {
          notified = false;
          next_poll = absl::Now() + poll_interval_;
          wake_(connection);
        }
      }
    } catch (const std::exception& e) {
      // The server went away: connect again (and LISTEN again) after a pause;
      // the first poll then catches up on whatever was missed.
      spdlog::warn("feed watcher: {}; reconnecting", e.what());
      for (int i = 0; i < 5 && !stopping_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }
}

}  // namespace handover::store
