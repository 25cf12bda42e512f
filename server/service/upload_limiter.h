// How many uploads may hold a staging file at once, and how long one may
// stall. Each upload that has passed its checks holds a slot while its
// content arrives (and with it a staging file, a descriptor): slots are
// bounded per connection, per organisation and in all, so a client that
// opens uploads and stalls cannot use up the process's descriptors; an
// upload that receives no message for the idle timeout is cancelled, its
// staging file removed. A refusal is RESOURCE_EXHAUSTED naming the limit
// (retry later), never INTERNAL.
//
// Threads: Acquire and the slots' methods may be called from any thread; a
// watchdog thread of the limiter's own cancels stalled uploads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/server_context.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace handover::service {

struct UploadLimits {
  // Uploads receiving content at once, in all. Default 256.
  int max_open = 256;
  // ... by one organisation. Default 64.
  int max_open_per_organisation = 64;
  // ... on one client connection. Default 16.
  int max_open_per_connection = 16;
  // An upload that receives no message for this long is cancelled. Default 30 s.
  std::chrono::milliseconds idle_timeout{30000};
};

class UploadLimiter {
 public:
  // An upload's slot: held while its content arrives; released when
  // destroyed (before the upload's context goes).
  class Slot {
   public:
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    // A message arrived, or the upload waits for the client again: the idle
    // timeout starts again.
    void Touch();
    // The upload waits on the server (its checks, its commit), not on the
    // client: no timeout until the next Touch.
    void Pause();
    // Whether the watchdog cancelled the upload for stalling.
    bool timed_out() const;

   private:
    friend class UploadLimiter;
    Slot(UploadLimiter& limiter, std::string organisation, std::string connection,
         grpc::CallbackServerContext* context);
    UploadLimiter& limiter_;
    const std::string organisation_;
    const std::string connection_;
    grpc::CallbackServerContext* const context_;
    std::atomic<int64_t> last_message_ms_;
    std::atomic<bool> timed_out_{false};
  };

  explicit UploadLimiter(UploadLimits limits);
  ~UploadLimiter();  // stops the watchdog; every slot must be gone

  // A slot for an upload by `organisation` on connection `connection` (the
  // peer URI, one per connection), whose call is `context`; RESOURCE_EXHAUSTED
  // naming the limit reached.
  absl::StatusOr<std::unique_ptr<Slot>> Acquire(const std::string& organisation,
                                                const std::string& connection,
                                                grpc::CallbackServerContext* context)
      ABSL_LOCKS_EXCLUDED(mu_);

  const UploadLimits& limits() const { return limits_; }

 private:
  void Release(Slot* slot) ABSL_LOCKS_EXCLUDED(mu_);
  void Watch() ABSL_LOCKS_EXCLUDED(mu_);

  const UploadLimits limits_;
  absl::Mutex mu_;
  absl::flat_hash_set<Slot*> open_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> by_organisation_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> by_connection_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watchdog_;
};

}  // namespace handover::service
