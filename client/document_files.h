// Documents to and from files, for handoverctl and scripts: the file is read
// and written in chunks (memory stays small whatever its size) and the
// SHA-256 is computed on the way, declared on upload and verified on
// download.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "client/handover_client.h"

namespace handover::client {

// Called as bytes move: how many so far, of how many.
using Progress = std::function<void(int64_t done, int64_t total)>;

// Content bytes per upload message. 64 KiB.
inline constexpr size_t kUploadChunkBytes = 64 * 1024;

// The media type a file name suggests (.pdf, .png, .jpg/.jpeg, .txt), or "".
std::string MediaTypeForFileName(const std::string& path);

// SHA-256 of a file, as 64 lower-case hex digits.
absl::StatusOr<std::string> FileSha256(const std::string& path);

// Uploads the file at `path`; fills in metadata.size_bytes and sha256.
absl::StatusOr<v1::Document> UploadFile(HandoverClient& client, v1::DocumentUpload metadata,
                                        const std::string& path, const Progress& progress = {});

// Downloads into `path` through "<path>.part", renamed once the SHA-256
// matches. With `resume`, an existing "<path>.part" is continued from its
// end. DATA_LOSS (and the part file removed) if the hash does not match;
// ALREADY_EXISTS if `path` exists.
absl::StatusOr<v1::Document> DownloadFile(HandoverClient& client, const std::string& name,
                                          int64_t version, const std::string& path, bool resume,
                                          const Progress& progress = {});

}  // namespace handover::client
