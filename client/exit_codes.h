// handoverctl's exit codes, for scripts. Documented in docs/cli.md.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace handover::client {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,        // anything else (INTERNAL, DATA_LOSS, UNKNOWN, ...)
  kExitUsage = 2,        // bad command line
  kExitNotFound = 3,     // NOT_FOUND: no such case visible to you
  kExitRefused = 4,      // PERMISSION_DENIED, UNAUTHENTICATED
  kExitInvalid = 5,      // INVALID_ARGUMENT, OUT_OF_RANGE, a request over the size limit
  kExitConflict = 6,     // ABORTED, ALREADY_EXISTS, FAILED_PRECONDITION: re-read, retry
  kExitUnavailable = 7,  // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED: retry later
};

// RESOURCE_EXHAUSTED is "retry later" (a full queue, load shed) except when
// gRPC reports a message over the size limit: the same request can never
// succeed, so that is invalid input.
ExitCode ExitCodeFor(const absl::Status& status);

// The one line handoverctl writes to standard error for a failed `status`,
// "handoverctl: CODE: message" (no newline), saying so when a request was
// over the size limit.
std::string ErrorLine(const absl::Status& status);

}  // namespace handover::client
