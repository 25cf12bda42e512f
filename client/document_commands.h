// handoverctl doc upload|list|download.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "absl/status/status.h"
#include "client/cli_common.h"
#include "client/handover_client.h"

namespace handover::client {

// Adds the "doc" command; the chosen subcommand sets `*run`. `settings` must
// outlive the parse and the run.
void AddDocumentCommands(CLI::App& app, const Settings& settings,
                         std::function<absl::Status(HandoverClient&)>* run);

}  // namespace handover::client
