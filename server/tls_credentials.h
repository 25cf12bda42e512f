// Mutual TLS for a gRPC server: a client certificate is required, and its
// chain must lead to one of the trust anchors (identity::CertificateTrust::
// CheckIssuer, run as gRPC's certificate verifier); a certificate from no
// known CA fails the handshake and is logged (identity/refusal_log.h).
// Validity dates and revocation are checked at each call instead
// (CheckStanding, service/caller.h), where the refusal can say why and the
// log can name the peer's address. Certificate files are re-read periodically
// so renewals take effect without a restart. Shared by handoverd and the
// benchmarks' baseline server, so both pay the same TLS cost.
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "server/identity/certificate_trust.h"
#include "server/identity/refusal_log.h"

namespace handover {

// PEM files: the server's chain and key, and the anchors gRPC names to
// clients in its certificate request; re-read every `refresh_seconds`.
// `trust` decides; `refusals` logs. Both must outlive every connection.
std::shared_ptr<grpc::ServerCredentials> MutualTlsCredentials(
    const std::string& certificate_file, const std::string& private_key_file,
    const std::string& client_ca_file, unsigned refresh_seconds,
    std::shared_ptr<const identity::CertificateTrust> trust,
    std::shared_ptr<identity::CertificateRefusalLog> refusals);

}  // namespace handover
