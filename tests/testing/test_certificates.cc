#include "tests/testing/test_certificates.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace handover::testing {
namespace {

struct OpenSslFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(X509_EXTENSION* extension) const { X509_EXTENSION_free(extension); }
};
template <typename T>
using Owned = std::unique_ptr<T, OpenSslFree>;

}  // namespace

std::string MakeTestCertificate(const TestCertificateSpec& spec) {
  Owned<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  Owned<X509> cert(X509_new());
  if (!key || !cert || X509_set_version(cert.get(), 2) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial) != 1 ||
      ASN1_TIME_set_string_X509(X509_getm_notBefore(cert.get()), spec.not_before.c_str()) != 1 ||
      ASN1_TIME_set_string_X509(X509_getm_notAfter(cert.get()), spec.not_after.c_str()) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    ADD_FAILURE() << "test certificate: cannot set up";
    return "";
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& [attribute, value] : spec.subject) {
    if (X509_NAME_add_entry_by_txt(name, attribute.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1) {
      ADD_FAILURE() << "test certificate: cannot add " << attribute << "=" << value;
      return "";
    }
  }
  X509_set_issuer_name(cert.get(), name);
  if (!spec.uris.empty()) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
    const std::string sans = absl::StrJoin(spec.uris, ",", [](std::string* out, const auto& uri) {
      absl::StrAppend(out, "URI:", uri);
    });
    Owned<X509_EXTENSION> extension(
        X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, sans.c_str()));
    if (!extension || X509_add_ext(cert.get(), extension.get(), -1) != 1) {
      ADD_FAILURE() << "test certificate: cannot add subjectAltName " << sans;
      return "";
    }
  }
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (X509_sign(cert.get(), key.get(), nullptr) <= 0 || !bio ||
      PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
    ADD_FAILURE() << "test certificate: cannot sign";
    return "";
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, length);
}

}  // namespace handover::testing
