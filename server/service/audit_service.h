// The gRPC adapter for handover.v1.AuditService: the access log for auditors
// (role `auditor` only). Auditors see who accessed what, never form content;
// their own queries are recorded in the log too.
#pragma once

#include <memory>
#include <string>

#include "handover/v1/handover_service.grpc.pb.h"
#include "server/service/pipeline.h"
#include "server/service/service_options.h"
#include "server/store/case_store.h"

namespace handover::service {

class AuditService final : public v1::AuditService::CallbackService {
 public:
  // `store` must outlive the service. `public_key_pem` is the checkpoint
  // signing key's public half, sent first in every export.
  AuditService(store::CaseStore* store, std::string public_key_pem, ServiceOptions options);

  grpc::ServerUnaryReactor* QueryAccessLog(grpc::CallbackServerContext* context,
                                           const v1::QueryAccessLogRequest* request,
                                           v1::QueryAccessLogResponse* response) override;
  grpc::ServerWriteReactor<v1::ExportAccessLogResponse>* ExportAccessLog(
      grpc::CallbackServerContext* context, const v1::ExportAccessLogRequest* request) override;
  grpc::ServerUnaryReactor* SubjectAccessReport(grpc::CallbackServerContext* context,
                                                const v1::SubjectAccessReportRequest* request,
                                                v1::SubjectAccessReportResponse* response) override;

 private:
  store::CaseStore* store_;
  const std::string public_key_pem_;
  const ServiceOptions options_;
  const Pipeline pipeline_;  // after options_, which it reads
};

}  // namespace handover::service
