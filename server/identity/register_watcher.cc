#include "server/identity/register_watcher.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace handover::identity {
namespace {

RegisterWatcherOptions WithDefaults(RegisterWatcherOptions options, const std::string& path) {
  if (!options.on_error) {
    options.on_error = [](const absl::Status& status) {
      spdlog::error("organisation register not reloaded, the last good one stays in service: {}",
                    status.ToString());
    };
  }
  if (!options.on_reload) {
    options.on_reload = [path](const OrganisationRegister& reg) {
      spdlog::info("organisation register {} reloaded: {} organisations", path, reg.size());
    };
  }
  if (!options.now) options.now = [] { return absl::Now(); };
  return options;
}

}  // namespace

RegisterWatcher::RegisterWatcher(std::string path, RegisterWatcherOptions options)
    : path_(std::move(path)), options_(WithDefaults(std::move(options), path_)) {}

absl::StatusOr<std::unique_ptr<RegisterWatcher>> RegisterWatcher::Start(
    std::string path, RegisterWatcherOptions options) {
  std::unique_ptr<RegisterWatcher> watcher(
      new RegisterWatcher(std::move(path), std::move(options)));
  absl::MutexLock reload(&watcher->reload_mu_);
  if (absl::Status status = watcher->CheckFile(); !status.ok()) return status;
  absl::MutexLock lock(&watcher->mu_);
  watcher->next_check_ = watcher->options_.now() + watcher->options_.check_interval;
  return watcher;
}

std::shared_ptr<const OrganisationRegister> RegisterWatcher::Current() {
  bool due = false;
  if (options_.check_interval > absl::ZeroDuration()) {
    const absl::Time now = options_.now();
    absl::MutexLock lock(&mu_);
    if (now >= next_check_) {
      next_check_ = now + options_.check_interval;
      due = true;
    }
  }
  if (due && reload_mu_.TryLock()) {
    CheckFile().IgnoreError();  // reported by CheckFile
    reload_mu_.Unlock();
  }
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::Status RegisterWatcher::Refresh() {
  absl::MutexLock reload(&reload_mu_);
  return CheckFile();
}

absl::Status RegisterWatcher::CheckFile() {
  const std::optional<FileStamp> stamp = StampOf(path_);
  if (stamp == stamp_ && !stamp_racy_) return status_;

  const absl::Time read_at = absl::Now();
  std::optional<std::string> text = stamp ? ReadWholeFile(path_) : std::nullopt;
  stamp_ = stamp;
  stamp_racy_ = stamp && ReadTooSoon(*stamp, read_at);
  if (!text) {
    text_.reset();
    return Settle(
        absl::NotFoundError(absl::StrCat("organisation register ", path_, ": cannot be read")));
  }
  if (text_ == text) return status_;
  text_ = std::move(text);
  absl::StatusOr<std::shared_ptr<const OrganisationRegister>> loaded =
      OrganisationRegister::Parse(*text_, path_);
  if (!loaded.ok()) return Settle(loaded.status());
  bool first = false;
  {
    absl::MutexLock lock(&mu_);
    first = current_ == nullptr;
    current_ = *loaded;
  }
  if (!first) options_.on_reload(**loaded);
  return Settle(absl::OkStatus());
}

absl::Status RegisterWatcher::Settle(absl::Status status) {
  // The first load's error is Start's to return, not to report.
  bool started = false;
  {
    absl::MutexLock lock(&mu_);
    started = current_ != nullptr;
  }
  if (!status.ok() && status != status_ && started) options_.on_error(status);
  status_ = status;
  return status;
}

}  // namespace handover::identity
