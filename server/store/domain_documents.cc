// DomainStore's documents: staging uploads, committing them with a feed
// event, listing, and reading content chunk by chunk.
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "server/store/case_reads.h"
#include "server/store/domain_store.h"
#include "server/store/domain_store_tasks.h"

namespace handover::store {
namespace {

// A stored version as the API shows it, its title opened.
absl::StatusOr<DocumentRecord> OpenDocument(const CaseCipher& cipher,
                                            const DocumentVersionRow& row) {
  DocumentRecord record;
  v1::Document& document = record.document;
  document.set_name(DocumentName(row.case_id, row.document_id));
  document.set_type(row.type);
  document.set_version(row.version);
  record.blob_id = row.blob_id;
  auto title = cipher.Open(row.case_id, row.sealed_title,
                           TitleAssociatedData(row.case_id, row.document_id, row.version));
  if (!title.ok()) return title.status();
  document.set_title(*std::move(title));
  document.set_media_type(row.media_type);
  document.set_size_bytes(row.size_bytes);
  document.set_sha256(row.sha256);
  record.chunk_bytes = row.chunk_bytes;
  *document.mutable_create_time() = ToTimestamp(row.create_time);
  return record;
}

// One version (0: the current one), NOT_FOUND if absent.
absl::StatusOr<DocumentRecord> LoadDocument(ReadTxn& txn, const CaseCipher& cipher,
                                            const std::string& case_id,
                                            const std::string& document_id, int64_t version) {
  std::optional<DocumentVersionRow> row = txn.LoadDocumentVersion(case_id, document_id, version);
  if (!row) {
    return absl::NotFoundError(absl::StrCat(DocumentName(case_id, document_id),
                                            version == 0 ? "" : absl::StrCat(" version ", version),
                                            " not found"));
  }
  return OpenDocument(cipher, *row);
}

// The version number the upload becomes: 1 for a new document, else the
// next of an existing one of the same type.
absl::StatusOr<int64_t> NextDocumentVersion(WriteTxn& txn, const AddDocumentCommand& command,
                                            const std::string& document_id) {
  if (command.document_id.empty()) {
    txn.InsertDocument(command.case_id, document_id, command.type);
    return 1;
  }
  std::optional<DocumentVersionRow> current =
      txn.LoadDocumentVersion(command.case_id, document_id, 0);
  if (!current) return FieldError("metadata.document", "no such document in this case");
  if (current->type != command.type) {
    return FieldError("metadata.type", absl::StrCat("must be the replaced document's type, ",
                                                    v1::DocumentType_Name(current->type)));
  }
  txn.SetDocumentVersion(command.case_id, document_id, current->version + 1);
  return current->version + 1;
}

// Inserts the version and copies the staged (sealed) chunks in.
absl::Status InsertDocumentVersion(WriteTxn& txn, const CaseCipher& cipher,
                                   const WriteContext& context, const AddDocumentCommand& command,
                                   const std::string& document_id, int64_t version, int64_t now) {
  StagedDocument& staged = *command.staged;
  auto title = cipher.Seal(command.case_id, command.title,
                           TitleAssociatedData(command.case_id, document_id, version));
  if (!title.ok()) return title.status();
  txn.InsertDocumentVersion({.case_id = command.case_id,
                             .document_id = document_id,
                             .type = command.type,
                             .version = version,
                             .blob_id = staged.blob_id(),
                             .sealed_title = *std::move(title),
                             .media_type = command.media_type,
                             .size_bytes = staged.size_bytes(),
                             .sha256 = command.sha256,
                             .chunk_bytes = static_cast<int64_t>(staged.chunk_bytes()),
                             .create_time = now,
                             .author_organisation = context.principal.organisation_id,
                             .author_actor = context.actor,
                             .key_id = kCaseKeyId});
  if (absl::Status s = staged.Rewind(); !s.ok()) return s;
  for (int64_t seq = 0;; ++seq) {
    auto sealed = staged.NextSealedChunk();
    if (!sealed.ok()) return sealed.status();
    if (sealed->empty()) return absl::OkStatus();
    txn.InsertChunk(staged.blob_id(), seq, staged.key_id(), *sealed);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<StagedDocument>> DomainStore::StageDocument(
    const std::string& case_id) {
  absl::StatusOr<DataKey> key = Cipher().Key(case_id);
  if (!key.ok()) return key.status();
  return StagedDocument::Create(backend_->staging_directory(), *std::move(key),
                                options_.document_chunk_bytes);
}

void DomainStore::AddDocument(const WriteContext& context, AddDocumentCommand command,
                              Authorizer authorize, Done<DocumentRecord> done) {
  const std::string case_id = command.case_id;
  ClientWrite<DocumentRecord>(
      context,
      [this, case_id](ReadTxn& txn, const PriorRequest& prior) -> absl::StatusOr<DocumentRecord> {
        if (auto live = LoadCase(txn, case_id); !live.ok()) return live.status();
        return LoadDocument(txn, Cipher(), prior.case_id, prior.document_id, prior.version);
      },
      [this, context, command = std::move(command), authorize](
          WriteTxn& txn, PriorRequest* produced) -> absl::StatusOr<DocumentRecord> {
        const CaseCipher cipher = Cipher();
        auto current = ReadSnapshot(txn, cipher, command.case_id, 0, true, authorize);
        if (!current.ok()) return current.status();
        if (absl::Status valid = command.validate(*current->form); !valid.ok()) return valid;

        const std::string document_id =
            command.document_id.empty() ? NewResourceId() : command.document_id;
        const int64_t now = NowMicros();
        auto version = NextDocumentVersion(txn, command, document_id);
        if (!version.ok()) return version.status();
        if (absl::Status s =
                InsertDocumentVersion(txn, cipher, context, command, document_id, *version, now);
            !s.ok()) {
          return s;
        }
        txn.AppendEvent({.case_id = command.case_id,
                         .kind = v1::EVENT_KIND_DOCUMENT_ADDED,
                         .version = current->meta.version(),
                         .operator_id = current->facts.operator_id,
                         .municipality_code = current->facts.municipality_code,
                         .document_id = document_id,
                         .document_version = *version,
                         .document_type = command.type},
                        now);
        *produced = {.case_id = command.case_id, .version = *version, .document_id = document_id};
        return LoadDocument(txn, cipher, command.case_id, document_id, *version);
      },
      std::move(done));
}

void DomainStore::ListDocuments(std::string case_id, bool include_history, Authorizer authorize,
                                Done<DocumentList> done) {
  Read<DocumentList>(
      [this, case_id = std::move(case_id), include_history,
       authorize = std::move(authorize)](ReadTxn& txn) -> absl::StatusOr<DocumentList> {
        auto current = LoadCase(txn, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        const CaseCipher cipher = Cipher();
        DocumentList list{.facts = std::move(current->facts)};
        for (const DocumentVersionRow& row : txn.LoadDocumentVersions(case_id, include_history)) {
          auto record = OpenDocument(cipher, row);
          if (!record.ok()) return record.status();
          list.documents.push_back(*std::move(record));
        }
        return list;
      },
      std::move(done));
}

void DomainStore::GetDocument(std::string case_id, std::string document_id, int64_t version,
                              Authorizer authorize, DocumentAuthorizer may_receive,
                              Done<DocumentRecord> done) {
  Read<DocumentRecord>(
      [this, case_id = std::move(case_id), document_id = std::move(document_id), version,
       authorize = std::move(authorize),
       may_receive = std::move(may_receive)](ReadTxn& txn) -> absl::StatusOr<DocumentRecord> {
        auto current = LoadCase(txn, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        auto record = LoadDocument(txn, Cipher(), case_id, document_id, version);
        if (!record.ok()) return record.status();
        if (absl::Status allowed = may_receive(current->facts, record->document.type());
            !allowed.ok()) {
          return allowed;
        }
        return record;
      },
      std::move(done));
}

void DomainStore::ReadDocumentChunk(std::string case_id, std::string blob_id, int64_t seq,
                                    Authorizer authorize, DocumentAuthorizer may_receive,
                                    Done<std::string> done) {
  Read<std::string>(
      [this, case_id = std::move(case_id), blob_id = std::move(blob_id), seq,
       authorize = std::move(authorize),
       may_receive = std::move(may_receive)](ReadTxn& txn) -> absl::StatusOr<std::string> {
        auto current = LoadCase(txn, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        const std::optional<v1::DocumentType> type = txn.BlobDocumentType(case_id, blob_id);
        if (!type) return absl::NotFoundError("the document is gone");
        if (absl::Status allowed = may_receive(current->facts, *type); !allowed.ok()) {
          return allowed;
        }
        std::optional<std::string> sealed = txn.LoadSealedChunk(blob_id, seq);
        if (!sealed) return absl::NotFoundError("no such chunk");
        return Cipher().Open(case_id, *sealed, ChunkAssociatedData(blob_id, seq));
      },
      std::move(done));
}

}  // namespace handover::store
