// handoverctl whoami: how the server sees you.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "absl/status/status.h"
#include "client/cli_common.h"
#include "client/handover_client.h"

namespace handover::client {

// Adds "whoami", which asks the server how it names this client's
// certificate and actor (WhoAmI) and prints it (RenderWhoAmI, or the
// response as JSON with --output json); the command sets `*run`. `settings`
// must outlive the parse and the run.
void AddIdentityCommands(CLI::App& app, const Settings& settings,
                         std::function<absl::Status(HandoverClient&)>* run);

}  // namespace handover::client
