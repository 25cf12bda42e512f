// Error helpers shared by server and client. Internally every fallible call
// returns absl::Status / absl::StatusOr; only the gRPC adapter converts.
//
// Messages never carry personal data: they name the field path and the rule
// it broke, never the offending value.
#pragma once

#include "absl/strings/string_view.h"

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"

namespace handover {

// INVALID_ARGUMENT "<field_path>: <rule>", e.g.
// "form.identity.date_of_birth: must not be in the future".
absl::Status FieldError(absl::string_view field_path, absl::string_view rule);

// RESOURCE_EXHAUSTED "request: N bytes is over the server's limit of M
// (max-message-bytes)", with a handover.v1.RequestTooLarge payload (a
// google.rpc.Status detail on the wire). Unlike load shedding (also
// RESOURCE_EXHAUSTED), a retry cannot succeed, and the refusal is recorded.
absl::Status RequestTooLargeError(size_t size, size_t max_bytes);
// True if `status` is RESOURCE_EXHAUSTED with that payload: the server's own
// refusal, on either side of the wire (gRPC core's size refusals carry none).
bool IsRequestTooLarge(const absl::Status& status);

// NOT_FOUND that says nothing about whether the resource exists.
absl::Status CaseNotFound(absl::string_view name);

// OUT_OF_RANGE for a feed revision older than the retained history, with a
// handover.v1.FeedCompacted payload (a google.rpc.Status detail on the wire).
absl::Status FeedCompactedError(int64_t oldest_resumable_revision);
// OUT_OF_RANGE for a feed revision beyond the newest one (the server was
// restored from a backup, or the cursor is wrong), with the same payload: the
// client re-syncs from a snapshot.
absl::Status FeedAheadError(int64_t head_revision, int64_t oldest_resumable_revision);
// The oldest resumable revision if `status` is one of those errors.
std::optional<int64_t> FeedCompactedRevision(const absl::Status& status);

}  // namespace handover
