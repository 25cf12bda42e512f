#include "server/service/document_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "common/media_types.h"
#include "common/resource_names.h"
#include "common/signing.h"
#include "common/validation.h"
#include "server/service/caller.h"
#include "server/service/pipeline.h"
#include "server/store/access_sections.h"

namespace handover::service {
namespace {

constexpr size_t kMaxTitleBytes = 200;

store::DocumentAuthorizer MayReceive(const Principal& principal) {
  return [principal](const policy::CaseFacts& facts, v1::DocumentType type) {
    return policy::MayReceiveDocument(principal, facts, type);
  };
}

absl::Status ValidateUpload(const v1::DocumentUpload& upload, const DocumentLimits& limits) {
  if (auto parent = ParseCaseName(upload.parent(), "metadata.parent"); !parent.ok()) {
    return parent.status();
  }
  if (upload.type() == v1::DOCUMENT_TYPE_UNSPECIFIED || !v1::DocumentType_IsValid(upload.type())) {
    return FieldError("metadata.type", "required, one of the DocumentType values");
  }
  if (upload.title().empty()) return FieldError("metadata.title", "required");
  if (absl::Status title = ValidateText(upload.title(), kMaxTitleBytes, "metadata.title");
      !title.ok()) {
    return title;
  }
  if (std::find(limits.media_types.begin(), limits.media_types.end(), upload.media_type()) ==
      limits.media_types.end()) {
    return FieldError("metadata.media_type",
                      absl::StrCat("must be one of ", absl::StrJoin(limits.media_types, ", ")));
  }
  if (upload.size_bytes() < 1 || upload.size_bytes() > limits.max_bytes) {
    return FieldError("metadata.size_bytes",
                      absl::StrCat("must be from 1 to ", limits.max_bytes, " bytes"));
  }
  if (upload.sha256().size() != 64 ||
      upload.sha256().find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return FieldError("metadata.sha256", "must be 64 hex digits");
  }
  if (!upload.document().empty()) {
    auto ref = ParseDocumentName(upload.document(), "metadata.document");
    if (!ref.ok()) return ref.status();
    if (CaseName(ref->case_id) != upload.parent()) {
      return FieldError("metadata.document", "must be a document of metadata.parent");
    }
  }
  return ValidateRequestId(upload.request_id(), "metadata.request_id");
}

// Reads an upload: the metadata, then (once the caller may upload to the
// case and the type fits the household) chunks, each counted, hashed,
// checked for the media type and sealed into a staging file; at the end the
// totals are checked and the store makes the document visible. Any failure
// ends the call with nothing stored; the staging file goes with the reactor.
class UploadReactor final : public grpc::ServerReadReactor<v1::UploadDocumentRequest> {
 public:
  UploadReactor(grpc::CallbackServerContext* context, store::CaseStore* store,
                const Pipeline& pipeline, const ServiceOptions& options, UploadLimiter& uploads,
                v1::UploadDocumentResponse* response)
      : context_(context),
        store_(store),
        options_(options),
        uploads_(uploads),
        response_(response),
        call_(context, pipeline, kUploadDocument, this) {
    if (call_.Refused(call_.Admit())) return;
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (slot_) slot_->Touch();
    if (!ok) {
      if (slot_ && slot_->timed_out()) {
        // Cancelled by the limiter's watchdog: recorded like any refusal.
        call_.Refuse(absl::DeadlineExceededError(
            absl::StrCat("upload: no message for ", uploads_.limits().idle_timeout.count(),
                         " ms; nothing stored")));
      } else if (context_->IsCancelled()) {
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "upload cancelled; nothing stored"));
      } else if (!staged_) {
        call_.Refuse(FieldError("metadata", "required as the first message"));
      } else {
        Complete();
      }
      return;
    }
    if (call_.Refused(call_.CheckRequest(request_))) return;
    if (!staged_) {
      OnMetadata();
      return;
    }
    if (!request_.has_chunk()) {
      call_.Refuse(FieldError("metadata", "only in the first message; the rest must be chunks"));
      return;
    }
    const std::string& chunk = request_.chunk();
    received_ += static_cast<int64_t>(chunk.size());
    if (received_ > upload_.size_bytes()) {
      call_.Refuse(FieldError("metadata.size_bytes", absl::StrCat("declared ", upload_.size_bytes(),
                                                                  " bytes; more arrived")));
      return;
    }
    if (call_.Refused(media_check_->Add(chunk))) return;
    hash_.Add(chunk);
    if (call_.Refused(staged_->Append(chunk))) return;
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  void OnMetadata() {
    if (!request_.has_metadata()) {
      call_.Refuse(FieldError("metadata", "required as the first message"));
      return;
    }
    upload_ = request_.metadata();
    upload_.set_sha256(absl::AsciiStrToLower(upload_.sha256()));
    call_.NameCase(upload_.parent());
    call_.record().add_sections(store::DocumentSection(upload_.type()));
    if (call_.Refused(ValidateUpload(upload_, options_.documents))) return;
    if (call_.Refused(store_->AdmitWrite())) return;
    // A slot before a staging file (a descriptor) is opened.
    auto slot = uploads_.Acquire(call_.principal().organisation_id, context_->peer(), context_);
    if (call_.Refused(slot.status())) return;
    slot_ = *std::move(slot);
    case_id_ = *ParseCaseName(upload_.parent(), "metadata.parent");
    // Refuse before taking the content if the caller may not upload here or
    // the type does not fit the household. The server's wait is no stall.
    slot_->Pause();
    store_->GetCase(
        case_id_, 0, true, call_.CaseAuthorizer(upload_.parent()),
        [this](absl::StatusOr<store::CaseSnapshot> snapshot) {
          if (call_.Refused(snapshot.status()) ||
              call_.Refused(CheckDocumentType(upload_.type(), *snapshot->form, "metadata.type"))) {
            return;
          }
          auto staged = store_->StageDocument(case_id_);
          if (call_.Refused(staged.status())) return;
          staged_ = *std::move(staged);
          media_check_.emplace(upload_.media_type());
          slot_->Touch();  // waiting for the client's content from now
          StartRead(&request_);
        });
  }

