#include "server/service/caller.h"

#include <grpcpp/security/auth_context.h>

#include "absl/strings/str_cat.h"
#include "common/validation.h"

namespace handover::service {

absl::StatusOr<Caller> IdentifyCaller(const grpc::CallbackServerContext& context,
                                      const identity::CallerNaming& naming) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  absl::StatusOr<identity::NamedOrganisation> named = naming.Name(auth.get(), context.peer());
  if (!named.ok()) return named.status();

  std::string actor;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find(kActorMetadataKey); it != metadata.end()) {
    actor.assign(it->second.data(), it->second.size());
  }
  if (absl::Status valid = ValidateActor(actor); !valid.ok()) return valid;
  std::string purpose;
  if (auto it = metadata.find(kPurposeMetadataKey); it != metadata.end()) {
    purpose.assign(it->second.data(), it->second.size());
    if (absl::Status valid =
            ValidateReasonCode(purpose, absl::StrCat("metadata ", kPurposeMetadataKey));
        !valid.ok()) {
      return valid;
    }
  }
  Caller caller{*std::move(named)};
  caller.actor = std::move(actor);
  caller.purpose = std::move(purpose);
  return caller;
}

}  // namespace handover::service
