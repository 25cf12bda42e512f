#include "server/service/audit_service.h"

#include <mutex>

#include "common/errors.h"
#include "common/resource_names.h"
#include "common/validation.h"
#include "server/policy/policy.h"
#include "server/service/audited.h"
#include "server/service/handler_steps.h"
#include "server/service/page_tokens.h"
#include "server/store/sealing.h"

namespace handover::service {
namespace {

constexpr int kExportBatch = 500;

// The caller identified and its role checked (policy::CheckRole).
absl::Status CheckAuditor(const absl::StatusOr<Caller>& caller) {
  if (!caller.ok()) return caller.status();
  return policy::CheckRole(caller->principal, policy::Operation::kReadAccessLog);
}

// Streams the whole log in batches, the public key first; recorded once.
class LogExporter final : public grpc::ServerWriteReactor<v1::ExportAccessLogResponse> {
 public:
  LogExporter(store::CaseStore* store, std::string public_key_pem, v1::AccessRecord record)
      : store_(store) {
    current_.set_public_key_pem(std::move(public_key_pem));
    store_->RecordAccess(std::move(record), [this](absl::StatusOr<int64_t> logged) {
      if (!logged.ok()) {
        Finish(ToGrpcStatus(absl::UnavailableError("the access log could not be written")));
        return;
      }
      StartWrite(&current_);
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::CANCELLED);
      return;
    }
    if (!batch_.empty()) {
      WriteNext();
      return;
    }
    store_->ExportAccessLog(after_, kExportBatch,
                            [this](absl::StatusOr<std::vector<v1::ExportAccessLogResponse>> items) {
                              if (!items.ok()) {
                                Finish(ToGrpcStatus(items.status()));
                                return;
                              }
                              if (items->empty()) {
                                Finish(grpc::Status::OK);
                                return;
                              }
                              batch_ = std::move(*items);
                              next_ = 0;
                              WriteNext();
                            });
  }

  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    current_ = std::move(batch_[next_++]);
    if (current_.has_entry()) after_ = current_.entry().record().sequence();
    if (next_ == batch_.size()) batch_.clear();
    StartWrite(&current_);
  }

  store::CaseStore* const store_;
  v1::ExportAccessLogResponse current_;
  std::vector<v1::ExportAccessLogResponse> batch_;
  size_t next_ = 0;
  int64_t after_ = 0;
};

}  // namespace

AuditService::AuditService(store::CaseStore* store, std::string public_key_pem,
                           ServiceOptions options)
    : store_(store), public_key_pem_(std::move(public_key_pem)), options_(std::move(options)) {}

grpc::ServerUnaryReactor* AuditService::QueryAccessLog(grpc::CallbackServerContext* context,
                                                       const v1::QueryAccessLogRequest* request,
                                                       v1::QueryAccessLogResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "QueryAccessLog");
  audit.add_sections("access-log");
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto refuse = [&](const absl::Status& status) {
    FinishAudited(reactor, store_, audit, status);
    return reactor;
  };
  if (absl::Status s = CheckAuditor(caller); !s.ok()) return refuse(s);
  if (absl::Status s = CheckRequest(*request, options_.max_request_bytes); !s.ok())
    return refuse(s);
  store::AccessQuery query;
  if (!request->case_name().empty()) {
    auto case_id = ParseCaseName(request->case_name(), "case_name");
    if (!case_id.ok()) return refuse(case_id.status());
    query.case_id = *case_id;
  }
  query.organisation = request->organisation();
  query.actor = request->actor();
  if (request->has_start_time()) query.start_micros = store::ToMicros(request->start_time());
  if (request->has_end_time()) query.end_micros = store::ToMicros(request->end_time());
  auto page_size =
      EffectivePageSize(request->page_size(), options_.default_page_size, options_.max_page_size);
  if (!page_size.ok()) return refuse(page_size.status());
  auto after = DecodeSequenceToken(request->page_token());
  if (!after.ok()) return refuse(after.status());
  query.after_sequence = *after;
  query.page_size = *page_size;
  const int limit = *page_size;
  store_->QueryAccessLog(
      std::move(query),
      RespondAudited<std::vector<v1::AccessLogEntry>>(
          reactor, store_, audit,
          [response, limit](std::vector<v1::AccessLogEntry>& entries, v1::AccessRecord*) {
            for (auto& entry : entries) *response->add_entries() = std::move(entry);
            if (response->entries_size() == limit) {
              response->set_next_page_token(EncodeSequenceToken(
                  response->entries(response->entries_size() - 1).record().sequence()));
            }
          }));
  return reactor;
}

grpc::ServerWriteReactor<v1::ExportAccessLogResponse>* AuditService::ExportAccessLog(
    grpc::CallbackServerContext* context, const v1::ExportAccessLogRequest* request) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "ExportAccessLog");
  audit.add_sections("access-log");
  absl::Status s = CheckAuditor(caller);
  if (s.ok()) s = CheckRequest(*request, options_.max_request_bytes);
  if (!s.ok()) {
    return new RefusedStream<v1::ExportAccessLogResponse>(store_, std::move(audit), s);
  }
  audit.set_outcome("OK");
  return new LogExporter(store_, public_key_pem_, std::move(audit));
}

grpc::ServerUnaryReactor* AuditService::SubjectAccessReport(
    grpc::CallbackServerContext* context, const v1::SubjectAccessReportRequest* request,
    v1::SubjectAccessReportResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "SubjectAccessReport");
  audit.add_sections("access-log");
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = CheckAuditor(caller);
  if (status.ok()) status = CheckRequest(*request, options_.max_request_bytes);
  if (status.ok()) {
    status = ValidatePersonIdentifier(request->person_identifier(), "person_identifier");
  }
  if (!status.ok()) {
    FinishAudited(reactor, store_, audit, status);
    return reactor;
  }
  store_->SubjectAccess(
      request->person_identifier(),
      RespondAudited<v1::SubjectAccessReportResponse>(
          reactor, store_, audit,
          [response](v1::SubjectAccessReportResponse& report, v1::AccessRecord* record) {
            *record->mutable_case_names() = report.case_names();
            *response = std::move(report);
          }));
  return reactor;
}

}  // namespace handover::service
