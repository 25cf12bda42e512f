#include "server/service/handler_steps.h"

#include "common/errors.h"
#include "common/validation.h"

namespace handover::service {

absl::Status CheckRequest(const google::protobuf::Message& request, size_t max_bytes) {
  if (const size_t size = request.ByteSizeLong(); size > max_bytes) {
    return RequestTooLargeError(size, max_bytes);
  }
  return RejectUnknownFields(request);
}

v1::AccessRecord AboutCase(v1::AccessRecord record, const std::string& case_name,
                           const char* section) {
  record.clear_case_names();
  record.add_case_names(case_name);
  if (section) record.add_sections(section);
  return record;
}

store::Authorizer AuthorizerFor(const Principal& principal, policy::Operation operation,
                                std::string case_name) {
  return [principal, operation, case_name = std::move(case_name)](const policy::CaseFacts& facts) {
    return policy::Authorize(principal, operation, &facts, case_name);
  };
}

store::WriteContext WriteContextOf(const Caller& caller, const std::string& request_id,
                                   const google::protobuf::Message& request,
                                   v1::AccessRecord audit) {
  return store::WriteContext{caller.principal, caller.actor, request_id, &request,
                             std::move(audit)};
}

}  // namespace handover::service
