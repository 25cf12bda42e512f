#include "server/store/document_staging.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace handover::store {
namespace {

absl::Status IoError(const char* what) {
  return absl::UnavailableError(
      absl::StrCat("document staging: ", what, ": ", std::strerror(errno)));
}

}  // namespace

std::string ChunkAssociatedData(const std::string& blob_id, int64_t seq) {
  return absl::StrCat("handover/v1/document-chunk/", blob_id, "/", seq);
}

absl::StatusOr<std::unique_ptr<StagedDocument>> StagedDocument::Create(const std::string& directory,
                                                                       DataKey key,
                                                                       size_t chunk_bytes) {
  std::unique_ptr<StagedDocument> staged(new StagedDocument());
  staged->key_ = std::move(key);
  staged->blob_id_ = HexEncode(RandomBytes(16));
  staged->path_ = absl::StrCat(directory, "/", staged->blob_id_, ".part");
  staged->chunk_bytes_ = chunk_bytes;
  staged->pending_.reserve(chunk_bytes);
  const int fd = ::open(staged->path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create a staging file");
  staged->file_ = ::fdopen(fd, "w+b");
  if (staged->file_ == nullptr) {
    ::close(fd);
    return IoError("cannot open the staging file");
  }
  return staged;
}

StagedDocument::~StagedDocument() {
  if (file_) std::fclose(file_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

absl::Status StagedDocument::Append(std::string_view bytes) {
  size_bytes_ += static_cast<int64_t>(bytes.size());
  while (!bytes.empty()) {
    const size_t take = std::min(chunk_bytes_ - pending_.size(), bytes.size());
    pending_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (pending_.size() == chunk_bytes_) {
      if (absl::Status s = WriteChunk(); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status StagedDocument::Complete() {
  if (!pending_.empty()) return WriteChunk();
  return absl::OkStatus();
}

absl::Status StagedDocument::WriteChunk() {
  const std::string sealed = key_->Seal(pending_, ChunkAssociatedData(blob_id_, next_seq_++));
  pending_.clear();
  const uint32_t length = static_cast<uint32_t>(sealed.size());
  if (std::fwrite(&length, sizeof length, 1, file_) != 1 ||
      std::fwrite(sealed.data(), 1, sealed.size(), file_) != sealed.size()) {
    return IoError("cannot write the staging file");
  }
  return absl::OkStatus();
}

absl::Status StagedDocument::Rewind() {
  if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0) {
    return IoError("cannot rewind the staging file");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> StagedDocument::NextSealedChunk() {
  uint32_t length = 0;
  if (std::fread(&length, sizeof length, 1, file_) != 1) {
    if (std::feof(file_)) return std::string();
    return IoError("cannot read the staging file");
  }
  std::string sealed(length, '\0');
  if (std::fread(sealed.data(), 1, length, file_) != length) {
    return IoError("the staging file is truncated");
  }
  return sealed;
}

absl::Status ResetStagingDirectory(const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("document staging: cannot create ", directory, ": ", error.message()));
  }
  std::filesystem::permissions(directory, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, error);
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.path().extension() == ".part") std::filesystem::remove(entry.path(), error);
  }
  return absl::OkStatus();
}

}  // namespace handover::store
