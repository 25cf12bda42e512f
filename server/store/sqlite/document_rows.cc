// SqliteTxn: documents, their versions (sealed titles) and content chunks.
#include <SQLiteCpp/Statement.h>

#include "absl/strings/str_cat.h"
#include "server/store/sqlite/case_rows.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "server/store/sqlite/statement_cache.h"

namespace handover::store {
namespace {

constexpr const char* kVersionColumns =
    "d.document_id, d.type, v.version, v.blob_id, v.title, v.media_type, v.size_bytes, "
    "v.sha256, v.chunk_bytes, v.create_time, v.author_organisation, v.author_actor, v.key_id";

DocumentVersionRow RowOf(SQLite::Statement& row, const std::string& case_id) {
  return {.case_id = case_id,
          .document_id = row.getColumn(0).getString(),
          .type = static_cast<v1::DocumentType>(row.getColumn(1).getInt()),
          .version = row.getColumn(2).getInt64(),
          .blob_id = row.getColumn(3).getString(),
          .sealed_title = Blob(row.getColumn(4)),
          .media_type = row.getColumn(5).getString(),
          .size_bytes = row.getColumn(6).getInt64(),
          .sha256 = row.getColumn(7).getString(),
          .chunk_bytes = row.getColumn(8).getInt64(),
          .create_time = row.getColumn(9).getInt64(),
          .author_organisation = row.getColumn(10).getString(),
          .author_actor = row.getColumn(11).getString(),
          .key_id = row.getColumn(12).getString()};
}

}  // namespace

std::optional<DocumentVersionRow> SqliteTxn::LoadDocumentVersion(const std::string& case_id,
                                                                 const std::string& document_id,
                                                                 int64_t version) {
  Prepared row(
      db_, absl::StrCat("SELECT ", kVersionColumns,
                        " FROM documents d JOIN document_versions v USING (case_id, document_id) "
                        "WHERE d.case_id = ? AND d.document_id = ? AND v.version = ",
                        version == 0 ? "d.current_version" : "?"));
  row->bind(1, case_id);
  row->bind(2, document_id);
  if (version != 0) row->bind(3, version);
  if (!row->executeStep()) return std::nullopt;
  return RowOf(*row, case_id);
}

std::vector<DocumentVersionRow> SqliteTxn::LoadDocumentVersions(const std::string& case_id,
                                                                bool include_history) {
  Prepared rows(
      db_, absl::StrCat("SELECT ", kVersionColumns,
                        " FROM documents d JOIN document_versions v USING (case_id, document_id) "
                        "WHERE d.case_id = ?",
                        include_history ? "" : " AND v.version = d.current_version",
                        " ORDER BY d.document_id, v.version DESC"));
  rows->bind(1, case_id);
  std::vector<DocumentVersionRow> documents;
  while (rows->executeStep()) documents.push_back(RowOf(*rows, case_id));
  return documents;
}

std::optional<v1::DocumentType> SqliteTxn::BlobDocumentType(const std::string& case_id,
                                                            const std::string& blob_id) {
  Prepared row(db_,
               "SELECT d.type FROM document_versions v JOIN documents d "
               "USING (case_id, document_id) WHERE v.blob_id = ? AND v.case_id = ?");
  row->bind(1, blob_id);
  row->bind(2, case_id);
  if (!row->executeStep()) return std::nullopt;
  return static_cast<v1::DocumentType>(row->getColumn(0).getInt());
}

std::optional<std::string> SqliteTxn::LoadSealedChunk(const std::string& blob_id, int64_t seq) {
  Prepared row(db_, "SELECT data FROM document_chunks WHERE blob_id = ? AND seq = ?");
  row->bind(1, blob_id);
  row->bind(2, seq);
  if (!row->executeStep()) return std::nullopt;
  return Blob(row->getColumn(0));
}

void SqliteTxn::InsertDocument(const std::string& case_id, const std::string& document_id,
                               v1::DocumentType type) {
  Prepared insert(db_,
                  "INSERT INTO documents (case_id, document_id, type, current_version) "
                  "VALUES (?, ?, ?, 1)");
  insert->bind(1, case_id);
  insert->bind(2, document_id);
  insert->bind(3, static_cast<int>(type));
  insert->exec();
}

void SqliteTxn::SetDocumentVersion(const std::string& case_id, const std::string& document_id,
                                   int64_t version) {
  Prepared bump(db_,
                "UPDATE documents SET current_version = ? WHERE case_id = ? AND document_id = ?");
  bump->bind(1, version);
  bump->bind(2, case_id);
  bump->bind(3, document_id);
  bump->exec();
}

void SqliteTxn::InsertDocumentVersion(const DocumentVersionRow& row) {
  Prepared insert(db_,
                  "INSERT INTO document_versions (case_id, document_id, version, "
                  "blob_id, title, media_type, size_bytes, sha256, chunk_bytes, "
                  "create_time, author_organisation, author_actor, key_id) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, row.case_id);
  insert->bind(2, row.document_id);
  insert->bind(3, row.version);
  insert->bind(4, row.blob_id);
  BindBlob(*insert, 5, row.sealed_title);
  insert->bind(6, row.media_type);
  insert->bind(7, row.size_bytes);
  insert->bind(8, row.sha256);
  insert->bind(9, row.chunk_bytes);
  insert->bind(10, row.create_time);
  insert->bind(11, row.author_organisation);
  insert->bind(12, row.author_actor);
  insert->bind(13, row.key_id);
  insert->exec();
}

void SqliteTxn::InsertChunk(const std::string& blob_id, int64_t seq, const std::string& key_id,
                            const std::string& sealed) {
  Prepared chunk(db_,
                 "INSERT INTO document_chunks (blob_id, seq, key_id, data) VALUES (?, ?, ?, ?)");
  chunk->bind(1, blob_id);
  chunk->bind(2, seq);
  chunk->bind(3, key_id);
  BindBlob(*chunk, 4, sealed);
  chunk->exec();
}

}  // namespace handover::store
