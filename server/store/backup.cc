#include "server/store/backup.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Database.h>

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace handover::store {

absl::Status BackupDatabase(const std::string& database_path, const std::string& backup_path) {
  if (std::filesystem::exists(backup_path)) {
    return absl::AlreadyExistsError(absl::StrCat("--out: ", backup_path, " already exists"));
  }
  try {
    SQLite::Database source(database_path, SQLite::OPEN_READONLY);
    source.setBusyTimeout(5000);
    {
      SQLite::Database copy(backup_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      SQLite::Backup backup(copy, source);
      backup.executeStep();  // all pages in one step: one consistent snapshot
    }
    std::filesystem::permissions(backup_path, std::filesystem::perms::owner_read |
                                                  std::filesystem::perms::owner_write);
    SQLite::Database check(backup_path, SQLite::OPEN_READONLY);
    const std::string result = check.execAndGet("PRAGMA integrity_check").getString();
    if (result != "ok") {
      return absl::DataLossError(absl::StrCat("backup failed its integrity check: ", result));
    }
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("backup: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace handover::store