  void Complete() {
    slot_->Pause();  // the checks and the commit are the server's wait
    if (received_ != upload_.size_bytes()) {
      call_.Refuse(FieldError(
          "metadata.size_bytes",
          absl::StrCat("declared ", upload_.size_bytes(), " bytes; ", received_, " arrived")));
      return;
    }
    if (call_.Refused(media_check_->Finish())) return;
    if (HexEncode(hash_.Finish()) != upload_.sha256()) {
      call_.Refuse(FieldError("metadata.sha256", "does not match the content received"));
      return;
    }
    if (call_.Refused(staged_->Complete())) return;
    store::AddDocumentCommand command{
        .case_id = case_id_,
        .type = upload_.type(),
        .title = upload_.title(),
        .media_type = upload_.media_type(),
        .sha256 = upload_.sha256(),
        .staged = std::move(staged_),
        .validate =
            [type = upload_.type()](const v1::HandoverForm& form) {
              return CheckDocumentType(type, form, "metadata.type");
            },
    };
    if (!upload_.document().empty()) {
      command.document_id = ParseDocumentName(upload_.document(), "")->document_id;
    }
    store_->AddDocument(call_.Write(upload_.request_id(), upload_), std::move(command),
                        call_.CaseAuthorizer(upload_.parent()),
                        [this](absl::StatusOr<store::DocumentRecord> record) {
                          if (!record.ok()) {
                            Finish(ToGrpcStatus(record.status()));
                            return;
                          }
                          *response_->mutable_document() = record->document;
                          Finish(grpc::Status::OK);
                        });
  }

