#include "server/store/postgres/pg_restore.h"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"

extern char** environ;

namespace handover::store {
namespace {

constexpr size_t kEpochBytes = 16;

// The feed head, if the database has one.
std::optional<int64_t> FeedHead(pqxx::connection& connection) {
  pqxx::nontransaction read(connection);
  if (read.exec("SELECT to_regclass('feed_head')")[0][0].is_null()) return std::nullopt;
  return read.exec("SELECT revision FROM feed_head")[0][0].as<int64_t>();
}

// Runs pg_restore (no shell: the arguments are passed as they are).
absl::Status RunPgRestore(const std::string& url, const std::string& archive_path) {
  std::vector<std::string> args = {
      "pg_restore",           "--clean",         "--if-exists",     "--no-owner",
      "--single-transaction", "--exit-on-error", "--dbname=" + url, archive_path};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (int error = posix_spawnp(&pid, "pg_restore", nullptr, nullptr, argv.data(), environ);
      error != 0) {
    return absl::UnavailableError(
        absl::StrCat("restore: cannot run pg_restore: ", std::strerror(error)));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::UnavailableError(
        "restore: pg_restore failed (its messages are above); the database is unchanged");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RestoreResult> RestorePgDatabase(const std::string& url,
                                                const std::string& archive_path,
                                                int64_t bump_revisions) {
  if (!std::filesystem::exists(archive_path)) {
    return absl::NotFoundError(absl::StrCat("restore: no archive at ", archive_path));
  }
  try {
    pqxx::connection connection(url);
    RestoreResult result;
    result.replaced_head = FeedHead(connection);
    if (absl::Status s = RunPgRestore(url, archive_path); !s.ok()) return s;
    const std::optional<int64_t> restored = FeedHead(connection);
    if (!restored) return absl::DataLossError("restore: the archive has no handover feed");
    result.backup_head = *restored;
    result.base_revision =
        std::max(result.backup_head, result.replaced_head.value_or(0)) + bump_revisions;
    result.feed_epoch = HexEncode(RandomBytes(kEpochBytes));
    pqxx::work move(connection);
    move.exec0("DELETE FROM events");
    move.exec_params0("UPDATE feed_head SET revision = $1, compacted_through = $1, feed_epoch = $2",
                      result.base_revision, result.feed_epoch);
    move.commit();
    return result;
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("restore: ", e.what()));
  }
}

}  // namespace handover::store
