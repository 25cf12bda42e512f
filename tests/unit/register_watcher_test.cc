// server/identity/register_watcher.h: the register follows its file; a broken
// file leaves the last good register in service and is reported once.
#include "server/identity/register_watcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/test_server.h"

namespace handover::identity {
namespace {

// A register of `count` fictional municipalities, 99990001... with codes
// 901...
std::string Municipalities(int count) {
  std::string toml;
  for (int i = 1; i <= count; ++i) {
    absl::StrAppend(&toml, "[[organisation]]\ncvr = \"", 99990000 + i,
                    "\"\nrole = \"municipality\"\nmunicipality_code = \"", 900 + i,
                    "\"\nname = \"Testkommune ", i, "\"\n");
  }
  return toml;
}

constexpr char kBroken[] = "[[organisation]]\ncvr = \"99990001\"\nrole = \"mayor\"\n";

class RegisterWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::NewTempDir() + "/organisations.toml";
    Write(Municipalities(1));
  }

  // Replaces the file the way an editor or deployment might: a new file
  // renamed over the old one.
  void Write(const std::string& text) {
    const std::string temporary = path_ + ".new";
    std::ofstream(temporary) << text;
    std::filesystem::rename(temporary, path_);
  }

  std::unique_ptr<RegisterWatcher> Start(absl::Duration check_interval = absl::ZeroDuration()) {
    auto watcher = RegisterWatcher::Start(
        path_, {.check_interval = check_interval,
                .on_error = [this](const absl::Status& status) { errors_.push_back(status); },
                .on_reload = [this](const OrganisationRegister&) { ++reloads_; },
                .now = [this] { return absl::FromUnixSeconds(now_seconds_.load()); }});
    EXPECT_TRUE(watcher.ok()) << watcher.status();
    return watcher.ok() ? *std::move(watcher) : nullptr;
  }

  std::string path_;
  std::vector<absl::Status> errors_;
  int reloads_ = 0;
  std::atomic<int64_t> now_seconds_{1'800'000'000};
};

TEST_F(RegisterWatcherTest, RefusesToStartWithoutAGoodFile) {
  Write(kBroken);
  auto broken = RegisterWatcher::Start(path_, {});
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  auto missing = RegisterWatcher::Start(path_ + ".missing", {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(errors_.empty());
}

TEST_F(RegisterWatcherTest, ReloadsAChangedFile) {
  auto watcher = Start();
  ASSERT_NE(watcher, nullptr);
  const auto first = watcher->Current();
  EXPECT_EQ(first->size(), 1u);

  Write(Municipalities(2));
  EXPECT_TRUE(watcher->Refresh().ok());
  EXPECT_EQ(watcher->Current()->size(), 2u);
  EXPECT_NE(watcher->Current()->Find("99990002"), nullptr);
  EXPECT_EQ(reloads_, 1);
  EXPECT_EQ(first->size(), 1u);  // a register handed out stays as it was
}

// An edit within the file system's timestamp tick leaves size, inode and
// modification time as they were; a file that recent is read again.
TEST_F(RegisterWatcherTest, ReloadsAnEditThatKeepsSizeAndModificationTime) {
  auto watcher = Start();
  ASSERT_NE(watcher, nullptr);
  const auto modified = std::filesystem::last_write_time(path_);
  std::string text = Municipalities(1);
  text.replace(text.find("Testkommune 1"), 13, "Testkommune X");
  std::ofstream(path_, std::ios::trunc) << text;
  std::filesystem::last_write_time(path_, modified);

  EXPECT_TRUE(watcher->Refresh().ok());
  EXPECT_EQ(watcher->Current()->Find("99990001")->name, "Testkommune X");
  EXPECT_EQ(reloads_, 1);
}

TEST_F(RegisterWatcherTest, AnUnchangedTextIsNoReload) {
  auto watcher = Start();
  ASSERT_NE(watcher, nullptr);
  const auto first = watcher->Current();
  Write(Municipalities(1));
  EXPECT_TRUE(watcher->Refresh().ok());
  EXPECT_TRUE(watcher->Refresh().ok());
  EXPECT_EQ(watcher->Current(), first);
  EXPECT_EQ(reloads_, 0);
}

TEST_F(RegisterWatcherTest, KeepsTheLastGoodRegisterWhileTheFileIsBroken) {
  auto watcher = Start();
  ASSERT_NE(watcher, nullptr);
  const auto good = watcher->Current();

  Write(kBroken);
  const absl::Status status = watcher->Refresh();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "role: unknown role \"mayor\"")) << status;
  EXPECT_EQ(watcher->Current(), good);
  EXPECT_EQ(watcher->Refresh(), status);  // still broken: the same answer, not reported again
  EXPECT_EQ(watcher->Current(), good);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0], status);

  Write(Municipalities(3));
  EXPECT_TRUE(watcher->Refresh().ok());
  EXPECT_EQ(watcher->Current()->size(), 3u);
  EXPECT_EQ(errors_.size(), 1u);
  EXPECT_EQ(reloads_, 1);
}

