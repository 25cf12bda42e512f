// The server's own check of client certificates (identity/certificate_trust.h)
// on the certificates deploy/dev-pki.sh made for this run: what is refused at
// the handshake, what at the call, with which reason; CRLs under any name,
// PEM or DER, the newest per issuer; delta CRLs and cut-off files refused; a
// new CRL picked up by Refresh. And how the refusal log names a certificate
// (identity/refusal_log.h): no personal data, no forged lines.
#include "server/identity/certificate_trust.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"

#include "server/identity/refusal_log.h"
#include "tests/testing/test_certificates.h"
#include "tests/testing/test_server.h"

namespace handover::identity {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Pem(const std::string& name) { return Read(testing::PkiFile(name)); }

// The PKI's CRL `name` written DER-encoded to `path`.
void WriteDer(const std::string& name, const std::string& path) {
  const std::string pem = Pem(name);
  BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_CRL* crl = PEM_read_bio_X509_CRL(in, nullptr, nullptr, nullptr);
  ASSERT_NE(crl, nullptr);
  BIO* out = BIO_new_file(path.c_str(), "wb");
  ASSERT_EQ(i2d_X509_CRL_bio(out, crl), 1);
  BIO_free(out);
  X509_CRL_free(crl);
  BIO_free(in);
}

std::unique_ptr<CertificateTrust> Open(const std::string& crl_dir) {
  auto trust = CertificateTrust::Open(testing::PkiFile("client-cas.pem"), crl_dir,
                                      {.check_interval = absl::ZeroDuration()});
  EXPECT_TRUE(trust.ok()) << trust.status();
  return trust.ok() ? *std::move(trust) : nullptr;
}

absl::Status Standing(const CertificateTrust& trust, const std::string& name,
                      absl::Time now = absl::Now()) {
  return trust.CheckStanding(Pem(name + ".pem"), "", now);
}

std::string CrlDir(const std::vector<std::pair<std::string, std::string>>& copies) {
  const std::string dir = testing::NewTempDir();
  for (const auto& [from, to] : copies) {
    std::filesystem::copy_file(testing::PkiFile(from), dir + "/" + to);
  }
  return dir;
}

TEST(CertificateTrustTest, TheIssuerCheckKnowsTheAnchorsAndNothingElse) {
  std::unique_ptr<CertificateTrust> trust = Open("");
  EXPECT_TRUE(trust->CheckIssuer(Pem("operator-redcross.pem"), "").ok());
  EXPECT_TRUE(trust->CheckIssuer(Pem("oces-municipality-760.pem"), "").ok());
  // Dates are the call's business: an expired certificate passes here.
  EXPECT_TRUE(trust->CheckIssuer(Pem("oces-municipality-760-expired.pem"), "").ok());
  // What a client sends beside its certificate (a copy of it, its CA) is
  // only a hint for the path.
  EXPECT_TRUE(
      trust->CheckIssuer(Pem("operator-redcross.pem"), Pem("operator-redcross.pem") + Pem("ca.pem"))
          .ok());

  absl::Status rogue = trust->CheckIssuer(Pem("operator-rogue.pem"), "");
  EXPECT_EQ(rogue.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(rogue.message(),
            "client certificate refused: unknown CA: issued by CN=rogue-ca,O=Handover "
            "development, which is not among the service's trust anchors");
  // Sending the rogue CA along does not make it an anchor.
  EXPECT_FALSE(trust->CheckIssuer(Pem("operator-rogue.pem"), Pem("rogue-ca.pem")).ok());
  absl::Status server = trust->CheckIssuer(Pem("server.pem"), "");
  EXPECT_EQ(server.message(),
            "client certificate refused: its extendedKeyUsage does not allow TLS client "
            "authentication");
  EXPECT_EQ(trust->CheckIssuer("not a certificate", "").message(),
            "client certificate refused: unreadable");
}

TEST(CertificateTrustTest, StandingIsRefusedOutsideTheValidityDates) {
  std::unique_ptr<CertificateTrust> trust = Open("");
  EXPECT_EQ(Standing(*trust, "oces-municipality-760-expired").message(),
            "client certificate refused: expired on 2024-12-31T23:59:59Z");
  // Before the CA's own validity: the CA is named.
  absl::Status early = Standing(*trust, "oces-municipality-760-expired",
                                absl::FromCivil(absl::CivilDay(2024, 6, 1), absl::UTCTimeZone()));
  EXPECT_TRUE(absl::StartsWith(
      early.message(),
      "client certificate refused: not valid (its CA CN=Fictional OCES3 issuing CA,O=Handover "
      "development (not OCES),C=DK) before 20"))
      << early;
  EXPECT_TRUE(Standing(*trust, "oces-municipality-760").ok());
}

TEST(CertificateTrustTest, ARevokedCertificateIsRefusedWithTheDateAndIssuer) {
  std::unique_ptr<CertificateTrust> trust = Open(testing::PkiFile("crl"));
  absl::Status revoked = Standing(*trust, "oces-municipality-760-revoked");
  EXPECT_EQ(revoked.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StartsWith(revoked.message(), "client certificate refused: revoked on 20"))
      << revoked;
  EXPECT_TRUE(absl::EndsWith(
      revoked.message(),
      " by the CRL of CN=Fictional OCES3 issuing CA,O=Handover development (not OCES),C=DK"))
      << revoked;
  EXPECT_TRUE(Standing(*trust, "oces-municipality-760").ok());
  EXPECT_TRUE(Standing(*trust, "municipality-760").ok());
  // The handshake's check does not look at CRLs.
  EXPECT_TRUE(trust->CheckIssuer(Pem("oces-municipality-760-revoked.pem"), "").ok());
}

// The dev PKI's CRLs, named as openssl rehash would: the project CA's and
// the OCES CA's (revoking oces-municipality-760-revoked); crl-empty holds an
// older OCES CRL revoking nothing.
constexpr char kProjectCaCrl[] = "crl/ce81f2a1.r0";
constexpr char kOcesCrl[] = "crl/d21dee85.r0";
constexpr char kOlderOcesCrl[] = "crl-empty/d21dee85.r0";

TEST(CertificateTrustTest, EveryIssuerNeedsACrl) {
  std::unique_ptr<CertificateTrust> trust = Open(CrlDir({{kProjectCaCrl, "project.crl"}}));
  EXPECT_TRUE(Standing(*trust, "municipality-760").ok());
  EXPECT_EQ(Standing(*trust, "oces-municipality-760").message(),
            "client certificate refused: no CRL from its issuer CN=Fictional OCES3 issuing "
            "CA,O=Handover development (not OCES),C=DK in the server's crl-dir (the operator "
            "must add it)");
}

TEST(CertificateTrustTest, CrlsUnderAnyNamePemOrDerTheNewestCounts) {
  // The newer CRL under the name that sorts first, the older as DER.
  const std::string dir = CrlDir({{kProjectCaCrl, "z-project.pem"}, {kOcesCrl, "a-oces.pem"}});
  WriteDer(kOlderOcesCrl, dir + "/b-oces-older.der");
  std::unique_ptr<CertificateTrust> trust = Open(dir);
  EXPECT_FALSE(Standing(*trust, "oces-municipality-760-revoked").ok());
  EXPECT_TRUE(Standing(*trust, "oces-municipality-760").ok());

  // Only the older (DER) one: nothing is revoked.
  std::filesystem::remove(dir + "/a-oces.pem");
  ASSERT_TRUE(trust->Refresh().ok());
  EXPECT_TRUE(Standing(*trust, "oces-municipality-760-revoked").ok());
}

TEST(CertificateTrustTest, RefreshPicksUpANewCrlAndKeepsTheLastGoodOnABadOne) {
  const std::string dir = CrlDir({{kProjectCaCrl, "project.crl"}, {kOlderOcesCrl, "oces.crl"}});
  std::unique_ptr<CertificateTrust> trust = Open(dir);
  EXPECT_TRUE(Standing(*trust, "oces-municipality-760-revoked").ok());  // and now cached

  std::filesystem::copy_file(testing::PkiFile(kOcesCrl), dir + "/oces-newer.crl");
  ASSERT_TRUE(trust->Refresh().ok());
  EXPECT_FALSE(Standing(*trust, "oces-municipality-760-revoked").ok());

  // A file that is no CRL: the reload fails, the last good CRLs stay.
  std::ofstream(dir + "/half-downloaded.crl") << "-----BEGIN X509 CRL-----\nAAAA";
  absl::Status bad = trust->Refresh();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("half-downloaded.crl"), std::string::npos) << bad;
  EXPECT_FALSE(Standing(*trust, "oces-municipality-760-revoked").ok());
  EXPECT_TRUE(Standing(*trust, "oces-municipality-760").ok());
}

// The PKI's OCES CRL made a delta CRL (deltaCRLIndicator), signed again by
// the OCES CA, as PEM.
std::string DeltaCrl() {
  const std::string pem = Pem(kOcesCrl);
  const std::string key_pem = Pem("oces-ca.key");
  BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_CRL* crl = PEM_read_bio_X509_CRL(in, nullptr, nullptr, nullptr);
  BIO* key_in = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_in, nullptr, nullptr, nullptr);
  ASN1_INTEGER* base = ASN1_INTEGER_new();
  ASN1_INTEGER_set(base, 1);
  EXPECT_EQ(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, base, 1, 0), 1);
  EXPECT_GT(X509_CRL_sign(crl, key, EVP_sha256()), 0);
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_CRL(out, crl);
  char* data = nullptr;
  const long size = BIO_get_mem_data(out, &data);
  std::string delta(data, static_cast<size_t>(size));
  BIO_free(out);
  ASN1_INTEGER_free(base);
  EVP_PKEY_free(key);
  BIO_free(key_in);
  X509_CRL_free(crl);
  BIO_free(in);
  return delta;
}

