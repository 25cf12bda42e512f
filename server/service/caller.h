// Step one of every RPC: who is calling. The organisation comes from the
// verified client certificate (identity/caller_naming.h: its SPIFFE URI SAN,
// or its CVR through the organisation register), the acting person from the
// `x-handover-actor` metadata.
#pragma once

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/statusor.h"
#include "common/identity.h"
#include "server/identity/caller_naming.h"

namespace handover::service {

// The organisation as its certificate names it (principal, CVR, serial,
// register name, expiry), and who acts for it.
struct Caller : identity::NamedOrganisation {
  std::string actor;
  // Optional stated purpose (x-handover-purpose), recorded in the access log.
  std::string purpose;
};

// The errors of CallerNaming::Name (UNAUTHENTICATED, PERMISSION_DENIED);
// INVALID_ARGUMENT for a missing or malformed actor or purpose (1 to 64 of
// [a-z0-9._:-]).
absl::StatusOr<Caller> IdentifyCaller(const grpc::CallbackServerContext& context,
                                      const identity::CallerNaming& naming);

}  // namespace handover::service
