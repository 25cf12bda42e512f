#include "server/tls_credentials.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

namespace handover {
namespace {

// gRPC's verifier hook, run once per handshake after the peer proved it holds
// the certificate's key. Synchronous: the check is CPU only.
class AnchoredChainVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  AnchoredChainVerifier(std::shared_ptr<const identity::CertificateTrust> trust,
                        std::shared_ptr<identity::CertificateRefusalLog> refusals)
      : trust_(std::move(trust)), refusals_(std::move(refusals)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>, grpc::Status* sync_status) override {
    const grpc::string_ref leaf = request->peer_cert();
    const grpc::string_ref sent = request->peer_cert_full_chain();
    const absl::Status status = trust_->CheckIssuer(absl::string_view(leaf.data(), leaf.size()),
                                                    absl::string_view(sent.data(), sent.size()));
    if (status.ok()) {
      *sync_status = grpc::Status::OK;
    } else {
      // gRPC tells a verifier nothing of the connection, not even its address.
      refusals_->Report("TLS handshake", "", absl::string_view(leaf.data(), leaf.size()),
                        status.message());
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(status.message()));
    }
    return true;
  }

  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  const std::shared_ptr<const identity::CertificateTrust> trust_;
  const std::shared_ptr<identity::CertificateRefusalLog> refusals_;
};

}  // namespace

std::shared_ptr<grpc::ServerCredentials> MutualTlsCredentials(
    const std::string& certificate_file, const std::string& private_key_file,
    const std::string& client_ca_file, unsigned refresh_seconds,
    std::shared_ptr<const identity::CertificateTrust> trust,
    std::shared_ptr<identity::CertificateRefusalLog> refusals) {
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      private_key_file, certificate_file, client_ca_file, refresh_seconds);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  // gRPC's TLS stack negotiates TLS 1.2 or 1.3 only, with AEAD cipher suites.
  // OpenSSL still checks that the client holds its certificate's key; the
  // chain is the verifier's.
  tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  tls.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<AnchoredChainVerifier>(
          std::move(trust), std::move(refusals)));
  return grpc::experimental::TlsServerCredentials(tls);
}

}  // namespace handover