TEST(CertificateTrustTest, OnlyWholeFilesOfCompleteCrlsAreRead) {
  const std::string dir = CrlDir({{kProjectCaCrl, "project.crl"}, {kOcesCrl, "oces.crl"}});
  std::unique_ptr<CertificateTrust> trust = Open(dir);
  // A delta CRL would replace the base CRL and let its revocations through.
  std::ofstream(dir + "/oces-delta.crl") << DeltaCrl();
  absl::Status delta = trust->Refresh();
  EXPECT_EQ(delta.message(), "crl-dir: " + dir + "/oces-delta.crl: a delta CRL (use the full CRL)");
  std::filesystem::remove(dir + "/oces-delta.crl");
  // A bundle whose second CRL is cut off is refused whole, not read in part.
  std::ofstream(dir + "/bundle.crl") << Pem(kOlderOcesCrl) << "-----BEGIN X509 CRL-----\nAAAA";
  absl::Status cut = trust->Refresh();
  EXPECT_EQ(cut.message(), "crl-dir: " + dir + "/bundle.crl: CRL 2 of 2 does not parse");
  // Through both, the CRLs in service stayed.
  EXPECT_FALSE(Standing(*trust, "oces-municipality-760-revoked").ok());
}

TEST(CertificateTrustTest, ASelfSignedCertificateIsNotNamedByItsIssuer) {
  const std::string person = testing::MakeTestCertificate(
      {.subject = {{"C", "DK"}, {"O", "Fiktiv Enkeltmandsvirksomhed"}, {"CN", "Fiktiv Person"}}});
  std::unique_ptr<CertificateTrust> trust = Open("");
  EXPECT_EQ(trust->CheckIssuer(person, "").message(),
            "client certificate refused: unknown CA: the certificate is self-signed");
  // Nor in the log: neither subject nor issuer.
  absl::StatusOr<CertificateFacts> facts = ReadCertificate(person);
  ASSERT_TRUE(facts.ok());
  const std::string described = DescribeForLog(*facts);
  EXPECT_EQ(described.find("Fiktiv"), std::string::npos) << described;
  EXPECT_TRUE(absl::StartsWith(described,
                               "subject withheld (not an organisation or system certificate) "
                               "issuer (self-signed) serial "))
      << described;
}

TEST(CertificateTrustTest, TheLogWritesControlCharactersEscaped) {
  EXPECT_EQ(Printable("O=Fiktiv\n[warning] forged\x7f"), "O=Fiktiv\\x0a[warning] forged\\x7f");
  EXPECT_EQ(Printable("Ringkøbing"), "Ringkøbing");
}

TEST(CertificateTrustTest, OpenNamesTheOptionThatFails) {
  auto no_anchors = CertificateTrust::Open(testing::NewTempDir() + "/missing.pem", "", {});
  EXPECT_EQ(no_anchors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_anchors.status().message().find("client-ca"), std::string::npos);
  auto no_dir = CertificateTrust::Open(testing::PkiFile("client-cas.pem"),
                                       testing::NewTempDir() + "/missing", {});
  EXPECT_EQ(no_dir.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_dir.status().message().find("crl-dir"), std::string::npos);
}

}  // namespace
}  // namespace handover::identity
