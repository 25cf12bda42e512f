#include "common/identity.h"

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/standard_codes.h"

namespace handover {
namespace {

bool IsOrganisationId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOperator:
      return "operator";
    case Role::kImmigrationService:
      return "immigration-service";
    case Role::kMunicipality:
      return "municipality";
    case Role::kAuditor:
      return "auditor";
  }
  return "unknown";
}

absl::StatusOr<Principal> ParseSpiffeId(absl::string_view uri, absl::string_view trust_domain) {
  const std::string prefix = absl::StrCat("spiffe://", trust_domain, "/");
  if (!absl::StartsWith(uri, prefix)) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate: URI SAN is not in trust domain ", trust_domain));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(uri.substr(prefix.size()), '/');
  if (parts.size() != 2) {
    return absl::UnauthenticatedError(
        "client certificate: URI SAN must be spiffe://<trust-domain>/<role>/<organisation-id>");
  }
  Principal principal;
  if (parts[0] == "operator") {
    principal.role = Role::kOperator;
  } else if (parts[0] == "immigration-service") {
    principal.role = Role::kImmigrationService;
  } else if (parts[0] == "municipality") {
    principal.role = Role::kMunicipality;
  } else if (parts[0] == "auditor") {
    principal.role = Role::kAuditor;
  } else {
    return absl::UnauthenticatedError("client certificate: unknown role in URI SAN");
  }
  if (principal.role == Role::kMunicipality ? !IsMunicipalityCode(parts[1])
                                            : !IsOrganisationId(parts[1])) {
    return absl::UnauthenticatedError(
        "client certificate: organisation id in URI SAN is malformed for its role");
  }
  principal.organisation_id = std::string(parts[1]);
  return principal;
}

absl::Status ValidateActor(absl::string_view actor) {
  if (actor.empty()) {
    return FieldError(absl::StrCat("metadata ", kActorMetadataKey), "required");
  }
  if (actor.size() > 128) {
    return FieldError(absl::StrCat("metadata ", kActorMetadataKey), "at most 128 characters");
  }
  for (char c : actor) {
    if (c <= ' ' || c > '~') {
      return FieldError(absl::StrCat("metadata ", kActorMetadataKey),
                        "printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

}  // namespace handover
