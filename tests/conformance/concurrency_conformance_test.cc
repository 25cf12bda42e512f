// Concurrency (backend.h contract 1, 2 and 4): writers on several threads
// while readers page through the feed and read cases. Every reader sees every
// committed event once, in revision order, without gaps, and exactly the
// events the commit listener was given; every case read is one consistent
// version.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {
namespace {

using testing::SampleForm;

constexpr int kWriters = 4;
constexpr int kWritesPerWriter = 200;  // a create, then updates of it, in turn
constexpr int kUpdatesPerCase = 4;
constexpr int kFeedReaders = 3;

std::string Expectations(int64_t version) { return absl::StrCat("Fictional version ", version); }

// The form of a writer's case at `version`: says its own version number.
v1::HandoverForm FormAt(const std::string& person, int64_t version) {
  v1::HandoverForm form = SampleForm(person);
  form.mutable_wishes_and_plans()->set_expectations(Expectations(version));
  return form;
}

TEST_P(ConcurrencyConformance, FeedReadersSeeEveryCommittedEventOnceInOrderDuringWrites) {
  absl::Mutex mu;
  std::vector<int64_t> committed;  // by the listener, in call order
  store_->SetCommitListener([&](std::vector<store::CommittedEvent> events, int64_t) {
    absl::MutexLock lock(&mu);
    for (const store::CommittedEvent& event : events) committed.push_back(event.event.revision());
  });

  std::atomic<bool> writers_done{false};
  std::atomic<int64_t> final_head{-1};
  std::vector<std::vector<int64_t>> seen(kFeedReaders);
  std::vector<std::thread> readers;
  for (int r = 0; r < kFeedReaders; ++r) {
    readers.emplace_back([&, r] {
      std::vector<int64_t>& mine = seen[r];
      int64_t after = 0;
      const int page_size = 17 + 13 * r;  // pages end at different places
      for (;;) {
        auto page = Feed(after, page_size);
        if (!page.ok()) {
          ADD_FAILURE() << "reader " << r << " after " << after << ": " << page.status();
          return;
        }
        for (const store::FeedEvent& item : page->events) {
          const int64_t revision = item.event.revision();
          if (!mine.empty() && revision != mine.back() + 1) {
            ADD_FAILURE() << "reader " << r << " read " << revision << " after " << mine.back();
            return;
          }
          mine.push_back(revision);
        }
        EXPECT_GE(page->scanned_through, after) << "reader " << r;
        after = page->scanned_through;
        if (!page->caught_up) continue;
        const int64_t head = final_head.load();
        if (head >= 0 && after >= head) return;
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
    });
  }

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::string case_id, person;
      int64_t version = 0;
      for (int i = 0; i < kWritesPerWriter; ++i) {
        const std::string request_id = absl::StrCat("w", w, "-", i);
        if (i % (kUpdatesPerCase + 1) == 0) {
          person = absl::StrFormat("99%d%05d", w, i);
          auto created = Create(request_id, FormAt(person, 1));
          if (!created.ok()) {
            ADD_FAILURE() << request_id << ": " << created.status();
            return;
          }
          case_id = CaseId(*created);
          version = 1;
        } else {
          auto updated =
              Update(case_id, FormAt(person, version + 1), absl::StrCat("v", version), request_id);
          if (!updated.ok()) {
            ADD_FAILURE() << request_id << ": " << updated.status();
            return;
          }
          version = updated->meta.version();
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  writers_done = true;
  final_head = Head();
  for (std::thread& reader : readers) reader.join();
  store_->SetCommitListener(nullptr);

  constexpr size_t kEvents = kWriters * kWritesPerWriter;  // one event per write
  std::vector<int64_t> listened;
  {
    absl::MutexLock lock(&mu);
    listened = committed;
  }
  ASSERT_EQ(listened.size(), kEvents);
  for (size_t i = 1; i < listened.size(); ++i) {
    ASSERT_EQ(listened[i], listened[i - 1] + 1) << "the listener hears each event once, in order";
  }
  EXPECT_EQ(listened.back(), final_head.load());
  for (int r = 0; r < kFeedReaders; ++r) {
    EXPECT_EQ(seen[r], listened) << "reader " << r << " saw " << seen[r].size() << " events";
  }
  EXPECT_EQ(AllEvents().size(), kEvents);
}

TEST_P(ConcurrencyConformance, CaseReadsDuringWritesSeeOneConsistentVersion) {
  constexpr int kCaseWriters = 2;
  constexpr int kCasesPerWriter = 2;
  constexpr int kUpdates = 60;  // per case
  constexpr int kCaseReaders = 2;

  struct Tracked {
    std::string id;
    std::string person;
  };
  std::vector<Tracked> cases;
  for (int i = 0; i < kCaseWriters * kCasesPerWriter; ++i) {
    const std::string person = absl::StrFormat("9920%04d", i);
    auto created = Create(absl::StrCat("create-", i), FormAt(person, 1));
    ASSERT_TRUE(created.ok()) << created.status();
    cases.push_back({CaseId(*created), person});
  }

  std::atomic<bool> writers_done{false};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kCaseReaders; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937 random(r);
      std::map<std::string, int64_t> newest;  // per case, the newest version read
      while (!writers_done.load()) {
        const Tracked& tracked = cases[random() % cases.size()];
        auto read = Get(tracked.id);
        if (!read.ok()) {
          ADD_FAILURE() << "reader " << r << ": " << read.status();
          return;
        }
        ++reads;
        const int64_t version = read->meta.version();
        EXPECT_EQ(read->meta.etag(), absl::StrCat("v", version));
        EXPECT_EQ(read->version.version(), version);
        EXPECT_EQ(read->meta.name(), CaseName(tracked.id));
        if (!read->form.has_value()) {
          ADD_FAILURE() << "no form";
          return;
        }
        EXPECT_EQ(read->form->identity().person_identifier(), tracked.person);
        EXPECT_EQ(read->form->wishes_and_plans().expectations(), Expectations(version))
            << "the form is the version's form";
        EXPECT_GE(version, newest[tracked.id]) << "a later read never goes back";
        newest[tracked.id] = version;
        if (version > 1 && random() % 4 == 0) {  // an older version, by number
          const int64_t older = 1 + static_cast<int64_t>(random() % (version - 1));
          auto old = Get(tracked.id, older);
          if (!old.ok()) {
            ADD_FAILURE() << "version " << older << ": " << old.status();
            return;
          }
          EXPECT_EQ(old->version.version(), older);
          EXPECT_EQ(old->form->wishes_and_plans().expectations(), Expectations(older));
        }
      }
    });
  }

  std::vector<std::thread> writers;
  for (int w = 0; w < kCaseWriters; ++w) {
    writers.emplace_back([&, w] {
      std::vector<int64_t> versions(kCasesPerWriter, 1);
      for (int u = 0; u < kUpdates * kCasesPerWriter; ++u) {
        const int k = u % kCasesPerWriter;
        const Tracked& tracked = cases[w * kCasesPerWriter + k];
        auto updated = Update(tracked.id, FormAt(tracked.person, versions[k] + 1),
                              absl::StrCat("v", versions[k]), absl::StrCat("u", w, "-", u));
        if (!updated.ok()) {
          ADD_FAILURE() << updated.status();
          return;
        }
        versions[k] = updated->meta.version();
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  writers_done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_GT(reads.load(), 0);
  for (const Tracked& tracked : cases) {
    EXPECT_EQ(Get(tracked.id)->meta.version(), 1 + kUpdates);
  }
}

}  // namespace
}  // namespace handover::conformance
