// Step one of every RPC: who is calling. The organisation comes from the
// verified client certificate's SPIFFE URI SAN, the acting person from the
// `x-handover-actor` metadata.
#pragma once

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/statusor.h"
#include "common/identity.h"

namespace handover::service {

struct Caller {
  Principal principal;
  std::string actor;
};

// UNAUTHENTICATED if the peer has no certificate with exactly one SPIFFE URI
// SAN in `trust_domain` naming a known role; INVALID_ARGUMENT for a missing or
// malformed actor.
absl::StatusOr<Caller> IdentifyCaller(const grpc::CallbackServerContext& context,
                                      const std::string& trust_domain);

}  // namespace handover::service
