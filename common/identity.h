// Who is calling: the organisation named by the client certificate's SPIFFE
// URI SAN, and the person acting, named in request metadata.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace handover {

enum class Role { kOperator, kImmigrationService, kMunicipality, kAuditor };

// "operator", "immigration-service", "municipality", "auditor".
absl::string_view RoleName(Role role);

// The calling organisation, as vouched for by its certificate.
struct Principal {
  Role role = Role::kOperator;
  // For municipalities the three-digit municipality code; otherwise the
  // organisation's id, [a-z0-9-]{1,63}.
  std::string organisation_id;

  bool operator==(const Principal&) const = default;
};

// Parses "spiffe://<trust_domain>/<role>/<organisation-id>". Fails with
// UNAUTHENTICATED if the scheme or trust domain differ, the role is unknown,
// the path has another shape, or a municipality id is not three digits.
absl::StatusOr<Principal> ParseSpiffeId(absl::string_view uri, absl::string_view trust_domain);

// The request metadata key naming the acting person or system account.
inline constexpr char kActorMetadataKey[] = "x-handover-actor";
// The request metadata key stating why the data is accessed (optional).
inline constexpr char kPurposeMetadataKey[] = "x-handover-purpose";

// Checks an actor id: 1 to 128 printable ASCII characters, no spaces.
// INVALID_ARGUMENT naming the metadata key otherwise.
absl::Status ValidateActor(absl::string_view actor);

}  // namespace handover
