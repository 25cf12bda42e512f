#include "client/feed_commands.h"

#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "client/sync_agent.h"
#include "client/text_view.h"
#include "common/json.h"

namespace handover::client {
namespace {

sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// Runs `stop` once on the first SIGINT or SIGTERM, from a watcher thread. The
// signals must have been blocked before any thread started.
void StopOnSignal(std::function<void()> stop) {
  std::thread([signals = StopSignals(), stop = std::move(stop)] {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    stop();
  }).detach();
}

using Run = std::function<absl::Status(HandoverClient&)>;

void AddSyncCommand(CLI::App& app, Run* run, bool* follows_feed) {
  struct Args {
    std::string into;
    bool follow = false;
  };
  auto args = std::make_shared<Args>();
  auto* sync = app.add_subcommand(
      "sync", "Mirror your cases into a directory (one JSON file per case) from the change feed");
  sync->add_option("--into", args->into, "Directory to keep current (created if missing)")
      ->required();
  sync->add_flag("--follow", args->follow, "Keep following live changes until interrupted");
  sync->callback([args, run, follows_feed] {
    *follows_feed = true;
    *run = [args](HandoverClient& client) -> absl::Status {
      SyncAgent agent(&client, args->into);
      StopOnSignal([&agent] { agent.Stop(); });
      absl::Status status = args->follow ? agent.Follow() : agent.CatchUp();
      const SyncStats& s = agent.stats();
      std::cerr << "sync: at revision " << agent.cursor() << "; " << s.events << " events, "
                << s.files_written << " files written, " << s.files_deleted << " deleted, "
                << s.snapshots << " snapshots\n";
      return status;
    };
  });
}

void AddWatchCommand(CLI::App& app, const Settings& settings, Run* run, bool* follows_feed) {
  struct Args {
    int64_t after = 0;
    bool progress = false;
  };
  auto args = std::make_shared<Args>();
  auto* watch = app.add_subcommand("watch", "Print changes to your cases as they commit");
  watch->add_option("--after", args->after, "Start after this revision (default: all retained)");
  watch->add_flag("--progress", args->progress, "Also print progress revisions");
  watch->callback([&settings, args, run, follows_feed] {
    *follows_feed = true;
    *run = [&settings, args](HandoverClient& client) -> absl::Status {
      v1::WatchRequest request;
      request.set_after_revision(args->after);
      std::unique_ptr<WatchStream> stream = client.Watch(request);
      StopOnSignal([&stream] { stream->Cancel(); });
      v1::WatchResponse item;
      while (stream->Next(&item)) {
        if (item.has_progress_revision() && !args->progress) continue;
        if (settings.output == "json") {
          std::cout << ToJsonLine(item) << std::endl;
        } else if (item.has_event()) {
          std::cout << RenderEventLine(item.event()) << std::endl;
        } else {
          std::cout << "progress " << item.progress_revision() << std::endl;
        }
      }
      absl::Status status = stream->Finish();
      return status.code() == absl::StatusCode::kCancelled ? absl::OkStatus() : status;
    };
  });
}

}  // namespace

void AddFeedCommands(CLI::App& app, const Settings& settings, Run* run, bool* follows_feed) {
  AddSyncCommand(app, run, follows_feed);
  AddWatchCommand(app, settings, run, follows_feed);
}

void BlockStopSignals() {
  const sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

}  // namespace handover::client
