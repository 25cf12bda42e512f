// The performance run: handoverd against its baselines in the same process
// and run, on this machine, for each target of the performance issue.
//
//   E  a bare gRPC service over the same mutual TLS (bench/baseline/echo_server.h)
//   W  SQLite alone, one durable transaction per write (sqlite_baselines.h)
//   R  SQLite alone reading, decrypting and serialising the rows a sync sends
//   P  PostgreSQL alone, one durable transaction per write (postgres_baselines.h)
//
// With --database postgresql://..., the reads and updates are measured again
// after SQLite's rows on that database, with one handoverd and with two
// replicas sharing it, against E and P.
//
// Prints a table of figures, ratios and targets and writes it to
// bench/results/perf.txt (a run with --only just prints its part). Sizes are
// flags; the defaults take a few minutes on 2 cores.

#include <CLI/CLI.hpp>
#include <future>

#include <filesystem>
#include <functional>
#include <iostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "baseline/echo.grpc.pb.h"
#include "bench/baseline/echo_server.h"
#include "bench/baseline/postgres_baselines.h"
#include "bench/baseline/sqlite_baselines.h"
#include "bench/bench_support.h"
#include "bench/load_generator.h"
#include "bench/server_process.h"
#include "common/identity.h"
#include "handover/v1/handover_service.grpc.pb.h"
#include "server/store/database.h"

namespace handover::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  int concurrency = 32;
  int channels = 4;
  double seconds = 5;
  int64_t small_cases = 10000;
  int64_t large_cases = 100000;
  std::string dir = "/tmp/handover-perf-bench";
  // A PostgreSQL URL: the reads and updates again on it, 1 and 2 replicas.
  std::string database;
  // Measurements to run (all by default): reads, updates, overload, scale, sync.
  std::set<std::string> only;
};

double MiB(int64_t bytes) { return bytes / 1048576.0; }

// A unary call on the callback API whose objects live until it ends.
template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
};

class Bench {
 public:
  explicit Bench(const Flags& flags)
      : flags_(flags),
        pki_(flags.dir + "/pki"),
        database_(flags.dir + "/handover.db"),
        target_{.path = database_} {
    MakeDevPki(pki_);
    echo_ = std::make_unique<EchoServer>(pki_);
    for (int c = 0; c < flags.channels; ++c) {
      echo_stubs_.push_back(
          Echo::NewStub(MutualTlsChannel(pki_, "municipality-760", echo_->port(), c)));
    }
    StartServers();
  }

  // The first (or only) handoverd.
  const ServerProcess& server() const { return *servers_.front(); }
  const std::string& pki() const { return pki_; }
  const std::string& database_path() const { return database_; }

  // From now on, handoverd runs on the empty PostgreSQL database `url`, one
  // replica, unseeded: call SeedTo next.
  void UsePostgres(const std::string& url) {
    StopServers();
    target_ = {.engine = store::DatabaseUrl::Engine::kPostgres, .path = url};
    seeded_ = 0;
    replicas_ = 1;
  }

  // Restarts handoverd as `replicas` processes on the same database (each with
  // its own port and staging directory); the load's channels alternate
  // between them.
  void SetReplicas(int replicas) {
    StopServers();
    replicas_ = replicas;
    StartServers();
    std::cerr << "perf_bench: " << replicas << " replicas, handoverd pids " << Pids() << "\n";
  }

  // Seeds cases up to `total` straight into the database (the servers stopped
  // meanwhile); returns how long the seeding took.
  double SeedTo(int64_t total) {
    StopServers();
    const auto start = Clock::now();
    double seconds = 0;
    {
      auto keys = KeyRing::LoadFile(pki_ + "/handover.key");
      store::OpenOptions options;
      if (target_.engine == store::DatabaseUrl::Engine::kPostgres) {
        options.staging_directory = flags_.dir + "/pg-seed.staging";
      }
      auto store = store::OpenDatabase(target_, std::move(options),
                                       std::make_shared<const KeyRing>(*std::move(keys)));
      if (!store.ok()) {
        std::cerr << "perf_bench: " << store.status() << "\n";
        std::exit(1);
      }
      SeedAssignedCases(store->get(), seeded_, total - seeded_, "760");
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
      case_names_.clear();
      store::CaseQuery query{.page_size = 10000};
      do {
        std::promise<absl::StatusOr<store::CasePage>> listed;
        (*store)->ListCases(query, [&](absl::StatusOr<store::CasePage> page) {
          listed.set_value(std::move(page));
        });
        absl::StatusOr<store::CasePage> page = listed.get_future().get();
        if (!page.ok()) {
          std::cerr << "perf_bench: " << page.status() << "\n";
          std::exit(1);
        }
        for (const store::CaseSnapshot& c : page->cases) case_names_.push_back(c.meta.name());
        query.after_case_id = page->last_case_id;
      } while (!query.after_case_id.empty());
    }
    seeded_ = total;
    StartServers();
    std::cerr << "perf_bench: seeded " << total << " cases in " << seconds << " s; handoverd pid "
              << Pids() << "\n";
    return seconds;
  }

