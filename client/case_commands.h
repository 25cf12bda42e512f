// handoverctl list|find|show|history|push|assign|consent|erase.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "absl/status/status.h"
#include "client/cli_common.h"
#include "client/handover_client.h"

namespace handover::client {

// Adds "list", "find", "show", "history", "push", "assign" and "consent"; the
// chosen command sets `*run`. `settings` must outlive the parse and the run.
void AddCaseCommands(CLI::App& app, const Settings& settings,
                     std::function<absl::Status(HandoverClient&)>* run);

// Adds "erase" (apart from the others: the help lists it after the feed
// commands). Same contract as AddCaseCommands.
void AddEraseCommand(CLI::App& app, std::function<absl::Status(HandoverClient&)>* run);

}  // namespace handover::client
