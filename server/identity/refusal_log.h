// The server log's line for a refused client certificate: at which step, from
// which address, which certificate, and why. For the operator answering "it
// does not work" from an integrator, and for spotting probes.
//
// The certificate is named by its issuer, serial number and SHA-256
// fingerprint, and by its subject (with CVR and SPIFFE URI) when that names
// an organisation or a system: an OCES organisation certificate
// (serialNumber UI:DK-O:...) or one with a SPIFFE URI SAN. Any other subject
// (a personal certificate, a sole proprietor's, a self-signed one) is
// withheld, and so is the issuer of a self-signed one: the log carries no
// personal data. Control characters from the certificate are written as
// \xNN, so a certificate cannot forge log lines.
//
// A client retrying a refused certificate would fill the log, so each
// certificate and reason is logged at most once per `interval`; the next
// line says how many refusals it stood for.
//
// Threads: Report may be called from any thread.
#pragma once

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/identity/certificate_facts.h"

namespace handover::identity {

// How a certificate is named in the log (see the top of this file).
std::string DescribeForLog(const CertificateFacts& facts);

// What the access record of a refused call keeps of its certificate, as the
// certificate states it (unverified: it was refused): the CVR of an
// OCES-shaped subject, the subject's UUID (UI:DK-O:G:<uuid>) or else the
// serial number in hex, and the issuer — withheld, like the log's, for a
// self-signed certificate that names no organisation. Control characters
// are written as \xNN.
struct CertificateOnRecord {
  std::string cvr;
  std::string serial;
  std::string issuer;
};
CertificateOnRecord DescribeForRecord(const CertificateFacts& facts);

// `text` with control characters written as \xNN.
std::string Printable(absl::string_view text);

class CertificateRefusalLog {
 public:
  explicit CertificateRefusalLog(absl::Duration interval = absl::Minutes(1));

  // `stage`: "TLS handshake" or "call"; `peer`: the address, empty if
  // unknown; `leaf_pem`: the refused certificate; `reason`: the refusal's
  // message, as the client got it.
  void Report(absl::string_view stage, absl::string_view peer, absl::string_view leaf_pem,
              absl::string_view reason) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Seen {
    absl::Time logged;
    int64_t since = 0;  // refusals not logged since
  };
  const absl::Duration interval_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Seen> seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace handover::identity
