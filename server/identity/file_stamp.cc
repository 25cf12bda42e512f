#include "server/identity/file_stamp.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace handover::identity {
namespace {

// Wider than any filesystem's timestamp tick the server is run on.
constexpr absl::Duration kRacyWindow = absl::Seconds(2);

}  // namespace

bool FileStamp::operator==(const FileStamp& other) const {
  return device == other.device && inode == other.inode && size == other.size &&
         modified.tv_sec == other.modified.tv_sec && modified.tv_nsec == other.modified.tv_nsec;
}

std::optional<FileStamp> StampOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileStamp{
      .device = st.st_dev, .inode = st.st_ino, .size = st.st_size, .modified = st.st_mtim};
}

bool ReadTooSoon(const FileStamp& stamp, absl::Time read_at) {
  return read_at - absl::TimeFromTimespec(stamp.modified) < kRacyWindow;
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) return std::nullopt;
  return text.str();
}

}  // namespace handover::identity
