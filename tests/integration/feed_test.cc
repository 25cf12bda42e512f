// The change feed over real mutual TLS: ordered, no gaps, no duplicates,
// resumable; revocations reach connected watchers and leak nothing after;
// compaction gives a typed error (revision 0 still reads from the oldest
// retained revision) and the snapshot path recovers; idle
// watchers get progress; a client that stops reading is cut off with a clear
// status.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <future>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/sync_agent.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "server/store/sealing.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::SampleForm;
using testing::TestServer;
using testing::TestServerOptions;

// The committed events whose audience `include` accepts, read straight from
// the database file (not through the service): the audience is fixed when
// the event commits.
template <typename Include>
std::vector<int64_t> CommittedFor(const TestServer& server, Include include) {
  SQLite::Database db(server.options().database_path, SQLite::OPEN_READONLY);
  std::vector<int64_t> revisions;
  for (const store::CommittedEvent& committed : store::SqliteTxn(db, nullptr).EventsAfter(0)) {
    if (include(committed.audience)) revisions.push_back(committed.event.revision());
  }
  return revisions;
}
bool Any(const policy::EventAudience&) { return true; }
auto ForMunicipality(std::string code) {
  return [code](const policy::EventAudience& a) { return a.municipality_code == code; };
}

int64_t Head(TestServer& server) { return server.server()->hub()->head_revision(); }

// Reads a watch stream until `until` says stop or the stream ends.
template <typename Until>
std::vector<v1::ChangeEvent> Collect(client::WatchStream& stream, Until until) {
  std::vector<v1::ChangeEvent> events;
  v1::WatchResponse item;
  while (stream.Next(&item)) {
    if (item.has_event()) events.push_back(item.event());
    if (until(item)) break;
  }
  return events;
}

// On SQLite: CommittedFor reads the events' audiences straight from its file.
ServerOptions FastFeed() {
  ServerOptions options = testing::SqliteServerOptions(testing::NewTempDir());
  options.service.watch.progress_interval = std::chrono::milliseconds(50);
  options.service.watch.batch_size = 16;  // many batches, to exercise the cursor
  return options;
}

class FeedTest : public ::testing::Test {
 protected:
  std::string CreateCase(HandoverClient& op, const std::string& person) {
    auto created = op.CreateCase(SampleForm(person), HandoverClient::NewRequestId());
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->name() : "";
  }
  absl::Status Update(HandoverClient& op, const std::string& name, const std::string& family) {
    v1::UpdateFormRequest request;
    request.set_name(name);
    request.mutable_form()->mutable_identity()->set_family_name(family);
    request.mutable_update_mask()->add_paths("identity.family_name");
    request.set_request_id(HandoverClient::NewRequestId());
    return op.UpdateForm(request).status();
  }
  absl::Status Assign(const std::string& name, const std::string& municipality) {
    v1::AssignCaseRequest request;
    request.set_name(name);
    request.set_municipality_code(municipality);
    request.set_request_id(HandoverClient::NewRequestId());
    return uds_->AssignCase(request).status();
  }
  // Waits (bounded) until a progress revision >= `revision` arrives; returns
  // the events seen on the way.
  std::vector<v1::ChangeEvent> UntilProgress(client::WatchStream& stream, int64_t revision) {
    return Collect(stream, [revision](const v1::WatchResponse& item) {
      return item.has_progress_revision() && item.progress_revision() >= revision;
    });
  }

  TestServer server_{FastFeed()};
  std::unique_ptr<HandoverClient> redcross_ = server_.ClientFor("operator-redcross");
  std::unique_ptr<HandoverClient> hanstholm_ = server_.ClientFor("operator-hanstholm");
  std::unique_ptr<HandoverClient> uds_ = server_.ClientFor("immigration-service-uds");
  std::unique_ptr<HandoverClient> m760_ = server_.ClientFor("municipality-760");
  std::unique_ptr<HandoverClient> m147_ = server_.ClientFor("municipality-147");
};

