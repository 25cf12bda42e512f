#include "server/tls_credentials.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

namespace handover {

std::shared_ptr<grpc::ServerCredentials> MutualTlsCredentials(const std::string& certificate_file,
                                                              const std::string& private_key_file,
                                                              const std::string& client_ca_file,
                                                              unsigned refresh_seconds,
                                                              const std::string& crl_directory) {
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      private_key_file, certificate_file, client_ca_file, refresh_seconds);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  // gRPC's TLS stack negotiates TLS 1.2 or 1.3 only, with AEAD cipher suites.
  tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!crl_directory.empty()) tls.set_crl_directory(crl_directory);
  return grpc::experimental::TlsServerCredentials(tls);
}

}  // namespace handover
