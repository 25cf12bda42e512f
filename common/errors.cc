#include "common/errors.h"

#include "absl/strings/str_cat.h"
#include "handover/v1/feed.pb.h"
#include "handover/v1/types.pb.h"

namespace handover {

absl::Status FieldError(absl::string_view field_path, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field_path, ": ", rule));
}

absl::Status CaseNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat(name, ": no such case visible to the caller"));
}

namespace {
constexpr char kRequestTooLargeType[] = "type.googleapis.com/handover.v1.RequestTooLarge";
}  // namespace

absl::Status RequestTooLargeError(size_t size, size_t max_bytes) {
  absl::Status status = absl::ResourceExhaustedError(
      absl::StrCat("request: ", size, " bytes is over the server's limit of ", max_bytes,
                   " (max-message-bytes); a retry cannot succeed"));
  v1::RequestTooLarge detail;
  detail.set_size_bytes(static_cast<int64_t>(size));
  detail.set_limit_bytes(static_cast<int64_t>(max_bytes));
  status.SetPayload(kRequestTooLargeType, absl::Cord(detail.SerializeAsString()));
  return status;
}

bool IsRequestTooLarge(const absl::Status& status) {
  return status.code() == absl::StatusCode::kResourceExhausted &&
         status.GetPayload(kRequestTooLargeType).has_value();
}

namespace {
constexpr char kFeedCompactedType[] = "type.googleapis.com/handover.v1.FeedCompacted";
}  // namespace

absl::Status FeedCompactedError(int64_t oldest_resumable_revision) {
  absl::Status status = absl::OutOfRangeError(absl::StrCat(
      "after_revision: older than the retained history; resume from revision ",
      oldest_resumable_revision, " or later, after a snapshot (ListCases with CASE_VIEW_FULL)"));
  v1::FeedCompacted detail;
  detail.set_oldest_resumable_revision(oldest_resumable_revision);
  status.SetPayload(kFeedCompactedType, absl::Cord(detail.SerializeAsString()));
  return status;
}

absl::Status FeedAheadError(int64_t head_revision, int64_t oldest_resumable_revision) {
  absl::Status status = absl::OutOfRangeError(
      absl::StrCat("after_revision: beyond the newest revision ", head_revision,
                   " (was the server restored from a backup?); take a snapshot (ListCases with "
                   "CASE_VIEW_FULL) and continue from its revision"));
  v1::FeedCompacted detail;
  detail.set_oldest_resumable_revision(oldest_resumable_revision);
  status.SetPayload(kFeedCompactedType, absl::Cord(detail.SerializeAsString()));
  return status;
}

std::optional<int64_t> FeedCompactedRevision(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kOutOfRange) return std::nullopt;
  absl::optional<absl::Cord> payload = status.GetPayload(kFeedCompactedType);
  v1::FeedCompacted detail;
  if (!payload || !detail.ParseFromString(std::string(*payload))) return std::nullopt;
  return detail.oldest_resumable_revision();
}

}  // namespace handover
