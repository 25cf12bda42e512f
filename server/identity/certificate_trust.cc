#include "server/identity/certificate_trust.h"

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/identity/openssl_values.h"

namespace handover::identity {
namespace {

// Leaves whose standing was checked and kept; beyond it the cache starts
// again (a few thousand organisations' systems fit many times over).
constexpr size_t kMaxCachedChains = 10'000;

using X509Ptr = Owned<X509>;
using CrlPtr = Owned<X509_CRL>;
using BioPtr = Owned<BIO>;

BioPtr MemoryBio(absl::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::vector<X509Ptr> ParseChain(absl::string_view pem) {
  std::vector<X509Ptr> chain;
  BioPtr bio = MemoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    chain.emplace_back(cert);
  }
  ERR_clear_error();
  return chain;
}

// Every CRL of a file (PEM, one or more; or DER, one), or an error naming
// what is wrong with it. Only complete base CRLs with a next update are
// taken: a delta CRL read as complete would let through what the base CRL
// revokes, and a CRL without a next update would never go out of date.
absl::StatusOr<std::vector<CrlPtr>> ParseCrls(absl::string_view bytes) {
  std::vector<CrlPtr> crls;
  BioPtr bio = MemoryBio(bytes);
  const size_t pem_blocks = [&] {
    size_t n = 0;
    for (size_t at = bytes.find("-----BEGIN X509 CRL-----"); at != absl::string_view::npos;
         at = bytes.find("-----BEGIN X509 CRL-----", at + 1)) {
      ++n;
    }
    return n;
  }();
  if (pem_blocks > 0) {
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
      crls.emplace_back(crl);
    }
  } else if (X509_CRL* crl = d2i_X509_CRL_bio(bio.get(), nullptr)) {
    crls.emplace_back(crl);
  }
  ERR_clear_error();
  if (crls.empty()) return absl::InvalidArgumentError("not a CRL (PEM or DER)");
  if (pem_blocks > crls.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRL ", crls.size() + 1, " of ", pem_blocks, " does not parse"));
  }
  for (const CrlPtr& crl : crls) {
    const Owned<ASN1_INTEGER> delta(static_cast<ASN1_INTEGER*>(
        X509_CRL_get_ext_d2i(crl.get(), NID_delta_crl, nullptr, nullptr)));
    if (delta != nullptr) return absl::InvalidArgumentError("a delta CRL (use the full CRL)");
    if (X509_CRL_get0_nextUpdate(crl.get()) == nullptr) {
      return absl::InvalidArgumentError("a CRL without a next update");
    }
  }
  return crls;
}

std::string DateOf(const ASN1_TIME* time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", TimeOf(time), absl::UTCTimeZone());
}

// -1, 0, 1 as CRL `a` is older than, as new as, newer than `b`: by
// lastUpdate, then by CRL number (any size; none counts as lowest).
int CompareCrls(const X509_CRL* a, const X509_CRL* b) {
  const absl::Time at = TimeOf(X509_CRL_get0_lastUpdate(a));
  const absl::Time bt = TimeOf(X509_CRL_get0_lastUpdate(b));
  if (at != bt) return at < bt ? -1 : 1;
  auto number = [](const X509_CRL* crl) {
    return Owned<ASN1_INTEGER>(
        static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_crl_number, nullptr, nullptr)));
  };
  const auto an = number(a), bn = number(b);
  if (an == nullptr || bn == nullptr) return an == bn ? 0 : (an == nullptr ? -1 : 1);
  const int order = ASN1_INTEGER_cmp(an.get(), bn.get());
  return order == 0 ? 0 : (order < 0 ? -1 : 1);
}

absl::Status Refused(absl::string_view reason) {
  return absl::UnauthenticatedError(absl::StrCat("client certificate refused: ", reason));
}

}  // namespace

