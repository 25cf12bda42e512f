#include "server/service/page_tokens.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/resource_names.h"

namespace handover::service {
namespace {

constexpr char kCasePrefix[] = "case-after:";
constexpr char kVersionPrefix[] = "version-before:";
constexpr char kSequencePrefix[] = "log-after:";

absl::StatusOr<std::string> Unwrap(const std::string& token, absl::string_view prefix) {
  std::string plain;
  if (!absl::WebSafeBase64Unescape(token, &plain) || !absl::StartsWith(plain, prefix)) {
    return FieldError("page_token", "not a token this method returned");
  }
  return plain.substr(prefix.size());
}

}  // namespace

std::string EncodeCaseToken(const std::string& last_case_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(kCasePrefix, last_case_id));
}

absl::StatusOr<std::string> DecodeCaseToken(const std::string& token) {
  if (token.empty()) return std::string();
  absl::StatusOr<std::string> id = Unwrap(token, kCasePrefix);
  if (!id.ok()) return id.status();
  if (!ParseCaseName(CaseName(*id), "page_token").ok()) {
    return FieldError("page_token", "not a token this method returned");
  }
  return id;
}

std::string EncodeVersionToken(int64_t before_version) {
  return absl::WebSafeBase64Escape(absl::StrCat(kVersionPrefix, before_version));
}

absl::StatusOr<int64_t> DecodeVersionToken(const std::string& token) {
  if (token.empty()) return 0;
  absl::StatusOr<std::string> text = Unwrap(token, kVersionPrefix);
  int64_t version = 0;
  if (!text.ok() || !absl::SimpleAtoi(*text, &version) || version < 1) {
    return FieldError("page_token", "not a token this method returned");
  }
  return version;
}

std::string EncodeSequenceToken(int64_t after_sequence) {
  return absl::WebSafeBase64Escape(absl::StrCat(kSequencePrefix, after_sequence));
}

absl::StatusOr<int64_t> DecodeSequenceToken(const std::string& token) {
  if (token.empty()) return 0;
  absl::StatusOr<std::string> text = Unwrap(token, kSequencePrefix);
  int64_t after = 0;
  if (!text.ok() || !absl::SimpleAtoi(*text, &after)) {
    return FieldError("page_token", "not a token this method returned");
  }
  return after;
}

absl::StatusOr<int> EffectivePageSize(int requested, int default_size, int max) {
  if (requested < 0) return FieldError("page_size", "must not be negative");
  if (requested == 0) return default_size > max ? max : default_size;
  return requested > max ? max : requested;
}

}  // namespace handover::service
