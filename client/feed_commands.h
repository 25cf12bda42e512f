// handoverctl sync|watch: the long-running commands that follow the change
// feed until interrupted.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "absl/status/status.h"
#include "client/cli_common.h"
#include "client/handover_client.h"

namespace handover::client {

// Adds "sync" and "watch"; the chosen command sets `*run` and `*follows_feed`.
// `settings` must outlive the parse and the run.
void AddFeedCommands(CLI::App& app, const Settings& settings,
                     std::function<absl::Status(HandoverClient&)>* run, bool* follows_feed);

// Blocks SIGINT and SIGTERM in the calling thread and in the threads it starts
// later, so that a feed command stops cleanly on them. Call before any thread
// starts (before connecting).
void BlockStopSignals();

}  // namespace handover::client
