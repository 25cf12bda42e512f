#include "server/identity/certificate_facts.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <climits>
#include <ctime>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "server/identity/openssl_values.h"

namespace handover::identity {
namespace {

constexpr absl::string_view kOrganizationIdentifierPrefix = "NTRDK-";
constexpr absl::string_view kCvrInOrganisationName = " // CVR:";
constexpr absl::string_view kOrganisationSerialPrefix = "UI:DK-O:G:";

bool IsCvr(absl::string_view value) {
  if (value.size() != 8) return false;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A subject attribute: how often it occurs, and its first value as UTF-8
// (empty if it does not convert).
struct Attribute {
  int count = 0;
  std::string value;
};

Attribute ReadAttribute(const X509_NAME* name, int nid) {
  Attribute attribute;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    if (++attribute.count > 1) continue;
    unsigned char* utf8 = nullptr;
    const int length =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    Owned<unsigned char> owned(utf8);
    if (length >= 0) attribute.value.assign(reinterpret_cast<const char*>(utf8), length);
  }
  return attribute;
}

std::string OnlyValue(const Attribute& attribute) {
  return attribute.count == 1 ? attribute.value : std::string();
}

std::string SerialHex(const X509* cert) {
  Owned<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  Owned<char> hex(bn ? BN_bn2hex(bn.get()) : nullptr);
  return hex ? absl::AsciiStrToLower(hex.get()) : std::string();
}

std::string Sha256Fingerprint(const X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) return std::string();
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::vector<std::string> SpiffeUris(const X509* cert) {
  std::vector<std::string> uris;
  Owned<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return uris;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    const std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                           ASN1_STRING_length(uri));
    if (text.find('\0') == std::string::npos && absl::StartsWith(text, "spiffe://")) {
      uris.push_back(text);
    }
  }
  return uris;
}

}  // namespace

bool IsUuid(absl::string_view value) {
  if (value.size() != 36) return false;
  for (size_t i = 0; i < value.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (value[i] != '-') return false;
    } else if (!absl::ascii_isxdigit(static_cast<unsigned char>(value[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> CvrFromOrganizationIdentifier(absl::string_view value) {
  if (!absl::ConsumePrefix(&value, kOrganizationIdentifierPrefix) || !IsCvr(value)) {
    return std::nullopt;
  }
  return std::string(value);
}

std::optional<std::string> CvrFromOrganisationName(absl::string_view value) {
  // The first marker: a second one leaves more than 8 digits after it.
  const size_t at = value.find(kCvrInOrganisationName);
  if (at == absl::string_view::npos) return std::nullopt;
  const absl::string_view name = absl::StripAsciiWhitespace(value.substr(0, at));
  const absl::string_view cvr = value.substr(at + kCvrInOrganisationName.size());
  if (name.empty() || !IsCvr(cvr)) return std::nullopt;
  return std::string(cvr);
}

std::optional<std::string> UuidFromSerialNumber(absl::string_view value) {
  if (!absl::ConsumePrefix(&value, kOrganisationSerialPrefix) || !IsUuid(value)) {
    return std::nullopt;
  }
  return absl::AsciiStrToLower(value);
}

absl::StatusOr<CertificateFacts> ReadCertificate(absl::string_view pem) {
  if (pem.empty() || pem.size() > INT_MAX) {
    return absl::InvalidArgumentError("certificate: not a PEM certificate");
  }
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Owned<X509> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    ERR_clear_error();
    return absl::InvalidArgumentError("certificate: not a PEM certificate");
  }

  CertificateFacts facts;
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  facts.subject = NameLine(subject);
  facts.issuer = NameLine(X509_get_issuer_name(cert.get()));
  facts.common_name = OnlyValue(ReadAttribute(subject, NID_commonName));
  const Attribute organisation = ReadAttribute(subject, NID_organizationName);
  facts.organisation = OnlyValue(organisation);
  const Attribute organization_identifier = ReadAttribute(subject, NID_organizationIdentifier);
  if (organization_identifier.count == 1) {
    facts.cvr = CvrFromOrganizationIdentifier(organization_identifier.value);
  } else if (organization_identifier.count == 0 && organisation.count == 1) {
    facts.cvr = CvrFromOrganisationName(organisation.value);
  }
  facts.subject_serial_number = OnlyValue(ReadAttribute(subject, NID_serialNumber));
  facts.serial_uuid = UuidFromSerialNumber(facts.subject_serial_number);
  facts.spiffe_uris = SpiffeUris(cert.get());
  facts.not_before = TimeOf(X509_get0_notBefore(cert.get()));
  facts.not_after = TimeOf(X509_get0_notAfter(cert.get()));
  facts.serial_hex = SerialHex(cert.get());
  facts.sha256_fingerprint = Sha256Fingerprint(cert.get());
  ERR_clear_error();
  return facts;
}

}  // namespace handover::identity
