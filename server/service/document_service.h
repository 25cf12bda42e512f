// The gRPC adapter for handover.v1.DocumentService: streamed upload and
// download of a case's documents, and their listing. Every call, the
// client-streaming upload included, runs the one pipeline (pipeline.h).
//
// Memory per transfer is bounded by one message plus one stored chunk
// (256 KiB), whatever the document's size: an upload is hashed, checked and
// sealed chunk by chunk into a staging file, a download reads one chunk from
// the store per message written.
#pragma once

#include "handover/v1/document_service.grpc.pb.h"
#include "server/service/pipeline.h"
#include "server/service/service_options.h"
#include "server/service/upload_limiter.h"
#include "server/store/case_store.h"

namespace handover::service {

class DocumentService final : public v1::DocumentService::CallbackService {
 public:
  // `store` must outlive the service.
  DocumentService(store::CaseStore* store, ServiceOptions options);

  grpc::ServerReadReactor<v1::UploadDocumentRequest>* UploadDocument(
      grpc::CallbackServerContext* context, v1::UploadDocumentResponse* response) override;
  grpc::ServerUnaryReactor* ListDocuments(grpc::CallbackServerContext* context,
                                          const v1::ListDocumentsRequest* request,
                                          v1::ListDocumentsResponse* response) override;
  grpc::ServerWriteReactor<v1::DownloadDocumentResponse>* DownloadDocument(
      grpc::CallbackServerContext* context, const v1::DownloadDocumentRequest* request) override;

 private:
  store::CaseStore* store_;
  const ServiceOptions options_;
  const Pipeline pipeline_;  // after options_, which it reads
  UploadLimiter uploads_;
};

}  // namespace handover::service