  grpc::CallbackServerContext* const context_;
  store::CaseStore* const store_;
  const ServiceOptions& options_;
  UploadLimiter& uploads_;
  v1::UploadDocumentResponse* const response_;
  // A refusal (call_.Refuse) ends the call; the staged content goes with the
  // reactor.
  Call<grpc::ServerReadReactor<v1::UploadDocumentRequest>> call_;
  v1::UploadDocumentRequest request_;
  v1::DocumentUpload upload_;
  std::string case_id_;
  std::shared_ptr<store::StagedDocument> staged_;
  std::optional<MediaTypeCheck> media_check_;
  Sha256Stream hash_;
  int64_t received_ = 0;
  std::unique_ptr<UploadLimiter::Slot> slot_;  // from the metadata on
};

// Writes the metadata, then one stored chunk per message from the requested
// offset, reading the next chunk only when the previous one is written. Each
// chunk read checks again that the caller may receive the document.
class DownloadReactor final : public grpc::ServerWriteReactor<v1::DownloadDocumentResponse> {
 public:
  DownloadReactor(grpc::CallbackServerContext* context, store::CaseStore* store,
                  const Pipeline& pipeline, const v1::DownloadDocumentRequest& request)
      : store_(store), call_(context, pipeline, kDownloadDocument, this) {
    if (call_.Refused(call_.Admit(request))) return;
    auto ref = ParseDocumentName(request.name(), "name");
    if (call_.Refused(ref.status())) return;
    case_id_ = ref->case_id;
    call_.NameCase(CaseName(case_id_));
    if (request.version() < 0) {
      call_.Refuse(FieldError("version", "must be 0 (current) or a version from 1"));
      return;
    }
    if (request.offset() < 0) {
      call_.Refuse(FieldError("offset", "must not be negative"));
      return;
    }
    position_ = request.offset();
    store_->GetDocument(
        case_id_, ref->document_id, request.version(), Authorize(), MayReceive(call_.principal()),
        [this](absl::StatusOr<store::DocumentRecord> record) {
          if (call_.Refused(record.status())) return;
          record_ = *std::move(record);
          const v1::Document& document = record_.document;
          if (position_ > document.size_bytes()) {
            call_.Refuse(absl::OutOfRangeError(absl::StrCat("offset: beyond the document's end (",
                                                            document.size_bytes(), " bytes)")));
            return;
          }
          call_.record().set_version(document.version());
          call_.record().add_sections(store::DocumentSection(document.type()));
          Audit(store_, call_.record(), absl::OkStatus(), [this](absl::Status recorded) {
            if (!recorded.ok()) {
              Finish(ToGrpcStatus(recorded));
              return;
            }
            *response_.mutable_metadata() = record_.document;
            StartWrite(&response_);
          });
        });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    if (position_ >= record_.document.size_bytes()) {
      Finish(grpc::Status::OK);
      return;
    }
    const int64_t seq = position_ / record_.chunk_bytes;
    store_->ReadDocumentChunk(
        case_id_, record_.blob_id, seq, Authorize(), MayReceive(call_.principal()),
        [this, seq](absl::StatusOr<std::string> chunk) {
          if (!chunk.ok()) {
            Finish(ToGrpcStatus(chunk.status()));
            return;
          }
          const size_t skip = static_cast<size_t>(position_ - seq * record_.chunk_bytes);
          if (skip >= chunk->size()) {
            Finish(ToGrpcStatus(absl::DataLossError("a stored chunk is shorter than recorded")));
            return;
          }
          response_.set_chunk(chunk->substr(skip));
          position_ += static_cast<int64_t>(response_.chunk().size());
          StartWrite(&response_);
        });
  }

  void OnDone() override { delete this; }

 private:
  store::Authorizer Authorize() const { return call_.CaseAuthorizer(CaseName(case_id_)); }

  store::CaseStore* const store_;
  Call<grpc::ServerWriteReactor<v1::DownloadDocumentResponse>> call_;
  std::string case_id_;
  store::DocumentRecord record_;
  int64_t position_ = 0;
  v1::DownloadDocumentResponse response_;
};

}  // namespace

DocumentService::DocumentService(store::CaseStore* store, ServiceOptions options)
    : store_(store),
      options_(std::move(options)),
      pipeline_(store, options_),
      uploads_(options_.documents.uploads) {}

grpc::ServerReadReactor<v1::UploadDocumentRequest>* DocumentService::UploadDocument(
    grpc::CallbackServerContext* context, v1::UploadDocumentResponse* response) {
  return new UploadReactor(context, store_, pipeline_, options_, uploads_, response);
}

grpc::ServerWriteReactor<v1::DownloadDocumentResponse>* DocumentService::DownloadDocument(
    grpc::CallbackServerContext* context, const v1::DownloadDocumentRequest* request) {
  return new DownloadReactor(context, store_, pipeline_, *request);
}

grpc::ServerUnaryReactor* DocumentService::ListDocuments(grpc::CallbackServerContext* context,
                                                         const v1::ListDocumentsRequest* request,
                                                         v1::ListDocumentsResponse* response) {
  UnaryCall call(context, pipeline_, kListDocuments);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  auto case_id = ParseCaseName(request->parent(), "parent");
  if (call.Refused(case_id.status())) return call.reactor();
  call.NameCase(request->parent());
  store_->ListDocuments(
      *case_id, request->include_history(), call.CaseAuthorizer(request->parent()),
      call.Read<store::DocumentList>([response, principal = call.principal()](
                                         store::DocumentList& list, v1::AccessRecord* record) {
        for (store::DocumentRecord& document : list.documents) {
          const v1::DocumentType type = document.document.type();
          const std::string section = store::DocumentSection(type);
          if (!policy::MayReceiveDocument(principal, list.facts, type).ok()) {
            const std::string name = v1::DocumentType_Name(type);
            if (std::find(response->withheld_types().begin(), response->withheld_types().end(),
                          name) == response->withheld_types().end()) {
              response->add_withheld_types(name);
            }
            continue;
          }
          store::AddSection(section, record);
          *response->add_documents() = std::move(document.document);
        }
      }));
  return call.reactor();
}

}  // namespace handover::service
