// Requests that never reach a handler: bytes that do not decode as the
// method's request message. gRPC 1.51 answers them with an empty
// UNIMPLEMENTED and no handler runs, so no access record was written. This
// interceptor, run on every call, notices the missing request message and
// then:
//   - answers INVALID_ARGUMENT "request: cannot be decoded as the request
//     message of <method>" instead;
//   - records the refusal with what is known (the organisation if the
//     certificate names one, the actor, the client's address, the method,
//     the outcome) before the status goes out, like every other refusal.
// (Requests over max-message-bytes reach the handlers, which refuse and
// record them; see HandoverServer's options for the core's own ceiling.)
//
// Threads: gRPC runs interceptors on its own threads; the factory is shared.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "server/identity/caller_naming.h"
#include "server/store/case_store.h"

namespace handover::service {

// `store` must outlive the server the factory is installed in.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
UndeliveredRequestInterceptorFactory(store::CaseStore* store,
                                     std::shared_ptr<const identity::CallerNaming> naming);

}  // namespace handover::service
