// A disk filling up (a probe found that a full disk stopped reads, uploads and
// the audit export too, silently, with health SERVING). On a real, small
// filesystem (a tmpfs mounted for the test; the test runs as root, as
// test.sh does): below the free-space reserve client writes are refused with
// UNAVAILABLE naming the rule, reads and the audit log go on, health reports
// NOT_SERVING for the writing services, the metric says so; once space is
// freed everything resumes by itself, and nothing acknowledged is lost.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/store/disk_space.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using testing::SampleForm;

constexpr uint64_t kMiB = 1024 * 1024;

class SmallDisk {
 public:
  explicit SmallDisk(uint64_t bytes) : path_(testing::NewTempDir() + "/disk") {
    std::filesystem::create_directories(path_);
    const std::string size = absl::StrCat("size=", bytes);
    if (mount("tmpfs", path_.c_str(), "tmpfs", 0, size.c_str()) != 0) {
      error_ = absl::StrCat("cannot mount a tmpfs (the test needs root): ", std::strerror(errno));
    }
  }
  ~SmallDisk() {
    if (error_.empty()) umount2(path_.c_str(), MNT_DETACH);
  }
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

  // Writes a filler file until `free_bytes` are left.
  void FillUntil(uint64_t free_bytes) {
    store::DiskSpace probe(path_, 1);
    probe.Low();
    const uint64_t now_free = probe.free_bytes();
    if (now_free <= free_bytes) return;
    std::ofstream out(absl::StrCat(path_, "/filler-", fillers_++), std::ios::binary);
    const std::string block(kMiB, 'f');
    for (uint64_t left = now_free - free_bytes; left > 0;) {
      const uint64_t n = std::min<uint64_t>(left, block.size());
      out.write(block.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
  }
  void Free() {
    for (int i = 0; i < fillers_; ++i) std::filesystem::remove(absl::StrCat(path_, "/filler-", i));
  }

 private:
  std::string path_;
  std::string error_;
  int fillers_ = 0;
};

bool WaitFor(const std::function<bool()>& condition) {
  for (int i = 0; i < 100; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

TEST(DiskSpaceTest, BelowTheReserveWritesStopReadsGoOnAndItRecoversByItself) {
  SmallDisk disk(64 * kMiB);
  ASSERT_TRUE(disk.error().empty()) << disk.error();
  ServerOptions options = testing::TestServerOptions(disk.path());
  options.disk_reserve_bytes = 16 * kMiB;
  options.service.watch.progress_interval = std::chrono::milliseconds(100);
  testing::TestServer server(options);
  auto op = server.ClientFor("operator-redcross");
  auto auditor = server.ClientFor("auditor-dpo");
  auto created = op->CreateCase(SampleForm("99070001"), "disk-1");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(testing::HealthStatus(server.address(), ""), 1);

  disk.FillUntil(8 * kMiB);  // under the 16 MiB reserve
  // Noticed without any write asking (the server checks on its own), and
  // health says so.
  ASSERT_TRUE(WaitFor([&] { return testing::HealthStatus(server.address(), "") == 2; }));
  EXPECT_EQ(testing::HealthStatus(server.address(), "handover.v1.HandoverService"), 2);
  EXPECT_EQ(testing::HealthStatus(server.address(), "handover.v1.AuditService"), 1);
  EXPECT_NE(server.server()->RenderMetrics().find("handover_disk_low 1"), std::string::npos);
  const absl::Status refused = op->CreateCase(SampleForm("99070002"), "disk-2").status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_NE(refused.message().find("disk-reserve-mb"), std::string::npos) << refused;
  // Reads go on, their access records written from the reserve.
  EXPECT_TRUE(op->GetCase(created->name()).ok());
  auto log = auditor->QueryAccessLog(v1::QueryAccessLogRequest());
  ASSERT_TRUE(log.ok()) << log.status();
  bool refusal_recorded = false;
  for (const auto& entry : log->entries()) {
    refusal_recorded |=
        entry.record().operation() == "CreateCase" && entry.record().outcome() == "UNAVAILABLE";
  }
  EXPECT_TRUE(refusal_recorded);

  disk.Free();
  absl::StatusOr<v1::Case> resumed;
  ASSERT_TRUE(WaitFor([&] {
    resumed = op->CreateCase(SampleForm("99070003"), "disk-3");
    return resumed.ok();
  })) << resumed.status();
  EXPECT_TRUE(WaitFor([&] { return testing::HealthStatus(server.address(), "") == 1; }));
  EXPECT_NE(server.server()->RenderMetrics().find("handover_disk_low 0"), std::string::npos);

  // Nothing acknowledged is lost, nothing refused was written.
  server.Restart();
  auto cases = server.ClientFor("operator-redcross")->ListCases({});
  ASSERT_TRUE(cases.ok()) << cases.status();
  EXPECT_EQ(cases->cases_size(), 2);
  server.Stop();
}

}  // namespace
}  // namespace handover
