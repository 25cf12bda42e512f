#include "client/identity_commands.h"

#include "client/text_view.h"

namespace handover::client {

void AddIdentityCommands(CLI::App& app, const Settings& settings,
                         std::function<absl::Status(HandoverClient&)>* run) {
  auto* whoami = app.add_subcommand(
      "whoami", "Show how the server sees you: role, organisation, certificate expiry");
  whoami->callback([&settings, run] {
    *run = [&settings](HandoverClient& client) -> absl::Status {
      auto me = client.WhoAmI();
      if (!me.ok()) return me.status();
      Print(settings, *me, RenderWhoAmI(*me, absl::Now()));
      return absl::OkStatus();
    };
  });
}

}  // namespace handover::client
