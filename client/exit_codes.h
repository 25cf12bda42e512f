// handoverctl's exit codes, for scripts. Documented in the README.
#pragma once

#include "absl/status/status.h"

namespace handover::client {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,         // anything else (INTERNAL, DATA_LOSS, UNKNOWN, ...)
  kExitUsage = 2,         // bad command line
  kExitNotFound = 3,      // NOT_FOUND: no such case visible to you
  kExitRefused = 4,       // PERMISSION_DENIED, UNAUTHENTICATED
  kExitInvalid = 5,       // INVALID_ARGUMENT, OUT_OF_RANGE: fix the input
  kExitConflict = 6,      // ABORTED, ALREADY_EXISTS, FAILED_PRECONDITION: re-read, retry
  kExitUnavailable = 7,   // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED: retry later
};

ExitCode ExitCodeFor(const absl::Status& status);

}  // namespace handover::client
