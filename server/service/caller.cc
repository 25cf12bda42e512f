#include "server/service/caller.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <vector>

#include "absl/strings/match.h"

namespace handover::service {

absl::StatusOr<Caller> IdentifyCaller(const grpc::CallbackServerContext& context,
                                      const std::string& trust_domain) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::vector<std::string> spiffe_uris;
  if (auth) {
    for (const grpc::string_ref& uri : auth->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
      std::string value(uri.data(), uri.size());
      if (absl::StartsWith(value, "spiffe://")) spiffe_uris.push_back(std::move(value));
    }
  }
  if (spiffe_uris.size() != 1) {
    return absl::UnauthenticatedError(
        "client certificate: must carry exactly one spiffe:// URI SAN");
  }
  absl::StatusOr<Principal> principal = ParseSpiffeId(spiffe_uris[0], trust_domain);
  if (!principal.ok()) return principal.status();

  std::string actor;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find(kActorMetadataKey); it != metadata.end()) {
    actor.assign(it->second.data(), it->second.size());
  }
  if (absl::Status valid = ValidateActor(actor); !valid.ok()) return valid;
  return Caller{*std::move(principal), std::move(actor)};
}

}  // namespace handover::service
