#include "server/identity/caller_naming.h"

#include <grpc/grpc_security_constants.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "server/identity/openssl_values.h"

namespace handover::identity {
namespace {

// Certificates read and kept; beyond it the cache starts again (a few
// thousand organisations' systems fit many times over).
constexpr size_t kMaxCachedCertificates = 10'000;

using X509Ptr = Owned<X509>;

X509Ptr ParsePem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

// The client's certificate as gRPC has it (PEM); empty if none, or several.
std::string LeafPem(const grpc::AuthContext& auth) {
  const std::vector<grpc::string_ref> pems =
      auth.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  return pems.size() == 1 ? std::string(pems[0].data(), pems[0].size()) : std::string();
}

}  // namespace

struct CallerNaming::OcesCa {
  X509Ptr certificate;
};

CallerNaming::CallerNaming(std::string trust_domain, CertificateChecks checks)
    : trust_domain_(std::move(trust_domain)), checks_(std::move(checks)) {}

CallerNaming::~CallerNaming() = default;

absl::StatusOr<std::unique_ptr<CallerNaming>> CallerNaming::WithOces(
    std::string trust_domain, const std::string& oces_ca_file,
    std::unique_ptr<RegisterWatcher> organisations, CertificateChecks checks) {
  std::ifstream in(oces_ca_file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string pem = text.str();
  auto naming = std::make_unique<CallerNaming>(std::move(trust_domain), std::move(checks));
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    naming->oces_cas_.push_back(std::make_unique<OcesCa>(OcesCa{X509Ptr(ca)}));
  }
  BIO_free(bio);
  if (naming->oces_cas_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("oces-ca: no PEM certificate in ", oces_ca_file));
  }
  naming->organisations_ = std::move(organisations);
  return naming;
}

absl::StatusOr<NamedOrganisation> CallerNaming::NameBySpiffe(
    const std::vector<std::string>& uris) const {
  if (uris.size() != 1) {
    return absl::UnauthenticatedError(
        "client certificate: must carry exactly one spiffe:// URI SAN");
  }
  absl::StatusOr<Principal> principal = ParseSpiffeId(uris[0], trust_domain_);
  if (!principal.ok()) return principal.status();
  return NamedOrganisation{.principal = *std::move(principal)};
}

absl::StatusOr<std::shared_ptr<const CallerNaming::Read>> CallerNaming::ReadPeer(
    const std::string& pem) const {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = read_.find(pem); it != read_.end()) return it->second;
  }
  absl::StatusOr<CertificateFacts> facts = ReadCertificate(pem);
  if (!facts.ok()) return absl::UnauthenticatedError("client certificate: unreadable");
  auto read = std::make_shared<Read>(Read{.facts = *std::move(facts)});
  // Issued by an OCES CA: its issuer is that CA's subject and the CA's key
  // verifies its signature (the handshake has verified the whole chain).
  X509Ptr leaf = ParsePem(pem);
  for (const auto& ca : oces_cas_) {
    if (leaf && X509_check_issued(ca->certificate.get(), leaf.get()) == X509_V_OK) {
      EVP_PKEY* key = X509_get0_pubkey(ca->certificate.get());
      if (key != nullptr && X509_verify(leaf.get(), key) == 1) read->from_oces = true;
    }
  }
  absl::MutexLock lock(&mu_);
  if (read_.size() >= kMaxCachedCertificates) read_.clear();
  read_.emplace(pem, read);
  return read;
}

absl::StatusOr<NamedOrganisation> CallerNaming::Name(const grpc::AuthContext* auth,
                                                     absl::string_view peer) const {
  if (auth == nullptr) return absl::UnauthenticatedError("client certificate: none presented");
  std::string leaf_pem;
  absl::StatusOr<NamedOrganisation> named = NameChecked(*auth, &leaf_pem);
  if (!named.ok() && checks_.refusals != nullptr && !leaf_pem.empty()) {
    checks_.refusals->Report("call", peer, leaf_pem, named.status().message());
  }
  return named;
}

CertificateOnRecord CallerNaming::DescribeRefused(const grpc::AuthContext* auth) const {
  if (auth == nullptr) return {};
  const std::string leaf_pem = LeafPem(*auth);
  if (leaf_pem.empty()) return {};
  absl::StatusOr<std::shared_ptr<const Read>> read = ReadPeer(leaf_pem);
  return read.ok() ? DescribeForRecord((*read)->facts) : CertificateOnRecord{};
}

absl::StatusOr<NamedOrganisation> CallerNaming::NameChecked(const grpc::AuthContext& auth,
                                                            std::string* leaf_pem) const {
  *leaf_pem = LeafPem(auth);
  if (leaf_pem->empty()) return absl::UnauthenticatedError("client certificate: none presented");
  if (checks_.trust != nullptr) {
    const std::vector<grpc::string_ref> chains =
        auth.FindPropertyValues(GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME);
    const absl::string_view sent_chain =
        chains.size() == 1 ? absl::string_view(chains[0].data(), chains[0].size()) : "";
    if (absl::Status standing = checks_.trust->CheckStanding(*leaf_pem, sent_chain, absl::Now());
        !standing.ok()) {
      return standing;
    }
  }
  absl::StatusOr<std::shared_ptr<const Read>> read = ReadPeer(*leaf_pem);
  if (!read.ok()) return read.status();
  const CertificateFacts& facts = (*read)->facts;
  NamedOrganisation named;
  if ((*read)->from_oces) {
    absl::StatusOr<RegisteredCaller> registered = organisations_->Current()->Identify(facts);
    if (!registered.ok()) return registered.status();
    named = NamedOrganisation{
        .principal = registered->principal,
        .cvr = registered->cvr,
        .certificate_serial = registered->serial_uuid.value_or(registered->certificate_serial),
        .organisation_name = registered->name};
  } else {
    absl::StatusOr<NamedOrganisation> by_spiffe = NameBySpiffe(facts.spiffe_uris);
    if (!by_spiffe.ok()) return by_spiffe.status();
    named = *std::move(by_spiffe);
  }
  named.certificate_not_after = facts.not_after;
  return named;
}

}  // namespace handover::identity
