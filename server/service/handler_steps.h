// Steps every handler of HandoverService and DocumentService takes: build
// the case authorizer, the write context and the access
// record naming the case.
#pragma once

#include <string>

#include "handover/v1/audit.pb.h"
#include "server/policy/policy.h"
#include "server/service/caller.h"
#include "server/store/case_store.h"

namespace handover::service {

// The record, naming the case the call is about (and a section, if given).
v1::AccessRecord AboutCase(v1::AccessRecord record, const std::string& case_name,
                           const char* section = nullptr);

// Authorizes `operation` on the case the store loads, naming `case_name` in
// a NOT_FOUND.
store::Authorizer AuthorizerFor(const Principal& principal, policy::Operation operation,
                                std::string case_name);

// The request as the schema and the limits allow it: RESOURCE_EXHAUSTED
// (RequestTooLargeError) over `max_bytes`, INVALID_ARGUMENT naming the path
// for a field the schema does not name. Called on every request message of
// every service, after identification and the role check.
absl::Status CheckRequest(const google::protobuf::Message& request, size_t max_bytes);

// A write by `caller`; `request` must outlive the store call.
store::WriteContext WriteContextOf(const Caller& caller, const std::string& request_id,
                                   const google::protobuf::Message& request,
                                   v1::AccessRecord audit);

}  // namespace handover::service