TEST_F(FeedTest, ConcurrentWritersAndResumingWatchersSeeExactlyTheirEvents) {
  std::atomic<bool> writing{true};
  // Two operators write concurrently; the Immigration Service assigns and
  // re-assigns between 760 and 147.
  auto writer = [&](HandoverClient* op, int base) {
    for (int i = 0; i < 12; ++i) {
      const std::string name = CreateCase(*op, std::to_string(base + i));
      ASSERT_TRUE(Assign(name, i % 2 ? "760" : "147").ok());
      ASSERT_TRUE(Update(*op, name, absl::StrCat("Eksempel-", i)).ok());
      if (i % 3 == 0) {
        ASSERT_TRUE(Assign(name, i % 2 ? "147" : "760").ok());
      }
      ASSERT_TRUE(Update(*op, name, absl::StrCat("Eksempel-", i, "b")).ok());
    }
  };
  // Each watcher reads a few events at a time, disconnects, and resumes from
  // the last revision it received.
  struct Watched {
    HandoverClient* client;
    std::vector<int64_t> revisions;
  };
  std::vector<Watched> watched = {
      {m760_.get(), {}}, {m147_.get(), {}}, {uds_.get(), {}}, {redcross_.get(), {}}};
  auto watcher = [&](Watched* w) {
    int64_t cursor = 0;
    for (int round = 0; round < 400; ++round) {
      v1::WatchRequest request;
      request.set_after_revision(cursor);
      auto stream = w->client->Watch(request);
      int taken = 0;
      v1::WatchResponse item;
      while (taken < 5 && stream->Next(&item)) {
        if (item.has_event()) {
          w->revisions.push_back(item.event().revision());
          cursor = item.event().revision();
          ++taken;
        } else {
          cursor = item.progress_revision();
          if (!writing && cursor >= Head(server_)) break;
        }
      }
      stream->Cancel();
      (void)stream->Finish();
      if (!writing && cursor >= Head(server_)) return;
    }
    ADD_FAILURE() << "watcher did not catch up";
  };
  std::vector<std::thread> threads;
  for (auto& w : watched) threads.emplace_back(watcher, &w);
  std::thread a(writer, redcross_.get(), 99300000);
  std::thread b(writer, hanstholm_.get(), 99400000);
  a.join();
  b.join();
  writing = false;
  for (auto& t : threads) t.join();

  const std::vector<int64_t> all = CommittedFor(server_, Any);
  // Per case: created, assigned, updated twice; every third re-assigned
  // (revoked + assigned).
  ASSERT_EQ(all.size(), 2u * (12 * 4 + 4 * 2)) << "every write left its events";
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<int64_t>(i + 1));
  EXPECT_EQ(watched[0].revisions, CommittedFor(server_, ForMunicipality("760")));
  EXPECT_EQ(watched[1].revisions, CommittedFor(server_, ForMunicipality("147")));
  EXPECT_EQ(watched[2].revisions, CommittedFor(server_, [](const policy::EventAudience& a) {
              return !a.municipality_only;
            }));
  EXPECT_EQ(watched[3].revisions, CommittedFor(server_, [](const policy::EventAudience& a) {
              return a.operator_id == "redcross" && !a.municipality_only;
            }));
  EXPECT_FALSE(watched[0].revisions.empty());
}

// A new watcher whose backlog is waiting gets it at once: its first message
// goes out with the stream's headers. (gRPC never completes a first write
// that carries a buffer hint, so the watcher must not give it one.)
TEST_F(FeedTest, ANewWatcherWithABacklogGetsItAtOnce) {
  for (int i = 0; i < 40; ++i) CreateCase(*redcross_, std::to_string(99450000 + i));
  const int64_t head = Head(server_);
  for (int round = 0; round < 5; ++round) {
    auto fresh = server_.ClientFor("operator-redcross");  // its own connection
    auto stream = fresh->Watch({});
    auto events = std::async(std::launch::async, [&] { return UntilProgress(*stream, head); });
    if (events.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      stream->Cancel();
      ADD_FAILURE() << "round " << round << ": the backlog did not arrive within 10 s";
      events.wait();
      return;
    }
    EXPECT_EQ(events.get().size(), 40u) << "round " << round;
    stream->Cancel();
  }
}

