// Every bad server option gets its own clear error, naming the option as it
// is spelt in the config file.
#include <gtest/gtest.h>

#include <functional>

#include "server/server.h"
#include "server/store/database.h"

namespace handover {
namespace {

struct BadOption {
  const char* name;
  std::function<void(ServerOptions&)> spoil;
  const char* message;
};

TEST(ServerOptionsTest, DefaultsAreValid) { EXPECT_TRUE(ValidateOptions({}).ok()); }

// The backend is chosen by URL; a plain path keeps meaning a SQLite file.
TEST(ServerOptionsTest, TheDatabaseIsAPathOrASqliteUrl) {
  EXPECT_EQ(store::ParseDatabaseUrl("/var/lib/handover/handover.db")->path,
            "/var/lib/handover/handover.db");
  EXPECT_EQ(store::ParseDatabaseUrl("sqlite:///var/lib/handover/handover.db")->path,
            "/var/lib/handover/handover.db");
  EXPECT_EQ(store::ParseDatabaseUrl("sqlite://var/handover.db")->path, "var/handover.db");
  EXPECT_EQ(store::ParseDatabaseUrl("handover.db")->path, "handover.db");
  EXPECT_EQ(store::ParseDatabaseUrl("mysql://x/y").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ServerOptionsTest, EachBadOptionIsNamed) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  const std::vector<BadOption> cases = {
      {"trust-domain", [](auto& o) { o.service.trust_domain = ""; },
       "trust-domain: required, lower-case letters, digits, dots and hyphens"},
      {"trust-domain", [](auto& o) { o.service.trust_domain = "Handover Test"; },
       "trust-domain: required, lower-case letters, digits, dots and hyphens"},
      {"listen", [](auto& o) { o.listen_address = "localhost"; }, "listen: must be host:port"},
      {"database", [](auto& o) { o.database_path = ""; }, "database: required"},
      {"database", [](auto& o) { o.database_path = "sqlite://"; }, "database: required"},
      {"database", [](auto& o) { o.database_path = "mysql://handover@db/handover"; },
       "database: mysql:// is not a backend this handoverd has; use "
       "sqlite:///path/to/handover.db, a path, postgresql://user@host/database, or mem://name "
       "(tests only)"},
      {"database", [](auto& o) { o.database_path = "mem://no/slash"; },
       "database: a mem:// name is 1 to 100 characters of [A-Za-z0-9._-]"},
      {"database", [](auto& o) { o.database_path = "postgresql://handover:secret@db/handover"; },
       "database: a password in the URL would show in the process list; put it in "
       "PGPASSFILE (~/.pgpass) or PGPASSWORD"},
      {"max-message-bytes", [](auto& o) { o.max_receive_message_bytes = 10; },
       "max-message-bytes: must be from 65536 to 1073741824"},
      {"max-page-size", [](auto& o) { o.service.max_page_size = -5; },
       "max-page-size: must be from 1 to 10000"},
      {"max-page-size", [](auto& o) { o.service.max_page_size = 20; },
       "max-page-size: must be at least the default page size 50"},
      {"max-text-bytes", [](auto& o) { o.service.form_limits.max_text_bytes = 0; },
       "max-text-bytes: must be from 16 to 1048576"},
      {"max-list-items", [](auto& o) { o.service.form_limits.max_list_items = 0; },
       "max-list-items: must be from 1 to 10000"},
      {"reader-threads", [](auto& o) { o.readers.threads = 0; },
       "reader-threads: must be from 1 to 256"},
      {"write-batch", [](auto& o) { o.writer.max_batch = 0; },
       "write-batch: must be from 1 to 100000"},
      {"write-queue", [](auto& o) { o.writer.max_queue = 0; },
       "write-queue: must be from 1 to 1000000"},
      {"read-queue", [](auto& o) { o.readers.max_queue = 0; },
       "read-queue: must be from 1 to 1000000"},
      {"max-concurrent-streams", [](auto& o) { o.max_concurrent_streams = 0; },
       "max-concurrent-streams: must be from 1 to 100000"},
      {"metrics-listen", [](auto& o) { o.metrics_listen_address = "9464"; },
       "metrics-listen: must be host:port"},
      {"max-document-bytes", [](auto& o) { o.service.documents.max_bytes = 0; },
       "max-document-bytes: must be from 1 to 1073741824"},
      {"document-media-types", [](auto& o) { o.service.documents.media_types = {}; },
       "document-media-types: at least one media type"},
      {"document-media-types",
       [](auto& o) {
         o.service.documents.media_types = {"application/pdf", "application/zip"};
       },
       "document-media-types: application/zip is not a type the server can recognise by content "
       "(application/pdf, image/png, image/jpeg, text/plain)"},
      {"tls-refresh-seconds", [](auto& o) { o.tls_refresh_seconds = 0; },
       "tls-refresh-seconds: must be from 1 to 86400"},
      {"watch-progress-ms", [](auto& o) { o.service.watch.progress_interval = milliseconds(0); },
       "watch-progress-ms: must be from 10 to 3600000"},
      {"watch-stall-ms", [](auto& o) { o.service.watch.stall_timeout = milliseconds(5); },
       "watch-stall-ms: must be from 100 to 86400000"},
      {"drain-ms", [](auto& o) { o.drain_delay = milliseconds(-1); },
       "drain-ms: must be from 0 to 600000"},
      {"feed-retention-seconds", [](auto& o) { o.feed_retention = seconds(1); },
       "feed-retention-seconds: must be from 60 to 315360000"},
      {"feed-compaction-seconds", [](auto& o) { o.feed_compaction_interval = seconds(0); },
       "feed-compaction-seconds: must be from 1 to 86400"},
      {"checkpoint-seconds", [](auto& o) { o.checkpoint_interval = seconds(0); },
       "checkpoint-seconds: must be from 1 to 86400"},
      {"retention-days", [](auto& o) { o.retention_days_after_takeover = -1; },
       "retention-days: must be from 0 to 36500"},
      {"retention-check-seconds", [](auto& o) { o.retention_interval = seconds(0); },
       "retention-check-seconds: must be from 1 to 604800"},
  };
  for (const BadOption& bad : cases) {
    ServerOptions options;
    bad.spoil(options);
    const absl::Status status = ValidateOptions(options);
    EXPECT_EQ(status, absl::InvalidArgumentError(bad.message)) << bad.name;
  }
}

TEST(ServerOptionsTest, StartNamesAMissingFile) {
  ServerOptions options;
  EXPECT_EQ(HandoverServer::Start(options).status(), absl::InvalidArgumentError("cert: required"));
  options.certificate_file = "/nonexistent/server.pem";
  EXPECT_EQ(HandoverServer::Start(options).status(),
            absl::InvalidArgumentError("cert: no such file /nonexistent/server.pem"));
}

}  // namespace
}  // namespace handover
