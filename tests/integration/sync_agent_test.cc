// The reference sync agent keeps a directory equal to the server's view for a
// municipality, across a server restart in the middle of the work, and after
// being killed and started again.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/sync_agent.h"
#include "common/json.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::SampleForm;
using testing::TestServer;

std::map<std::string, std::string> DirectoryContents(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/cases")) {
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    files[entry.path().filename().string()] = text.str();
  }
  return files;
}

// What the directory must hold: the municipality's full view of each case.
std::map<std::string, std::string> ServerView(HandoverClient& client) {
  std::map<std::string, std::string> files;
  v1::ListCasesRequest request;
  request.set_view(v1::CASE_VIEW_FULL);
  do {
    auto page = client.ListCases(request);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    for (const auto& c : page->cases()) files[c.name().substr(6) + ".json"] = ToJson(c);
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return files;
}

class SyncAgentTest : public ::testing::Test {
 protected:
  void Work(int from, int to) {
    for (int i = from; i < to; ++i) {
      auto created = redcross_->CreateCase(SampleForm(std::to_string(99010000 + i)),
                                           absl::StrCat("create-", i));
      ASSERT_TRUE(created.ok()) << created.status();
      names_.push_back(created->name());
      v1::AssignCaseRequest assign;
      assign.set_name(created->name());
      assign.set_municipality_code(i % 3 == 0 ? "147" : "760");
      assign.set_request_id(absl::StrCat("assign-", i));
      ASSERT_TRUE(uds_->AssignCase(assign).ok());
    }
    // Move one of ours away, and change one that stays.
    v1::AssignCaseRequest move;
    move.set_name(names_[from + 1]);
    move.set_municipality_code("330");
    move.set_request_id(absl::StrCat("move-", from));
    ASSERT_TRUE(uds_->AssignCase(move).ok());
    v1::UpdateFormRequest update;
    update.set_name(names_[from + 2]);
    update.mutable_form()->mutable_identity()->set_family_name(absl::StrCat("Changed-", from));
    update.mutable_update_mask()->add_paths("identity.family_name");
    update.set_request_id(absl::StrCat("update-", from));
    ASSERT_TRUE(redcross_->UpdateForm(update).ok());
  }

  // Waits (at most 20 s) until the agent's cursor reaches the server's head.
  void WaitForAgent(const client::SyncAgent& agent) {
    for (int i = 0; i < 400 && agent.cursor() < server_.server()->hub()->head_revision(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(agent.cursor(), server_.server()->hub()->head_revision());
  }

  TestServer server_;
  std::unique_ptr<HandoverClient> redcross_ = server_.ClientFor("operator-redcross");
  std::unique_ptr<HandoverClient> uds_ = server_.ClientFor("immigration-service-uds");
  std::unique_ptr<HandoverClient> m760_ = server_.ClientFor("municipality-760", "sync-agent");
  std::vector<std::string> names_;
  const std::string dir_ = testing::NewTempDir();
};

TEST_F(SyncAgentTest, DirectoryEqualsTheServerViewAcrossAServerRestart) {
  client::SyncAgent agent(m760_.get(), dir_);
  std::thread follower([&] { EXPECT_TRUE(agent.Follow().ok()); });
  Work(0, 10);
  WaitForAgent(agent);

  server_.Stop();  // the agent loses the server mid-stream
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server_.Restart();
  Work(10, 20);
  WaitForAgent(agent);
  agent.Stop();
  follower.join();

  EXPECT_GE(agent.stats().reconnects, 1);
  const auto expected = ServerView(*m760_);
  EXPECT_EQ(expected.size(), 11u)
      << "of 20 cases, 6 + 7 were assigned to 760 and one of each batch moved away";
  EXPECT_EQ(DirectoryContents(dir_), expected);
}

TEST_F(SyncAgentTest, AKilledAgentResumesFromItsCursor) {
  Work(0, 10);
  int64_t first_cursor = 0;
  {
    client::SyncAgent first(m760_.get(), dir_);
    ASSERT_TRUE(first.CatchUp().ok());
    EXPECT_EQ(first.stats().snapshots, 1) << "a fresh directory starts from a snapshot";
    EXPECT_GT(first.stats().files_written, 0);
    first_cursor = first.cursor();
  }  // "killed": only what is on disk remains
  ASSERT_GT(first_cursor, 0);
  Work(10, 20);
  client::SyncAgent second(m760_.get(), dir_);
  ASSERT_TRUE(second.CatchUp().ok());
  // The events addressed to 760 after the first agent's cursor, by a plain Sync.
  int64_t later_events = 0;
  v1::SyncRequest sync;
  sync.set_after_revision(first_cursor);
  for (bool done = false; !done;) {
    auto page = m760_->Sync(sync);
    ASSERT_TRUE(page.ok()) << page.status();
    later_events += page->events_size();
    sync.set_after_revision(page->next_after_revision());
    done = page->caught_up();
  }
  ASSERT_GT(later_events, 0);
  EXPECT_EQ(second.stats().snapshots, 0);
  EXPECT_EQ(second.stats().events, later_events)
      << "resumed from the cursor, neither replayed nor snapshotted again";
  EXPECT_EQ(DirectoryContents(dir_), ServerView(*m760_));
}

}  // namespace
}  // namespace handover
