#include "client/own_certificate.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include "absl/strings/str_cat.h"

namespace handover::client {
namespace {

// "2024-12-31 23:59:59 UTC".
std::string Utc(const ASN1_TIME* time) {
  struct tm parts = {};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return "an unreadable date";
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

}  // namespace

absl::Status CheckOwnCertificate(const std::string& certificate_pem,
                                 const std::string& certificate_path, const std::string& key_pem,
                                 const std::string& key_path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
      BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> certificate(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!certificate) {
    return absl::InvalidArgumentError(
        absl::StrCat("cert: ", certificate_path, " holds no PEM certificate"));
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat("key: ", key_path, " holds no PEM private key (or it is encrypted)"));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(certificate.get())) < 0) {
    return absl::UnauthenticatedError(absl::StrCat("cert: ", certificate_path, " expired on ",
                                                   Utc(X509_get0_notAfter(certificate.get())),
                                                   "; the server refuses it: renew it"));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(certificate.get())) > 0) {
    return absl::UnauthenticatedError(absl::StrCat(
        "cert: ", certificate_path, " is not valid before ",
        Utc(X509_get0_notBefore(certificate.get())), "; check this machine's clock, or wait"));
  }
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    return absl::UnauthenticatedError(absl::StrCat(
        "key: ", key_path, " is not the private key of the certificate ", certificate_path));
  }
  return absl::OkStatus();
}

}  // namespace handover::client
