// handoverd: the handover exchange daemon.
#include <csignal>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "server/logging.h"
#include "server/server.h"
#include "server/store/database.h"

namespace {

// Wait for SIGINT/SIGTERM on a dedicated thread, then shut the server down.
void ShutdownOnSignal(handover::HandoverServer* server) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("signal {} received, shutting down", signal_number);
  server->Shutdown();
}

}  // namespace

int main(int argc, char** argv) {
  handover::ServerOptions options;
  CLI::App app{"handoverd: the handover exchange service (gRPC over mutual TLS)"};
  app.set_config("--config", "", "Read options from this INI/TOML file; flags override it");
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is an error
  std::string log_format = "text";
  app.add_option("--log-format", log_format, "text, or json (one JSON object per line)")
      ->capture_default_str();
  app.add_option("--listen", options.listen_address, "host:port to listen on")
      ->capture_default_str();
  app.add_option("--cert", options.certificate_file, "Server certificate chain (PEM); required");
  app.add_option("--key", options.private_key_file, "Server private key (PEM); required");
  app.add_option("--client-ca", options.client_ca_file,
                 "CA that client certificates must chain to (PEM); required");
  app.add_option("--oces-ca", options.oces_ca_file,
                 "OCES issuing CA(s) among --client-ca whose certificates are named by CVR "
                 "(PEM); needs --organisation-register");
  app.add_option("--organisation-register", options.organisation_register_file,
                 "TOML file naming each CVR: role, municipality code or id (re-read on change)");
  app.add_option("--register-refresh-seconds", options.register_refresh_seconds,
                 "How often the organisation register is looked at for changes")
      ->capture_default_str();
  app.add_option("--crl-dir", options.crl_directory,
                 "Directory of CRLs (PEM or DER, any names), a current one from every CA of a "
                 "client chain, checked at every call");
  app.add_option("--crl-refresh-seconds", options.crl_refresh_seconds,
                 "How often --crl-dir and --client-ca are looked at for changes")
      ->capture_default_str();
  app.add_option("--tls-refresh-seconds", options.tls_refresh_seconds,
                 "How often certificate files are re-read")
      ->capture_default_str();
  app.add_option("--database", options.database_path,
                 "The database: a SQLite file path, sqlite:///path, or "
                 "postgresql://user@host/db (password from PGPASSFILE or PGPASSWORD)")
      ->capture_default_str();
  app.add_option("--staging-dir", options.staging_directory,
                 "Where uploads are staged (default: beside a SQLite file; for PostgreSQL "
                 "handoverd.staging, one per replica)");
  app.add_option("--key-file", options.key_file, "Encryption key file (mode 0600); required");
  app.add_option("--trust-domain", options.service.trust_domain,
                 "SPIFFE trust domain of client certificates")
      ->capture_default_str();
  app.add_option("--max-message-bytes", options.max_receive_message_bytes,
                 "Largest request accepted")
      ->capture_default_str();
  app.add_option("--max-page-size", options.service.max_page_size, "Largest page returned")
      ->capture_default_str();
  app.add_option("--max-text-bytes", options.service.form_limits.max_text_bytes,
                 "Longest text field in a form")
      ->capture_default_str();
  app.add_option("--max-list-items", options.service.form_limits.max_list_items,
                 "Most items in a list field of a form")
      ->capture_default_str();
  app.add_option("--max-document-bytes", options.service.documents.max_bytes,
                 "Largest document accepted")
      ->capture_default_str();
  app.add_option("--document-media-types", options.service.documents.media_types,
                 "Media types accepted for documents, checked against the content")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--max-open-uploads", options.service.documents.uploads.max_open,
                 "Most uploads receiving content at once; more get RESOURCE_EXHAUSTED")
      ->capture_default_str();
  app.add_option("--max-open-uploads-per-organisation",
                 options.service.documents.uploads.max_open_per_organisation,
                 "Most uploads one organisation has open at once")
      ->capture_default_str();
  app.add_option("--max-open-uploads-per-connection",
                 options.service.documents.uploads.max_open_per_connection,
                 "Most uploads open at once on one client connection")
      ->capture_default_str();
  auto seconds = [](std::chrono::seconds* out) {
    return [out](int64_t value) { *out = std::chrono::seconds(value); };
  };
  app.add_option_function<int64_t>("--feed-retention-seconds", seconds(&options.feed_retention),
                                   "Feed history kept (default 30 days)");
  app.add_option_function<int64_t>("--feed-compaction-seconds",
                                   seconds(&options.feed_compaction_interval),
                                   "How often old feed history is dropped (default 3600)");
  auto millis = [](std::chrono::milliseconds* out) {
    return [out](int64_t value) { *out = std::chrono::milliseconds(value); };
  };
  app.add_option_function<int64_t>("--watch-progress-ms",
                                   millis(&options.service.watch.progress_interval),
                                   "Progress revision interval on idle watches (default 5000)");
  app.add_option_function<int64_t>(
      "--watch-stall-ms", millis(&options.service.watch.stall_timeout),
      "Cut off a watcher that takes nothing for this long (default 30000)");
  app.add_option_function<int64_t>(
      "--upload-idle-ms", millis(&options.service.documents.uploads.idle_timeout),
      "Cancel an upload that receives nothing for this long (default 30000)");
  app.add_option("--audit-signing-key", options.audit_signing_key_file,
                 "Ed25519 private key (PEM, mode 0600) signing access log checkpoints; required");
  app.add_option_function<int64_t>("--checkpoint-seconds", seconds(&options.checkpoint_interval),
                                   "How often the access log head is signed (default 60)");
  app.add_option("--retention-days", options.retention_days_after_takeover,
                 "Erase personal data this many days after the takeover date (0: never)")
      ->capture_default_str();
  app.add_option_function<int64_t>("--retention-check-seconds",
                                   seconds(&options.retention_interval),
                                   "How often retention runs (default 3600)");
  app.add_option_function<int64_t>("--drain-ms", millis(&options.drain_delay),
                                   "On SIGTERM, report NOT_SERVING this long before stopping "
                                   "(default 2000)");
  app.add_option("--metrics-listen", options.metrics_listen_address,
                 "host:port of a plain-HTTP Prometheus endpoint (GET /metrics); off if empty");
  app.add_option("--reader-threads", options.readers.threads, "Read connections")
      ->capture_default_str();
  app.add_option("--write-batch", options.writer.max_batch, "Most writes per commit")
      ->capture_default_str();
  app.add_option("--write-queue", options.writer.max_queue,
                 "Most writes waiting; more get RESOURCE_EXHAUSTED at once")
      ->capture_default_str();
  app.add_option("--read-queue", options.readers.max_queue,
                 "Most reads waiting; more get RESOURCE_EXHAUSTED at once")
      ->capture_default_str();
  app.add_option("--max-concurrent-streams", options.max_concurrent_streams,
                 "Most calls in flight per client connection; more wait on the client")
      ->capture_default_str();
  app.add_option("--max-connections", options.connections.max_connections,
                 "Most client connections open at once; more are closed at once")
      ->capture_default_str();
  app.add_option("--max-connections-per-peer", options.connections.max_connections_per_peer,
                 "Most client connections open at once from one IP address")
      ->capture_default_str();
  app.add_option_function<int64_t>("--handshake-timeout-ms", millis(&options.handshake_timeout),
                                   "Close a connection that has not finished TLS by then "
                                   "(default 10000)");
  app.add_option_function<int64_t>("--keepalive-ms", millis(&options.keepalive_time),
                                   "Ping a connection idle this long (default 60000)");
  app.add_option_function<int64_t>("--keepalive-timeout-ms", millis(&options.keepalive_timeout),
                                   "Close it if the ping is not answered by then (default 20000)");
  app.add_option_function<int64_t>("--min-client-ping-ms",
                                   millis(&options.min_client_ping_interval),
                                   "Clients pinging more often are disconnected (default 30000)");
  app.add_option_function<int64_t>("--max-connection-idle-ms", millis(&options.max_connection_idle),
                                   "Close a connection without calls this long (default 300000)");
  app.add_option_function<int64_t>("--max-connection-age-ms", millis(&options.max_connection_age),
                                   "Close every connection after this long (default 3600000)");
  app.add_option_function<int64_t>("--max-connection-age-grace-ms",
                                   millis(&options.max_connection_age_grace),
                                   "Calls in flight then get this long to finish (default 300000)");
  app.add_option_function<uint64_t>(
      "--disk-reserve-mb",
      [&options](uint64_t mb) { options.disk_reserve_bytes = mb * 1024 * 1024; },
      "Free space kept on the database's disk; below it writes are refused (default 256; 0 off)");
  auto* backup = app.add_subcommand(
      "backup", "Copy the database online (while handoverd serves) and check the copy");
  std::string backup_out;
  backup->add_option("--out", backup_out, "The copy to write (must not exist)")->required();
  auto* backup_keys = app.add_subcommand(
      "backup-keys",
      "Copy the key store (the per-case data keys, beside the database) online and check the "
      "copy; keep such copies briefly: they bring erased cases' keys back");
  std::string backup_keys_out;
  backup_keys->add_option("--out", backup_keys_out, "The copy to write (must not exist)")
      ->required();
  auto* restore = app.add_subcommand(
      "restore",
      "Replace the database with a backup (handoverd must be stopped): revisions move past "
      "every one handed out, older history counts as compacted, the feed gets a new epoch");
  std::string restore_from;
  int64_t bump_revisions = handover::store::kDefaultRevisionBump;
  restore->add_option("--from", restore_from, "The backup to restore (from `backup --out`)")
      ->required();
  restore
      ->add_option("--bump-revisions", bump_revisions,
                   "Move the revision counter this far past the newest revision seen")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (absl::Status s = handover::ConfigureLogging(log_format); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }

  // Backup and restore work on the database as a whole.
  const absl::StatusOr<handover::store::DatabaseUrl> database =
      handover::store::ParseDatabaseUrl(options.database_path);
  if ((backup->parsed() || backup_keys->parsed() || restore->parsed()) && !database.ok()) {
    spdlog::error("{}", std::string(database.status().message()));
    return 1;
  }
  if (backup->parsed()) {
    absl::Status status = handover::store::BackupStore(*database, backup_out);
    if (!status.ok()) {
      spdlog::error("backup: {}", status.ToString());
      return 1;
    }
    spdlog::info("backup written to {} and checked", backup_out);
    return 0;
  }
  if (backup_keys->parsed()) {
    if (options.key_file.empty()) {
      spdlog::error(
          "backup-keys: key-file: required (--key-file, or key-file in --config): the "
          "key store's keys are checked with it");
      return 1;
    }
    auto ring = handover::KeyRing::LoadFile(options.key_file);
    absl::Status status =
        ring.ok() ? handover::store::BackupKeyStore(
                        *database, std::make_shared<const handover::KeyRing>(*std::move(ring)),
                        backup_keys_out)
                  : ring.status();
    if (!status.ok()) {
      spdlog::error("backup-keys: {}", status.ToString());
      return 1;
    }
    spdlog::info("key store copied to {} and checked; keep it briefly", backup_keys_out);
    return 0;
  }
  if (restore->parsed()) {
    auto restored = handover::store::RestoreStore(*database, restore_from, bump_revisions);
    if (!restored.ok()) {
      spdlog::error("restore: {}", restored.status().ToString());
      return 1;
    }
    spdlog::info(
        "restored {} from {}: backup head revision {}, replaced database's head {}; new events "
        "follow revision {}, older cursors get OUT_OF_RANGE and re-sync from a snapshot; feed "
        "epoch {}",
        options.database_path, restore_from, restored->backup_head,
        restored->replaced_head ? std::to_string(*restored->replaced_head) : "unknown",
        restored->base_revision, restored->feed_epoch);
    if (!restored->replaced_path.empty()) {
      spdlog::info("the replaced database is kept as {}", restored->replaced_path);
    }
    return 0;
  }

  // Block the signals before any thread starts, so only the waiter receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = handover::HandoverServer::Start(options);
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().ToString());
    return 1;
  }
  spdlog::info("handoverd listening on port {} (mutual TLS, trust domain {})", (*server)->port(),
               options.service.trust_domain);
  if ((*server)->metrics_port() != 0) {
    spdlog::info("metrics on port {} (GET /metrics)", (*server)->metrics_port());
  }
  std::thread waiter(ShutdownOnSignal, server->get());
  (*server)->Wait();
  waiter.join();
  spdlog::info("stopped");
  return 0;
}
