// What identifies a state of a file without reading it, for the files the
// server re-reads when they change (the organisation register, the trust
// anchors and CRLs): device, inode, size and modification time. Two equal
// stamps mean an unchanged file, unless the file was read so soon after it
// was modified that an edit within the same timestamp tick could hide: such
// a read is "racy" and the file must be read again at the next look.
//
// Threads: pure functions; call from any thread.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace handover::identity {

struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified{};
  bool operator==(const FileStamp& other) const;
};

// The stamp of `path`, following links; std::nullopt if it cannot be
// stat'ed.
std::optional<FileStamp> StampOf(const std::string& path);

// Whether a file with `stamp`, read at `read_at`, may have been edited again
// unseen within the same tick (modified less than 2 s before the read).
bool ReadTooSoon(const FileStamp& stamp, absl::Time read_at);

// The whole file; std::nullopt if it cannot be read.
std::optional<std::string> ReadWholeFile(const std::string& path);

}  // namespace handover::identity
