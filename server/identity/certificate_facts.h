// What a client certificate says about its holder, read once into plain
// values: the subject's names (CN, O, the CVR of a Danish organisation, the
// OCES3 serialNumber UUID), SPIFFE URI SANs, validity, issuer, the
// certificate's serial and fingerprint. Reading verifies nothing: the TLS
// handshake has verified the chain against a trust anchor before a
// certificate gets here, and which facts name the caller depends on that
// anchor (SPIFFE URI for the project's CA, CVR for OCES).
//
// The CVR, in order:
//   - organizationIdentifier (OID 2.5.4.97) "NTRDK-<8 digits>" (OCES3,
//     ETSI EN 319 412-1 legal person semantics);
//   - only when there is no organizationIdentifier: O "<name> // CVR:<8
//     digits>" (the older OCES form).
// An attribute that occurs more than once, or a value in another shape
// (wrong length, non-digits, another register than NTRDK), gives no CVR;
// that is not an error here: the caller decides.
//
// Threads: pure functions; call from any thread. Errors: INVALID_ARGUMENT
// when the PEM holds no parsable certificate.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace handover::identity {

struct CertificateFacts {
  // RFC 2253, most specific first ("CN=...,O=...,C=DK"), UTF-8 unescaped. For
  // logs: organisation and system certificates carry no personal data.
  std::string subject;
  std::string issuer;
  // The subject's CN and O; empty when absent or repeated.
  std::string common_name;
  std::string organisation;
  // 8 digits (see the top of this file).
  std::optional<std::string> cvr;
  // The subject's serialNumber attribute (OID 2.5.4.5) as written; empty when
  // absent or repeated.
  std::string subject_serial_number;
  // From subject_serial_number "UI:DK-O:G:<uuid>": the UUID, lower case.
  std::optional<std::string> serial_uuid;
  // URI SANs starting "spiffe://", in certificate order.
  std::vector<std::string> spiffe_uris;
  absl::Time not_before;
  absl::Time not_after;
  // The certificate's own serial number and SHA-256 of its DER, lower-case
  // hex.
  std::string serial_hex;
  std::string sha256_fingerprint;
};

// Reads the first certificate of `pem` (the leaf of a chain).
absl::StatusOr<CertificateFacts> ReadCertificate(absl::string_view pem);

// The CVR rules above, on single attribute values (exposed for tests and
// for callers that hold the values already). std::nullopt if not that shape.
std::optional<std::string> CvrFromOrganizationIdentifier(absl::string_view value);
std::optional<std::string> CvrFromOrganisationName(absl::string_view value);
// "UI:DK-O:G:<uuid>" -> the UUID, lower case; std::nullopt otherwise.
std::optional<std::string> UuidFromSerialNumber(absl::string_view value);
// A UUID in 8-4-4-4-12 hex form, either case.
bool IsUuid(absl::string_view value);

}  // namespace handover::identity
