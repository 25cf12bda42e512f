// The whole server on PostgreSQL when the database drops its connections
// (a restart, a failover, an administrator's pg_terminate_backend): a write
// or read that finds its connection broken before anything was committed
// connects again and runs once more; one that still cannot be stored is
// told UNAVAILABLE ("nothing was stored; retry", or that the commit's
// outcome is unknown), and its retry with the same request id gives the
// first result; nothing acknowledged is lost and the feed goes on without
// a gap, watchers included.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/dates.h"
#include "tests/testing/postgres.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::SampleForm;
using testing::TestServer;

ServerOptions PostgresServerOptions(const std::string& url) {
  ServerOptions options = testing::PostgresServerOptions(url);
  options.service.watch.progress_interval = std::chrono::milliseconds(100);
  return options;
}

// Ends every connection handoverd holds to the database; how many.
int DropServerConnections(const std::string& url) {
  pqxx::connection admin(url);
  pqxx::nontransaction run(admin);
  return static_cast<int>(run.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = current_database() "
                                   "AND application_name LIKE 'handoverd-%'")
                              .size());
}

// Runs `call` until it is not UNAVAILABLE (at most 5 times); its last status.
template <typename Call>
absl::Status Retried(Call call, int* unavailable) {
  absl::Status status;
  for (int attempt = 0; attempt < 5; ++attempt) {
    status = call();
    if (status.code() != absl::StatusCode::kUnavailable) return status;
    ++*unavailable;
  }
  return status;
}

TEST(PostgresServerTest, ServesAgainAfterTheDatabaseDropsItsConnections) {
  const std::string url = testing::NewPostgresDatabase();
  TestServer server(PostgresServerOptions(url));
  ASSERT_NE(server.server(), nullptr);
  auto op = server.ClientFor("operator-redcross");
  auto first = op->CreateCase(SampleForm("99062000"), "first");
  ASSERT_TRUE(first.ok()) << first.status();

  // A watch that lives through the drop.
  auto watcher = server.ClientFor("operator-redcross");
  auto stream = watcher->Watch({});

  // writer, readers, feed watcher, key store
  EXPECT_GE(DropServerConnections(url), 4);
  int unavailable = 0;
  absl::StatusOr<v1::Case> second;
  absl::Status created = Retried(
      [&] {
        second = op->CreateCase(SampleForm("99062001"), "second");
        return second.status();
      },
      &unavailable);
  ASSERT_TRUE(created.ok()) << created;
  absl::Status read = Retried([&] { return op->GetCase(first->name()).status(); }, &unavailable);
  EXPECT_TRUE(read.ok()) << read;
  EXPECT_TRUE(op->GetCase(second->name()).ok());

  // The watch gets both creations, in order, without a gap.
  std::vector<int64_t> revisions;
  v1::WatchResponse item;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (revisions.size() < 2 && std::chrono::steady_clock::now() < deadline &&
         stream->Next(&item)) {
    if (item.has_event()) revisions.push_back(item.event().revision());
  }
  stream->Cancel();
  (void)stream->Finish();
  EXPECT_EQ(revisions, (std::vector<int64_t>{1, 2}));
  std::cerr << "calls that met a dropped connection and were retried: " << unavailable << "\n";
}

v1::AssignCaseRequest AssignTo760(const std::string& case_name, const std::string& request_id) {
  v1::AssignCaseRequest request;
  request.set_name(case_name);
  request.set_municipality_code("760");
  *request.mutable_decision_date() = MakeDate(2026, 5, 15);
  request.set_request_id(request_id);
  return request;
}

