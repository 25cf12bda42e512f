// Untrusted bytes as what a peer sends and what the CRL directory holds: a
// leaf certificate (PEM), the chain it came with (PEM) and a CRL file (PEM or
// DER), separated by the line "--8<--". The leaf and the chain are read as
// the caller naming reads them (ReadCertificate); the CRL is put in a CRL
// directory that CertificateTrust opens over the committed anchors
// (certificate_anchors.pem: the public CA certificates of a development PKI),
// and the leaf's issuer and standing are checked at a fixed time.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/identity/certificate_facts.h"
#include "server/identity/certificate_trust.h"

namespace {

std::string& CrlDirectory() {
  static std::string directory = [] {
    char pattern[] = "/tmp/certificate_fuzzer.XXXXXX";
    if (mkdtemp(pattern) == nullptr) __builtin_trap();
    return std::string(pattern);
  }();
  return directory;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> parts = absl::StrSplit(input, absl::MaxSplits("\n--8<--\n", 2));
  parts.resize(3);
  const absl::string_view leaf = parts[0], chain = parts[1], crl = parts[2];
  (void)handover::identity::ReadCertificate(leaf);
  (void)handover::identity::ReadCertificate(chain);

  const std::string crl_file = CrlDirectory() + "/fuzz.r0";
  {
    std::ofstream out(crl_file, std::ios::binary | std::ios::trunc);
    out.write(crl.data(), static_cast<std::streamsize>(crl.size()));
  }
  auto trust = handover::identity::CertificateTrust::Open(
      HANDOVER_FUZZ_DIR "/certificate_anchors.pem", CrlDirectory(), {});
  if (!trust.ok()) return 0;
  (void)(*trust)->CheckIssuer(leaf, chain);
  // Within the validity of the seeds' certificates and CRLs.
  (void)(*trust)->CheckStanding(leaf, chain,
                                absl::FromCivil(absl::CivilDay(2027, 1, 1), absl::UTCTimeZone()));
  return 0;
}
