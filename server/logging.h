// handoverd's log format: readable text (default) or JSON lines for log
// collectors. Log messages never carry personal data: only ids, codes, counts.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace handover {

// "text" or "json". INVALID_ARGUMENT naming log-format otherwise.
absl::Status ConfigureLogging(const std::string& format);

}  // namespace handover
