#include "server/service/audit_service.h"

#include <mutex>

#include "common/errors.h"
#include "common/resource_names.h"
#include "common/validation.h"
#include "server/policy/policy.h"
#include "server/service/page_tokens.h"
#include "server/service/pipeline.h"
#include "server/service/views.h"
#include "server/store/sealing.h"

namespace handover::service {
namespace {

constexpr int kExportBatch = 500;

// Streams the whole log in batches, the public key first; recorded once.
class LogExporter final : public grpc::ServerWriteReactor<v1::ExportAccessLogResponse> {
 public:
  // Records the export (step 6) before anything is written.
  LogExporter(store::CaseStore* store, std::string public_key_pem, v1::AccessRecord record)
      : store_(store) {
    current_.set_public_key_pem(std::move(public_key_pem));
    Audit(store_, std::move(record), absl::OkStatus(), [this](absl::Status recorded) {
      if (!recorded.ok()) {
        Finish(ToGrpcStatus(recorded));
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
                            [this](absl::StatusOr<std::vector<store::AccessExportItem>> items) {
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
    current_ = ExportItemView(batch_[next_++]);
    if (current_.has_entry()) after_ = current_.entry().record().sequence();
    if (next_ == batch_.size()) batch_.clear();
    StartWrite(&current_);
  }

  store::CaseStore* const store_;
  v1::ExportAccessLogResponse current_;
  std::vector<store::AccessExportItem> batch_;
  size_t next_ = 0;
  int64_t after_ = 0;
};

}  // namespace

AuditService::AuditService(store::CaseStore* store, std::string public_key_pem,
                           ServiceOptions options)
    : store_(store),
      public_key_pem_(std::move(public_key_pem)),
      options_(std::move(options)),
      pipeline_(store, options_) {}

grpc::ServerUnaryReactor* AuditService::QueryAccessLog(grpc::CallbackServerContext* context,
                                                       const v1::QueryAccessLogRequest* request,
                                                       v1::QueryAccessLogResponse* response) {
  UnaryCall call(context, pipeline_, kQueryAccessLog);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  store::AccessQuery query;
  if (!request->case_name().empty()) {
    auto case_id = ParseCaseName(request->case_name(), "case_name");
    if (call.Refused(case_id.status())) return call.reactor();
    query.case_id = *case_id;
  }
  query.organisation = request->organisation();
  query.actor = request->actor();
  if (request->has_start_time()) query.start_micros = store::ToMicros(request->start_time());
  if (request->has_end_time()) query.end_micros = store::ToMicros(request->end_time());
  auto page_size =
      EffectivePageSize(request->page_size(), options_.default_page_size, options_.max_page_size);
  if (call.Refused(page_size.status())) return call.reactor();
  auto after = DecodeSequenceToken(request->page_token());
  if (call.Refused(after.status())) return call.reactor();
  query.after_sequence = *after;
  query.page_size = *page_size;
  const int limit = *page_size;
  store_->QueryAccessLog(
      std::move(query),
      call.Read<std::vector<v1::AccessLogEntry>>(
          [response, limit](std::vector<v1::AccessLogEntry>& entries, v1::AccessRecord*) {
            for (auto& entry : entries) *response->add_entries() = std::move(entry);
            if (response->entries_size() == limit) {
              response->set_next_page_token(EncodeSequenceToken(
                  response->entries(response->entries_size() - 1).record().sequence()));
            }
          }));
  return call.reactor();
}

grpc::ServerWriteReactor<v1::ExportAccessLogResponse>* AuditService::ExportAccessLog(
    grpc::CallbackServerContext* context, const v1::ExportAccessLogRequest* request) {
  StreamCall<v1::ExportAccessLogResponse> call(context, pipeline_, kExportAccessLog);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  return new LogExporter(store_, public_key_pem_, call.record());
}

grpc::ServerUnaryReactor* AuditService::SubjectAccessReport(
    grpc::CallbackServerContext* context, const v1::SubjectAccessReportRequest* request,
    v1::SubjectAccessReportResponse* response) {
  UnaryCall call(context, pipeline_, kSubjectAccessReport);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  if (call.Refused(ValidatePersonIdentifier(request->person_identifier(), "person_identifier"))) {
    return call.reactor();
  }
  store_->SubjectAccess(
      request->person_identifier(),
      call.Read<store::SubjectAccessFindings>(
          [response](store::SubjectAccessFindings& findings, v1::AccessRecord* record) {
            for (std::string& name : findings.case_names) {
              record->add_case_names(name);
              response->add_case_names(std::move(name));
            }
            for (v1::AccessRecord& found : findings.records) {
              *response->add_records() = std::move(found);
            }
          }));
  return call.reactor();
}

}  // namespace handover::service
