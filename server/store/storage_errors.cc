#include "server/store/storage_errors.h"

#include <spdlog/spdlog.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace handover::store {
namespace {

std::string Trimmed(absl::string_view words) {
  return std::string(absl::StripAsciiWhitespace(words));
}

}  // namespace

absl::Status DatabaseUnreachable(absl::string_view driver_words) {
  spdlog::warn("storage: the database cannot be reached: {}", Trimmed(driver_words));
  return absl::UnavailableError("the database cannot be reached; nothing was stored; retry");
}

absl::Status NothingStored(absl::string_view step, absl::string_view driver_words) {
  spdlog::warn("storage: {} failed before the commit: {}", std::string(step),
               Trimmed(driver_words));
  return absl::UnavailableError(absl::StrCat(step, " failed; nothing was stored; retry"));
}

absl::Status CommitInDoubt(absl::string_view driver_words) {
  spdlog::warn("storage: the connection broke during a commit: {}", Trimmed(driver_words));
  return absl::UnavailableError(
      "the database connection broke during the commit; the write may or may not be stored; "
      "retry with the same request id to learn which");
}

absl::Status TaskStorageError(absl::string_view driver_words) {
  spdlog::warn("storage: a write failed: {}", Trimmed(driver_words));
  return absl::InternalError("storage error; nothing of this write was stored");
}

absl::Status SnapshotUnavailable(absl::string_view driver_words) {
  spdlog::warn("storage: no read snapshot: {}", Trimmed(driver_words));
  return absl::UnavailableError("the database cannot be reached; retry");
}

absl::Status KeyStoreError(absl::string_view what, absl::string_view driver_words) {
  spdlog::warn("key store: {} failed: {}", std::string(what), Trimmed(driver_words));
  return absl::UnavailableError(absl::StrCat("key store: ", what, " failed; retry"));
}

absl::Status ReadStorageError(absl::string_view driver_words) {
  spdlog::warn("storage: a read failed: {}", Trimmed(driver_words));
  return absl::InternalError("storage error; retry");
}

}  // namespace handover::store