struct CertificateTrust::State {
  Owned<X509_STORE> store{X509_STORE_new()};
  bool check_crl = false;
  std::vector<CrlPtr> crls;  // one per issuer, also in `store`
  // Leaves found in good standing, by their PEM: from when they were
  // checked until the first expiry (certificate or CRL) that depended on.
  struct Standing {
    absl::Time from, until;
  };
  mutable absl::Mutex mu;
  mutable absl::flat_hash_map<std::string, Standing> good ABSL_GUARDED_BY(mu);

  const X509_CRL* CrlOf(const X509* certificate) const {
    for (const CrlPtr& crl : crls) {
      if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_issuer_name(certificate)) == 0)
        return crl.get();
    }
    return nullptr;
  }
};

CertificateTrust::CertificateTrust(std::string anchors_file, std::string crl_directory,
                                   CertificateTrustOptions options)
    : anchors_file_(std::move(anchors_file)),
      crl_directory_(std::move(crl_directory)),
      options_(options) {}

CertificateTrust::~CertificateTrust() = default;

absl::StatusOr<std::unique_ptr<CertificateTrust>> CertificateTrust::Open(
    std::string anchors_file, std::string crl_directory, CertificateTrustOptions options) {
  std::unique_ptr<CertificateTrust> trust(
      new CertificateTrust(std::move(anchors_file), std::move(crl_directory), options));
  absl::MutexLock lock(&trust->reload_mu_);
  absl::StatusOr<Stamps> stamps = trust->StampFiles();
  if (!stamps.ok()) return absl::InvalidArgumentError(stamps.status().message());
  if (absl::Status s = trust->Reload(*std::move(stamps)); !s.ok()) {
    return absl::InvalidArgumentError(s.message());
  }
  return trust;
}

absl::StatusOr<CertificateTrust::Stamps> CertificateTrust::StampFiles() const {
  std::vector<std::string> paths = {anchors_file_};
  if (!crl_directory_.empty()) {
    DIR* dir = opendir(crl_directory_.c_str());
    if (dir == nullptr) {
      return absl::NotFoundError(absl::StrCat("crl-dir: cannot read ", crl_directory_));
    }
    std::vector<std::string> names;
    while (const dirent* entry = readdir(dir)) {
      std::error_code ignored;
      if (entry->d_name[0] != '.' &&
          std::filesystem::is_regular_file(crl_directory_ + "/" + entry->d_name, ignored)) {
        names.emplace_back(entry->d_name);
      }
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) paths.push_back(crl_directory_ + "/" + name);
  }
  Stamps stamps;
  for (const std::string& path : paths) {
    std::optional<FileStamp> stamp = StampOf(path);
    if (!stamp) {
      return absl::NotFoundError(
          absl::StrCat(path == anchors_file_ ? "client-ca" : "crl-dir", ": cannot read ", path));
    }
    stamps.emplace_back(path, *stamp);
  }
  return stamps;
}

