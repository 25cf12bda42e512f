#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include <filesystem>
#include <thread>
#include <future>
#include <map>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/dates.h"
#include "common/media_types.h"
#include "common/signing.h"
#include "server/metrics/server_gauges.h"
#include "server/tls_credentials.h"
#include "server/store/case_rows.h"

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

// The periodic jobs: feed compaction, access log checkpoints, retention.
// Called from the hub's ticker thread; each job runs when its interval passed.
std::function<void()> MaintenanceJobs(store::SqliteStore* store, const ServerOptions& options) {
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::chrono::seconds interval;
    std::function<void()> run;
    Clock::time_point next;
  };
  auto jobs = std::make_shared<std::vector<Job>>();
  const auto now = Clock::now();
  jobs->push_back({options.feed_compaction_interval,
                   [store, retention = options.feed_retention] {
                     const int64_t cutoff =
                         store::NowMicros() -
                         std::chrono::duration_cast<std::chrono::microseconds>(retention).count();
                     store->CompactFeed(cutoff, [](absl::StatusOr<int64_t>) {});
                   },
                   now + options.feed_compaction_interval});
  jobs->push_back({options.checkpoint_interval,
                   [store] { store->WriteCheckpoint([](absl::StatusOr<bool>) {}); },
                   now + options.checkpoint_interval});
  if (options.retention_days_after_takeover > 0) {
    jobs->push_back({options.retention_interval,
                     [store, days = options.retention_days_after_takeover] {
                       const auto today = std::chrono::floor<std::chrono::days>(
                           std::chrono::system_clock::now());
                       const std::chrono::year_month_day cutoff{today - std::chrono::days(days)};
                       store->EraseExpired(
                           MakeDate(int(cutoff.year()), int(unsigned(cutoff.month())),
                                    int(unsigned(cutoff.day()))),
                           "retention", [](absl::StatusOr<int>) {});
                     },
                     now});
  }
  // Key rotation: re-read the key file when it changes; re-encrypt in batches
  // while anything is sealed with a key other than the current one.
  struct Rotation {
    std::filesystem::file_time_type key_file_time;
    std::atomic<bool> pending{true};  // at start: versions from before key ids
  };
  auto rotation = std::make_shared<Rotation>();
  std::error_code error;
  rotation->key_file_time = std::filesystem::last_write_time(options.key_file, error);
  jobs->push_back({std::chrono::seconds(0),
                   [store, rotation, key_file = options.key_file] {
                     std::error_code error;
                     const auto time = std::filesystem::last_write_time(key_file, error);
                     if (!error && time != rotation->key_file_time) {
                       rotation->key_file_time = time;
                       auto ring = KeyRing::LoadFile(key_file);
                       if (!ring.ok()) {
                         spdlog::error("key file not reloaded: {}", ring.status().ToString());
                       } else {
                         store->ReplaceKeys(
                             std::make_shared<const KeyRing>(*std::move(ring)),
                             [rotation](absl::StatusOr<bool> replaced) {
                               if (replaced.ok()) {
                                 spdlog::info("key file reloaded; re-encrypting under the new current key");
                                 rotation->pending = true;
                               } else {
                                 spdlog::error("key file not reloaded: {}",
                                               replaced.status().ToString());
                               }
                             });
                       }
                     }
                     if (!rotation->pending.exchange(false)) return;
                     store->Reencrypt(500, [store, rotation](absl::StatusOr<int> count) {
                       if (!count.ok()) {
                         spdlog::error("re-encryption: {}", count.status().ToString());
                       } else if (*count > 0) {
                         rotation->pending = true;  // more next tick
                       } else {
                         store->KeyUsage([](absl::StatusOr<std::map<std::string, int64_t>> usage) {
                           if (!usage.ok()) return;
                           std::string text;
                           for (const auto& [id, n] : *usage) {
                             text += absl::StrCat(text.empty() ? "" : ", ", id, ": ", n);
                           }
                           spdlog::info("re-encryption done; sealed items per key: {}",
                                        text.empty() ? "none" : text);
                         });
                       }
                     });
                   },
                   now});
  return [jobs] {
    const auto now = Clock::now();
    for (Job& job : *jobs) {
      if (now < job.next) continue;
      job.run();
      job.next = now + job.interval;
    }
  };
}

