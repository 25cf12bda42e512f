#include "server/service/upload_limiter.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace handover::service {
namespace {

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

UploadLimiter::Slot::Slot(UploadLimiter& limiter, std::string organisation, std::string connection,
                          grpc::CallbackServerContext* context)
    : limiter_(limiter),
      organisation_(std::move(organisation)),
      connection_(std::move(connection)),
      context_(context),
      last_message_ms_(NowMillis()) {}

UploadLimiter::Slot::~Slot() { limiter_.Release(this); }

void UploadLimiter::Slot::Touch() { last_message_ms_ = NowMillis(); }

void UploadLimiter::Slot::Pause() { last_message_ms_ = std::numeric_limits<int64_t>::max(); }

bool UploadLimiter::Slot::timed_out() const { return timed_out_; }

UploadLimiter::UploadLimiter(UploadLimits limits)
    : limits_(limits), watchdog_([this] { Watch(); }) {}

UploadLimiter::~UploadLimiter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  watchdog_.join();
}

absl::StatusOr<std::unique_ptr<UploadLimiter::Slot>> UploadLimiter::Acquire(
    const std::string& organisation, const std::string& connection,
    grpc::CallbackServerContext* context) {
  absl::MutexLock lock(&mu_);
  auto refuse = [](absl::string_view which, int limit) {
    return absl::ResourceExhaustedError(absl::StrCat("too many uploads open ", which, " (at most ",
                                                     limit, "); finish or cancel one, then retry"));
  };
  if (static_cast<int>(open_.size()) >= limits_.max_open) {
    return refuse("on the server", limits_.max_open);
  }
  if (by_organisation_[organisation] >= limits_.max_open_per_organisation) {
    return refuse("by your organisation", limits_.max_open_per_organisation);
  }
  if (by_connection_[connection] >= limits_.max_open_per_connection) {
    return refuse("on this connection", limits_.max_open_per_connection);
  }
  std::unique_ptr<Slot> slot(new Slot(*this, organisation, connection, context));
  open_.insert(slot.get());
  ++by_organisation_[organisation];
  ++by_connection_[connection];
  return slot;
}

void UploadLimiter::Release(Slot* slot) {
  absl::MutexLock lock(&mu_);
  open_.erase(slot);
  if (--by_organisation_[slot->organisation_] == 0) by_organisation_.erase(slot->organisation_);
  if (--by_connection_[slot->connection_] == 0) by_connection_.erase(slot->connection_);
}

void UploadLimiter::Watch() {
  // Looks ten times per timeout (at least every second).
  const auto every = std::clamp(limits_.idle_timeout / 10, std::chrono::milliseconds(10),
                                std::chrono::milliseconds(1000));
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::FromChrono(every))) {
    const int64_t stalled_before = NowMillis() - limits_.idle_timeout.count();
    for (Slot* slot : open_) {
      // Under mu_: the slot, and so its call, is still there.
      if (slot->last_message_ms_ < stalled_before && !slot->timed_out_.exchange(true)) {
        slot->context_->TryCancel();
      }
    }
  }
}

}  // namespace handover::service
