// The gRPC adapter for handover.v1.HandoverService: proto in, domain call,
// proto out. Like the other services (AuditService, DocumentService), it keeps
// grpc:: out of the policy and the store.
//
// Every RPC runs the one pipeline (pipeline.h, its row in operations.h):
// identify, authorise the role, validate, execute in the store (which
// authorises the case), project the view, record the access, respond; a
// refusal at any step is recorded too. Handlers never block: they hand work
// to the store and finish the call from its completion callback.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "handover/v1/handover_service.grpc.pb.h"
#include "server/feed/feed_hub.h"
#include "server/service/pipeline.h"
#include "server/service/service_options.h"
#include "server/store/case_store.h"

namespace handover::service {

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
  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* context,
                                   const v1::WhoAmIRequest* request,
                                   v1::WhoAmIResponse* response) override;

 private:
  store::CaseStore* store_;
  feed::FeedHub* hub_;
  const ServiceOptions options_;
  const Pipeline pipeline_;  // after options_, which it reads
};

}  // namespace handover::service