  // GetCase by municipality 760 on random seeded cases.
  LoadResult ReadLoad(const LoadOptions& options) {
    return RunLoad(options, [this](int64_t i, auto done) {
      auto* call = new Call<v1::GetCaseRequest, v1::GetCaseResponse>();
      call->context.AddMetadata(kActorMetadataKey, "bench");
      call->request.set_name(case_names_[Pick(i)]);
      handover_stubs_[i % handover_stubs_.size()]->async()->GetCase(
          &call->context, &call->request, &call->response, [call, done](grpc::Status s) {
            done(s);
            delete call;
          });
    });
  }

  // Echo of a payload the size of a GetCase response.
  LoadResult EchoLoad(const LoadOptions& options, int response_bytes) {
    return RunLoad(options, [this, response_bytes](int64_t i, auto done) {
      auto* call = new Call<EchoRequest, EchoResponse>();
      call->request.set_name(case_names_[Pick(i)]);
      call->request.set_response_bytes(response_bytes);
      echo_stubs_[i % echo_stubs_.size()]->async()->Echo(
          &call->context, &call->request, &call->response, [call, done](grpc::Status s) {
            done(s);
            delete call;
          });
    });
  }

  // Durable form updates by the operator, spread over the seeded cases.
  LoadResult UpdateLoad(const LoadOptions& options) {
    const int64_t run = ++update_runs_;  // request ids unique across runs
    return RunLoad(options, [this, run](int64_t i, auto done) {
      auto* call = new Call<v1::UpdateFormRequest, v1::UpdateFormResponse>();
      call->context.AddMetadata(kActorMetadataKey, "bench");
      call->request.set_name(case_names_[Pick(i)]);
      call->request.mutable_form()->mutable_wishes_and_plans()->set_expectations(
          absl::StrCat("bench update ", i));
      call->request.mutable_update_mask()->add_paths("wishes_and_plans.expectations");
      call->request.set_request_id(absl::StrCat("perf-update-", run, "-", i));
      operator_stubs_[i % operator_stubs_.size()]->async()->UpdateForm(
          &call->context, &call->request, &call->response, [call, done](grpc::Status s) {
            done(s);
            delete call;
          });
    });
  }

  // A full sync of municipality 760's cases as the API documents it: list
  // every case with its form (ListCases, CASE_VIEW_FULL, pages of 500, in
  // case order), then Sync from the first page's revision until caught up.
  // Returns distinct cases received per second.
  double SnapshotSync(int64_t* cases) {
    return DistinctCasesPerSecond(
        cases, [](client::HandoverClient& client, std::set<std::string>* received) {
          v1::ListCasesRequest list;
          list.set_page_size(500);
          list.set_view(v1::CASE_VIEW_FULL);
          int64_t revision = -1;
          do {
            auto page = client.ListCases(list);
            if (!page.ok()) Fail("list", page.status());
            if (revision < 0) revision = page->revision();
            for (const auto& c : page->cases()) received->insert(c.name());
            list.set_page_token(page->next_page_token());
          } while (!list.page_token().empty());
          FeedFrom(client, revision, received);
        });
  }

  // The same by replaying the whole feed: Sync from revision 0 with the cases.
  double FeedSync(int64_t* cases) {
    return DistinctCasesPerSecond(
        cases, [](client::HandoverClient& client, std::set<std::string>* received) {
          FeedFrom(client, 0, received);
        });
  }

  int GetCaseResponseBytes() {
    auto client = ClientFor("municipality-760");
    auto c = client->GetCase(case_names_.front());
    return c.ok() ? static_cast<int>(c->ByteSizeLong()) : 2048;
  }