TEST_F(FeedTest, SyncPagesThroughTheSameSequence) {
  for (int i = 0; i < 7; ++i) {
    const std::string name = CreateCase(*redcross_, std::to_string(99500000 + i));
    ASSERT_TRUE(Assign(name, "760").ok());
  }
  std::vector<int64_t> seen;
  v1::SyncRequest request;
  request.set_page_size(3);
  request.set_include_cases(true);
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10);
    auto page = m760_->Sync(request);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& event : page->events()) {
      seen.push_back(event.revision());
      EXPECT_EQ(event.kind(), v1::EVENT_KIND_ASSIGNED);
      EXPECT_EQ(event.case_().name(), event.case_name());
      EXPECT_FALSE(event.case_().form().health().has_medical_record_reference());
    }
    request.set_after_revision(page->next_after_revision());
    if (page->caught_up()) break;
  }
  EXPECT_EQ(seen, CommittedFor(server_, ForMunicipality("760")));
  EXPECT_EQ(request.after_revision(), Head(server_)) << "the cursor ends at the head";
}

TEST_F(FeedTest, ACursorBeyondTheNewestRevisionIsRefusedNotSkipped) {
  CreateCase(*redcross_, "99610001");
  v1::SyncRequest request;
  request.set_after_revision(Head(server_) + 5);  // e.g. after a restore from backup
  auto page = redcross_->Sync(request);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(FeedCompactedRevision(page.status()).has_value())
      << "the typed detail sends the client to a snapshot";
}

TEST_F(FeedTest, ConnectedWatcherGetsTheRevocationAndNothingAfter) {
  v1::WatchRequest request;
  request.set_include_cases(true);
  auto stream = m760_->Watch(request);
  const std::string name = CreateCase(*redcross_, "99600001");
  ASSERT_TRUE(Assign(name, "760").ok());
  ASSERT_TRUE(Update(*redcross_, name, "Before-Move").ok());
  ASSERT_TRUE(Assign(name, "147").ok());
  ASSERT_TRUE(Update(*redcross_, name, "After-Move").ok());
  ASSERT_TRUE(redcross_->CreateCase(SampleForm("99600002"), "other").ok());

  std::vector<v1::ChangeEvent> events = UntilProgress(*stream, Head(server_));
  stream->Cancel();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind(), v1::EVENT_KIND_ASSIGNED);
  EXPECT_EQ(events[1].kind(), v1::EVENT_KIND_FORM_UPDATED);
  EXPECT_EQ(events[2].kind(), v1::EVENT_KIND_ACCESS_REVOKED);
  EXPECT_FALSE(events[2].has_case_()) << "a revocation carries no content";
  for (const auto& event : events) {
    EXPECT_NE(event.case_().form().identity().family_name(), "After-Move") << "leaked";
  }
}

TEST_F(FeedTest, ConsentWithdrawalTellsTheMunicipalityWhatToDelete) {
  const std::string name = CreateCase(*redcross_, "99700001");
  ASSERT_TRUE(Assign(name, "760").ok());
  v1::RecordConsentRequest consent;
  consent.set_parent(name);
  consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_MEDICAL_RECORD);
  consent.mutable_consent()->mutable_given_date()->set_year(2026);
  consent.mutable_consent()->mutable_given_date()->set_month(5);
  consent.mutable_consent()->mutable_given_date()->set_day(1);
  consent.set_request_id("consent-1");
  auto given = redcross_->RecordConsent(consent);
  ASSERT_TRUE(given.ok()) << given.status();
  ASSERT_TRUE(redcross_->WithdrawConsent(given->name(), "withdraw-1").ok());

  v1::SyncRequest request;
  request.set_include_cases(true);
  auto page = m760_->Sync(request);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events_size(), 3);
  EXPECT_EQ(page->events(1).kind(), v1::EVENT_KIND_CONSENT_GIVEN);
  const v1::ChangeEvent& withdrawn = page->events(2);
  EXPECT_EQ(withdrawn.kind(), v1::EVENT_KIND_CONSENT_WITHDRAWN);
  EXPECT_EQ(std::vector<std::string>(withdrawn.withdrawn_fields().begin(),
                                     withdrawn.withdrawn_fields().end()),
            (std::vector<std::string>{"health.medical_record_reference",
                                      "documents(DOCUMENT_TYPE_MEDICAL_RECORD)"}));
  EXPECT_FALSE(withdrawn.case_().form().health().has_medical_record_reference());
}

