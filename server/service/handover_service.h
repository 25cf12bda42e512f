// The gRPC adapter for handover.v1.HandoverService: proto in, domain call,
// proto out. Like the other services (AuditService, DocumentService), it keeps
// grpc:: out of the policy and the store.
//
// Every RPC takes the same steps in the same order: identify the caller, check
// its role (policy::CheckRole), validate the request, execute (store) with an
// Authorizer that the store runs against the case's facts inside the same read
// or write (policy::Authorize), project the view (policy), record the access,
// respond. A refusal at any step is recorded in the access log too
// (audited.h). Handlers never block: they hand work to the store and finish
// the call from its completion callback.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/media_types.h"
#include "common/validation.h"
#include "handover/v1/handover_service.grpc.pb.h"
#include "server/feed/feed_hub.h"
#include "server/service/watcher.h"
#include "server/store/case_store.h"

namespace handover::service {

struct DocumentLimits {
  // Largest document accepted. Default 25 MiB.
  int64_t max_bytes = 25 * 1024 * 1024;
  // Media types accepted, each checked against the content. Default PDF, PNG,
  // JPEG and plain text.
  std::vector<std::string> media_types = DefaultAllowedMediaTypes();
};

struct ServiceOptions {
  // SPIFFE trust domain of client certificates. Default "handover.test".
  std::string trust_domain = "handover.test";
  // Page size when the request gives none. Default 50.
  int default_page_size = 50;
  // Larger page sizes are reduced to this. Default 500.
  int max_page_size = 500;
  // Largest request message accepted: larger ones are refused with
  // RESOURCE_EXHAUSTED and recorded (ServerOptions::max_receive_message_bytes).
  size_t max_request_bytes = 4 * 1024 * 1024;
  FormLimits form_limits;
  DocumentLimits documents;
  // Sync page size when the request gives none. Default 100.
  int default_sync_page_size = 100;
  WatchOptions watch;
  // Record reads, and reads refused, in the access log. Always true in
  // service; false only to measure what the records cost (bench/read_bench).
  // Default true.
  bool record_reads = true;
};

class HandoverService final : public v1::HandoverService::CallbackService {
 public:
  // `store` and `hub` must outlive the service.
  HandoverService(store::CaseStore* store, feed::FeedHub* hub, ServiceOptions options);

  grpc::ServerUnaryReactor* CreateCase(grpc::CallbackServerContext* context,
                                       const v1::CreateCaseRequest* request,
                                       v1::CreateCaseResponse* response) override;
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* context,
                                    const v1::GetCaseRequest* request,
                                    v1::GetCaseResponse* response) override;
  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* context,
                                      const v1::ListCasesRequest* request,
                                      v1::ListCasesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateForm(grpc::CallbackServerContext* context,
                                       const v1::UpdateFormRequest* request,
                                       v1::UpdateFormResponse* response) override;
  grpc::ServerUnaryReactor* ListVersions(grpc::CallbackServerContext* context,
                                         const v1::ListVersionsRequest* request,
                                         v1::ListVersionsResponse* response) override;
  grpc::ServerUnaryReactor* GetVersion(grpc::CallbackServerContext* context,
                                       const v1::GetVersionRequest* request,
                                       v1::GetVersionResponse* response) override;
  grpc::ServerUnaryReactor* AssignCase(grpc::CallbackServerContext* context,
                                       const v1::AssignCaseRequest* request,
                                       v1::AssignCaseResponse* response) override;
  grpc::ServerUnaryReactor* RecordConsent(grpc::CallbackServerContext* context,
                                          const v1::RecordConsentRequest* request,
                                          v1::RecordConsentResponse* response) override;
  grpc::ServerUnaryReactor* WithdrawConsent(grpc::CallbackServerContext* context,
                                            const v1::WithdrawConsentRequest* request,
                                            v1::WithdrawConsentResponse* response) override;
  grpc::ServerUnaryReactor* Sync(grpc::CallbackServerContext* context,
                                 const v1::SyncRequest* request,
                                 v1::SyncResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchResponse>* Watch(grpc::CallbackServerContext* context,
                                                     const v1::WatchRequest* request) override;
  grpc::ServerUnaryReactor* EraseCase(grpc::CallbackServerContext* context,
                                      const v1::EraseCaseRequest* request,
                                      v1::EraseCaseResponse* response) override;

 private:
  // Where reads (and their refusals) are recorded: the store, or nowhere when
  // options_.record_reads is off.
  store::CaseStore* read_log() const { return options_.record_reads ? store_ : nullptr; }

  store::CaseStore* store_;
  feed::FeedHub* hub_;
  const ServiceOptions options_;
};

}  // namespace handover::service
