#include "server/service/caller.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

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
  std::string purpose;
  if (auto it = metadata.find(kPurposeMetadataKey); it != metadata.end()) {
    purpose.assign(it->second.data(), it->second.size());
    const bool ok =
        !purpose.empty() && purpose.size() <= 64 &&
        purpose.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._:-") == std::string::npos;
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("metadata ", kPurposeMetadataKey, ": 1 to 64 of a-z 0-9 . _ : -"));
    }
  }
  return Caller{*std::move(principal), std::move(actor), std::move(purpose)};
}

}  // namespace handover::service
