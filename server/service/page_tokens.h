// Opaque page tokens: web-safe base64 of a tagged cursor, so clients cannot
// rely on their shape. Every page token the server hands out is made and
// read here (ListCases, ListVersions, QueryAccessLog); a token of one kind is
// refused by the others' decoders with the same INVALID_ARGUMENT.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace handover::service {

std::string EncodeCaseToken(const std::string& last_case_id);
// "" for an empty token; INVALID_ARGUMENT "page_token: ..." if malformed.
absl::StatusOr<std::string> DecodeCaseToken(const std::string& token);

std::string EncodeVersionToken(int64_t before_version);
// 0 for an empty token.
absl::StatusOr<int64_t> DecodeVersionToken(const std::string& token);

// After an access-log sequence number (QueryAccessLog).
std::string EncodeSequenceToken(int64_t after_sequence);
// 0 for an empty token.
absl::StatusOr<int64_t> DecodeSequenceToken(const std::string& token);

// The page size to use: `requested` if 1..max, `default_size` if 0, `max` if
// either is above it; INVALID_ARGUMENT "page_size: ..." if negative.
absl::StatusOr<int> EffectivePageSize(int requested, int default_size, int max);

}  // namespace handover::service