 private:
  // Runs `sync(client, &received)` as municipality 760; sets `*cases` to the
  // distinct cases received and returns them per second.
  template <typename Sync>
  double DistinctCasesPerSecond(int64_t* cases, Sync sync) {
    auto client = ClientFor("municipality-760");
    const auto start = Clock::now();
    std::set<std::string> received;
    sync(*client, &received);
    *cases = static_cast<int64_t>(received.size());
    return *cases / std::chrono::duration<double>(Clock::now() - start).count();
  }

  [[noreturn]] static void Fail(const char* what, const absl::Status& status) {
    std::cerr << "perf_bench: " << what << ": " << status << "\n";
    std::exit(1);
  }

  // Sync pages of 500 with the cases after `revision` until caught up.
  static void FeedFrom(client::HandoverClient& client, int64_t revision,
                       std::set<std::string>* received) {
    v1::SyncRequest request;
    request.set_page_size(500);
    request.set_include_cases(true);
    request.set_after_revision(revision);
    for (;;) {
      auto page = client.Sync(request);
      if (!page.ok()) Fail("sync", page.status());
      for (const auto& event : page->events()) {
        if (event.has_case_()) received->insert(event.case_name());
      }
      request.set_after_revision(page->next_after_revision());
      if (page->caught_up()) return;
    }
  }

  void StartServers() {
    for (int r = 0; r < replicas_; ++r) {
      if (target_.engine == store::DatabaseUrl::Engine::kSqlite) {
        servers_.push_back(std::make_unique<ServerProcess>(HANDOVERD_BINARY, pki_, database_));
      } else {
        const std::string replica = absl::StrCat(flags_.dir, "/pg-replica-", r);
        servers_.push_back(std::make_unique<ServerProcess>(
            HANDOVERD_BINARY, pki_, target_.path,
            std::vector<std::string>{"--staging-dir", replica + ".staging"}, replica + ".log"));
      }
    }
    handover_stubs_.clear();
    operator_stubs_.clear();
    // At least a channel per server; channel c goes to server c mod servers.
    const int channels = std::max<int>(flags_.channels, servers_.size());
    for (int c = 0; c < channels; ++c) {
      const int port = servers_[c % servers_.size()]->port();
      // A distinct argument per channel: its own connection.
      handover_stubs_.push_back(
          v1::HandoverService::NewStub(MutualTlsChannel(pki_, "municipality-760", port, c)));
      operator_stubs_.push_back(
          v1::HandoverService::NewStub(MutualTlsChannel(pki_, "operator-redcross", port, c)));
    }
  }
  void StopServers() { servers_.clear(); }

  std::string Pids() const {
    std::string pids;
    for (const auto& server : servers_) {
      absl::StrAppend(&pids, pids.empty() ? "" : ", ", server->pid());
    }
    return pids;
  }

  std::unique_ptr<client::HandoverClient> ClientFor(const std::string& identity) const {
    return BenchClient(pki_, server().port(), identity);
  }

  size_t Pick(int64_t i) const {
    return static_cast<size_t>((i * 2654435761u) % case_names_.size());
  }

  const Flags flags_;
  const std::string pki_, database_;
  // Where the servers run and seeding goes: database_, or PostgreSQL.
  store::DatabaseUrl target_;
  int replicas_ = 1;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
  std::unique_ptr<EchoServer> echo_;
  std::vector<std::unique_ptr<v1::HandoverService::Stub>> handover_stubs_, operator_stubs_;
  std::vector<std::unique_ptr<Echo::Stub>> echo_stubs_;
  std::vector<std::string> case_names_;
  int64_t seeded_ = 0;
  int64_t update_runs_ = 0;
};

std::string Verdict(bool met) { return met ? "met" : "MISSED"; }

using AddRow = std::function<void(const std::string& what, const std::string& measured,
                                  const std::string& baseline, const std::string& ratio,
                                  const std::string& target, bool met)>;

