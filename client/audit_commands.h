// handoverctl audit query|export|verify|subject.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "absl/status/status.h"
#include "client/cli_common.h"
#include "client/handover_client.h"

namespace handover::client {

// Adds the "audit" command. The chosen subcommand sets `*run`, or, for
// "verify", which needs no server, `*run_offline`. `settings` must outlive the
// parse and the run.
void AddAuditCommands(CLI::App& app, const Settings& settings,
                      std::function<absl::Status(HandoverClient&)>* run,
                      std::function<absl::Status()>* run_offline);

}  // namespace handover::client
