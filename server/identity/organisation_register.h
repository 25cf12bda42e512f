// The organisation register: which Danish organisations, named by CVR in
// their OCES certificates, may call, and as whom. A TOML file
// (organisations.toml), one table per organisation:
//
//   [[organisation]]
//   cvr = "99990001"                 # 8 digits, as a string; unique
//   role = "municipality"            # operator | immigration-service |
//                                    # municipality | auditor
//   municipality_code = "999"        # municipalities only, and required: 3 digits
//   name = "Testkommune Nord"        # display name for logs and records
//
//   [[organisation]]
//   cvr = "99990002"
//   role = "operator"
//   id = "fiktiv-asyl-1"             # every other role, and required:
//                                    # [a-z0-9-]{1,63}, the organisation id
//   name = "Fiktiv Asyl ApS"
//   certificate_serials = [          # optional: only these certificates
//     "0b7e7dee-5b1e-4d0c-9a0e-000000000001",  # (serialNumber UI:DK-O:G:<uuid>)
//   ]
//
// Any other key, at the top or in an entry, is refused: a misspelt
// `certificate_serials` must not silently let every certificate in. Two
// entries may not share a CVR, nor name the same principal (role and
// organisation id). An empty `certificate_serials` is refused (leave it out
// to allow every certificate of the organisation; remove the entry to shut
// the organisation out).
//
// A caller's principal: role, and organisation_id = the municipality code
// for municipalities, `id` otherwise (common/identity.h).
//
// Threads: an OrganisationRegister is immutable; use it from any thread.
// Errors: Load fails with NOT_FOUND if the file cannot be read,
// INVALID_ARGUMENT naming the file, line, entry and field for anything
// malformed (the first error found).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/identity.h"
#include "server/identity/certificate_facts.h"

namespace handover::identity {

// One entry of the register.
struct RegisteredOrganisation {
  std::string cvr;
  Principal principal;
  std::string name;
  // Lower-case UUIDs; empty means every certificate of the CVR.
  std::vector<std::string> certificate_serials;
};

// Who a certificate names, by the register.
struct RegisteredCaller {
  Principal principal;
  std::string cvr;
  std::string name;  // the register's display name
  // The subject's serialNumber UUID (lower case), if it has one, and the
  // certificate's own serial (hex): access records name the certificate.
  std::optional<std::string> serial_uuid;
  std::string certificate_serial;
};

class OrganisationRegister {
 public:
  // Reads and checks the file at `path`.
  static absl::StatusOr<std::shared_ptr<const OrganisationRegister>> Load(const std::string& path);
  // Checks TOML text; `source` names it in errors (the path, for Load).
  static absl::StatusOr<std::shared_ptr<const OrganisationRegister>> Parse(
      absl::string_view toml, absl::string_view source);

  // The caller a certificate names. UNAUTHENTICATED if it carries no CVR;
  // PERMISSION_DENIED "client certificate: CVR <cvr> is not in the
  // organisation register", or "client certificate: serialNumber <uuid> is
  // not allowed for CVR <cvr>" when the entry lists certificate_serials
  // without this one (a certificate without a serialNumber UUID is not
  // allowed either).
  absl::StatusOr<RegisteredCaller> Identify(const CertificateFacts& facts) const;

  // The entry for `cvr`, or null.
  const RegisteredOrganisation* Find(absl::string_view cvr) const;
  size_t size() const { return by_cvr_.size(); }

 private:
  OrganisationRegister() = default;

  absl::flat_hash_map<std::string, RegisteredOrganisation> by_cvr_;
};

}  // namespace handover::identity