// The probe: cases created through replica A, assigned through
// replica B (whose key cache does not hold them, so each assignment reads
// its key from the key store) while every connection of both replicas is
// terminated again and again. Every answer must agree with the database,
// and every retry with the same request id must give the first result.
TEST(PostgresServerTest, AnswersAgreeWithTheDatabaseWhileConnectionsAreTerminated) {
  const std::string url = testing::NewPostgresDatabase();
  TestServer a(PostgresServerOptions(url));
  TestServer b(PostgresServerOptions(url));
  ASSERT_NE(a.server(), nullptr);
  ASSERT_NE(b.server(), nullptr);
  auto op = a.ClientFor("operator-redcross");
  std::vector<std::string> cases;
  for (int i = 0; i < 30; ++i) {
    auto created = op->CreateCase(SampleForm(absl::StrCat(99063000 + i)), absl::StrCat("c", i));
    ASSERT_TRUE(created.ok()) << created.status();
    cases.push_back(created->name());
  }

  std::atomic<bool> stop{false};
  std::atomic<int> terminated{0};
  std::thread killer([&] {
    while (!stop) {
      try {
        terminated += DropServerConnections(url);
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
  });
  auto uds = b.ClientFor("immigration-service-uds");
  std::vector<absl::Status> answers;
  for (size_t i = 0; i < cases.size(); ++i) {
    answers.push_back(uds->AssignCase(AssignTo760(cases[i], absl::StrCat("a", i))).status());
  }
  stop = true;
  killer.join();
  EXPECT_GT(terminated.load(), 0);

  auto reader = a.ClientFor("immigration-service-uds");
  int refused = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i] + ": " + answers[i].ToString());
    auto now = reader->GetCase(cases[i]);
    ASSERT_TRUE(now.ok()) << now.status();
    const bool stored = now->assignment().municipality_code() == "760";
    if (answers[i].ok()) {
      EXPECT_TRUE(stored) << "acknowledged but not stored";
    } else {
      ++refused;
      EXPECT_EQ(answers[i].code(), absl::StatusCode::kUnavailable);
      if (absl::StrContains(answers[i].message(), "nothing was stored")) {
        EXPECT_FALSE(stored) << "refused as not stored, but stored";
      }
    }
    // The retry gives the first result (or, after a refusal, the write).
    auto retried = uds->AssignCase(AssignTo760(cases[i], absl::StrCat("a", i)));
    ASSERT_TRUE(retried.ok()) << retried.status();
    EXPECT_EQ(retried->assignment().municipality_code(), "760");
  }
  // Each case has exactly one assignment event.
  v1::SyncRequest sync;
  sync.set_page_size(1000);
  auto feed = reader->Sync(sync);
  ASSERT_TRUE(feed.ok()) << feed.status();
  std::map<std::string, int> assigned;
  for (const v1::ChangeEvent& event : feed->events()) {
    if (event.kind() == v1::EVENT_KIND_ASSIGNED) ++assigned[event.case_name()];
  }
  for (const std::string& name : cases) EXPECT_EQ(assigned[name], 1) << name;
  std::cerr << "connections terminated: " << terminated << "; assignments refused: " << refused
            << " of " << cases.size() << "\n";
}

// The outside check of crypto-erasure on PostgreSQL: after an erasure is
// answered (and a CHECKPOINT), the erased case's wrapped key is in none of
// the key table's pages, read from its file. It was, before: the VACUUM ran
// while the erasing transaction was still open.
TEST(PostgresServerTest, AnErasedCasesWrappedKeyLeavesTheKeyTablesPages) {
  const std::string url = testing::NewPostgresDatabase();
  TestServer server(PostgresServerOptions(url));
  ASSERT_NE(server.server(), nullptr);
  auto op = server.ClientFor("operator-redcross");
  auto kept = op->CreateCase(SampleForm("99064000"), "kept");
  auto erased = op->CreateCase(SampleForm("99064001"), "erased");
  ASSERT_TRUE(kept.ok() && erased.ok());
  pqxx::connection admin(url);
  auto wrapped_key = [&](const std::string& name) {
    pqxx::nontransaction run(admin);
    return pqxx::binarystring(
               run.exec_params1("SELECT wrapped FROM handover_keys.case_keys WHERE case_id = $1",
                                name.substr(6))[0])
        .str();
  };
  auto table_file = [&] {
    pqxx::nontransaction run(admin);
    run.exec0("CHECKPOINT");
    return pqxx::binarystring(run.exec1("SELECT pg_read_binary_file(pg_relation_filepath("
                                        "'handover_keys.case_keys'))")[0])
        .str();
  };
  const std::string kept_key = wrapped_key(kept->name());
  const std::string erased_key = wrapped_key(erased->name());
  ASSERT_NE(table_file().find(erased_key), std::string::npos) << "the check could not fail";

  ASSERT_TRUE(op->EraseCase(erased->name(), "person-request", "erase-1").ok());
  // A snapshot older than the erasure that is still open (a read in flight on
  // a busy machine) keeps the row through that scrub; the next erasure's
  // scrub removes it (pg_key_store.h). So at most a few more erasures.
  std::string after = table_file();
  for (int i = 0; i < 5 && after.find(erased_key) != std::string::npos; ++i) {
    auto next = op->CreateCase(SampleForm(absl::StrCat(99064100 + i)), absl::StrCat("next-", i));
    ASSERT_TRUE(next.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_TRUE(op->EraseCase(next->name(), "person-request", absl::StrCat("erase-next-", i)).ok());
    after = table_file();
  }
  EXPECT_EQ(after.find(erased_key), std::string::npos) << "the erased key's bytes are still there";
  EXPECT_NE(after.find(kept_key), std::string::npos);
  EXPECT_TRUE(op->GetCase(kept->name()).ok());
}

}  // namespace
}  // namespace handover
