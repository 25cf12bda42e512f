#include "client/sync_agent.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/json.h"
#include "common/resource_names.h"

namespace handover::client {
namespace {

namespace fs = std::filesystem;

// Makes the directory's entries (a rename or a removal) durable.
void SyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Removes a case's file and any half-written temporary beside it.
bool RemoveCaseFile(const fs::path& file) {
  std::error_code error;
  fs::remove(file.string() + ".tmp", error);
  const bool removed = fs::remove(file, error);
  SyncDirectory(file.parent_path());
  return removed;
}

// A feed epoch as the agent stores it: on one line of the cursor file.
bool IsWellFormedEpoch(const std::string& epoch) {
  return !epoch.empty() && epoch.size() <= 64 &&
         epoch.find_first_not_of(
             "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") ==
             std::string::npos;
}

// Writes `content` to `path` so that a reader sees the old or the new file,
// never a partial one, and the new one survives a crash once this returns.
absl::Status WriteAtomically(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n <= 0) {
      ::close(fd);
      return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  std::error_code error;
  if (!synced || (fs::rename(tmp, path, error), error)) {
    return absl::InternalError(absl::StrCat("cannot replace ", path.string()));
  }
  SyncDirectory(path.parent_path());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CaseFileName(const std::string& case_name) {
  auto id = ParseCaseName(case_name, "case name from the server");
  if (!id.ok()) return absl::DataLossError(id.status().message());
  return *id + ".json";
}

SyncAgent::SyncAgent(HandoverClient* client, std::string directory)
    : client_(client), directory_(std::move(directory)) {}

absl::Status SyncAgent::LoadCursor() {
  if (cursor_loaded_) return absl::OkStatus();
  std::error_code error;
  fs::create_directories(fs::path(directory_) / "cases", error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("--into: cannot create ", directory_));
  // Half-written files from a crash: the replay rewrites what is still ours.
  for (const auto& entry : fs::directory_iterator(fs::path(directory_) / "cases")) {
    if (entry.path().extension() == ".tmp") fs::remove(entry.path(), error);
  }
  std::ifstream in(fs::path(directory_) / "cursor");
  std::string text;
  cursor_found_ = in && std::getline(in, text);
  if (cursor_found_ && !absl::SimpleAtoi(text, &cursor_)) {
    return absl::DataLossError(absl::StrCat(directory_, "/cursor: not a revision"));
  }
  if (cursor_found_ && std::getline(in, epoch_) && !IsWellFormedEpoch(epoch_)) {
    return absl::DataLossError(absl::StrCat(directory_, "/cursor: not a feed epoch"));
  }
  cursor_loaded_ = true;
  return absl::OkStatus();
}

absl::Status SyncAgent::SaveCursor() {
  return WriteAtomically(fs::path(directory_) / "cursor",
                         absl::StrCat(cursor_, "\n", epoch_, epoch_.empty() ? "" : "\n"));
}

absl::StatusOr<bool> SyncAgent::SameHistory(const std::string& server_epoch) {
  if (server_epoch.empty()) return true;
  if (!IsWellFormedEpoch(server_epoch)) {
    return absl::DataLossError("feed_epoch from the server: not a well-formed epoch");
  }
  if (epoch_.empty()) epoch_ = server_epoch;
  return epoch_ == server_epoch;
}

absl::Status SyncAgent::Apply(const v1::ChangeEvent& event) {
  auto name = CaseFileName(event.case_name());
  if (!name.ok()) return name.status();
  const fs::path file = fs::path(directory_) / "cases" / *name;
  ++stats_.events;
  if (event.has_case_()) {
    if (absl::Status s = WriteAtomically(file, ToJson(event.case_())); !s.ok()) return s;
    ++stats_.files_written;
  } else {
    // Revoked, erased, or no longer visible (a revocation follows): hold nothing.
    if (RemoveCaseFile(file)) ++stats_.files_deleted;
  }
  if (on_event) on_event(event);
  return absl::OkStatus();
}

absl::Status SyncAgent::Snapshot() {
  ++stats_.snapshots;
  v1::ListCasesRequest request;
  request.set_view(v1::CASE_VIEW_FULL);
  int64_t revision = -1;
  std::string epoch;
  std::set<std::string> listed;
  for (bool more = true; more;) {
    auto page = client_->ListCases(request);
    if (!page.ok()) return page.status();
    if (revision < 0) {
      revision = page->revision();
      epoch = page->feed_epoch();
      if (!epoch.empty() && !IsWellFormedEpoch(epoch)) {
        return absl::DataLossError("feed_epoch from the server: not a well-formed epoch");
      }
    } else if (page->feed_epoch() != epoch) {
      // The server was restored between two pages: list again from the start.
      request.clear_page_token();
      revision = -1;
      listed.clear();
      continue;
    }
    for (const v1::Case& c : page->cases()) {
      auto name = CaseFileName(c.name());
      if (!name.ok()) return name.status();
      listed.insert(*name);
      if (absl::Status s = WriteAtomically(fs::path(directory_) / "cases" / *name, ToJson(c));
          !s.ok()) {
        return s;
      }
      ++stats_.files_written;
    }
    request.set_page_token(page->next_page_token());
    more = !request.page_token().empty();
  }
  for (const auto& entry : fs::directory_iterator(fs::path(directory_) / "cases")) {
    if (!listed.contains(entry.path().filename().string()) && RemoveCaseFile(entry.path())) {
      ++stats_.files_deleted;
    }
  }
  cursor_ = revision;
  epoch_ = epoch;
  resnapshot_ = false;
  return SaveCursor();
}

absl::Status SyncAgent::CatchUpOnce() {
  if (absl::Status s = LoadCursor(); !s.ok()) return s;
  if (!cursor_found_ || cursor_ == 0 || resnapshot_) {
    if (absl::Status s = Snapshot(); !s.ok()) return s;
    cursor_found_ = true;
  }
  for (;;) {
    v1::SyncRequest request;
    request.set_after_revision(cursor_);
    request.set_include_cases(true);
    auto page = client_->Sync(request);
    if (!page.ok() && FeedCompactedRevision(page.status())) {
      if (absl::Status s = Snapshot(); !s.ok()) return s;
      continue;
    }
    if (!page.ok()) return page.status();
    auto same = SameHistory(page->feed_epoch());
    if (!same.ok()) return same.status();
    if (!*same) {
      if (absl::Status s = Snapshot(); !s.ok()) return s;
      continue;
    }
    for (const v1::ChangeEvent& event : page->events()) {
      if (absl::Status s = Apply(event); !s.ok()) return s;
    }
    cursor_ = page->next_after_revision();
    if (absl::Status s = SaveCursor(); !s.ok()) return s;
    if (page->caught_up() || stopping_) return absl::OkStatus();
  }
}

absl::Status SyncAgent::CatchUp() { return CatchUpOnce(); }

absl::Status SyncAgent::WatchOnce() {
  v1::WatchRequest request;
  request.set_after_revision(cursor_);
  request.set_include_cases(true);
  std::unique_ptr<WatchStream> stream = client_->Watch(request);
  {
    absl::MutexLock lock(&stream_mu_);
    stream_ = stream.get();
    if (stopping_) stream->Cancel();
  }
  v1::WatchResponse item;
  int64_t unsaved = 0;
  absl::Status status;
  while (stream->Next(&item)) {
    auto same = SameHistory(item.feed_epoch());
    if (!same.ok()) {
      status = same.status();
      break;
    }
    if (!*same) {  // the server was restored from a backup
      resnapshot_ = true;
      status = absl::AbortedError("watch: the feed epoch changed; starting again from a snapshot");
      break;
    }
    if (item.has_event()) {
      status = Apply(item.event());
      if (!status.ok()) break;
      cursor_ = item.event().revision();
      ++unsaved;
    } else {
      cursor_ = item.progress_revision();
      unsaved = 1;
    }
    // The cursor may lag: replaying is idempotent. Save it now and then.
    if (unsaved >= 100 || item.has_progress_revision()) {
      status = SaveCursor();
      if (!status.ok()) break;
      unsaved = 0;
    }
  }
  if (!status.ok()) stream->Cancel();
  {
    absl::MutexLock lock(&stream_mu_);
    stream_ = nullptr;
  }
  absl::Status end = stream->Finish();
  if (absl::Status s = SaveCursor(); !s.ok() && status.ok()) status = s;
  return status.ok() ? end : status;
}

absl::Status SyncAgent::Follow() {
  auto backoff = std::chrono::milliseconds(100);
  while (!stopping_) {
    absl::Status status = CatchUpOnce();
    if (status.ok() && !stopping_) status = WatchOnce();
    if (stopping_) break;
    // CatchUpOnce takes the snapshot.
    if (FeedCompactedRevision(status) || resnapshot_) continue;
    if (status.code() == absl::StatusCode::kPermissionDenied ||
        status.code() == absl::StatusCode::kUnauthenticated ||
        status.code() == absl::StatusCode::kInvalidArgument ||
        status.code() == absl::StatusCode::kDataLoss ||
        status.code() == absl::StatusCode::kInternal) {
      return status;  // retrying will not help
    }
    if (status.ok()) backoff = std::chrono::milliseconds(100);
    ++stats_.reconnects;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
  return absl::OkStatus();
}

void SyncAgent::Stop() {
  stopping_ = true;
  absl::MutexLock lock(&stream_mu_);
  if (stream_) stream_->Cancel();
}

}  // namespace handover::client
