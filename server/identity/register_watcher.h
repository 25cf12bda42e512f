// Keeps the organisation register (organisation_register.h) in step with its
// file without a restart. The file is checked when Current() finds that
// `check_interval` has passed since the last check, or when Refresh() is
// called; it is re-read only when its modification time, size or inode
// changed (or was so recent at the last read that a same-tick edit could
// hide), and a re-read whose text is unchanged changes nothing.
//
// A file that no longer loads (malformed, missing) leaves the last good
// register in service; its error is reported through `on_error` once, not at
// every check (again only if a later state of the file fails differently). A
// good changed file replaces the register at once and is reported through
// `on_reload`.
//
// Threads: every method may be called from any thread. Current() never waits
// for a re-read (one running elsewhere, it returns the register in service).
// The callbacks run on the thread that re-reads, one at a time, and must not
// call the watcher. Errors: Start fails as OrganisationRegister::Load does
// (the server refuses to start without a good register).
#pragma once

#include <sys/types.h>

#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/identity/file_stamp.h"
#include "server/identity/organisation_register.h"

namespace handover::identity {

struct RegisterWatcherOptions {
  // How often Current() looks at the file; zero: only Refresh() does.
  // Default 10 s.
  absl::Duration check_interval = absl::Seconds(10);
  // Called with each new error. Default: logs it.
  std::function<void(const absl::Status&)> on_error;
  // Called after a changed file is loaded. Default: logs the entry count.
  std::function<void(const OrganisationRegister&)> on_reload;
  // The clock for check_interval (tests). Default absl::Now.
  std::function<absl::Time()> now;
};

class RegisterWatcher {
 public:
  // Loads `path` once; the watcher reads it again from then on.
  static absl::StatusOr<std::unique_ptr<RegisterWatcher>> Start(std::string path,
                                                                RegisterWatcherOptions options);

  // The register in service; first looks at the file if check_interval has
  // passed.
  std::shared_ptr<const OrganisationRegister> Current() ABSL_LOCKS_EXCLUDED(mu_, reload_mu_);

  // Looks at the file now (waiting for a re-read running elsewhere). OK if
  // the register in service is the file's; otherwise the file's error (the
  // last good register stays in service).
  absl::Status Refresh() ABSL_LOCKS_EXCLUDED(mu_, reload_mu_);

  const std::string& path() const { return path_; }

 private:
  RegisterWatcher(std::string path, RegisterWatcherOptions options);

  absl::Status CheckFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Records the outcome of a look at the file; reports a new error.
  absl::Status Settle(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);

  const std::string path_;
  const RegisterWatcherOptions options_;

  // Serialises looking at and re-reading the file; held while parsing, never
  // by Current() waiting.
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // The file as last looked at: its stamp (none if it could not be stat'ed),
  // whether that stamp may hide a later edit (before the first look: yes),
  // its text (none if it could not be read), and the outcome.
  std::optional<FileStamp> stamp_ ABSL_GUARDED_BY(reload_mu_);
  bool stamp_racy_ ABSL_GUARDED_BY(reload_mu_) = true;
  std::optional<std::string> text_ ABSL_GUARDED_BY(reload_mu_);
  absl::Status status_ ABSL_GUARDED_BY(reload_mu_);

  absl::Mutex mu_;
  std::shared_ptr<const OrganisationRegister> current_ ABSL_GUARDED_BY(mu_);
  absl::Time next_check_ ABSL_GUARDED_BY(mu_);
};

}  // namespace handover::identity