// Reads open loop at the sustainable rate, then at 10 x it.
void OverloadRows(Bench& bench, const Flags& flags, double sustainable, const AddRow& row) {
  const ServerProcess& server = bench.server();
  server.ResetPeak();
  const LoadResult at_rate = bench.ReadLoad({.rate = sustainable, .seconds = flags.seconds});
  const int64_t peak_at_rate = server.PeakResidentBytes();
  server.ResetPeak();
  const LoadResult overload = bench.ReadLoad({.rate = 10 * sustainable, .seconds = flags.seconds});
  const int64_t peak_overload = server.PeakResidentBytes();
  int64_t refused = 0, other = 0;
  for (const auto& [code, n] : overload.codes) {
    if (code == grpc::StatusCode::RESOURCE_EXHAUSTED || code == grpc::StatusCode::UNAVAILABLE) {
      refused += n;
    } else if (code != grpc::StatusCode::OK) {
      other += n;
    }
  }
  row("overload 10 x sustainable: useful calls/s", Thousands(overload.ok_per_second()),
      Thousands(at_rate.ok_per_second()) + " (at 1 x)",
      absl::StrFormat("%.2f x", overload.ok_per_second() / at_rate.ok_per_second()), ">= 0.8 x",
      overload.ok_per_second() >= 0.8 * at_rate.ok_per_second());
  row("overload: server memory (peak resident)", absl::StrFormat("%.0f MiB", MiB(peak_overload)),
      absl::StrFormat("%.0f MiB (at 1 x)", MiB(peak_at_rate)),
      absl::StrFormat("%.2f x", double(peak_overload) / std::max<int64_t>(peak_at_rate, 1)),
      "<= 1.5 x", peak_overload <= 1.5 * std::max<int64_t>(peak_at_rate, 1));
  row("overload: excess refused quickly",
      absl::StrFormat("%s refused, p99 %.1f ms; %s other errors; %s not sent", Thousands(refused),
                      overload.refused_p99_ms, Thousands(other), Thousands(overload.skipped)),
      "-", "-", "RESOURCE_EXHAUSTED / UNAVAILABLE, fast",
      refused > 0 && overload.refused_p99_ms < 100 && other == 0);
}

// A full sync of every seeded case, by snapshot and by replaying the feed,
// against R on the same database.
void SyncRows(Bench& bench, const AddRow& row) {
  bench.server().ResetPeak();
  const int64_t rss_sync = bench.server().ResidentBytes();
  int64_t synced = 0, replayed = 0;
  const double snapshot_rate = bench.SnapshotSync(&synced);
  const int64_t sync_growth = bench.server().PeakResidentBytes() - rss_sync;
  const double feed_rate = bench.FeedSync(&replayed);
  auto keys = KeyRing::LoadFile(bench.pki() + "/handover.key");
  int64_t read_back = 0;
  const double ceiling =
      ReadDecryptSerialiseCasesPerSecond(bench.database_path(), *keys, "760", &read_back);
  row(absl::StrFormat("full sync of %s cases (snapshot, then feed): cases/s", Thousands(synced)),
      Thousands(snapshot_rate), Thousands(ceiling) + " (R)",
      absl::StrFormat("%.2f x", snapshot_rate / ceiling), ">= 0.5 x R",
      snapshot_rate >= 0.5 * ceiling);
  row("full sync: server memory growth (peak resident)",
      absl::StrFormat("%.0f MiB", MiB(sync_growth)), "-", "-", "<= 64 MiB",
      sync_growth <= 64 * 1048576);
  row(absl::StrFormat("(for comparison) replaying the whole feed, %s cases: cases/s",
                      Thousands(replayed)),
      Thousands(feed_rate), Thousands(ceiling) + " (R)",
      absl::StrFormat("%.2f x", feed_rate / ceiling), "-", true);
}

// Calls that did not succeed, on stderr: the figures count successes only.
void ReportFailures(const std::string& what, const LoadResult& result) {
  for (const auto& [code, n] : result.codes) {
    if (code != grpc::StatusCode::OK) {
      std::cerr << "perf_bench: " << what << ": " << n << " calls ended with code " << code << "\n";
    }
  }
}

