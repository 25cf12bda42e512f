// handoverctl: look cases up and script the handover exchange from a terminal.
// Main wires the global options and dispatches; each command lives with its
// group: case_commands, feed_commands, document_commands, audit_commands,
// identity_commands.
#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>

#include "client/audit_commands.h"
#include "client/case_commands.h"
#include "client/cli_common.h"
#include "client/document_commands.h"
#include "client/exit_codes.h"
#include "client/feed_commands.h"
#include "client/handover_client.h"
#include "client/handshake_probe.h"
#include "client/identity_commands.h"

namespace handover::client {
namespace {

void AddGlobalOptions(CLI::App& app, Settings& settings) {
  app.set_config("--config", "", "INI file with any of the options below (key = value)")
      ->envname("HANDOVER_CONFIG");
  app.add_option("--server", settings.connection.server, "handoverd host:port")
      ->envname("HANDOVER_SERVER")
      ->capture_default_str();
  app.add_option("--cert", settings.connection.certificate_file,
                 "Your organisation's certificate (PEM)")
      ->envname("HANDOVER_CERT");
  app.add_option("--key", settings.connection.private_key_file, "Its private key (PEM)")
      ->envname("HANDOVER_KEY");
  app.add_option("--ca", settings.connection.ca_file, "CA of the server certificate (PEM)")
      ->envname("HANDOVER_CA");
  app.add_option("--actor", settings.connection.actor,
                 "Who is acting: your caseworker id or system account")
      ->envname("HANDOVER_ACTOR");
  app.add_option("--purpose", settings.connection.purpose,
                 "Why you access the data, recorded in the access log (a-z 0-9 . _ : -)")
      ->envname("HANDOVER_PURPOSE");
  app.add_option("--output,-o", settings.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--timeout", settings.timeout_seconds, "Seconds per call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

absl::StatusOr<std::unique_ptr<HandoverClient>> ConnectWith(const Settings& settings) {
  ClientOptions options = settings.connection;
  options.timeout = std::chrono::seconds(settings.timeout_seconds);
  return HandoverClient::Connect(options);
}

}  // namespace

int Main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"handoverctl: look up and exchange refugee handover forms"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command
  AddGlobalOptions(app, settings);

  // The chosen command sets one of these while parsing; it is called after.
  std::function<absl::Status(HandoverClient&)> run;  // needs a connection
  std::function<absl::Status()> run_offline;         // needs none
  bool follows_feed = false;                         // long-running: stop cleanly on SIGINT/SIGTERM
  // In this order in the help.
  AddCaseCommands(app, settings, &run);
  AddFeedCommands(app, settings, &run, &follows_feed);
  AddEraseCommand(app, &run);
  AddDocumentCommands(app, settings, &run);
  AddAuditCommands(app, settings, &run, &run_offline);
  AddIdentityCommands(app, settings, &run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (follows_feed) BlockStopSignals();  // before connecting starts threads
  absl::Status status;
  if (run_offline) {
    status = run_offline();
  } else if (auto client = ConnectWith(settings); !client.ok()) {
    status = client.status();
  } else {
    status = run(**client);
  }
  if (status.code() == absl::StatusCode::kUnavailable) {
    // Maybe not an outage: a server that does not trust our certificate's
    // issuer closes the connection without saying why (handshake_probe.h).
    if (absl::Status why = CheckServerAcceptsOurIssuer(settings.connection.server,
                                                       settings.connection.certificate_file,
                                                       std::chrono::seconds(5));
        !why.ok()) {
      status = why;
    }
  }
  if (!status.ok()) std::cerr << ErrorLine(status) << "\n";
  return ExitCodeFor(status);
}

}  // namespace handover::client

int main(int argc, char** argv) { return handover::client::Main(argc, argv); }
