#include "client/document_files.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/signing.h"

namespace handover::client {
namespace {

// Feeds the file at `path` to `each`, chunk by chunk.
absl::Status ForEachChunk(const std::string& path,
                          const std::function<absl::Status(const std::string&)>& each) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string chunk(kUploadChunkBytes, '\0');
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    if (absl::Status s = each(chunk.substr(0, got)); !s.ok()) return s;
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return absl::OkStatus();
}

}  // namespace

std::string MediaTypeForFileName(const std::string& path) {
  const std::string extension =
      absl::AsciiStrToLower(std::filesystem::path(path).extension().string());
  if (extension == ".pdf") return "application/pdf";
  if (extension == ".png") return "image/png";
  if (extension == ".jpg" || extension == ".jpeg") return "image/jpeg";
  if (extension == ".txt") return "text/plain";
  return "";
}

absl::StatusOr<std::string> FileSha256(const std::string& path) {
  Sha256Stream hash;
  absl::Status read = ForEachChunk(path, [&hash](const std::string& chunk) {
    hash.Add(chunk);
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  return HexEncode(hash.Finish());
}

absl::StatusOr<v1::Document> UploadFile(HandoverClient& client, v1::DocumentUpload metadata,
                                        const std::string& path, const Progress& progress) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  auto sha256 = FileSha256(path);
  if (!sha256.ok()) return sha256.status();
  metadata.set_size_bytes(static_cast<int64_t>(size));
  metadata.set_sha256(*sha256);

  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  int64_t sent = 0;
  return client.UploadDocument(metadata, [&]() -> absl::StatusOr<std::string> {
    std::string chunk(kUploadChunkBytes, '\0');
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
    chunk.resize(static_cast<size_t>(in.gcount()));
    sent += static_cast<int64_t>(chunk.size());
    if (progress && !chunk.empty()) progress(sent, static_cast<int64_t>(size));
    return chunk;
  });
}

absl::StatusOr<v1::Document> DownloadFile(HandoverClient& client, const std::string& name,
                                          int64_t version, const std::string& path, bool resume,
                                          const Progress& progress) {
  std::error_code error;
  if (std::filesystem::exists(path, error)) {
    return absl::AlreadyExistsError(absl::StrCat(path, " exists; not overwritten"));
  }
  const std::string part = path + ".part";
  Sha256Stream hash;
  int64_t offset = 0;
  if (resume && std::filesystem::exists(part, error)) {
    absl::Status read = ForEachChunk(part, [&](const std::string& chunk) {
      hash.Add(chunk);
      offset += static_cast<int64_t>(chunk.size());
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
  }
  std::ofstream out(part, std::ios::binary | (offset > 0 ? std::ios::app : std::ios::trunc));
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", part));

  v1::DownloadDocumentRequest request;
  request.set_name(name);
  request.set_version(version);
  request.set_offset(offset);
  v1::Document document;
  int64_t received = offset;
  absl::Status status = client.DownloadDocument(
      request,
      [&](const v1::Document& metadata) {
        document = metadata;
        return absl::OkStatus();
      },
      [&](const std::string& chunk) {
        out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        if (!out) return absl::ResourceExhaustedError(absl::StrCat("cannot write ", part));
        hash.Add(chunk);
        received += static_cast<int64_t>(chunk.size());
        if (progress) progress(received, document.size_bytes());
        return absl::OkStatus();
      });
  out.close();
  if (!status.ok()) return status;  // the part file stays, to resume
  if (received != document.size_bytes() || HexEncode(hash.Finish()) != document.sha256()) {
    std::filesystem::remove(part, error);
    return absl::DataLossError(absl::StrCat(
        "the downloaded bytes do not match the document's SHA-256; ", part, " removed"));
  }
  std::filesystem::rename(part, path, error);
  if (error) return absl::PermissionDeniedError(absl::StrCat("cannot rename ", part, " to ", path));
  return document;
}

}  // namespace handover::client