TEST_F(RegisterWatcherTest, KeepsTheLastGoodRegisterWhileTheFileIsMissing) {
  auto watcher = Start();
  ASSERT_NE(watcher, nullptr);
  const auto good = watcher->Current();

  std::filesystem::remove(path_);
  EXPECT_EQ(watcher->Refresh().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(watcher->Refresh().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(watcher->Current(), good);
  EXPECT_EQ(errors_.size(), 1u);

  Write(Municipalities(1));  // back as it was
  EXPECT_TRUE(watcher->Refresh().ok());
  EXPECT_EQ(watcher->Current()->size(), 1u);
  EXPECT_EQ(errors_.size(), 1u);
}

TEST_F(RegisterWatcherTest, CurrentLooksAtTheFileAtMostOncePerInterval) {
  auto watcher = Start(absl::Seconds(10));
  ASSERT_NE(watcher, nullptr);
  Write(Municipalities(2));
  now_seconds_ += 9;
  EXPECT_EQ(watcher->Current()->size(), 1u);
  now_seconds_ += 1;
  EXPECT_EQ(watcher->Current()->size(), 2u);

  Write(Municipalities(3));
  now_seconds_ += 5;
  EXPECT_EQ(watcher->Current()->size(), 2u);
  EXPECT_TRUE(watcher->Refresh().ok());  // Refresh does not wait for the interval
  EXPECT_EQ(watcher->Current()->size(), 3u);
  EXPECT_EQ(reloads_, 2);
}

TEST_F(RegisterWatcherTest, WithoutAnIntervalOnlyRefreshLooks) {
  auto watcher = Start();
  ASSERT_NE(watcher, nullptr);
  Write(Municipalities(2));
  now_seconds_ += 3600;
  EXPECT_EQ(watcher->Current()->size(), 1u);
  EXPECT_TRUE(watcher->Refresh().ok());
  EXPECT_EQ(watcher->Current()->size(), 2u);
}

TEST_F(RegisterWatcherTest, ServesReadersWhileTheFileChanges) {
  auto watcher = Start(absl::Nanoseconds(1));
  ASSERT_NE(watcher, nullptr);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        now_seconds_ += 1;
        const auto reg = watcher->Current();
        if (reg == nullptr || reg->size() < 1 || reg->size() > 5) ++bad;
      }
    });
  }
  for (int round = 0; round < 50; ++round) {
    Write(round % 7 == 3 ? std::string(kBroken) : Municipalities(1 + round % 5));
    watcher->Refresh().IgnoreError();
  }
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(bad, 0);
  Write(Municipalities(4));
  EXPECT_TRUE(watcher->Refresh().ok());
  EXPECT_EQ(watcher->Current()->size(), 4u);
}

}  // namespace
}  // namespace handover::identity
