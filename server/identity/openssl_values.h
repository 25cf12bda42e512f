// OpenSSL objects owned by unique_ptr, and the two values of a certificate
// every reader of one needs: a name as one line, a time as absl::Time. One
// home for them, so the certificate readers (certificate_facts.h), the
// trust check (certificate_trust.h) and the caller naming print and compare
// alike.
//
// Threads: pure functions; call from any thread.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace handover::identity {

struct OpenSslFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(X509_CRL* crl) const { X509_CRL_free(crl); }
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
  void operator()(ASN1_INTEGER* n) const { ASN1_INTEGER_free(n); }
  void operator()(BIGNUM* bn) const { BN_free(bn); }
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
  void operator()(char* text) const { OPENSSL_free(text); }
  void operator()(unsigned char* bytes) const { OPENSSL_free(bytes); }
};
template <typename T>
using Owned = std::unique_ptr<T, OpenSslFree>;

// RFC 2253, most specific first, UTF-8 left as is (control characters stay
// escaped); empty if it cannot be printed.
std::string NameLine(const X509_NAME* name);

// UTC; the infinite past for a missing or unreadable time.
absl::Time TimeOf(const ASN1_TIME* time);

}  // namespace handover::identity
