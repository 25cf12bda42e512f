// Fault injection for the store's write path, in the engine's test seam: a
// decorator over any backend (backend.h) and one over its key store
// (case_keys.h) that make ONE chosen write task fail at its k-th step — a
// row operation of its transaction, or a key-store call it makes — after the
// step has run, so what the step wrote is in the transaction and the engine
// must roll it back. Nothing here is linked into handoverd: the decorators
// sit between store::OpenStoreParts and DomainStore::Open in tests only.
//
// Threads: Arm and the queries may be called from any thread; the steps are
// counted on the backend's writer thread.
#pragma once

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/store/database.h"

namespace handover::testing {

// What a failing step throws (row operations) or returns (key store:
// UNAVAILABLE) — "injected fault at step k".
class InjectedFault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class FaultPlan {
 public:
  // ArmNextWrite(kPreCommit): the task runs whole, and the pre-commit hook
  // of its group (which makes the group's new case keys durable) fails.
  static constexpr int kPreCommit = -1;

  // The next write task submitted to the decorated backend fails at its
  // `step`-th step (1-based). With `step` 0 it only counts its steps.
  void ArmNextWrite(int step) ABSL_LOCKS_EXCLUDED(mu_);

  // Of the last armed task: the steps of its last run (the row operation or
  // key-store call, by name; the failing one last), and whether its fault
  // fired.
  std::vector<std::string> steps_taken() const ABSL_LOCKS_EXCLUDED(mu_);
  bool fired() const ABSL_LOCKS_EXCLUDED(mu_);

  // For the decorators.
  struct Armed {
    int fail_at = 0;
    std::vector<std::string> steps;
    bool fired = false;
  };
  // The armed task's state if `Write` should arm this task (consumes it).
  std::shared_ptr<Armed> TakeArm() ABSL_LOCKS_EXCLUDED(mu_);
  bool TakePreCommitFailure() ABSL_LOCKS_EXCLUDED(mu_);
  // A run of the armed task begins (a group run again counts afresh).
  void BeginRun(Armed& armed) ABSL_LOCKS_EXCLUDED(mu_);
  // Counts a step of `armed`; true if it must fail.
  bool Step(Armed& armed, const char* name) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<Armed> next_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Armed> last_ ABSL_GUARDED_BY(mu_);
  bool fail_pre_commit_ ABSL_GUARDED_BY(mu_) = false;
};

// A backend whose next armed write task runs on a transaction that fails at
// the plan's step; everything else passes through to `inner`.
class FaultyBackend final : public store::Backend {
 public:
  FaultyBackend(std::unique_ptr<store::Backend> inner, FaultPlan& plan)
      : inner_(std::move(inner)), plan_(plan) {}

  void Write(WriteTask apply, std::function<void(absl::Status)> done,
             WriteTask after_rollback = nullptr) override;
  bool Read(ReadTask read, std::function<void(absl::Status)> unavailable) override {
    return inner_->Read(std::move(read), std::move(unavailable));
  }
  void SetCommitHook(ReadTask hook) override { inner_->SetCommitHook(std::move(hook)); }
  // The armed kPreCommit task's group fails here.
  void SetPreCommitHook(std::function<absl::Status()> hook) override;
  const std::string& staging_directory() const override { return inner_->staging_directory(); }
  store::WriteQueueStats write_stats() const override { return inner_->write_stats(); }
  int64_t storage_bytes() const override { return inner_->storage_bytes(); }

  // The engine itself, for writes that must not be armed (WriterHold).
  store::Backend& inner() { return *inner_; }

 private:
  std::unique_ptr<store::Backend> inner_;
  FaultPlan& plan_;
};

// Wraps the opened parts' backend and key store with the plan's decorators
// (the plan must outlive them). Returns the decorated backend (owned by
// `parts`, then by the store), for WriterHold.
FaultyBackend* DecorateWithFaults(store::StoreParts& parts, FaultPlan& plan);

// Holds the backend's writer busy until released, so the writes submitted
// meanwhile commit together in one group.
class WriterHold {
 public:
  explicit WriterHold(FaultyBackend& backend);
  ~WriterHold();  // releases, if Release was not called
  // Waits until `tasks` writes are queued behind the hold (false after 10 s).
  bool AwaitQueued(size_t tasks);
  void Release();

 private:
  FaultyBackend& backend_;
  absl::Notification running_;
  absl::Notification release_;
  absl::Notification done_;
};

}  // namespace handover::testing
