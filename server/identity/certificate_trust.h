// Whether a client certificate is trusted, in the server's own hands rather
// than gRPC's, so that every refusal can say why (and be logged with the
// peer's address, which gRPC's certificate verifier never learns).
//
// Two checks, one per moment:
//  - CheckIssuer, at the TLS handshake: the chain leads to one of the trust
//    anchors (`anchors_file`, PEM: the project's CA, the OCES issuing CAs)
//    and every signature verifies, and the leaf may authenticate a TLS client
//    (no extendedKeyUsage, or one with clientAuth). Validity dates and
//    revocation are not looked at. A certificate failing this is from no CA
//    the service knows: the handshake fails and no HTTP/2 is spoken.
//  - CheckStanding, at every call: the same, and the whole chain is valid
//    now, and, with a CRL directory, no certificate of it (the anchor too)
//    is revoked by its issuer's CRL. The call is refused with
//    UNAUTHENTICATED naming the reason. So a revocation or an expiry reaches
//    connections already open too, at their next call after the CRL or the
//    clock says so (a stream is checked once, when it starts).
//
// The CRL directory holds files of one or more CRLs each, PEM or DER, under
// any name (no hash names, no next-number rule). For each issuer the newest
// CRL (latest lastUpdate, then highest crlNumber) is used. Only complete
// CRLs with a next update are read: a delta CRL, a CRL without nextUpdate
// or a file with a block that does not parse fails the whole reload. With a
// directory, every CA of a client certificate's chain must have a CRL there,
// current (next update not passed) and signed by its issuer, so an anchor
// that is not a root needs its root among the anchors; otherwise its
// certificates are refused: the safe failure when the CRL download stops.
//
// Files are looked at again when a check finds `check_interval` passed, and
// re-read when any file's identity, size or time changed, a file was added
// or removed, or the last read came too soon after an edit to trust the
// stamps (file_stamp.h, as for the organisation register). A reload that fails (unreadable anchors
// or CRL) leaves the last good state in service and is logged once.
//
// Threads: every method may be called from any thread; a check never waits
// for a reload running elsewhere. Errors: Open fails with INVALID_ARGUMENT
// naming client-ca or crl-dir if the first read fails.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/identity/file_stamp.h"

namespace handover::identity {

struct CertificateTrustOptions {
  // How often a check looks at the files. Default 10 s.
  absl::Duration check_interval = absl::Seconds(10);
};

class CertificateTrust {
 public:
  // `crl_directory` empty: no revocation check.
  static absl::StatusOr<std::unique_ptr<CertificateTrust>> Open(std::string anchors_file,
                                                                std::string crl_directory,
                                                                CertificateTrustOptions options);
  ~CertificateTrust();

  // `leaf_pem`: the peer's certificate. `sent_chain_pem`: the other
  // certificates the peer sent, as gRPC gives them (on a server, OpenSSL's
  // peer chain leaves the leaf out; a copy of the leaf is ignored). Only
  // intermediates are taken from it: trust comes from the anchors alone.
  // UNAUTHENTICATED "client certificate refused: <reason>" (unknown CA, a
  // signature that does not verify, not for client authentication).
  absl::Status CheckIssuer(absl::string_view leaf_pem, absl::string_view sent_chain_pem) const
      ABSL_LOCKS_EXCLUDED(mu_, reload_mu_);
  // As CheckIssuer, and also: expired, not yet valid, revoked (with the
  // date), no current CRL from the issuer. A leaf found in good standing is
  // not verified again until the first expiry (certificate or CRL) that
  // finding depended on, or a reload.
  absl::Status CheckStanding(absl::string_view leaf_pem, absl::string_view sent_chain_pem,
                             absl::Time now) const ABSL_LOCKS_EXCLUDED(mu_, reload_mu_);

  // Looks at the files now. OK if what is in service is what they hold.
  absl::Status Refresh() ABSL_LOCKS_EXCLUDED(mu_, reload_mu_);

 private:
  struct State;  // anchors and CRLs, read once, then only read
  // The anchors file first, then the CRL files in name order.
  using Stamps = std::vector<std::pair<std::string, FileStamp>>;

  CertificateTrust(std::string anchors_file, std::string crl_directory,
                   CertificateTrustOptions options);
  std::shared_ptr<const State> Current() const ABSL_LOCKS_EXCLUDED(mu_, reload_mu_);
  absl::Status RefreshLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Reads the files `stamps` names (as just stamped) into a new State.
  absl::Status Reload(Stamps stamps) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Stamps> StampFiles() const;
  absl::Status Verify(const State& state, absl::string_view leaf_pem,
                      absl::string_view sent_chain_pem, bool standing, absl::Time now) const;

  const std::string anchors_file_;
  const std::string crl_directory_;
  const CertificateTrustOptions options_;

  mutable absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // The files as last read, and whether that read came too soon after an
  // edit to trust the stamps (file_stamp.h).
  mutable Stamps stamps_ ABSL_GUARDED_BY(reload_mu_);
  mutable bool stamps_racy_ ABSL_GUARDED_BY(reload_mu_) = true;
  mutable std::string last_error_ ABSL_GUARDED_BY(reload_mu_);
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const State> state_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time next_check_ ABSL_GUARDED_BY(mu_);
};

}  // namespace handover::identity