TEST_F(FeedTest, IdleWatcherAdvancesItsCursorWithProgress) {
  auto stream = m147_->Watch({});
  for (int i = 0; i < 3; ++i) CreateCase(*redcross_, std::to_string(99800000 + i));
  const int64_t head = Head(server_);
  ASSERT_GT(head, 0);
  int64_t progressed = 0;
  const auto events = Collect(*stream, [&](const v1::WatchResponse& item) {
    if (item.has_progress_revision()) progressed = item.progress_revision();
    return progressed >= head;
  });
  EXPECT_TRUE(events.empty()) << "none of the operator's cases is 147's";
  EXPECT_GE(progressed, head) << "a progress revision reached the head";
  stream->Cancel();
}

TEST_F(FeedTest, CompactedHistoryGivesATypedErrorAndTheSnapshotRecovers) {
  const std::string dir = testing::NewTempDir();
  client::SyncAgent early(m760_.get(), dir);
  const std::string kept = CreateCase(*redcross_, "99900001");
  ASSERT_TRUE(Assign(kept, "760").ok());
  const std::string moved = CreateCase(*redcross_, "99900002");
  ASSERT_TRUE(Assign(moved, "760").ok());
  ASSERT_TRUE(early.CatchUp().ok());
  const int64_t snapshots_before = early.stats().snapshots;  // its first, from a fresh directory
  ASSERT_TRUE(Assign(moved, "147").ok());
  ASSERT_TRUE(Update(*redcross_, kept, "Compacted").ok());

  // Everything so far is compacted away.
  auto through = testing::Await<int64_t>(
      [&](auto done) { server_.server()->store()->CompactFeed(store::NowMicros() + 1, done); });
  ASSERT_TRUE(through.ok());
  ASSERT_EQ(*through, Head(server_));

  v1::SyncRequest old_cursor;
  old_cursor.set_after_revision(1);
  auto sync = m760_->Sync(old_cursor);
  EXPECT_EQ(sync.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(FeedCompactedRevision(sync.status()), *through) << sync.status();
  v1::WatchRequest old_watch;
  old_watch.set_after_revision(1);
  auto stream = m760_->Watch(old_watch);
  v1::WatchResponse item;
  EXPECT_FALSE(stream->Next(&item));
  EXPECT_EQ(FeedCompactedRevision(stream->Finish()), *through);

  // The agent, behind the window, re-syncs from a snapshot: the moved case's
  // file goes, the kept case's is current.
  ASSERT_TRUE(early.CatchUp().ok());
  EXPECT_EQ(early.stats().snapshots, snapshots_before + 1);
  EXPECT_FALSE(std::filesystem::exists(dir + "/cases/" + moved.substr(6) + ".json"));
  std::ifstream in(dir + "/cases/" + kept.substr(6) + ".json");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("Compacted"), std::string::npos);
}

