// The handover server's lifecycle: open the store, listen with mutual TLS,
// serve HandoverService, AuditService and DocumentService plus grpc.health.v1
// and server reflection (and, if configured, Prometheus metrics over plain
// HTTP), run the periodic jobs (feed compaction, retention, access-log
// checkpoints, key-file reload and re-encryption), shut down cleanly. Used by
// handoverd and, in-process, by the tests.
#pragma once

#include <grpcpp/server.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "server/feed/feed_hub.h"
#include "server/metrics/metrics_endpoint.h"
#include "server/metrics/rpc_metrics.h"
#include "server/net/connection_listener.h"
#include "server/service/audit_service.h"
#include "server/service/document_service.h"
#include "server/service/handover_service.h"
#include "server/store/disk_space.h"
#include "server/store/domain_store.h"

namespace handover {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see HandoverServer::port).
  // Default "127.0.0.1:7443".
  std::string listen_address = "127.0.0.1:7443";
  // PEM files: the server's certificate chain and key, and the CA that client
  // certificates must chain to. Re-read every `tls_refresh_seconds`, so new
  // connections use renewed files without a restart. All three required.
  std::string certificate_file;
  std::string private_key_file;
  std::string client_ca_file;
  // Default 60.
  unsigned tls_refresh_seconds = 60;
  // OCES3 organisation certificates (identity/caller_naming.h): the OCES
  // issuing CA(s) among client_ca_file's anchors whose certificates are
  // named by CVR, and the organisation register naming each CVR
  // (identity/organisation_register.h), re-read when it changes. Both or
  // neither. Default: neither (SPIFFE names only).
  std::string oces_ca_file;
  std::string organisation_register_file;
  // How often the register file is looked at for changes. Default 10.
  unsigned register_refresh_seconds = 10;
  // A directory of CRLs (PEM or DER, any file names), a current CRL from
  // every CA of a client certificate's chain, anchors included, checked at
  // every call (identity/certificate_trust.h). Default empty: no revocation
  // checking.
  std::string crl_directory;
  // How often client_ca_file and the CRL directory are looked at for
  // changes by the server's own checks. Default 10.
  unsigned crl_refresh_seconds = 10;
  // The database: a SQLite file, created if missing, as a path or a
  // "sqlite://" URL, or a PostgreSQL "postgresql://" URL (see
  // store::ParseDatabaseUrl). Default "handover.db".
  std::string database_path = "handover.db";
  // Where uploads are staged before they commit (store::StagingDirectory);
  // empty: beside a SQLite file, or "handoverd.staging" for PostgreSQL.
  std::string staging_directory;
  // Encryption key file (see common/crypto.h); must be mode 0600 or 0400.
  // Re-read when it changes: data is then re-encrypted under its current key.
  std::string key_file;
  // On shutdown, health reports NOT_SERVING for this long while calls are
  // still served, so load balancers move away first. Default 2 s.
  std::chrono::milliseconds drain_delay{2000};
  // Largest request message accepted; larger ones get RESOURCE_EXHAUSTED,
  // recorded in the access log (up to twice this size; beyond that gRPC's
  // core drops the call before the service sees it). Default 4 MiB.
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // Most calls in flight on one client connection (HTTP/2
  // SETTINGS_MAX_CONCURRENT_STREAMS); a client's further calls wait on its
  // side until one ends, so an overloading client cannot make the server
  // buffer its calls. Default 100 (RFC 9113 asks for no fewer).
  int max_concurrent_streams = 100;
  // Connections open at once, in all and per peer address (see
  // server/net/connection_listener.h). The process's file limit is raised to
  // fit, or the server refuses to start.
  net::ConnectionLimits connections;
  // A connection that has not finished its TLS handshake by then is closed.
  // Default 10 s.
  std::chrono::milliseconds handshake_timeout{10000};
  // The server pings a connection idle this long, and closes it if the ping
  // is not answered within keepalive_timeout. Defaults 60 s and 20 s.
  std::chrono::milliseconds keepalive_time{60000};
  std::chrono::milliseconds keepalive_timeout{20000};
  // Clients may ping at most this often (more often twice, and the server
  // closes the connection with GOAWAY "too_many_pings"). Default 30 s.
  std::chrono::milliseconds min_client_ping_interval{30000};
  // A connection without calls for this long is closed (the client reconnects
  // when it next calls). Default 5 minutes.
  std::chrono::milliseconds max_connection_idle{300000};
  // Every connection is closed after this long, calls in flight given
  // max_connection_age_grace to finish (Watch streams end with UNAVAILABLE and
  // resume): a certificate's revocation or an organisation's removal reaches
  // an open connection within age + grace. Defaults 1 hour and 5 minutes.
  std::chrono::milliseconds max_connection_age{3600000};
  std::chrono::milliseconds max_connection_age_grace{300000};
  service::ServiceOptions service;
  // Feed events older than this are compacted away (clients then re-sync from
  // a snapshot). Default 30 days.
  std::chrono::seconds feed_retention{30 * 24 * 3600};
  // How often compaction runs. Default 1 hour.
  std::chrono::seconds feed_compaction_interval{3600};
  // Ed25519 private key (PEM, mode 0600) that signs access log checkpoints.
  // Required.
  std::string audit_signing_key_file;
  // How often a checkpoint of the access log is signed. Default 60 s.
  std::chrono::seconds checkpoint_interval{60};
  // A case's personal data is erased this long after its integration-
  // responsibility takeover date. Default 365 days; 0 turns retention off.
  int retention_days_after_takeover = 365;
  // How often retention runs. Default 1 hour.
  std::chrono::seconds retention_interval{3600};
  store::WriterOptions writer;
  store::ReaderOptions readers;
  // Free space kept on the database's filesystem: below it client writes get
  // UNAVAILABLE, health reports NOT_SERVING, reads go on (server/store/
  // disk_space.h). 0 turns it off. Default 256 MiB.
  uint64_t disk_reserve_bytes = 256ull * 1024 * 1024;
  // host:port of the plain-HTTP Prometheus endpoint (GET /metrics); empty
  // turns it off. Default off.
  std::string metrics_listen_address;
};

