#include "server/service/pipeline.h"

#include <algorithm>

#include "common/errors.h"
#include "common/validation.h"
#include "server/store/access_sections.h"

namespace handover::service {

namespace {

// "ipv4:127.0.0.1:5000" -> "127.0.0.1", "ipv6:[::1]:5000" -> "::1".
std::string PeerAddress(const std::string& uri) {
  std::string address = uri.substr(uri.find(':') + 1);
  address = address.substr(0, address.rfind(':'));
  if (address.size() >= 2 && address.front() == '[')
    address = address.substr(1, address.size() - 2);
  return address;
}

}  // namespace

Pipeline::Pipeline(store::CaseStore* store, const ServiceOptions& options)
    : store_(store),
      caller_naming_(options.caller_naming
                         ? options.caller_naming
                         : std::make_shared<const identity::CallerNaming>(options.trust_domain)),
      max_request_bytes_(options.max_request_bytes),
      record_reads_(options.record_reads) {}

void Audit(store::CaseStore* log, v1::AccessRecord record, const absl::Status& status,
           std::function<void(absl::Status)> then) {
  if (log == nullptr ||
      (status.code() == absl::StatusCode::kResourceExhausted && !IsRequestTooLarge(status))) {
    then(status);
    return;
  }
  record.set_outcome(status.ok() ? "OK" : std::string(absl::StatusCodeToString(status.code())));
  log->RecordAccess(std::move(record), [status,
                                        then = std::move(then)](absl::StatusOr<int64_t> logged) {
    then(logged.ok() ? status
                     : absl::UnavailableError("the access log could not be written; nothing was "
                                              "disclosed, retry later"));
  });
}

v1::AccessRecord AccessRecordFor(const grpc::CallbackServerContext& context,
                                 const identity::CallerNaming& naming,
                                 const absl::StatusOr<Caller>& caller,
                                 absl::string_view operation) {
  v1::AccessRecord record;
  record.set_operation(std::string(operation));
  if (caller.ok()) {
    record.set_organisation(caller->principal.organisation_id);
    record.set_role(std::string(RoleName(caller->principal.role)));
    record.set_actor(caller->actor);
    record.set_purpose(caller->purpose);
    record.set_organisation_cvr(caller->cvr);
    record.set_certificate_serial(caller->certificate_serial);
    return record;
  }
  // Refused before identification: keep what is safe to keep — the
  // address, and what the certificate (if any) says of who sent it.
  record.set_peer(PeerAddress(context.peer()));
  const identity::CertificateOnRecord on_record =
      naming.DescribeRefused(context.auth_context().get());
  record.set_organisation_cvr(on_record.cvr);
  record.set_certificate_serial(on_record.serial);
  record.set_certificate_issuer(on_record.issuer);
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find(kActorMetadataKey); it != metadata.end()) {
    std::string actor(it->second.data(), std::min<size_t>(it->second.size(), 128));
    std::replace_if(
        actor.begin(), actor.end(), [](char c) { return c <= ' ' || c > '~'; }, '?');
    record.set_actor(actor);
  }
  return record;
}

DisclosedCases::DisclosedCases(v1::AccessRecord* record)
    : record_(record), named_(record->case_names().begin(), record->case_names().end()) {}

void DisclosedCases::Add(const v1::Case& view) {
  if (named_.insert(view.name()).second) record_->add_case_names(view.name());
  store::AddCaseSections(view, record_);
}

CallSteps::CallSteps(const grpc::CallbackServerContext& context, const Pipeline& pipeline,
                     const Operation& operation)
    : pipeline_(&pipeline),
      operation_(&operation),
      caller_(IdentifyCaller(context, pipeline.caller_naming())),
      record_(AccessRecordFor(context, pipeline.caller_naming(), caller_, operation.name)) {
  if (!operation.about_one_case && operation.section != nullptr) {
    record_.add_sections(operation.section);
  }
}

absl::Status CallSteps::Admit() const {
  if (!caller_.ok()) return caller_.status();
  return policy::CheckRole(caller_->principal, operation_->access);
}

absl::Status CallSteps::Admit(const google::protobuf::Message& request) const {
  if (absl::Status admitted = Admit(); !admitted.ok()) return admitted;
  return CheckRequest(request);
}

absl::Status CallSteps::CheckRequest(const google::protobuf::Message& request) const {
  if (const size_t size = request.ByteSizeLong(); size > pipeline_->max_request_bytes()) {
    return RequestTooLargeError(size, pipeline_->max_request_bytes());
  }
  return RejectUnknownFields(request);
}

void CallSteps::NameCase(absl::string_view case_name) {
  record_.clear_case_names();
  record_.add_case_names(std::string(case_name));
  if (operation_->section != nullptr) record_.add_sections(operation_->section);
}

store::Authorizer CallSteps::CaseAuthorizer(std::string case_name) const {
  return [principal = caller_->principal, operation = operation_->case_access,
          case_name = std::move(case_name)](const policy::CaseFacts& facts) {
    return policy::Authorize(principal, operation, &facts, case_name);
  };
}

store::WriteContext CallSteps::Write(const std::string& request_id,
                                     const google::protobuf::Message& request) const {
  return store::WriteContext{caller_->principal, caller_->actor, request_id, &request, record_};
}

}  // namespace handover::service