// after_revision 0 means "from the oldest retained revision" (feed.proto), so
// Sync and Watch from 0 serve the retained events after a compaction, while
// every other compacted cursor is still refused with the typed error.
TEST_F(FeedTest, RevisionZeroReadsFromTheOldestRetainedAfterCompaction) {
  for (int i = 0; i < 3; ++i) CreateCase(*redcross_, std::to_string(99910000 + i));
  auto through = testing::Await<int64_t>(
      [&](auto done) { server_.server()->store()->CompactFeed(store::NowMicros() + 1, done); });
  ASSERT_TRUE(through.ok()) << through.status();
  ASSERT_EQ(*through, 3);
  for (int i = 0; i < 2; ++i) CreateCase(*redcross_, std::to_string(99910100 + i));
  const std::vector<int64_t> retained = CommittedFor(server_, Any);
  ASSERT_EQ(retained, (std::vector<int64_t>{4, 5}));

  auto sync = redcross_->Sync({});
  ASSERT_TRUE(sync.ok()) << sync.status();
  std::vector<int64_t> synced;
  for (const auto& event : sync->events()) synced.push_back(event.revision());
  EXPECT_EQ(synced, retained);
  EXPECT_EQ(sync->next_after_revision(), Head(server_));
  EXPECT_TRUE(sync->caught_up());

  auto stream = redcross_->Watch({});
  std::vector<int64_t> watched;
  for (const auto& event : UntilProgress(*stream, Head(server_))) {
    watched.push_back(event.revision());
  }
  stream->Cancel();
  (void)stream->Finish();
  EXPECT_EQ(watched, retained);

  for (int64_t cursor = 1; cursor < *through; ++cursor) {
    v1::SyncRequest request;
    request.set_after_revision(cursor);
    auto refused = redcross_->Sync(request);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kOutOfRange) << cursor;
    EXPECT_EQ(FeedCompactedRevision(refused.status()), *through) << cursor;
    v1::WatchRequest watch;
    watch.set_after_revision(cursor);
    auto refused_stream = redcross_->Watch(watch);
    v1::WatchResponse item;
    EXPECT_FALSE(refused_stream->Next(&item)) << cursor;
    EXPECT_EQ(FeedCompactedRevision(refused_stream->Finish()), *through) << cursor;
  }
  v1::SyncRequest at_oldest;
  at_oldest.set_after_revision(*through);
  auto resumed = redcross_->Sync(at_oldest);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->events_size(), 2);
}

// An agent whose cursor is 0 (it synced an empty feed) takes a snapshot rather
// than Sync from 0, which now serves only the retained history: cases whose
// events were compacted meanwhile are still mirrored.
TEST_F(FeedTest, ASyncAgentAtRevisionZeroStartsFromASnapshot) {
  const std::string dir = testing::NewTempDir();
  client::SyncAgent agent(m760_.get(), dir);
  ASSERT_TRUE(agent.CatchUp().ok());
  ASSERT_EQ(agent.cursor(), 0) << "an empty feed";
  const std::string name = CreateCase(*redcross_, "99920001");
  ASSERT_TRUE(Assign(name, "760").ok());
  auto through = testing::Await<int64_t>(
      [&](auto done) { server_.server()->store()->CompactFeed(store::NowMicros() + 1, done); });
  ASSERT_TRUE(through.ok()) << through.status();
  ASSERT_EQ(*through, Head(server_));

  ASSERT_TRUE(agent.CatchUp().ok());
  EXPECT_EQ(agent.cursor(), *through);
  EXPECT_TRUE(std::filesystem::exists(dir + "/cases/" + name.substr(6) + ".json"))
      << "the case assigned in the compacted history is mirrored";
}

