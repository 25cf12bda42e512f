// server/service/page_tokens.h: opaque page tokens and the page size rule.
#include "server/service/page_tokens.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace handover::service {
namespace {

constexpr char kCaseId[] = "0123456789abcdef";
const absl::Status kBadToken =
    absl::InvalidArgumentError("page_token: not a token this method returned");

TEST(CaseTokenTest, RoundTrips) {
  const std::string token = EncodeCaseToken(kCaseId);
  EXPECT_EQ(token.find(kCaseId), std::string::npos) << "token should be opaque";
  const absl::StatusOr<std::string> id = DecodeCaseToken(token);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, kCaseId);
}

TEST(CaseTokenTest, EmptyTokenIsTheFirstPage) {
  const absl::StatusOr<std::string> id = DecodeCaseToken("");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "");
}

TEST(CaseTokenTest, RejectsGarbage) {
  const absl::StatusOr<std::string> id = DecodeCaseToken("not a token!");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(id.status().message(), "page_token:")) << id.status();
  EXPECT_EQ(id.status(), kBadToken);
}

TEST(CaseTokenTest, RejectsAWellEncodedTokenWithABadCaseId) {
  EXPECT_EQ(DecodeCaseToken(EncodeCaseToken("not-hex")).status(), kBadToken);
  EXPECT_EQ(DecodeCaseToken(EncodeCaseToken("0123456789ABCDEF")).status(), kBadToken);
  EXPECT_EQ(DecodeCaseToken(EncodeCaseToken(std::string(kCaseId) + "/versions/1")).status(),
            kBadToken);
  EXPECT_EQ(DecodeCaseToken(absl::WebSafeBase64Escape(kCaseId)).status(), kBadToken);
}

TEST(CaseTokenTest, RejectsAVersionToken) {
  EXPECT_EQ(DecodeCaseToken(EncodeVersionToken(7)).status(), kBadToken);
}

TEST(VersionTokenTest, RoundTrips) {
  for (int64_t version : {int64_t{1}, int64_t{42}, int64_t{9'000'000'000}}) {
    const absl::StatusOr<int64_t> decoded = DecodeVersionToken(EncodeVersionToken(version));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, version);
  }
}

TEST(VersionTokenTest, EmptyTokenIsTheFirstPage) {
  const absl::StatusOr<int64_t> decoded = DecodeVersionToken("");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, 0);
}

TEST(VersionTokenTest, RejectsACaseToken) {
  EXPECT_EQ(DecodeVersionToken(EncodeCaseToken(kCaseId)).status(), kBadToken);
}

TEST(VersionTokenTest, RejectsGarbageAndVersionsBelowOne) {
  EXPECT_EQ(DecodeVersionToken("%%%").status(), kBadToken);
  EXPECT_EQ(DecodeVersionToken(EncodeVersionToken(0)).status(), kBadToken);
  EXPECT_EQ(DecodeVersionToken(EncodeVersionToken(-3)).status(), kBadToken);
  EXPECT_EQ(DecodeVersionToken(absl::WebSafeBase64Escape("version-before:seven")).status(),
            kBadToken);
}

TEST(SequenceTokenTest, RoundTrips) {
  for (int64_t after : {int64_t{1}, int64_t{500}, int64_t{9'000'000'000}}) {
    const std::string token = EncodeSequenceToken(after);
    EXPECT_EQ(token.find(std::to_string(after)), std::string::npos) << "token should be opaque";
    const absl::StatusOr<int64_t> decoded = DecodeSequenceToken(token);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, after);
  }
  EXPECT_EQ(DecodeSequenceToken("").value_or(-1), 0) << "empty: the first page";
}

TEST(SequenceTokenTest, RejectsGarbageAndOtherMethodsTokens) {
  EXPECT_EQ(DecodeSequenceToken("%%%").status(), kBadToken);
  EXPECT_EQ(DecodeSequenceToken(absl::WebSafeBase64Escape("log-after:seven")).status(), kBadToken);
  EXPECT_EQ(DecodeSequenceToken(EncodeCaseToken(kCaseId)).status(), kBadToken);
  EXPECT_EQ(DecodeSequenceToken(EncodeVersionToken(7)).status(), kBadToken);
  EXPECT_EQ(DecodeCaseToken(EncodeSequenceToken(7)).status(), kBadToken);
  EXPECT_EQ(DecodeVersionToken(EncodeSequenceToken(7)).status(), kBadToken);
}

TEST(EffectivePageSizeTest, ZeroMeansTheDefault) {
  EXPECT_EQ(EffectivePageSize(0, 50, 1000).value_or(-1), 50);
  EXPECT_EQ(EffectivePageSize(0, 100, 20).value_or(-1), 20)
      << "a maximum below the default caps it";
}

TEST(EffectivePageSizeTest, KeepsASizeWithinRange) {
  EXPECT_EQ(EffectivePageSize(1, 50, 1000).value_or(-1), 1);
  EXPECT_EQ(EffectivePageSize(73, 50, 1000).value_or(-1), 73);
  EXPECT_EQ(EffectivePageSize(1000, 50, 1000).value_or(-1), 1000);
}

TEST(EffectivePageSizeTest, ClampsToTheMaximum) {
  EXPECT_EQ(EffectivePageSize(1001, 50, 1000).value_or(-1), 1000);
  EXPECT_EQ(EffectivePageSize(1'000'000, 50, 1000).value_or(-1), 1000);
}

TEST(EffectivePageSizeTest, RejectsNegative) {
  const absl::StatusOr<int> size = EffectivePageSize(-1, 50, 1000);
  EXPECT_EQ(size.status(), absl::InvalidArgumentError("page_size: must not be negative"));
}

}  // namespace
}  // namespace handover::service
