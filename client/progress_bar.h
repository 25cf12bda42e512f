// A progress bar on standard error, drawn only when it is a terminal (so
// scripts and logs get none).
#pragma once

#include <string>

#include "client/document_files.h"

namespace handover::client {

// "<label> [#######       ]  48%  12.0/25.0 MiB", redrawn in place at most
// every 1% and ended with a newline at 100%.
Progress TerminalProgress(const std::string& label);

}  // namespace handover::client
