// handoverctl's exit codes: RESOURCE_EXHAUSTED is "retry later" (7) for a full
// queue or shed load, but a request over the gRPC message size limit can never
// succeed, so it is invalid input (5) and the error line says why.
#include "client/exit_codes.h"

#include <gtest/gtest.h>

#include "common/errors.h"
#include "common/grpc_status.h"

namespace handover::client {
namespace {

// gRPC core's messages (1.51): the server's receive limit, as the client sees
// it, and the client's own send limit.
const absl::Status kServerRefusedSize =
    absl::ResourceExhaustedError("Received message larger than max (70012 vs. 65536)");
const absl::Status kClientRefusedSize =
    absl::ResourceExhaustedError("Sent message larger than max (70012 vs. 65536)");

TEST(ExitCodeTest, ARequestOverTheSizeLimitIsInvalidInput) {
  EXPECT_EQ(ExitCodeFor(kServerRefusedSize), kExitInvalid);
  EXPECT_EQ(ExitCodeFor(kClientRefusedSize), kExitInvalid);
  EXPECT_EQ(kExitInvalid, 5);
}

// handoverd's own refusal is marked by its RequestTooLarge detail, which
// crosses the wire; its message alone marks nothing.
TEST(ExitCodeTest, TheServersOwnSizeRefusalIsKnownByItsDetail) {
  const absl::Status received = FromGrpcStatus(ToGrpcStatus(RequestTooLargeError(70012, 65536)));
  EXPECT_EQ(ExitCodeFor(received), kExitInvalid);
  EXPECT_EQ(ErrorLine(received),
            "handoverctl: RESOURCE_EXHAUSTED: the request is over the server's size limit; "
            "send less, retrying will not help (request: 70012 bytes is over the server's "
            "limit of 65536 (max-message-bytes); a retry cannot succeed)");
  EXPECT_EQ(ExitCodeFor(absl::ResourceExhaustedError("request: 70012 bytes is over the server's "
                                                     "limit of 65536 (max-message-bytes)")),
            kExitUnavailable);
}

TEST(ExitCodeTest, OtherResourceExhaustedIsRetryLater) {
  EXPECT_EQ(ExitCodeFor(absl::ResourceExhaustedError("read queue full; retry later")),
            kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::ResourceExhaustedError("")), kExitUnavailable);
  EXPECT_EQ(kExitUnavailable, 7);
}

TEST(ExitCodeTest, TheSizeMessageUnderAnotherCodeKeepsThatCode) {
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("Received message larger than max (1 vs. 0)")),
            kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("Sent message larger than max (1 vs. 0)")), kExitError);
}

TEST(ExitCodeTest, EachCodeHasItsExit) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitOk);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("x")), kExitRefused);
  EXPECT_EQ(ExitCodeFor(absl::UnauthenticatedError("x")), kExitRefused);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), kExitInvalid);
  EXPECT_EQ(ExitCodeFor(absl::OutOfRangeError("x")), kExitInvalid);
  EXPECT_EQ(ExitCodeFor(absl::AbortedError("x")), kExitConflict);
  EXPECT_EQ(ExitCodeFor(absl::AlreadyExistsError("x")), kExitConflict);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("x")), kExitConflict);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("x")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::DataLossError("x")), kExitError);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("x")), kExitError);
}

TEST(ErrorLineTest, SaysARequestIsOverTheServersSizeLimit) {
  EXPECT_EQ(ErrorLine(kServerRefusedSize),
            "handoverctl: RESOURCE_EXHAUSTED: the request is over the server's size limit; "
            "send less, retrying will not help (Received message larger than max (70012 vs. "
            "65536))");
  EXPECT_EQ(ErrorLine(kClientRefusedSize),
            "handoverctl: RESOURCE_EXHAUSTED: the request is over this client's size limit; "
            "send less, retrying will not help (Sent message larger than max (70012 vs. "
            "65536))");
}

TEST(ErrorLineTest, OtherErrorsAreCodeAndMessage) {
  EXPECT_EQ(ErrorLine(absl::InvalidArgumentError("form.identity: required")),
            "handoverctl: INVALID_ARGUMENT: form.identity: required");
  EXPECT_EQ(ErrorLine(absl::ResourceExhaustedError("read queue full")),
            "handoverctl: RESOURCE_EXHAUSTED: read queue full");
}

}  // namespace
}  // namespace handover::client