// The reads and durable updates on PostgreSQL, with one handoverd and with
// two replicas on the same database, against E and P measured beside them.
// Returns how long seeding took.
double PostgresRows(Bench& bench, const Flags& flags, bool reads, bool updates, const AddRow& row) {
  bench.UsePostgres(flags.database);
  const double seeded = bench.SeedTo(flags.small_cases);
  const int response_bytes = bench.GetCaseResponseBytes();
  LoadOptions closed{.concurrency = flags.concurrency, .seconds = flags.seconds};
  LoadResult echo, read[2], update[2];
  double baseline_p = 0;
  for (int replicas = 1; replicas <= 2; ++replicas) {
    if (replicas == 2) bench.SetReplicas(2);
    const std::string with = replicas == 1 ? "1 replica" : "2 replicas";
    LoadResult& r = read[replicas - 1];
    LoadResult& u = update[replicas - 1];
    if (reads) {
      if (replicas == 1) echo = bench.EchoLoad(closed, response_bytes);
      r = bench.ReadLoad(closed);
      ReportFailures("PostgreSQL reads, " + with, r);
    }
    if (updates) {
      u = bench.UpdateLoad(closed);
      ReportFailures("PostgreSQL updates, " + with, u);
      // P between the two, as close in time to each as to the other.
      if (replicas == 1) {
        baseline_p = PgNaiveWritesPerSecond(flags.database, flags.concurrency, flags.seconds,
                                            static_cast<size_t>(response_bytes));
      }
    }
  }
  auto ratio = [](double a, double b) { return absl::StrFormat("%.2f x", a / b); };
  if (reads) {
    const double e = echo.ok_per_second();
    row(absl::StrFormat("PostgreSQL, 1 replica: read a case (%d B, %d concurrent): calls/s",
                        response_bytes, flags.concurrency),
        Thousands(read[0].ok_per_second()), Thousands(e) + " (E)",
        ratio(read[0].ok_per_second(), e), "-", true);
    row("PostgreSQL, 2 replicas: read a case: calls/s", Thousands(read[1].ok_per_second()),
        Thousands(e) + " (E)", ratio(read[1].ok_per_second(), e), "-", true);
  }
  if (updates) {
    row(absl::StrFormat("PostgreSQL, 1 replica: durable form update (%d concurrent): writes/s",
                        flags.concurrency),
        Thousands(update[0].ok_per_second()), Thousands(baseline_p) + " (P)",
        ratio(update[0].ok_per_second(), baseline_p), "-", true);
    row("PostgreSQL, 2 replicas: durable form update: writes/s",
        Thousands(update[1].ok_per_second()), Thousands(baseline_p) + " (P)",
        ratio(update[1].ok_per_second(), baseline_p), "-", true);
    row("PostgreSQL: durable form updates, 2 replicas against 1",
        Thousands(update[1].ok_per_second()), Thousands(update[0].ok_per_second()) + " (1 replica)",
        ratio(update[1].ok_per_second(), update[0].ok_per_second()), "-", true);
  }
  return seeded;
}

}  // namespace

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"perf_bench: handoverd against baselines E, W, R (and P), in one run"};
  app.add_option("--concurrency", flags.concurrency, "Calls in flight (reads, updates)")
      ->capture_default_str();
  app.add_option("--channels", flags.channels, "Client connections")->capture_default_str();
  app.add_option("--seconds", flags.seconds, "Per measurement")->capture_default_str();
  app.add_option("--small-cases", flags.small_cases, "Cases for the first scale point")
      ->capture_default_str();
  app.add_option("--large-cases", flags.large_cases,
                 "Cases for the second scale point and the full sync (the issue asks 100,000 "
                 "for sync and 500,000 for scale)")
      ->capture_default_str();
  app.add_option("--dir", flags.dir, "Scratch directory (emptied)")->capture_default_str();
  app.add_option("--database", flags.database,
                 "postgresql://... : measure reads and updates again on this PostgreSQL "
                 "database with 1 and 2 replicas, against baseline P (created if missing; "
                 "must be empty)");
  app.add_option("--only", flags.only, "Run only these measurements (default: all)")
      ->check(CLI::IsMember({"reads", "updates", "overload", "scale", "sync"}))
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  std::string postgres_server;
  if (!flags.database.empty()) {
    auto url = store::ParseDatabaseUrl(flags.database);
    if (!url.ok() || url->engine != store::DatabaseUrl::Engine::kPostgres) {
      std::cerr << "perf_bench: --database takes a postgresql:// URL"
                << (url.ok() ? std::string() : absl::StrCat(": ", url.status().message())) << "\n";
      return 2;
    }
    // Before SQLite's rows, so that a database it cannot use stops the run at once.
    CreateEmptyPgDatabase(flags.database);
    postgres_server = DescribePgServer(flags.database);
  }
  auto wanted = [&flags](const std::string& what) {
    return flags.only.empty() || flags.only.contains(what);
  };
  std::filesystem::remove_all(flags.dir);
  std::filesystem::create_directories(flags.dir);

  Bench bench(flags);
  std::string rows;
  auto row = [&rows](const std::string& what, const std::string& measured,
                     const std::string& baseline, const std::string& ratio,
                     const std::string& target, bool met) {
    absl::StrAppend(&rows, "| ", what, " | ", measured, " | ", baseline, " | ", ratio, " | ",
                    target, " | ", target == "-" ? "-" : Verdict(met), " |\n");
    std::cerr << "perf_bench: " << what << ": " << measured << " vs " << baseline << "\n";
  };
  LoadOptions closed{.concurrency = flags.concurrency, .seconds = flags.seconds};

  // Scale point 1, and the read and update targets, at the small size.
  const bool small_needed =
      wanted("reads") || wanted("updates") || wanted("overload") || wanted("scale");
  const double seed_small = small_needed ? bench.SeedTo(flags.small_cases) : 0;
  LoadOptions light{.concurrency = 4, .seconds = flags.seconds / 2};
  LoadResult small_p50;
  if (wanted("scale")) small_p50 = bench.ReadLoad(light);
  const int response_bytes = small_needed ? bench.GetCaseResponseBytes() : 0;
  LoadResult read;
  if (wanted("reads") || wanted("overload")) {
    const LoadResult echo = bench.EchoLoad(closed, response_bytes);
    read = bench.ReadLoad(closed);
    row(absl::StrFormat("read a case (%d B, %d concurrent): calls/s", response_bytes,
                        flags.concurrency),
        Thousands(read.ok_per_second()), Thousands(echo.ok_per_second()) + " (E)",
        absl::StrFormat("%.2f x", read.ok_per_second() / echo.ok_per_second()), ">= 0.7 x E",
        read.ok_per_second() >= 0.7 * echo.ok_per_second());
    row("read a case: p99", absl::StrFormat("%.2f ms", read.ok_p99_ms),
        absl::StrFormat("%.2f ms (E)", echo.ok_p99_ms),
        absl::StrFormat("%.2f x", read.ok_p99_ms / echo.ok_p99_ms), "<= 1.5 x E",
        read.ok_p99_ms <= 1.5 * echo.ok_p99_ms);
  }

  if (wanted("updates")) {
    const LoadResult update = bench.UpdateLoad(closed);
    const double naive = NaiveWritesPerSecond(flags.dir + "/naive.db", flags.concurrency,
                                              flags.seconds, static_cast<size_t>(response_bytes));
    row(absl::StrFormat("durable form update (%d concurrent): writes/s", flags.concurrency),
        Thousands(update.ok_per_second()), Thousands(naive) + " (W)",
        absl::StrFormat("%.2f x", update.ok_per_second() / naive), ">= 3 x W",
        update.ok_per_second() >= 3 * naive);
  }

  if (wanted("overload")) OverloadRows(bench, flags, read.ok_per_second(), row);

  // Scale point 2 and the full sync at the large size.
  const double seed_large = wanted("scale") || wanted("sync") ? bench.SeedTo(flags.large_cases) : 0;
  if (wanted("scale")) {
    const LoadResult large_p50 = bench.ReadLoad(light);
    row(absl::StrFormat("scale: read p50 at %s vs %s cases", Thousands(flags.large_cases),
                        Thousands(flags.small_cases)),
        absl::StrFormat("%.2f ms", large_p50.ok_p50_ms),
        absl::StrFormat("%.2f ms", small_p50.ok_p50_ms),
        absl::StrFormat("%.2f x", large_p50.ok_p50_ms / small_p50.ok_p50_ms), "<= 1.2 x",
        large_p50.ok_p50_ms <= 1.2 * small_p50.ok_p50_ms);
  }
  if (wanted("sync")) SyncRows(bench, row);

  // PostgreSQL last, so that SQLite's rows are measured as without it.
  std::string postgres_heading;
  if (!flags.database.empty() && (wanted("reads") || wanted("updates"))) {
    const double seeded = PostgresRows(bench, flags, wanted("reads"), wanted("updates"), row);
    postgres_heading = absl::StrFormat("; %s: seeded %s cases in %.0f s", postgres_server,
                                       Thousands(flags.small_cases), seeded);
  }

  const std::string table = absl::StrFormat(
      "perf_bench: %d channels, %.0f s per measurement; seeded %s cases in %.0f s, %s in %.0f s"
      "%s%s\n"
      "| what | handoverd | baseline | ratio | target | |\n|---|---|---|---|---|---|\n%s",
      flags.channels, flags.seconds, Thousands(flags.small_cases), seed_small,
      Thousands(flags.large_cases), seed_large,
      flags.only.empty() ? "" : " (0 s: not needed by --only)", postgres_heading, rows);
  if (flags.only.empty()) {
    WriteTable(table, std::string(HANDOVER_SOURCE_DIR) + "/bench/results/perf.txt");
  } else {
    std::cout << table;  // a partial run does not replace the full table
  }
  return 0;
}

}  // namespace handover::bench

int main(int argc, char** argv) { return handover::bench::Main(argc, argv); }
