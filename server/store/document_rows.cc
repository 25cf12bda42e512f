#include "server/store/document_rows.h"

#include <SQLiteCpp/Statement.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "server/store/case_rows.h"
#include "server/store/document_staging.h"
#include "server/store/statement_cache.h"

namespace handover::store {
namespace {

constexpr int kChunksPerReencryption = 64;

constexpr const char* kVersionColumns =
    "d.document_id, d.type, v.version, v.blob_id, v.title, v.media_type, v.size_bytes, "
    "v.sha256, v.chunk_bytes, v.create_time";

absl::StatusOr<DocumentRecord> RecordFromRow(SQLite::Statement& row, const KeyRing& keys,
                                             const std::string& case_id) {
  DocumentRecord record;
  v1::Document& document = record.document;
  const std::string document_id = row.getColumn(0).getString();
  document.set_name(DocumentName(case_id, document_id));
  document.set_type(static_cast<v1::DocumentType>(row.getColumn(1).getInt()));
  document.set_version(row.getColumn(2).getInt64());
  record.blob_id = row.getColumn(3).getString();
  auto title = keys.Open(Blob(row.getColumn(4)),
                         TitleAssociatedData(case_id, document_id, document.version()));
  if (!title.ok()) return title.status();
  document.set_title(*std::move(title));
  document.set_media_type(row.getColumn(5).getString());
  document.set_size_bytes(row.getColumn(6).getInt64());
  document.set_sha256(row.getColumn(7).getString());
  record.chunk_bytes = row.getColumn(8).getInt64();
  *document.mutable_create_time() = ToTimestamp(row.getColumn(9).getInt64());
  return record;
}

}  // namespace

std::string TitleAssociatedData(const std::string& case_id, const std::string& document_id,
                                int64_t version) {
  return absl::StrCat("handover/v1/document-title/", case_id, "/", document_id, "/", version);
}

absl::StatusOr<DocumentRecord> LoadDocument(SQLite::Database& db, const KeyRing& keys,
                                            const std::string& case_id,
                                            const std::string& document_id, int64_t version) {
  Prepared row(
      db, absl::StrCat("SELECT ", kVersionColumns,
                       " FROM documents d JOIN document_versions v USING (case_id, document_id) "
                       "WHERE d.case_id = ? AND d.document_id = ? AND v.version = ",
                       version == 0 ? "d.current_version" : "?"));
  row->bind(1, case_id);
  row->bind(2, document_id);
  if (version != 0) row->bind(3, version);
  if (!row->executeStep()) {
    return absl::NotFoundError(absl::StrCat(DocumentName(case_id, document_id),
                                            version == 0 ? "" : absl::StrCat(" version ", version),
                                            " not found"));
  }
  return RecordFromRow(*row, keys, case_id);
}

absl::StatusOr<std::vector<DocumentRecord>> LoadDocuments(SQLite::Database& db, const KeyRing& keys,
                                                          const std::string& case_id,
                                                          bool include_history) {
  Prepared rows(
      db, absl::StrCat("SELECT ", kVersionColumns,
                       " FROM documents d JOIN document_versions v USING (case_id, document_id) "
                       "WHERE d.case_id = ?",
                       include_history ? "" : " AND v.version = d.current_version",
                       " ORDER BY d.document_id, v.version DESC"));
  rows->bind(1, case_id);
  std::vector<DocumentRecord> documents;
  while (rows->executeStep()) {
    auto record = RecordFromRow(*rows, keys, case_id);
    if (!record.ok()) return record.status();
    documents.push_back(*std::move(record));
  }
  return documents;
}

std::optional<v1::DocumentType> BlobDocumentType(SQLite::Database& db, const std::string& case_id,
                                                 const std::string& blob_id) {
  Prepared row(db,
               "SELECT d.type FROM document_versions v JOIN documents d "
               "USING (case_id, document_id) WHERE v.blob_id = ? AND v.case_id = ?");
  row->bind(1, blob_id);
  row->bind(2, case_id);
  if (!row->executeStep()) return std::nullopt;
  return static_cast<v1::DocumentType>(row->getColumn(0).getInt());
}

absl::StatusOr<std::string> LoadSealedChunk(SQLite::Database& db, const std::string& blob_id,
                                            int64_t seq) {
  Prepared row(db, "SELECT data FROM document_chunks WHERE blob_id = ? AND seq = ?");
  row->bind(1, blob_id);
  row->bind(2, seq);
  if (!row->executeStep()) return absl::NotFoundError("no such chunk");
  return Blob(row->getColumn(0));
}

absl::StatusOr<int64_t> InsertDocumentVersion(SQLite::Database& db, const KeyRing& keys,
                                              const WriteContext& context,
                                              const AddDocumentCommand& command,
                                              const std::string& document_id, int64_t now) {
  int64_t version = 1;
  if (command.document_id.empty()) {
    Prepared insert(db,
                    "INSERT INTO documents (case_id, document_id, type, current_version) "
                    "VALUES (?, ?, ?, 1)");
    insert->bind(1, command.case_id);
    insert->bind(2, document_id);
    insert->bind(3, static_cast<int>(command.type));
    insert->exec();
  } else {
    Prepared current(db,
                     "SELECT type, current_version FROM documents "
                     "WHERE case_id = ? AND document_id = ?");
    current->bind(1, command.case_id);
    current->bind(2, document_id);
    if (!current->executeStep()) {
      return FieldError("metadata.document", "no such document in this case");
    }
    if (current->getColumn(0).getInt() != static_cast<int>(command.type)) {
      return FieldError("metadata.type",
                        absl::StrCat("must be the replaced document's type, ",
                                     v1::DocumentType_Name(static_cast<v1::DocumentType>(
                                         current->getColumn(0).getInt()))));
    }
    version = current->getColumn(1).getInt64() + 1;
    Prepared bump(db,
                  "UPDATE documents SET current_version = ? "
                  "WHERE case_id = ? AND document_id = ?");
    bump->bind(1, version);
    bump->bind(2, command.case_id);
    bump->bind(3, document_id);
    bump->exec();
  }

  StagedDocument& staged = *command.staged;
  const std::string title =
      keys.Seal(command.title, TitleAssociatedData(command.case_id, document_id, version));
  Prepared insert(db,
                  "INSERT INTO document_versions (case_id, document_id, version, "
                  "blob_id, title, media_type, size_bytes, sha256, chunk_bytes, "
                  "create_time, author_organisation, author_actor, key_id) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, command.case_id);
  insert->bind(2, document_id);
  insert->bind(3, version);
  insert->bind(4, staged.blob_id());
  insert->bind(5, title.data(), static_cast<int>(title.size()));
  insert->bind(6, command.media_type);
  insert->bind(7, staged.size_bytes());
  insert->bind(8, command.sha256);
  insert->bind(9, static_cast<int64_t>(staged.chunk_bytes()));
  insert->bind(10, now);
  insert->bind(11, context.principal.organisation_id);
  insert->bind(12, context.actor);
  insert->bind(13, keys.current_key_id());
  insert->exec();

  if (absl::Status s = staged.Rewind(); !s.ok()) return s;
  Prepared chunk(db,
                 "INSERT INTO document_chunks (blob_id, seq, key_id, data) "
                 "VALUES (?, ?, ?, ?)");
  for (int64_t seq = 0;; ++seq) {
    auto sealed = staged.NextSealedChunk();
    if (!sealed.ok()) return sealed.status();
    if (sealed->empty()) break;
    chunk->reset();
    chunk->bind(1, staged.blob_id());
    chunk->bind(2, seq);
    chunk->bind(3, staged.key_id());
    chunk->bind(4, sealed->data(), static_cast<int>(sealed->size()));
    chunk->exec();
  }
  return version;
}

absl::StatusOr<int> ReencryptDocuments(SQLite::Database& db, const KeyRing& keys, int limit) {
  const std::string& current = keys.current_key_id();
  int count = 0;
  {
    Prepared stale(db,
                   "SELECT case_id, document_id, version, title FROM document_versions "
                   "WHERE key_id != ? LIMIT ?");
    stale->bind(1, current);
    stale->bind(2, limit);
    std::vector<std::tuple<std::string, std::string, int64_t, std::string>> rows;
    while (stale->executeStep()) {
      rows.emplace_back(stale->getColumn(0).getString(), stale->getColumn(1).getString(),
                        stale->getColumn(2).getInt64(), Blob(stale->getColumn(3)));
    }
    for (const auto& [case_id, document_id, version, title] : rows) {
      const std::string aad = TitleAssociatedData(case_id, document_id, version);
      auto plain = keys.Open(title, aad);
      if (!plain.ok()) return plain.status();
      const std::string sealed = keys.Seal(*plain, aad);
      Prepared update(db,
                      "UPDATE document_versions SET title = ?, key_id = ? "
                      "WHERE case_id = ? AND document_id = ? AND version = ?");
      update->bind(1, sealed.data(), static_cast<int>(sealed.size()));
      update->bind(2, current);
      update->bind(3, case_id);
      update->bind(4, document_id);
      update->bind(5, version);
      update->exec();
    }
    count += static_cast<int>(rows.size());
  }
  Prepared stale(db,
                 "SELECT blob_id, seq, data FROM document_chunks "
                 "WHERE key_id != ? LIMIT ?");
  stale->bind(1, current);
  // Chunks are large: a few at a time keeps the writer's memory small.
  stale->bind(2, std::min(limit - count, kChunksPerReencryption));
  std::vector<std::tuple<std::string, int64_t, std::string>> rows;
  while (stale->executeStep()) {
    rows.emplace_back(stale->getColumn(0).getString(), stale->getColumn(1).getInt64(),
                      Blob(stale->getColumn(2)));
  }
  for (const auto& [blob_id, seq, data] : rows) {
    const std::string aad = ChunkAssociatedData(blob_id, seq);
    auto plain = keys.Open(data, aad);
    if (!plain.ok()) return plain.status();
    const std::string sealed = keys.Seal(*plain, aad);
    Prepared update(db,
                    "UPDATE document_chunks SET data = ?, key_id = ? "
                    "WHERE blob_id = ? AND seq = ?");
    update->bind(1, sealed.data(), static_cast<int>(sealed.size()));
    update->bind(2, current);
    update->bind(3, blob_id);
    update->bind(4, seq);
    update->exec();
  }
  return count + static_cast<int>(rows.size());
}

}  // namespace handover::store
