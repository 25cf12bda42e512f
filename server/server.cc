#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/dates.h"
#include "common/media_types.h"
#include "common/signing.h"
#include "server/identity/caller_naming.h"
#include "server/maintenance/maintenance_jobs.h"
#include "server/metrics/server_gauges.h"
#include "server/service/undelivered_requests.h"
#include "server/store/database.h"
#include "server/tls_credentials.h"

namespace handover {
namespace {

absl::Status RequireFile(const std::string& path, const char* option) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(option, ": required"));
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat(option, ": no such file ", path));
  }
  return absl::OkStatus();
}

maintenance::MaintenanceOptions MaintenanceOptionsOf(const ServerOptions& options) {
  return {.feed_retention = options.feed_retention,
          .feed_compaction_interval = options.feed_compaction_interval,
          .checkpoint_interval = options.checkpoint_interval,
          .retention_days_after_takeover = options.retention_days_after_takeover,
          .retention_interval = options.retention_interval,
          .key_file = options.key_file};
}

absl::Status Range(const char* option, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    return absl::InvalidArgumentError(absl::StrCat(option, ": must be from ", low, " to ", high));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateOptions(const ServerOptions& o) {
  const auto& domain = o.service.trust_domain;
  if (domain.empty() || domain.size() > 255 ||
      domain.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) {
    return absl::InvalidArgumentError(
        "trust-domain: required, lower-case letters, digits, dots and hyphens");
  }
  if (o.listen_address.find(':') == std::string::npos) {
    return absl::InvalidArgumentError("listen: must be host:port");
  }
  if (auto url = store::ParseDatabaseUrl(o.database_path); !url.ok()) return url.status();
  if (o.oces_ca_file.empty() != o.organisation_register_file.empty()) {
    return absl::InvalidArgumentError(
        "oces-ca: needs organisation-register, which names each CVR (and the other way round)");
  }
  if (!o.metrics_listen_address.empty() &&
      o.metrics_listen_address.find(':') == std::string::npos) {
    return absl::InvalidArgumentError("metrics-listen: must be host:port");
  }
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const int64_t day_ms = 24 * 3600 * 1000;
  for (absl::Status s : {
           Range("max-message-bytes", o.max_receive_message_bytes, 64 * 1024, 1 << 30),
           Range("max-concurrent-streams", o.max_concurrent_streams, 1, 100000),
           Range("max-connections", o.connections.max_connections, 1, 1000000),
           Range("disk-reserve-mb", static_cast<int64_t>(o.disk_reserve_bytes >> 20), 0, 1 << 20),
           Range("max-connections-per-peer", o.connections.max_connections_per_peer, 1, 1000000),
           Range("handshake-timeout-ms", o.handshake_timeout.count(), 100, 600000),
           Range("keepalive-ms", o.keepalive_time.count(), 1000, day_ms),
           Range("keepalive-timeout-ms", o.keepalive_timeout.count(), 100, 600000),
           Range("min-client-ping-ms", o.min_client_ping_interval.count(), 1000, day_ms),
           Range("max-connection-idle-ms", o.max_connection_idle.count(), 1000, day_ms),
           Range("max-connection-age-ms", o.max_connection_age.count(), 1000, 7 * day_ms),
           Range("max-connection-age-grace-ms", o.max_connection_age_grace.count(), 0, day_ms),
           Range("max-page-size", o.service.max_page_size, 1, 10000),
           Range("max-text-bytes", static_cast<int64_t>(o.service.form_limits.max_text_bytes), 16,
                 1 << 20),
           Range("max-document-bytes", o.service.documents.max_bytes, 1, 1L << 30),
           Range("max-open-uploads", o.service.documents.uploads.max_open, 1, 100000),
           Range("max-open-uploads-per-organisation",
                 o.service.documents.uploads.max_open_per_organisation, 1, 100000),
           Range("max-open-uploads-per-connection",
                 o.service.documents.uploads.max_open_per_connection, 1, 100000),
           Range("upload-idle-ms", o.service.documents.uploads.idle_timeout.count(), 100, day_ms),
           Range("max-list-items", static_cast<int64_t>(o.service.form_limits.max_list_items), 1,
                 10000),
           Range("reader-threads", o.readers.threads, 1, 256),
           Range("write-batch", static_cast<int64_t>(o.writer.max_batch), 1, 100000),
           Range("write-queue", static_cast<int64_t>(o.writer.max_queue), 1, 1000000),
           Range("read-queue", static_cast<int64_t>(o.readers.max_queue), 1, 1000000),
           Range("tls-refresh-seconds", o.tls_refresh_seconds, 1, 86400),
           Range("crl-refresh-seconds", o.crl_refresh_seconds, 1, 86400),
           Range("watch-progress-ms", o.service.watch.progress_interval.count(), 10, 3600000),
           Range("watch-stall-ms", o.service.watch.stall_timeout.count(), 100, day_ms),
           Range("drain-ms", o.drain_delay.count(), 0, 600000),
           Range("feed-retention-seconds", o.feed_retention.count(), 60, 10L * 365 * 86400),
           Range("feed-compaction-seconds", o.feed_compaction_interval.count(), 1, 86400),
           Range("checkpoint-seconds", o.checkpoint_interval.count(), 1, 86400),
           Range("retention-days", o.retention_days_after_takeover, 0, 100 * 365),
           Range("retention-check-seconds", o.retention_interval.count(), 1, 86400 * 7),
       }) {
    if (!s.ok()) return s;
  }
  if (o.service.documents.media_types.empty()) {
    return absl::InvalidArgumentError("document-media-types: at least one media type");
  }
  for (const std::string& type : o.service.documents.media_types) {
    if (!IsRecognisedMediaType(type)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "document-media-types: ", type,
          " is not a type the server can recognise by content (application/pdf, image/png, "
          "image/jpeg, text/plain)"));
    }
  }
  if (o.service.default_page_size > o.service.max_page_size) {
    return absl::InvalidArgumentError("max-page-size: must be at least the default page size 50");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<HandoverServer>> HandoverServer::Start(
    const ServerOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  // Named as in the config file and on the command line.
  for (auto [path, option] :
       {std::pair{&options.certificate_file, "cert"}, std::pair{&options.private_key_file, "key"},
        std::pair{&options.client_ca_file, "client-ca"}, std::pair{&options.key_file, "key-file"},
        std::pair{&options.audit_signing_key_file, "audit-signing-key"}}) {
    if (absl::Status s = RequireFile(*path, option); !s.ok()) return s;
  }
  service::ServiceOptions service_options = options.service;
  auto trust = identity::CertificateTrust::Open(
      options.client_ca_file, options.crl_directory,
      {.check_interval = absl::Seconds(options.crl_refresh_seconds)});
  if (!trust.ok()) return trust.status();
  const identity::CertificateChecks checks{
      .trust = *std::move(trust), .refusals = std::make_shared<identity::CertificateRefusalLog>()};
  if (!options.oces_ca_file.empty()) {
    if (absl::Status s = RequireFile(options.oces_ca_file, "oces-ca"); !s.ok()) return s;
    auto organisations = identity::RegisterWatcher::Start(
        options.organisation_register_file,
        {.check_interval = absl::Seconds(options.register_refresh_seconds)});
    if (!organisations.ok()) return organisations.status();
    auto naming = identity::CallerNaming::WithOces(
        options.service.trust_domain, options.oces_ca_file, *std::move(organisations), checks);
    if (!naming.ok()) return naming.status();
    service_options.caller_naming = *std::move(naming);
  } else {
    service_options.caller_naming =
        std::make_shared<const identity::CallerNaming>(options.service.trust_domain, checks);
  }
  absl::StatusOr<KeyRing> keys = KeyRing::LoadFile(options.key_file);
  if (!keys.ok()) return keys.status();
  absl::StatusOr<Signer> signer = Signer::LoadPrivateKey(options.audit_signing_key_file);
  if (!signer.ok()) return signer.status();
  const std::string public_key_pem = signer->public_key_pem();
  const store::DatabaseUrl url = *store::ParseDatabaseUrl(options.database_path);  // validated

  const std::string staging = store::StagingDirectory(url, options.staging_directory);
  std::unique_ptr<HandoverServer> server(new HandoverServer());
  server->disk_ = std::make_unique<store::DiskSpace>(store::DatabaseDirectory(url, staging),
                                                     options.disk_reserve_bytes,
                                                     [raw = server.get()](bool low) {
                                                       if (raw->server_ && !raw->shutting_down_)
                                                         raw->SetHealth(true, !low);
                                                     });
  auto ring = std::make_shared<const KeyRing>(*std::move(keys));
  store::OpenOptions open{.writer = options.writer, .readers = options.readers};
  open.domain.signer = std::make_shared<const Signer>(*std::move(signer));
  open.domain.disk = server->disk_.get();
  open.staging_directory = staging;
  auto store = store::OpenDatabase(url, std::move(open), ring);
  if (!store.ok()) return store.status();
  server->store_ = *std::move(store);
  // Refuse to start if the key file lacks a key that stored data still uses.
  std::promise<absl::StatusOr<bool>> keys_checked;
  server->store_->ReplaceKeys(ring, [&](absl::StatusOr<bool> r) { keys_checked.set_value(r); });
  if (absl::Status s = keys_checked.get_future().get().status(); !s.ok()) return s;
  store::DomainStore* raw_store = server->store_.get();
  // The hub's ticker drives progress events and stall checks, ten times per
  // progress interval (so an idle stream's progress comes within a tenth of
  // the interval after it is due), and the periodic jobs when they are due.
  server->hub_ = std::make_unique<feed::FeedHub>(
      std::max(std::chrono::milliseconds(10), options.service.watch.progress_interval / 10),
      [jobs = maintenance::MaintenanceJobs(raw_store, MaintenanceOptionsOf(options)),
       disk = server->disk_.get()] {
        disk->Low();  // notices space freed or used up while no write asked
        jobs();
      });
  raw_store->SetCommitListener([hub = server->hub_.get()](std::vector<store::CommittedEvent> events,
                                                          int64_t compacted_through) {
    hub->NotifyCommit(std::move(events), compacted_through);
  });
  service_options.max_request_bytes = static_cast<size_t>(options.max_receive_message_bytes);
  server->service_ = std::make_unique<service::HandoverService>(
      server->store_.get(), server->hub_.get(), service_options);
  server->audit_service_ = std::make_unique<service::AuditService>(server->store_.get(),
                                                                   public_key_pem, service_options);
  server->document_service_ =
      std::make_unique<service::DocumentService>(server->store_.get(), service_options);

  if (absl::Status s = net::EnsureDescriptorLimit(options.connections); !s.ok()) return s;
  auto listener = net::ConnectionListener::Bind(options.listen_address, options.connections);
  if (!listener.ok()) return listener.status();
  server->listener_ = *std::move(listener);
  server->port_ = server->listener_->port();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  server->rpc_metrics_ = std::make_unique<metrics::RpcMetrics>();
  grpc::ServerBuilder builder;
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(server->rpc_metrics_->InterceptorFactory());
  interceptors.push_back(service::UndeliveredRequestInterceptorFactory(
      server->store_.get(), service_options.caller_naming));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  // Connections come only through the listener, which caps them.
  auto acceptor = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
      MutualTlsCredentials(options.certificate_file, options.private_key_file,
                           options.client_ca_file, options.tls_refresh_seconds, checks.trust,
                           checks.refusals));
  // The service refuses requests over max-message-bytes itself, with an
  // access record; gRPC's core refuses only those over twice that, before any
  // code of ours sees them (unrecorded: the core drops the call unseen).
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<int64_t>(2LL * options.max_receive_message_bytes, INT32_MAX)));
  // Bound what one stream may send ahead of the handler (an upload whose
  // handler is slow): a fixed 4 MiB HTTP/2 window instead of one that grows
  // with the measured bandwidth-delay product.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4 * 1024 * 1024);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  // How long a connection may live, idle or not, and how it is kept alive.
  const auto ms = [](std::chrono::milliseconds d) { return static_cast<int>(d.count()); };
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, ms(options.handshake_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, ms(options.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(options.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             ms(options.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, ms(options.max_connection_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, ms(options.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             ms(options.max_connection_age_grace));
  builder.RegisterService(server->service_.get());
  builder.RegisterService(server->audit_service_.get());
  builder.RegisterService(server->document_service_.get());
  server->server_ = builder.BuildAndStart();
  if (!server->server_) {
    return absl::UnavailableError(absl::StrCat("listen: cannot serve on ", options.listen_address));
  }
  server->listener_->Run(std::move(acceptor));
  if (!options.metrics_listen_address.empty()) {
    auto endpoint = metrics::MetricsEndpoint::Start(
        options.metrics_listen_address, [raw = server.get()] { return raw->RenderMetrics(); });
    if (!endpoint.ok()) return endpoint.status();
    server->metrics_endpoint_ = *std::move(endpoint);
  }
  server->drain_delay_ = options.drain_delay;
  server->SetHealth(true, !server->disk_->Low());
  return server;
}

void HandoverServer::SetHealth(bool serving, bool writes_ok) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus("", serving && writes_ok);
  health->SetServingStatus(v1::HandoverService::service_full_name(), serving && writes_ok);
  health->SetServingStatus(v1::DocumentService::service_full_name(), serving && writes_ok);
  health->SetServingStatus(v1::AuditService::service_full_name(), serving);
}

int HandoverServer::metrics_port() const {
  return metrics_endpoint_ ? metrics_endpoint_->port() : 0;
}

std::string HandoverServer::RenderMetrics() const {
  std::string text;
  rpc_metrics_->AppendPrometheus(&text);
  metrics::AppendServerGauges({.writer = store_->write_stats(),
                               .watchers = hub_->watcher_count(),
                               .database_bytes = store_->storage_bytes(),
                               .connections = listener_->Stats(),
                               .disk_free_bytes = disk_->free_bytes(),
                               .disk_low = disk_->Low()},
                              &text);
  return text;
}

HandoverServer::~HandoverServer() {
  metrics_endpoint_.reset();
  Shutdown();
  server_.reset();
  if (store_) store_->SetCommitListener(nullptr);
  hub_.reset();
  audit_service_.reset();
  document_service_.reset();
  service_.reset();
  store_.reset();
}

void HandoverServer::Wait() {
  if (server_) server_->Wait();
}

void HandoverServer::Shutdown(std::chrono::milliseconds deadline) {
  if (!server_) return;
  std::call_once(shutdown_once_, [&] {
    shutting_down_ = true;
    SetHealth(false, false);
    std::this_thread::sleep_for(drain_delay_);
    // Watch streams never end by themselves: end them first, so the drain
    // waits only for unary calls.
    if (hub_) hub_->CloseAll();
    listener_->Stop();
    server_->Shutdown(std::chrono::system_clock::now() + deadline);
  });
}

}  // namespace handover
