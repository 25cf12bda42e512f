// SqliteStore's documents: staging uploads, committing them with a feed
// event, listing, and reading content chunk by chunk.
#include <SQLiteCpp/Transaction.h>

#include "common/resource_names.h"
#include "server/store/case_rows.h"
#include "server/store/document_rows.h"
#include "server/store/sqlite_store.h"
#include "server/store/sqlite_store_tasks.h"

namespace handover::store {

absl::StatusOr<std::unique_ptr<StagedDocument>> SqliteStore::StageDocument() {
  return StagedDocument::Create(staging_directory_, keys(), document_chunk_bytes_);
}

void SqliteStore::AddDocument(const WriteContext& context, AddDocumentCommand command,
                              Authorizer authorize, Done<DocumentRecord> done) {
  const std::vector<std::string> fingerprint = Fingerprint(*keys(), *context.request);
  Write<DocumentRecord>(
      [this, context, command = std::move(command), authorize = std::move(authorize),
       fingerprint](SQLite::Database& db) -> absl::StatusOr<DocumentRecord> {
        auto prior = FindPriorRequest(db, context, fingerprint);
        if (!prior.ok()) return prior.status();
        if (*prior) {
          if (auto facts = LoadCase(db, command.case_id); !facts.ok()) return facts.status();
          return LoadDocument(db, *keys(), (*prior)->case_id, (*prior)->document_id,
                              (*prior)->version);
        }
        auto current = ReadSnapshot(db, *keys(), command.case_id, 0, true, authorize);
        if (!current.ok()) return current.status();
        if (absl::Status valid = command.validate(*current->form); !valid.ok()) return valid;

        const std::string document_id =
            command.document_id.empty() ? NewResourceId() : command.document_id;
        const int64_t now = NowMicros();
        auto version = InsertDocumentVersion(db, *keys(), context, command, document_id, now);
        if (!version.ok()) return version.status();
        AppendEvent(db,
                    {.case_id = command.case_id,
                     .kind = v1::EVENT_KIND_DOCUMENT_ADDED,
                     .version = current->meta.version(),
                     .operator_id = current->facts.operator_id,
                     .municipality_code = current->facts.municipality_code,
                     .document_id = document_id,
                     .document_version = *version,
                     .document_type = command.type},
                    now);
        RecordRequest(
            db, context, fingerprint,
            {.case_id = command.case_id, .version = *version, .document_id = document_id});
        return LoadDocument(db, *keys(), command.case_id, document_id, *version);
      },
      std::move(done), context.audit);
}

void SqliteStore::ListDocuments(std::string case_id, bool include_history, Authorizer authorize,
                                Done<DocumentList> done) {
  Read<DocumentList>(
      [this, case_id = std::move(case_id), include_history,
       authorize = std::move(authorize)](SQLite::Database& db) -> absl::StatusOr<DocumentList> {
        SQLite::Transaction snapshot(db, SQLite::TransactionBehavior::DEFERRED);
        auto current = LoadCase(db, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        auto documents = LoadDocuments(db, *keys(), case_id, include_history);
        if (!documents.ok()) return documents.status();
        return DocumentList{std::move(current->facts), *std::move(documents)};
      },
      std::move(done));
}

void SqliteStore::GetDocument(std::string case_id, std::string document_id, int64_t version,
                              Authorizer authorize, DocumentAuthorizer may_receive,
                              Done<DocumentRecord> done) {
  Read<DocumentRecord>(
      [this, case_id = std::move(case_id), document_id = std::move(document_id), version,
       authorize = std::move(authorize), may_receive = std::move(may_receive)](
          SQLite::Database& db) -> absl::StatusOr<DocumentRecord> {
        SQLite::Transaction snapshot(db, SQLite::TransactionBehavior::DEFERRED);
        auto current = LoadCase(db, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        auto record = LoadDocument(db, *keys(), case_id, document_id, version);
        if (!record.ok()) return record.status();
        if (absl::Status allowed = may_receive(current->facts, record->document.type());
            !allowed.ok()) {
          return allowed;
        }
        return record;
      },
      std::move(done));
}

void SqliteStore::ReadDocumentChunk(std::string case_id, std::string blob_id, int64_t seq,
                                    Authorizer authorize, DocumentAuthorizer may_receive,
                                    Done<std::string> done) {
  Read<std::string>(
      [this, case_id = std::move(case_id), blob_id = std::move(blob_id), seq,
       authorize = std::move(authorize),
       may_receive = std::move(may_receive)](SQLite::Database& db) -> absl::StatusOr<std::string> {
        SQLite::Transaction snapshot(db, SQLite::TransactionBehavior::DEFERRED);
        auto current = LoadCase(db, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        const std::optional<v1::DocumentType> type = BlobDocumentType(db, case_id, blob_id);
        if (!type) return absl::NotFoundError("the document is gone");
        if (absl::Status allowed = may_receive(current->facts, *type); !allowed.ok()) {
          return allowed;
        }
        auto sealed = LoadSealedChunk(db, blob_id, seq);
        if (!sealed.ok()) return sealed.status();
        return keys()->Open(*sealed, ChunkAssociatedData(blob_id, seq));
      },
      std::move(done));
}

}  // namespace handover::store
