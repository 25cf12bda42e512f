// Why a connection failed, when it may be this client's certificate. A
// server that does not trust the certificate's issuer closes the connection
// after the TLS handshake without an alert, so gRPC reports only
// UNAVAILABLE "Socket closed", which reads as "retry later" (exit 7). A
// handshake of our own reads the CA names the server accepts client
// certificates from (its TLS CertificateRequest lists them) and compares
// them with the issuers in our certificate file. It sends no certificate and
// no request.
//
// Threads: any; blocks for at most `timeout`.
#pragma once

#include <chrono>
#include <string>

#include "absl/status/status.h"

namespace handover::client {

// UNAUTHENTICATED "client certificate refused: the server does not accept
// certificates issued by <issuer>; it accepts ..." when the server names the
// CAs it accepts and none issued a certificate in `certificate_file`; OK
// otherwise (it does accept it, or could not be asked): the caller's
// original error then stands.
absl::Status CheckServerAcceptsOurIssuer(const std::string& server,
                                         const std::string& certificate_file,
                                         std::chrono::milliseconds timeout);

}  // namespace handover::client
