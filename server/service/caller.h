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
  // Optional stated purpose (x-handover-purpose), recorded in the access log.
  std::string purpose;
};

// UNAUTHENTICATED if the peer has no certificate with exactly one SPIFFE URI
// SAN in `trust_domain` naming a known role; INVALID_ARGUMENT for a missing or
// malformed actor or purpose (1 to 64 of [a-z0-9._:-]).
absl::StatusOr<Caller> IdentifyCaller(const grpc::CallbackServerContext& context,
                                      const std::string& trust_domain);

}  // namespace handover::service
