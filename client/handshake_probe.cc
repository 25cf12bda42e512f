#include "client/handshake_probe.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace handover::client {
namespace {

std::string NameLine(const X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  X509_NAME_print_ex(out.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* text = nullptr;
  const long size = BIO_get_mem_data(out.get(), &text);
  return std::string(text, static_cast<size_t>(size));
}

// A TCP connection to "host:port" with send and receive timeouts; -1 if none.
int Connect(const std::string& server, std::chrono::milliseconds timeout) {
  const size_t colon = server.rfind(':');
  if (colon == std::string::npos) return -1;
  std::string host = server.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), server.substr(colon + 1).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  timeval limit{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
                .tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

// The CA names of the server's CertificateRequest, captured by the client
// certificate callback (which then declines to send one).
int CaptureAcceptedCas(SSL* ssl, X509**, EVP_PKEY**) {
  auto* names = static_cast<std::vector<std::string>*>(SSL_get_app_data(ssl));
  const STACK_OF(X509_NAME)* cas = SSL_get_client_CA_list(ssl);
  for (int i = 0; cas != nullptr && i < sk_X509_NAME_num(cas); ++i) {
    names->push_back(NameLine(sk_X509_NAME_value(cas, i)));
  }
  return 0;
}

}  // namespace

absl::Status CheckServerAcceptsOurIssuer(const std::string& server,
                                         const std::string& certificate_file,
                                         std::chrono::milliseconds timeout) {
  // Our certificates' issuers (a file may hold a chain).
  std::ifstream file(certificate_file);
  std::stringstream pem;
  pem << file.rdbuf();
  const std::string text = pem.str();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
  std::vector<std::string> ours;  // issuers, and the chain's own CAs
  std::string leaf_issuer;
  for (X509* cert = nullptr; (cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));) {
    if (leaf_issuer.empty()) {
      leaf_issuer = NameLine(X509_get_issuer_name(cert));
    } else {
      ours.push_back(NameLine(X509_get_subject_name(cert)));
    }
    ours.push_back(NameLine(X509_get_issuer_name(cert)));
    X509_free(cert);
  }
  ERR_clear_error();
  if (ours.empty()) return absl::OkStatus();

  const int fd = Connect(server, timeout);
  if (fd < 0) return absl::OkStatus();  // an outage, as gRPC said
  std::vector<std::string> accepted;
  {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_client_method()),
                                                              SSL_CTX_free);
    if (context) {
      SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);  // we send nothing of value
      SSL_CTX_set_client_cert_cb(context.get(), CaptureAcceptedCas);
      static const unsigned char kH2[] = {2, 'h', '2'};
      SSL_CTX_set_alpn_protos(context.get(), kH2, sizeof kH2);
      std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context.get()), SSL_free);
      if (ssl) {
        SSL_set_app_data(ssl.get(), &accepted);
        SSL_set_fd(ssl.get(), fd);
        (void)SSL_connect(ssl.get());  // the request comes whether it completes or not
      }
    }
  }
  close(fd);
  ERR_clear_error();
  if (accepted.empty()) return absl::OkStatus();
  for (const std::string& name : ours) {
    for (const std::string& ca : accepted) {
      if (name == ca) return absl::OkStatus();
    }
  }
  return absl::UnauthenticatedError(
      absl::StrCat("client certificate refused: the server does not accept certificates issued by ",
                   leaf_issuer, " (", certificate_file,
                   "); it accepts client certificates from: ", absl::StrJoin(accepted, "; ")));
}

}  // namespace handover::client
