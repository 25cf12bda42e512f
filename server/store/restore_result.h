// What every engine's restore answers, and how far it moves the feed's
// revision counter by default: apart from the database factory (database.h),
// so that an engine's restore (sqlite/backup.h, postgres/pg_restore.h) names
// these without including the layer above it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace handover::store {

// How far a restore moves the revision counter past every revision a client
// may have seen. It must exceed the number of revisions that can have been
// handed out after the backup was taken, for when the replaced database
// cannot be read (lost with its disk): a billion is almost four days of
// writes without a pause at the measured peak (about 3,000 a second) and
// centuries at the rate of real handovers, and a 64-bit counter still has
// room for billions of restores.
inline constexpr int64_t kDefaultRevisionBump = 1'000'000'000;

// What a restore did.
struct RestoreResult {
  // The newest revision in the backup.
  int64_t backup_head = 0;
  // The newest revision in the replaced database, if there was one and it
  // could be read.
  std::optional<int64_t> replaced_head;
  // The restored feed's revision counter, max(backup_head, replaced_head) +
  // the bump: history through it counts as compacted, new events come after.
  int64_t base_revision = 0;
  // The restored database's new feed epoch.
  std::string feed_epoch;
  // Where the replaced database now is, kept for its access log records and
  // its lost tail; empty if there was none.
  std::string replaced_path;
};

}  // namespace handover::store
