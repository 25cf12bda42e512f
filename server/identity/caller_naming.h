// How a client certificate names the calling organisation. Every
// certificate has already chained to one of the trust anchors at the TLS
// handshake (tls_credentials.h); at each call Name first checks that it is
// still in good standing (certificate_trust.h: valid now, not revoked), then
// names it. Which anchor issued it decides how it is named:
//  - certificates issued by an OCES issuing CA (`oces_ca_file`) are named by
//    the CVR in their subject, through the organisation register
//    (organisation_register.h): role, municipality code or organisation id;
//  - every other certificate (the project's own CA) is named by its SPIFFE
//    URI SAN in `trust_domain` (common/identity.h).
// So a certificate from the project's CA with a CVR in its subject is not
// taken for that organisation, and an OCES certificate's URI SANs mean
// nothing.
//
// Every refusal is logged with the peer's address (refusal_log.h).
//
// Threads: Name may be called from any thread. It reads each certificate
// once (a bounded cache by the certificate's PEM); the register and the
// trust's CRLs are consulted on every call, so reloads apply at once.
#pragma once

#include <grpcpp/security/auth_context.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/identity.h"
#include "server/identity/certificate_facts.h"
#include "server/identity/certificate_trust.h"
#include "server/identity/refusal_log.h"
#include "server/identity/register_watcher.h"

namespace handover::identity {

// The organisation a call comes from.
struct NamedOrganisation {
  Principal principal;
  // OCES certificates: the organisation's CVR and the certificate's subject
  // serialNumber UUID (or, without one, its serial number in hex).
  std::string cvr;
  std::string certificate_serial;
  // The register's display name (OCES only).
  std::string organisation_name;
  // When the presented certificate stops being valid (both schemes).
  absl::Time certificate_not_after = absl::InfinitePast();
};

// What every call's certificate goes through before it is named. Without a
// trust (tests of naming alone), standing is not checked; without a log,
// refusals are not logged.
struct CertificateChecks {
  std::shared_ptr<const CertificateTrust> trust;
  std::shared_ptr<CertificateRefusalLog> refusals;
};

class CallerNaming {
 public:
  // SPIFFE only.
  explicit CallerNaming(std::string trust_domain, CertificateChecks checks = {});
  // SPIFFE, and CVR for certificates issued by a CA in `oces_ca_file` (PEM,
  // one or more), named through `organisations`. INVALID_ARGUMENT naming
  // oces-ca if the file holds no certificate.
  static absl::StatusOr<std::unique_ptr<CallerNaming>> WithOces(
      std::string trust_domain, const std::string& oces_ca_file,
      std::unique_ptr<RegisterWatcher> organisations, CertificateChecks checks = {});
  ~CallerNaming();

  // UNAUTHENTICATED when the certificate is not in good standing (expired,
  // revoked, ...: CertificateTrust::CheckStanding) or names no organisation
  // (no or several SPIFFE URIs, another trust domain, an unknown role; no
  // CVR); PERMISSION_DENIED, naming the rule, for a CVR not in the register
  // or a serialNumber it does not allow. `peer` (gRPC's "ipv4:addr:port")
  // is for the log only.
  absl::StatusOr<NamedOrganisation> Name(const grpc::AuthContext* auth,
                                         absl::string_view peer = "") const
      ABSL_LOCKS_EXCLUDED(mu_);

  // What the access record of a call refused before its caller was named
  // keeps of the certificate it presented (DescribeForRecord), read as Name
  // reads it; empty when there is none or it cannot be read.
  CertificateOnRecord DescribeRefused(const grpc::AuthContext* auth) const ABSL_LOCKS_EXCLUDED(mu_);

  // The register, for reloads and tests (null without OCES).
  RegisterWatcher* organisations() const { return organisations_.get(); }

 private:
  struct Read {  // what one certificate says, read once
    CertificateFacts facts;
    bool from_oces = false;
  };
  struct OcesCa;

  absl::StatusOr<NamedOrganisation> NameBySpiffe(const std::vector<std::string>& uris) const;
  absl::StatusOr<NamedOrganisation> NameChecked(const grpc::AuthContext& auth,
                                                std::string* leaf_pem) const;
  absl::StatusOr<std::shared_ptr<const Read>> ReadPeer(const std::string& pem) const
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::string trust_domain_;
  const CertificateChecks checks_;
  std::vector<std::unique_ptr<OcesCa>> oces_cas_;
  std::unique_ptr<RegisterWatcher> organisations_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const Read>> read_ ABSL_GUARDED_BY(mu_);
};

}  // namespace handover::identity
