#include "server/identity/refusal_log.h"

#include <spdlog/spdlog.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace handover::identity {
namespace {

// Keys remembered; beyond it the memory starts again.
constexpr size_t kMaxRemembered = 1'000;

// An OCES organisation or system certificate, or one with a SPIFFE URI: its
// subject names no person.
bool NamesOrganisation(const CertificateFacts& facts) {
  return absl::StartsWith(facts.subject_serial_number, "UI:DK-O:") || !facts.spiffe_uris.empty();
}

}  // namespace

CertificateOnRecord DescribeForRecord(const CertificateFacts& facts) {
  CertificateOnRecord on_record;
  if (facts.cvr) on_record.cvr = *facts.cvr;
  on_record.serial = facts.serial_uuid.value_or(facts.serial_hex);
  // A self-signed certificate's issuer is its own subject.
  if (facts.issuer != facts.subject || NamesOrganisation(facts)) {
    on_record.issuer = Printable(facts.issuer);
  }
  return on_record;
}

std::string DescribeForLog(const CertificateFacts& facts) {
  const bool names_organisation = NamesOrganisation(facts);
  std::string text;
  if (names_organisation) {
    text = absl::StrCat("subject \"", facts.subject, "\"");
    if (facts.cvr) absl::StrAppend(&text, " CVR ", *facts.cvr);
    if (!facts.spiffe_uris.empty()) absl::StrAppend(&text, " SAN ", facts.spiffe_uris.front());
  } else {
    text = "subject withheld (not an organisation or system certificate)";
  }
  // A self-signed certificate's issuer is its own subject.
  const std::string issuer = facts.issuer == facts.subject && !names_organisation
                                 ? std::string("(self-signed)")
                                 : absl::StrCat("\"", facts.issuer, "\"");
  absl::StrAppend(&text, " issuer ", issuer, " serial ", facts.serial_hex, " sha256 ",
                  facts.sha256_fingerprint);
  return text;
}

std::string Printable(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(byte, absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

CertificateRefusalLog::CertificateRefusalLog(absl::Duration interval) : interval_(interval) {}

void CertificateRefusalLog::Report(absl::string_view stage, absl::string_view peer,
                                   absl::string_view leaf_pem, absl::string_view reason) {
  // The client's message says "client certificate refused: <reason>".
  absl::ConsumePrefix(&reason, "client certificate refused: ");
  absl::ConsumePrefix(&reason, "client certificate: ");
  absl::StatusOr<CertificateFacts> facts = ReadCertificate(leaf_pem);
  const std::string certificate =
      facts.ok() ? DescribeForLog(*facts) : std::string("an unreadable certificate");
  const std::string key = absl::StrCat(facts.ok() ? facts->sha256_fingerprint : "", "|", reason);
  const absl::Time now = absl::Now();
  int64_t also = 0;
  {
    absl::MutexLock lock(&mu_);
    if (seen_.size() >= kMaxRemembered) seen_.clear();
    auto [it, fresh] = seen_.try_emplace(key, Seen{now, 0});
    if (!fresh) {
      if (now - it->second.logged < interval_) {
        ++it->second.since;
        return;
      }
      also = it->second.since;
      it->second = Seen{now, 0};
    }
  }
  spdlog::warn("client certificate refused at the {} from {}: {}; {}{}", std::string(stage),
               peer.empty() ? std::string("an address gRPC does not tell") : Printable(peer),
               Printable(reason), Printable(certificate),
               also > 0 ? absl::StrCat(" (and ", also, " refusals of it not logged since)") : "");
}

}  // namespace handover::identity