// Checks every option's value (not the files): INVALID_ARGUMENT naming the
// option as in the config file, e.g. "max-page-size: must be from 1 to 10000".
absl::Status ValidateOptions(const ServerOptions& options);

class HandoverServer {
 public:
  // Opens the key file, the audit signing key and the database and starts
  // listening. Fails with a message naming the option at fault, and if the key
  // file lacks a key that stored data still uses.
  static absl::StatusOr<std::unique_ptr<HandoverServer>> Start(const ServerOptions& options);
  // Shuts down (if not yet) and closes the database.
  ~HandoverServer();

  // The port actually bound.
  int port() const { return port_; }
  // Connections open and refused so far.
  net::ConnectionStats connection_stats() const { return listener_->Stats(); }
  // The metrics endpoint's port; 0 when it is off.
  int metrics_port() const;
  // Everything GET /metrics serves.
  std::string RenderMetrics() const;
  // The store and the feed hub, for tests and administration.
  store::DomainStore* store() { return store_.get(); }
  feed::FeedHub* hub() { return hub_.get(); }
  // Blocks until Shutdown.
  void Wait();
  // Reports NOT_SERVING on grpc.health.v1 for drain_delay (still serving),
  // ends Watch streams, stops accepting connections and calls, lets in-flight
  // calls finish until `deadline` (half a second, so that a SIGTERM stops
  // the server within the drain time and a second), then cancels the rest
  // and closes every connection, idle ones included. Safe to call more than once and
  // from another thread.
  void Shutdown(std::chrono::milliseconds deadline = std::chrono::milliseconds(500));

 private:
  HandoverServer() = default;

  // Health of the server ("") and of each service by name; writes_ok false
  // (disk below its reserve) reports the writing services NOT_SERVING.
  void SetHealth(bool serving, bool writes_ok);

  std::unique_ptr<metrics::RpcMetrics> rpc_metrics_;  // outlives server_
  std::unique_ptr<store::DiskSpace> disk_;            // outlives store_
  std::unique_ptr<store::DomainStore> store_;
  std::unique_ptr<feed::FeedHub> hub_;
  std::unique_ptr<service::HandoverService> service_;
  std::unique_ptr<service::AuditService> audit_service_;
  std::unique_ptr<service::DocumentService> document_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<net::ConnectionListener> listener_;  // stopped before server_
  std::unique_ptr<metrics::MetricsEndpoint> metrics_endpoint_;
  int port_ = 0;
  std::chrono::milliseconds drain_delay_{0};
  std::once_flag shutdown_once_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace handover
