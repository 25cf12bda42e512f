#include "client/exit_codes.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace handover::client {
namespace {

// A request over the size limit: handoverd refuses it itself up to twice its
// max-message-bytes, marked with a RequestTooLarge detail (common/errors.h);
// beyond that gRPC's core refuses it on the server, or the client's own send
// limit does, with no detail: only their messages say so, and they end
// "(N vs. M)", in bytes.
constexpr absl::string_view kReceivedTooLarge = "Received message larger than max";
constexpr absl::string_view kSentTooLarge = "Sent message larger than max";

bool IsOverSizeLimit(const absl::Status& status) {
  return IsRequestTooLarge(status) ||  // handoverd's own refusal, recorded, marked
         (status.code() == absl::StatusCode::kResourceExhausted &&
          (absl::StartsWith(status.message(), kReceivedTooLarge) ||
           absl::StartsWith(status.message(), kSentTooLarge)));
}

}  // namespace

ExitCode ExitCodeFor(const absl::Status& status) {
  if (IsOverSizeLimit(status)) return kExitInvalid;
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return kExitRefused;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitInvalid;
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return kExitConflict;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
      return kExitUnavailable;
    default:
      return kExitError;
  }
}

std::string ErrorLine(const absl::Status& status) {
  const std::string code = absl::StatusCodeToString(status.code());
  if (IsOverSizeLimit(status)) {
    const absl::string_view whose =
        absl::StartsWith(status.message(), kSentTooLarge) ? "this client's" : "the server's";
    return absl::StrCat("handoverctl: ", code, ": the request is over ", whose,
                        " size limit; send less, retrying will not help (", status.message(), ")");
  }
  return absl::StrCat("handoverctl: ", code, ": ", status.message());
}

}  // namespace handover::client
