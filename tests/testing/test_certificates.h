// Test support: self-signed X.509 certificates made in-process (OpenSSL,
// Ed25519), with whatever subject and URI SANs a test needs — shapes the run's
// test PKI (deploy/dev-pki.sh) does not have, such as OCES3 organisation
// certificates. All names in them are fictional.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace handover::testing {

struct TestCertificateSpec {
  // Subject attributes in DER order, most general first, by OpenSSL short or
  // long name: {{"C", "DK"}, {"organizationIdentifier", "NTRDK-99990001"}, ...}.
  std::vector<std::pair<std::string, std::string>> subject;
  // subjectAltName URIs, e.g. "spiffe://handover.example.test/operator/x".
  std::vector<std::string> uris;
  long serial = 1;
  // Validity, "YYYYMMDDHHMMSSZ".
  std::string not_before = "20250101000000Z";
  std::string not_after = "20350101000000Z";
};

// The certificate as PEM; fails the test (ADD_FAILURE) and returns "" if
// OpenSSL refuses the spec.
std::string MakeTestCertificate(const TestCertificateSpec& spec);

}  // namespace handover::testing