TEST(SlowWatcherTest, AClientThatStopsReadingIsCutOffAndResumes) {
  ServerOptions options = FastFeed();
  options.service.watch.stall_timeout = std::chrono::milliseconds(300);
  TestServer server(options);
  auto op = server.ClientFor("operator-redcross");
  auto uds = server.ClientFor("immigration-service-uds");
  auto m760 = server.ClientFor("municipality-760");
  auto created = op->CreateCase(SampleForm(), "create");
  ASSERT_TRUE(created.ok());
  v1::AssignCaseRequest assign;
  assign.set_name(created->name());
  assign.set_municipality_code("760");
  assign.set_request_id("assign");
  ASSERT_TRUE(uds->AssignCase(assign).ok());

  // A raw client with a small flow-control window and no window growth, so
  // that not reading soon stops the server's writes.
  grpc::SslCredentialsOptions tls;
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  tls.pem_root_certs = read(testing::PkiFile("ca.pem"));
  tls.pem_cert_chain = read(testing::PkiFile("municipality-760.pem"));
  tls.pem_private_key = read(testing::PkiFile("municipality-760.key"));
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  arguments.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  auto stub = v1::HandoverService::NewStub(
      grpc::CreateCustomChannel(server.address(), grpc::SslCredentials(tls), arguments));
  grpc::ClientContext context;
  context.AddMetadata("x-handover-actor", "slow-reader");
  v1::WatchRequest request;
  request.set_include_cases(true);
  auto stream = stub->Watch(&context, request);  // and then not read, for a while
  for (int i = 0; i < 300; ++i) {  // ~4 KiB per event: far more than the transport buffers
    v1::UpdateFormRequest update;
    update.set_name(created->name());
    update.mutable_form()->mutable_wishes_and_plans()->set_expectations(
        absl::StrCat(i, std::string(4000, 'x')));
    update.mutable_update_mask()->add_paths("wishes_and_plans.expectations");
    update.set_request_id(absl::StrCat("update-", i));
    ASSERT_TRUE(op->UpdateForm(update).ok());
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));

  std::vector<int64_t> received;
  const int64_t head = server.server()->hub()->head_revision();
  v1::WatchResponse item;
  while (stream->Read(&item)) {
    if (item.has_event()) received.push_back(item.event().revision());
    if (item.has_progress_revision() && item.progress_revision() >= head) {
      context.TryCancel();  // caught up: it was not cut off, and the test fails below
      break;
    }
  }
  const absl::Status ended = FromGrpcStatus(stream->Finish());
  EXPECT_EQ(ended.code(), absl::StatusCode::kResourceExhausted) << ended;
  EXPECT_NE(ended.message().find("resume with after_revision"), std::string::npos);

  const std::vector<int64_t> committed = CommittedFor(server, ForMunicipality("760"));
  ASSERT_LT(received.size(), committed.size()) << "the stream should have been cut off";
  EXPECT_EQ(received, std::vector<int64_t>(committed.begin(), committed.begin() + received.size()));
  // Resuming from the last revision received delivers exactly the rest.
  v1::SyncRequest resume;
  resume.set_after_revision(received.empty() ? 0 : received.back());
  resume.set_page_size(500);
  auto rest = m760->Sync(resume);
  ASSERT_TRUE(rest.ok()) << rest.status();
  std::vector<int64_t> all = received;
  for (const auto& event : rest->events()) all.push_back(event.revision());
  EXPECT_EQ(all, committed);
}

// An idle stream's progress comes every progress interval, the first one
// too (it used to come after one to two intervals: ticks were an interval
// apart and the first was skipped).
TEST(WatchProgressTest, AnIdleStreamGetsProgressEveryInterval) {
  ServerOptions options = TestServerOptions(testing::NewTempDir());
  options.service.watch.progress_interval = std::chrono::milliseconds(500);
  TestServer server(options);
  ASSERT_NE(server.server(), nullptr);
  auto client = server.ClientFor("operator-redcross");
  const auto started = std::chrono::steady_clock::now();
  auto stream = client->Watch(v1::WatchRequest());
  std::vector<double> at;  // seconds since the stream began
  v1::WatchResponse item;
  while (at.size() < 4 && stream->Next(&item)) {
    if (!item.has_progress_revision()) continue;
    at.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  stream->Cancel();
  (void)stream->Finish();
  ASSERT_EQ(at.size(), 4u);
  EXPECT_LE(at[0], 0.5 + 0.2) << "the first progress";
  for (size_t i = 1; i < at.size(); ++i) {
    EXPECT_GE(at[i] - at[i - 1], 0.5 - 0.02) << "progress " << i;
    EXPECT_LE(at[i] - at[i - 1], 0.5 + 0.2) << "progress " << i;
  }
}

}  // namespace
}  // namespace handover
