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

struct Caller {
  Principal principal;
  std::string actor;
  // Optional stated purpose (x-handover-purpose), recorded in the access log.
  std::string purpose;
  // OCES certificates: the organisation's CVR and the certificate's serial.
  std::string cvr;
  std::string certificate_serial;
  // The register's display name (OCES only) and the certificate's expiry.
  std::string organisation_name;
  absl::Time certificate_not_after = absl::InfinitePast();
};

// The errors of CallerNaming::Name (UNAUTHENTICATED, PERMISSION_DENIED);
// INVALID_ARGUMENT for a missing or malformed actor or purpose (1 to 64 of
// [a-z0-9._:-]).
absl::StatusOr<Caller> IdentifyCaller(const grpc::CallbackServerContext& context,
                                      const identity::CallerNaming& naming);

}  // namespace handover::service
