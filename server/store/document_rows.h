// The rows of documents, inside a transaction the caller owns: versions with
// sealed titles, and content as sealed chunks. Used by SqliteStore.
#pragma once

#include <SQLiteCpp/Database.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/crypto.h"
#include "server/store/case_store.h"

namespace handover::store {

// The associated data binding a sealed title to its document version.
std::string TitleAssociatedData(const std::string& case_id, const std::string& document_id,
                                int64_t version);

// One version; `version` 0 means the current one. NOT_FOUND if absent.
absl::StatusOr<DocumentRecord> LoadDocument(SQLite::Database& db, const KeyRing& keys,
                                            const std::string& case_id,
                                            const std::string& document_id, int64_t version);
// The case's documents: current versions, or every version newest first per
// document, in document order.
absl::StatusOr<std::vector<DocumentRecord>> LoadDocuments(SQLite::Database& db, const KeyRing& keys,
                                                          const std::string& case_id,
                                                          bool include_history);
// The type of the document whose version has this blob, if it is the case's.
std::optional<v1::DocumentType> BlobDocumentType(SQLite::Database& db, const std::string& case_id,
                                                 const std::string& blob_id);
// Chunk `seq` of a blob, still sealed. NOT_FOUND past the end.
absl::StatusOr<std::string> LoadSealedChunk(SQLite::Database& db, const std::string& blob_id,
                                            int64_t seq);

// Inserts the version (and the document, if new) and copies the staged
// chunks in. Returns the version number.
absl::StatusOr<int64_t> InsertDocumentVersion(SQLite::Database& db, const KeyRing& keys,
                                              const WriteContext& context,
                                              const AddDocumentCommand& command,
                                              const std::string& document_id, int64_t now);

// Re-seals up to `limit` chunks and titles not sealed with the current key;
// returns how many.
absl::StatusOr<int> ReencryptDocuments(SQLite::Database& db, const KeyRing& keys, int limit);

}  // namespace handover::store