absl::Status CertificateTrust::Reload(Stamps stamps) const {
  const absl::Time read_at = absl::Now();
  auto state = std::make_shared<State>();
  std::optional<std::string> anchors = ReadWholeFile(anchors_file_);
  if (!anchors) return absl::NotFoundError(absl::StrCat("client-ca: cannot read ", anchors_file_));
  std::vector<X509Ptr> certificates = ParseChain(*anchors);
  if (certificates.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("client-ca: no PEM certificate in ", anchors_file_));
  }
  for (const X509Ptr& certificate : certificates) {
    X509_STORE_add_cert(state->store.get(), certificate.get());
  }
  state->check_crl = !crl_directory_.empty();
  for (size_t i = 1; i < stamps.size(); ++i) {  // [0] is the anchors file
    const std::string& path = stamps[i].first;
    std::optional<std::string> bytes = ReadWholeFile(path);
    if (!bytes) return absl::NotFoundError(absl::StrCat("crl-dir: cannot read ", path));
    absl::StatusOr<std::vector<CrlPtr>> crls = ParseCrls(*bytes);
    if (!crls.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("crl-dir: ", path, ": ", crls.status().message()));
    }
    for (CrlPtr& crl : *crls) {
      auto same_issuer = std::find_if(state->crls.begin(), state->crls.end(), [&](const CrlPtr& c) {
        return X509_NAME_cmp(X509_CRL_get_issuer(c.get()), X509_CRL_get_issuer(crl.get())) == 0;
      });
      if (same_issuer == state->crls.end()) {
        state->crls.push_back(std::move(crl));
      } else if (CompareCrls(crl.get(), same_issuer->get()) >= 0) {
        *same_issuer = std::move(crl);  // newer, or as new and later in name order
      }
    }
  }
  for (const CrlPtr& crl : state->crls) X509_STORE_add_crl(state->store.get(), crl.get());
  stamps_racy_ = std::any_of(stamps.begin(), stamps.end(),
                             [&](const auto& named) { return ReadTooSoon(named.second, read_at); });
  stamps_ = std::move(stamps);
  const size_t crl_count = state->crls.size();
  {
    absl::MutexLock lock(&mu_);
    const bool first = state_ == nullptr;
    state_ = std::move(state);
    if (!first) {
      spdlog::info("client trust anchors and CRLs reloaded: {} anchors, {} CRLs",
                   certificates.size(), crl_count);
    }
  }
  last_error_.clear();
  return absl::OkStatus();
}

absl::Status CertificateTrust::Refresh() {
  absl::MutexLock reload(&reload_mu_);
  return RefreshLocked();
}

absl::Status CertificateTrust::RefreshLocked() const {
  absl::StatusOr<Stamps> stamps = StampFiles();
  if (stamps.ok() && *stamps == stamps_ && !stamps_racy_) return absl::OkStatus();
  absl::Status status = stamps.ok() ? Reload(*std::move(stamps)) : stamps.status();
  if (!status.ok() && std::string(status.message()) != last_error_) {
    last_error_ = std::string(status.message());
    spdlog::error("client trust anchors and CRLs not reloaded, the last good ones stay: {}",
                  last_error_);
  }
  return status;
}

