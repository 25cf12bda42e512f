// Mutual TLS for a gRPC server: client certificates required and verified
// against a CA, certificate files re-read periodically so renewals take
// effect without a restart. Shared by handoverd and the benchmarks'
// baseline server, so both pay the same TLS cost.
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

namespace handover {

// PEM files: the server's chain and key, and the CA client certificates must
// chain to; re-read every `refresh_seconds`.
std::shared_ptr<grpc::ServerCredentials> MutualTlsCredentials(const std::string& certificate_file,
                                                              const std::string& private_key_file,
                                                              const std::string& client_ca_file,
                                                              unsigned refresh_seconds);

}  // namespace handover
