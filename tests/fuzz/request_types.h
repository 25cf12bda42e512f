// The request types of the three services, in declaration order: the
// request fuzzer's first input byte indexes this list, and the seed writer
// writes that byte.
#pragma once

#include <vector>

#include <google/protobuf/descriptor.h>

#include "handover/v1/document_service.pb.h"
#include "handover/v1/handover_service.pb.h"

namespace handover::fuzz {

inline std::vector<const google::protobuf::Descriptor*> RequestTypes() {
  // Through the messages' own files, so that the linker keeps them.
  const google::protobuf::FileDescriptor* handover = v1::CreateCaseRequest::descriptor()->file();
  const google::protobuf::FileDescriptor* documents =
      v1::UploadDocumentRequest::descriptor()->file();
  std::vector<const google::protobuf::Descriptor*> types;
  for (const google::protobuf::ServiceDescriptor* service :
       {handover->FindServiceByName("HandoverService"),
        documents->FindServiceByName("DocumentService"),
        handover->FindServiceByName("AuditService")}) {
    for (int i = 0; i < service->method_count(); ++i) {
      types.push_back(service->method(i)->input_type());
    }
  }
  return types;
}

}  // namespace handover::fuzz