std::shared_ptr<const CertificateTrust::State> CertificateTrust::Current() const {
  {
    absl::MutexLock lock(&mu_);
    if (options_.check_interval <= absl::ZeroDuration() || absl::Now() < next_check_) return state_;
    next_check_ = absl::Now() + options_.check_interval;
  }
  if (reload_mu_.TryLock()) {       // else a reload runs elsewhere: use what is in service
    RefreshLocked().IgnoreError();  // logged
    reload_mu_.Unlock();
  }
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::Status CertificateTrust::Verify(const State& state, absl::string_view leaf_pem,
                                      absl::string_view sent_chain_pem, bool standing,
                                      absl::Time now) const {
  std::vector<X509Ptr> chain = ParseChain(leaf_pem);
  if (chain.size() != 1) return Refused("unreadable");
  for (X509Ptr& sent : ParseChain(sent_chain_pem)) {
    if (X509_cmp(sent.get(), chain[0].get()) != 0) chain.push_back(std::move(sent));
  }
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted, chain[i].get());
  Owned<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), state.store.get(), chain[0].get(), untrusted);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  // The anchors may be issuing CAs, not roots.
  unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
  if (standing) {
    X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(now));
    // Every certificate of the chain against its issuer's CRL, the anchor
    // too (a root's own CRL lists the issuing CAs it revoked).
    if (state.check_crl) flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  } else {
    flags |= X509_V_FLAG_NO_CHECK_TIME;
  }
  X509_STORE_CTX_set_flags(ctx.get(), flags);
  const bool ok = X509_verify_cert(ctx.get()) == 1;
  // The outcome is in ctx; leave nothing on this thread's OpenSSL error
  // queue, which gRPC's next TLS call on the thread would take for its own.
  ERR_clear_error();
  const int error = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  X509* at = X509_STORE_CTX_get_current_cert(ctx.get());
  absl::Status status = absl::OkStatus();
  absl::Time good_until = absl::InfiniteFuture();
  if (ok) {
    STACK_OF(X509)* verified = X509_STORE_CTX_get0_chain(ctx.get());
    for (int i = 0; i < sk_X509_num(verified); ++i) {
      const X509* certificate = sk_X509_value(verified, i);
      good_until = std::min(good_until, TimeOf(X509_get0_notAfter(certificate)));
      if (const X509_CRL* crl = state.CrlOf(certificate); crl && state.check_crl) {
        good_until = std::min(good_until, TimeOf(X509_CRL_get0_nextUpdate(crl)));
      }
    }
  } else {
    const std::string whose =
        depth == 0 || at == nullptr
            ? std::string()
            : absl::StrCat(" (its CA ", NameLine(X509_get_subject_name(at)), ")");
    const std::string issuer = NameLine(X509_get_issuer_name(at ? at : chain[0].get()));
    switch (error) {
      case X509_V_ERR_CERT_HAS_EXPIRED:
        status = Refused(absl::StrCat("expired", whose, " on ", DateOf(X509_get0_notAfter(at))));
        break;
      case X509_V_ERR_CERT_NOT_YET_VALID:
        status =
            Refused(absl::StrCat("not valid", whose, " before ", DateOf(X509_get0_notBefore(at))));
        break;
      case X509_V_ERR_CERT_REVOKED: {
        X509_REVOKED* revoked = nullptr;
        const X509_CRL* crl = state.CrlOf(at);
        std::string when;
        if (crl && X509_CRL_get0_by_cert(const_cast<X509_CRL*>(crl), &revoked, at) == 1) {
          when = absl::StrCat(" on ", DateOf(X509_REVOKED_get0_revocationDate(revoked)));
        }
        status = Refused(absl::StrCat("revoked", whose, when, " by the CRL of ", issuer));
        break;
      }
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        // Its issuer is its own subject, which may name a person.
        status = Refused("unknown CA: the certificate is self-signed");
        break;
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        status = Refused(absl::StrCat("unknown CA: issued by ", issuer,
                                      ", which is not among the service's trust anchors"));
        break;
      case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
        status = Refused(absl::StrCat("the CRL of ", issuer,
                                      " cannot be checked on the server: the CA that signs it is "
                                      "not in client-ca (the operator must add the root CA)"));
        break;
      case X509_V_ERR_UNABLE_TO_GET_CRL:
        status = Refused(absl::StrCat("no CRL from its issuer ", issuer,
                                      " in the server's crl-dir (the operator must add it)"));
        break;
      case X509_V_ERR_CRL_HAS_EXPIRED:
        status =
            Refused(absl::StrCat("the CRL of its issuer ", issuer,
                                 " is out of date on the server (the operator must renew it)"));
        break;
      case X509_V_ERR_INVALID_PURPOSE:
        status = Refused("its extendedKeyUsage does not allow TLS client authentication");
        break;
      default:
        status = Refused(X509_verify_cert_error_string(error));
    }
  }
  sk_X509_free(untrusted);
  if (ok && standing) {
    absl::MutexLock lock(&state.mu);
    if (state.good.size() >= kMaxCachedChains) state.good.clear();
    state.good[std::string(leaf_pem)] = {now, good_until};
  }
  return status;
}

absl::Status CertificateTrust::CheckIssuer(absl::string_view leaf_pem,
                                           absl::string_view sent_chain_pem) const {
  return Verify(*Current(), leaf_pem, sent_chain_pem, /*standing=*/false, absl::Now());
}

absl::Status CertificateTrust::CheckStanding(absl::string_view leaf_pem,
                                             absl::string_view sent_chain_pem,
                                             absl::Time now) const {
  std::shared_ptr<const State> state = Current();
  {
    absl::MutexLock lock(&state->mu);
    auto it = state->good.find(leaf_pem);
    if (it != state->good.end() && it->second.from <= now && now < it->second.until) {
      return absl::OkStatus();
    }
  }
  return Verify(*state, leaf_pem, sent_chain_pem, /*standing=*/true, now);
}

}  // namespace handover::identity