absl::Status Range(const char* option, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": must be from ", low, " to ", high));
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
  if (o.database_path.empty()) return absl::InvalidArgumentError("database: required");
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
           Range("max-page-size", o.service.max_page_size, 1, 10000),
           Range("max-text-bytes", static_cast<int64_t>(o.service.form_limits.max_text_bytes), 16,
                 1 << 20),
           Range("max-document-bytes", o.service.documents.max_bytes, 1, 1L << 30),
           Range("max-list-items", static_cast<int64_t>(o.service.form_limits.max_list_items), 1,
                 10000),
           Range("reader-threads", o.readers.threads, 1, 256),
           Range("write-batch", static_cast<int64_t>(o.writer.max_batch), 1, 100000),
           Range("write-queue", static_cast<int64_t>(o.writer.max_queue), 1, 1000000),
           Range("read-queue", static_cast<int64_t>(o.readers.max_queue), 1, 1000000),
           Range("tls-refresh-seconds", o.tls_refresh_seconds, 1, 86400),
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
  for (auto [path, option] : {std::pair{&options.certificate_file, "cert"},
                              std::pair{&options.private_key_file, "key"},
                              std::pair{&options.client_ca_file, "client-ca"},
                              std::pair{&options.key_file, "key-file"},
                              std::pair{&options.audit_signing_key_file, "audit-signing-key"}}) {
    if (absl::Status s = RequireFile(*path, option); !s.ok()) return s;
  }
  absl::StatusOr<KeyRing> keys = KeyRing::LoadFile(options.key_file);
  if (!keys.ok()) return keys.status();
  absl::StatusOr<Signer> signer = Signer::LoadPrivateKey(options.audit_signing_key_file);
  if (!signer.ok()) return signer.status();
  const std::string public_key_pem = signer->public_key_pem();

  std::unique_ptr<HandoverServer> server(new HandoverServer());
  store::SqliteStoreOptions store_options{options.database_path, options.writer,
                                          options.readers,
                                          std::make_shared<const Signer>(*std::move(signer))};
  auto ring = std::make_shared<const KeyRing>(*std::move(keys));
  auto store = store::SqliteStore::Open(store_options, ring);
  if (!store.ok()) return store.status();
  server->store_ = *std::move(store);
  // Refuse to start if the key file lacks a key that stored data still uses.
  std::promise<absl::StatusOr<bool>> keys_checked;
  server->store_->ReplaceKeys(ring, [&](absl::StatusOr<bool> r) { keys_checked.set_value(r); });
  if (absl::Status s = keys_checked.get_future().get().status(); !s.ok()) return s;
  store::SqliteStore* raw_store = server->store_.get();
  // The hub's ticker drives progress events and stall checks at the progress
  // interval, and the periodic jobs when they are due.
  server->hub_ = std::make_unique<feed::FeedHub>(options.service.watch.progress_interval,
                                                 MaintenanceJobs(raw_store, options));
  raw_store->SetCommitListener([hub = server->hub_.get()](
                                   std::vector<store::CommittedEvent> events,
                                   int64_t compacted_through) {
    hub->NotifyCommit(std::move(events), compacted_through);
  });
  server->service_ = std::make_unique<service::HandoverService>(
      server->store_.get(), server->hub_.get(), options.service);
  server->audit_service_ = std::make_unique<service::AuditService>(
      server->store_.get(), public_key_pem, options.service);
  server->document_service_ =
      std::make_unique<service::DocumentService>(server->store_.get(), options.service);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  server->rpc_metrics_ = std::make_unique<metrics::RpcMetrics>();
  grpc::ServerBuilder builder;
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(server->rpc_metrics_->InterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.AddListeningPort(
      options.listen_address,
      MutualTlsCredentials(options.certificate_file, options.private_key_file,
                           options.client_ca_file, options.tls_refresh_seconds),
      &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  // Bound what one stream may send ahead of the handler (an upload whose
  // handler is slow): a fixed 4 MiB HTTP/2 window instead of one that grows
  // with the measured bandwidth-delay product.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4 * 1024 * 1024);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  builder.RegisterService(server->service_.get());
  builder.RegisterService(server->audit_service_.get());
  builder.RegisterService(server->document_service_.get());
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("listen: cannot listen on ", options.listen_address));
  }
  server->database_path_ = options.database_path;
  if (!options.metrics_listen_address.empty()) {
    auto endpoint = metrics::MetricsEndpoint::Start(
        options.metrics_listen_address, [raw = server.get()] { return raw->RenderMetrics(); });
    if (!endpoint.ok()) return endpoint.status();
    server->metrics_endpoint_ = *std::move(endpoint);
  }
  server->drain_delay_ = options.drain_delay;
  server->server_->GetHealthCheckService()->SetServingStatus(true);
  return server;
}

int HandoverServer::metrics_port() const {
  return metrics_endpoint_ ? metrics_endpoint_->port() : 0;
}

std::string HandoverServer::RenderMetrics() const {
  std::string text;
  rpc_metrics_->AppendPrometheus(&text);
  metrics::AppendServerGauges({.writer = store_->writer_stats(),
                               .watchers = hub_->watcher_count(),
                               .database_bytes = metrics::DatabaseBytes(database_path_)},
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
    server_->GetHealthCheckService()->SetServingStatus(false);
    std::this_thread::sleep_for(drain_delay_);
    // Watch streams never end by themselves: end them first, so the drain
    // waits only for unary calls.
    if (hub_) hub_->CloseAll();
    server_->Shutdown(std::chrono::system_clock::now() + deadline);
  });
}

}  // namespace handover
