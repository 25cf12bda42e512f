// A document upload on its way in. The content is cut into chunks of a fixed
// size, each sealed (AES-256-GCM, bound to the blob id and chunk number) and
// appended to a private file in the staging directory as it arrives, so
// memory holds one chunk whatever the document's size. Nothing here is
// visible in the store: DomainStore::AddDocument copies the sealed chunks
// in, in the transaction that makes the document visible. The file is
// deleted when the object goes, whether the upload succeeded or not.
#pragma once

#include <optional>

#include "server/store/sealing.h"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/crypto.h"

namespace handover::store {

// The associated data binding a sealed chunk to its blob and position.
std::string ChunkAssociatedData(const std::string& blob_id, int64_t seq);

class StagedDocument {
 public:
  // A new staging file under `directory` (which must exist). UNAVAILABLE if
  // it cannot be created.
  // The chunks are sealed under `key`, the case's data key.
  static absl::StatusOr<std::unique_ptr<StagedDocument>> Create(const std::string& directory,
                                                                DataKey key, size_t chunk_bytes);
  ~StagedDocument();
  StagedDocument(const StagedDocument&) = delete;
  StagedDocument& operator=(const StagedDocument&) = delete;

  // Appends content; seals and writes each chunk as it fills.
  absl::Status Append(std::string_view bytes);
  // Seals the last, partial chunk. Call once, after the last Append.
  absl::Status Complete();

  // After Complete: the sealed chunks in order. Call Rewind first.
  absl::Status Rewind();
  // The next sealed chunk, or an empty string after the last.
  absl::StatusOr<std::string> NextSealedChunk();

  const std::string& blob_id() const { return blob_id_; }
  size_t chunk_bytes() const { return chunk_bytes_; }
  int64_t size_bytes() const { return size_bytes_; }
  // The chunks are sealed with the case's key.
  std::string key_id() const { return kCaseKeyId; }

 private:
  StagedDocument() = default;
  absl::Status WriteChunk();

  std::optional<DataKey> key_;  // set by Create
  std::string blob_id_;
  std::string path_;
  std::FILE* file_ = nullptr;
  size_t chunk_bytes_ = 0;
  std::string pending_;  // content not yet sealed (< chunk_bytes_)
  int64_t next_seq_ = 0;
  int64_t size_bytes_ = 0;
};

// Deletes staging files left by a crash. Creates `directory` if missing.
absl::Status ResetStagingDirectory(const std::string& directory);

}  // namespace handover::store
