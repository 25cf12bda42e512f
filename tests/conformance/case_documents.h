// Documents of one case, through the store, as the conformance tests add
// and read them (document_conformance_test.cc, fault_conformance_test.cc).
#pragma once

#include <string>

#include "absl/strings/escaping.h"
#include "common/signing.h"
#include "handover/v1/document_service.pb.h"
#include "server/store/case_store.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {

inline absl::Status AllowDocument(const policy::CaseFacts&, v1::DocumentType) {
  return absl::OkStatus();
}

// Documents of one case, through the store.
class CaseDocuments {
 public:
  CaseDocuments(store::CaseStore& store, std::string case_id)
      : store_(store), case_id_(std::move(case_id)) {}

  absl::StatusOr<store::DocumentRecord> Add(const std::string& request_id,
                                            const std::string& content, v1::DocumentType type,
                                            const std::string& document_id = "",
                                            std::optional<v1::AccessRecord> audit = std::nullopt) {
    auto staged = store_.StageDocument(case_id_);
    if (!staged.ok()) return staged.status();
    if (absl::Status s = (*staged)->Append(content); !s.ok()) return s;
    if (absl::Status s = (*staged)->Complete(); !s.ok()) return s;
    const std::string case_name = "cases/" + case_id_;
    v1::DocumentUpload request;
    request.set_parent(case_name);
    request.set_type(type);
    request.set_title("Fictional document " + request_id);
    request.set_media_type("application/pdf");
    request.set_size_bytes(content.size());
    request.set_sha256(absl::BytesToHexString(Sha256(content)));
    if (!document_id.empty()) request.set_document(case_name + "/documents/" + document_id);
    request.set_request_id(request_id);
    store::AddDocumentCommand command{
        .case_id = case_id_,
        .document_id = document_id,
        .type = type,
        .title = request.title(),
        .media_type = request.media_type(),
        .sha256 = request.sha256(),
        .staged = std::shared_ptr<store::StagedDocument>(*std::move(staged)),
        .validate = [](const v1::HandoverForm&) { return absl::OkStatus(); }};
    const store::WriteContext context{kRedCross, "conformance-actor", request_id, &request,
                                      std::move(audit)};
    return testing::Await<store::DocumentRecord>(
        [&](auto done) { store_.AddDocument(context, std::move(command), AllowAll, done); });
  }

  absl::StatusOr<std::string> Chunk(const store::DocumentRecord& record, int64_t seq,
                                    store::DocumentAuthorizer may_receive = AllowDocument) {
    return testing::Await<std::string>([&](auto done) {
      store_.ReadDocumentChunk(case_id_, record.blob_id, seq, AllowAll, may_receive, done);
    });
  }

  absl::StatusOr<std::string> Content(const store::DocumentRecord& record,
                                      store::DocumentAuthorizer may_receive = AllowDocument) {
    std::string content;
    for (int64_t seq = 0; static_cast<int64_t>(content.size()) < record.document.size_bytes();
         ++seq) {
      auto chunk = Chunk(record, seq, may_receive);
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) return absl::DataLossError("empty chunk");
      content += *chunk;
    }
    return content;
  }

  absl::StatusOr<store::DocumentRecord> Get(const std::string& document_id, int64_t version,
                                            store::DocumentAuthorizer may_receive = AllowDocument) {
    return testing::Await<store::DocumentRecord>([&](auto done) {
      store_.GetDocument(case_id_, document_id, version, AllowAll, may_receive, done);
    });
  }

  absl::StatusOr<store::DocumentList> List(bool include_history) {
    return testing::Await<store::DocumentList>(
        [&](auto done) { store_.ListDocuments(case_id_, include_history, AllowAll, done); });
  }

 private:
  store::CaseStore& store_;
  const std::string case_id_;
};

}  // namespace handover::conformance
