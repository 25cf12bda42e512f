// The Watch stream: a self-owned server-streaming reactor that sends the
// caller's backlog of events and then live ones, without a thread of its own.
//
// It reads events in batches of at most `batch_size` after its cursor (from
// the hub's in-memory tail when it can, else from the store) and writes them
// one at a time; it reads the next batch only when the
// last one is written, so a stream holds at most one batch in memory however
// far behind its client is. Commits (FeedHub) wake it; ticks send a progress
// revision once nothing was sent for the progress interval, and end a stream
// whose client has not taken a message for `stall_timeout` with
// RESOURCE_EXHAUSTED (resume from the last revision received); if the client
// still takes nothing for 10 s more (or stall_timeout, if longer), the call is
// cancelled. The first event and every progress message carry the store's
// feed epoch.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <chrono>
#include <deque>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/handover_service.pb.h"
#include "server/feed/feed_hub.h"
#include "server/service/caller.h"
#include "server/store/case_store.h"

namespace handover::service {

struct WatchOptions {
  // How often an idle stream gets a progress revision. Default 5 s.
  std::chrono::milliseconds progress_interval{5000};
  // A client that takes no message for this long, while more wait, is cut off.
  // Default 30 s.
  std::chrono::milliseconds stall_timeout{30000};
  // Events read and held per stream at once. Default 256.
  int batch_size = 256;
};

class Watcher final : public grpc::ServerWriteReactor<v1::WatchResponse>,
                      public feed::FeedListener,
                      public std::enable_shared_from_this<Watcher> {
 public:
  // Starts streaming `query` (whose after_revision is the start) to the caller.
  // The returned reactor owns itself until gRPC calls OnDone.
  // Each batch that carries case content is recorded in the access log, as
  // `audit` naming the cases and sections, before it is sent.
  static Watcher* Start(grpc::CallbackServerContext* context, store::CaseStore* store,
                        feed::FeedHub* hub, Caller caller, store::FeedQuery query,
                        WatchOptions options, v1::AccessRecord audit);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void OnCommit(int64_t head_revision) override;
  void OnTick(std::chrono::steady_clock::time_point now) override;
  void OnShutdown() override;

 private:
  Watcher(grpc::CallbackServerContext* context, store::CaseStore* store, feed::FeedHub* hub,
          Caller caller, store::FeedQuery query, WatchOptions options, v1::AccessRecord audit);
  // Queues a read batch for writing and moves the cursor; then pumps.
  void Deliver(std::deque<v1::WatchResponse> batch, const store::FeedPage& page);

  // Starts the next write and/or read if the stream is ready for them.
  void Pump();
  void OnRead(absl::StatusOr<store::FeedPage> page);
  // Finishes now, or after the write in flight. Returns true if the caller
  // must call Finish (outside the lock).
  bool FinishLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishWith(const absl::Status& status);

  grpc::CallbackServerContext* const context_;
  store::CaseStore* const store_;
  feed::FeedHub* const hub_;
  const Caller caller_;
  const store::FeedQuery query_;
  const WatchOptions options_;
  const v1::AccessRecord audit_;
  bool epoch_sent_ = false;  // OnRead only (one read runs at a time)

  absl::Mutex mu_;
  int64_t cursor_ ABSL_GUARDED_BY(mu_);                         // everything up to it is read
  std::deque<v1::WatchResponse> pending_ ABSL_GUARDED_BY(mu_);  // read, not yet written
  // The message being written: set under mu_ while no write is in flight,
  // then read by gRPC until OnWriteDone.
  v1::WatchResponse in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // The first write (which carries the headers) completed.
  bool headers_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  // A commit or a full batch since the last read.
  bool more_to_read_ ABSL_GUARDED_BY(mu_) = true;
  // When the stream last sent a message (or began): a progress revision is
  // due once it is progress_interval ago.
  std::chrono::steady_clock::time_point last_sent_ ABSL_GUARDED_BY(mu_) =
      std::chrono::steady_clock::now();
  bool progress_due_ ABSL_GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point write_started_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // Finish called (or decided)
  // Set: finish when the write in flight completes.
  absl::Status finish_after_write_ ABSL_GUARDED_BY(mu_);
  bool finish_pending_ ABSL_GUARDED_BY(mu_) = false;
  // TryCancel called after a stalled finish.
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // When cut off for stalling.
  std::chrono::steady_clock::time_point finished_at_ ABSL_GUARDED_BY(mu_);
  // Keeps the reactor alive until OnDone. Set by Start before the reactor is
  // shared; OnDone releases it under mu_.
  std::shared_ptr<Watcher> self_;
};

}  // namespace handover::service
