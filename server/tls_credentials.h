// Mutual TLS for a gRPC server: client certificates required and verified
// against a CA, certificate files re-read periodically so renewals take
// effect without a restart. Shared by handoverd and the benchmarks'
// baseline server, so both pay the same TLS cost.
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

namespace handover {

// PEM files: the server's chain and key, and the CAs client certificates must
// chain to; re-read every `refresh_seconds`. With `crl_directory` set, every
// handshake checks the client's chain against the CRLs there (OpenSSL's
// hashed-directory lookup: one CRL per CA, named <issuer hash>.r<n>); a CRL
// file added under the next free number is found without a restart.
std::shared_ptr<grpc::ServerCredentials> MutualTlsCredentials(
    const std::string& certificate_file, const std::string& private_key_file,
    const std::string& client_ca_file, unsigned refresh_seconds,
    const std::string& crl_directory = "");

}  // namespace handover
