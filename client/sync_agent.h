// The reference sync agent: mirrors the cases the caller may see into a
// directory and keeps it current from the change feed.
//
//   DIR/cases/<case id>.json   one file per case, the caller's view, as JSON
//   DIR/cursor                 the revision everything up to is applied, and
//                              on a second line the server's feed epoch it
//                              belongs to
//
// Files are written atomically (temporary file, fsync, rename). Applying an
// event is idempotent, so the cursor may lag the files: after a crash the
// agent replays from the cursor and ends in the same state. A revocation
// deletes the case's file; a withdrawn consent rewrites it without the
// withdrawn fields. A fresh directory (no cursor yet) starts from a snapshot
// (ListCases with the forms, each case once, in case order) and continues
// from its revision: far cheaper than replaying every event since the start.
// So does a cursor older than the server's retained history, a cursor of 0
// (the feed was empty: a Sync from 0 would skip whatever was compacted since),
// and a cursor from another feed epoch (the server was restored from a
// backup: the copy belongs to a history that is gone). A cursor file without
// an epoch (written before epochs) takes the server's.
//
// Thread safety: Stop may be called from any thread; the rest from one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "client/handover_client.h"

namespace handover::client {

// The file a case is mirrored to, "<case id>.json", from the case name the
// server sent; DATA_LOSS if that is not a well-formed case name, so nothing is
// ever written outside the directory.
absl::StatusOr<std::string> CaseFileName(const std::string& case_name);

struct SyncStats {
  int64_t events = 0;
  int64_t files_written = 0;
  int64_t files_deleted = 0;
  int64_t snapshots = 0;
  int64_t reconnects = 0;
};

class SyncAgent {
 public:
  // `client` must outlive the agent.
  SyncAgent(HandoverClient* client, std::string directory);

  // Brings the directory up to date and returns.
  absl::Status CatchUp();
  // CatchUp, then follows the Watch stream until Stop, reconnecting (with
  // back-off up to 2 s) whenever the stream or the server goes away.
  absl::Status Follow();
  void Stop();

  int64_t cursor() const { return cursor_; }
  const SyncStats& stats() const { return stats_; }
  // Called after each applied event (for progress output); may be empty.
  std::function<void(const v1::ChangeEvent&)> on_event;

 private:
  absl::Status LoadCursor();
  absl::Status SaveCursor();
  absl::Status Apply(const v1::ChangeEvent& event);
  absl::Status Snapshot();
  // Whether the server's feed epoch (empty: a server without epochs) is the
  // one stored with the cursor; an agent with none stored takes it. DATA_LOSS
  // if it is not a well-formed epoch.
  absl::StatusOr<bool> SameHistory(const std::string& server_epoch);
  // CatchUp once; OUT_OF_RANGE (compacted) is handled by a snapshot.
  absl::Status CatchUpOnce();
  absl::Status WatchOnce();

  HandoverClient* const client_;
  const std::string directory_;
  int64_t cursor_ = 0;
  std::string epoch_;        // the feed epoch of cursor_; empty if not known yet
  bool resnapshot_ = false;  // the epoch changed under a Watch: snapshot next
  bool cursor_loaded_ = false;
  bool cursor_found_ = false;  // the directory had a cursor file
  SyncStats stats_;
  std::atomic<bool> stopping_{false};
  absl::Mutex stream_mu_;
  WatchStream* stream_ ABSL_GUARDED_BY(stream_mu_) = nullptr;
};

}  // namespace handover::client
