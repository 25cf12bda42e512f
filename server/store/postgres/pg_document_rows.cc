// PgTxn: documents, their versions (sealed titles) and content chunks
// (bytea rows of at most the chunk size, so a transfer holds one at a time).
#include "absl/strings/str_cat.h"
#include "server/store/postgres/pg_txn.h"
#include "server/store/postgres/pg_values.h"

namespace handover::store {
namespace {

constexpr char kVersionColumns[] =
    "d.document_id, d.type, v.version, v.blob_id, v.title, v.media_type, v.size_bytes, "
    "v.sha256, v.chunk_bytes, v.create_time, v.author_organisation, v.author_actor, v.key_id";

DocumentVersionRow RowOf(const pqxx::row& row, const std::string& case_id) {
  return {.case_id = case_id,
          .document_id = row[0].c_str(),
          .type = static_cast<v1::DocumentType>(row[1].as<int>()),
          .version = row[2].as<int64_t>(),
          .blob_id = row[3].c_str(),
          .sealed_title = Bytes(row[4]),
          .media_type = row[5].c_str(),
          .size_bytes = row[6].as<int64_t>(),
          .sha256 = row[7].c_str(),
          .chunk_bytes = row[8].as<int64_t>(),
          .create_time = row[9].as<int64_t>(),
          .author_organisation = row[10].c_str(),
          .author_actor = row[11].c_str(),
          .key_id = row[12].c_str()};
}

}  // namespace

std::optional<DocumentVersionRow> PgTxn::LoadDocumentVersion(const std::string& case_id,
                                                             const std::string& document_id,
                                                             int64_t version) {
  // Version 0: the current one.
  const pqxx::result row = Run(
      absl::StrCat(
          "SELECT ", kVersionColumns,
          " FROM documents d JOIN document_versions v USING (case_id, document_id) "
          "WHERE d.case_id = $1 AND d.document_id = $2 "
          "AND v.version = CASE WHEN $3::bigint = 0 THEN d.current_version ELSE $3::bigint END"),
      case_id, document_id, version);
  if (row.empty()) return std::nullopt;
  return RowOf(row[0], case_id);
}

std::vector<DocumentVersionRow> PgTxn::LoadDocumentVersions(const std::string& case_id,
                                                            bool include_history) {
  std::vector<DocumentVersionRow> documents;
  for (const pqxx::row& row :
       Run(absl::StrCat("SELECT ", kVersionColumns,
                        " FROM documents d JOIN document_versions v USING (case_id, document_id) "
                        "WHERE d.case_id = $1",
                        include_history ? "" : " AND v.version = d.current_version",
                        " ORDER BY d.document_id, v.version DESC"),
           case_id)) {
    documents.push_back(RowOf(row, case_id));
  }
  return documents;
}

std::optional<v1::DocumentType> PgTxn::BlobDocumentType(const std::string& case_id,
                                                        const std::string& blob_id) {
  const pqxx::result row =
      Run("SELECT d.type FROM document_versions v JOIN documents d USING (case_id, document_id) "
          "WHERE v.blob_id = $1 AND v.case_id = $2",
          blob_id, case_id);
  if (row.empty()) return std::nullopt;
  return static_cast<v1::DocumentType>(row[0][0].as<int>());
}

std::optional<std::string> PgTxn::LoadSealedChunk(const std::string& blob_id, int64_t seq) {
  const pqxx::result row =
      Run("SELECT data FROM document_chunks WHERE blob_id = $1 AND seq = $2", blob_id, seq);
  if (row.empty()) return std::nullopt;
  return Bytes(row[0][0]);
}

void PgTxn::InsertDocument(const std::string& case_id, const std::string& document_id,
                           v1::DocumentType type) {
  Run("INSERT INTO documents (case_id, document_id, type, current_version) "
      "VALUES ($1, $2, $3, 1)",
      case_id, document_id, static_cast<int>(type));
}

void PgTxn::SetDocumentVersion(const std::string& case_id, const std::string& document_id,
                               int64_t version) {
  Run("UPDATE documents SET current_version = $1 WHERE case_id = $2 AND document_id = $3", version,
      case_id, document_id);
}

void PgTxn::InsertDocumentVersion(const DocumentVersionRow& row) {
  Run("INSERT INTO document_versions (case_id, document_id, version, blob_id, title, "
      "media_type, size_bytes, sha256, chunk_bytes, create_time, author_organisation, "
      "author_actor, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
      row.case_id, row.document_id, row.version, row.blob_id, Bytea(row.sealed_title),
      row.media_type, row.size_bytes, row.sha256, row.chunk_bytes, row.create_time,
      row.author_organisation, row.author_actor, row.key_id);
}

void PgTxn::InsertChunk(const std::string& blob_id, int64_t seq, const std::string& key_id,
                        const std::string& sealed) {
  Run("INSERT INTO document_chunks (blob_id, seq, key_id, data) VALUES ($1, $2, $3, $4)", blob_id,
      seq, key_id, Bytea(sealed));
}

}  // namespace handover::store
