// Key rotation under load: a new key is appended to the key file while
// operators write and municipalities read; the server re-reads the file,
// re-wraps every case key and re-makes every person hash under it in the
// background without stopping either (the data itself stays sealed under
// the case keys), and afterwards the old key can be removed and everything
// still decrypts.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/signing.h"
#include "server/store/sealing.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::SampleForm;
using testing::TestServer;

std::map<std::string, int64_t> Usage(TestServer& server) {
  auto result = testing::Await<std::map<std::string, int64_t>>(
      [&](auto done) { server.server()->store()->KeyUsage(done); });
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : std::map<std::string, int64_t>{};
}

absl::Status ReplaceKeys(TestServer& server, const std::string& key_file_text) {
  auto ring = std::make_shared<const KeyRing>(*KeyRing::Parse(key_file_text));
  return testing::Await<bool>([&](auto done) { server.server()->store()->ReplaceKeys(ring, done); })
      .status();
}

void WriteKeyFile(const std::string& path, const std::string& text) {
  std::filesystem::remove(path);
  std::ofstream(path) << text;
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// Test server options whose key file, in a fresh directory, holds `key_lines`.
ServerOptions WithKeyFile(const std::string& key_lines) {
  const std::string dir = testing::NewTempDir();
  ServerOptions options = testing::TestServerOptions(dir);
  options.key_file = dir + "/handover.key";
  WriteKeyFile(options.key_file, key_lines);
  return options;
}

TEST(KeyRotationTest, ReencryptsUnderLoadAndTheOldKeyCanBeRetired) {
  const std::string old_key = KeyRing::GenerateKeyLine("old-key");
  const std::string new_key = KeyRing::GenerateKeyLine("new-key");
  ServerOptions options = WithKeyFile(old_key + "\n");
  options.service.watch.progress_interval = std::chrono::milliseconds(50);  // the job tick
  TestServer server(options);
  auto op = server.ClientFor("operator-redcross");
  auto uds = server.ClientFor("immigration-service-uds");
  auto m760 = server.ClientFor("municipality-760");

  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) {
    auto created = op->CreateCase(SampleForm(std::to_string(99020000 + i)), absl::StrCat("c", i));
    ASSERT_TRUE(created.ok()) << created.status();
    v1::AssignCaseRequest assign;
    assign.set_name(created->name());
    assign.set_municipality_code("760");
    assign.set_request_id(absl::StrCat("a", i));
    ASSERT_TRUE(uds->AssignCase(assign).ok());
    names.push_back(created->name());
  }
  // A document of three chunks and a title: four more sealed items.
  std::string content = "%PDF-1.7\n% fictional\n";
  content.resize(600 * 1024, 'd');
  v1::DocumentUpload upload;
  upload.set_parent(names[0]);
  upload.set_type(v1::DOCUMENT_TYPE_RESIDENCE_PERMIT);
  upload.set_title("Fiktiv tilladelse");
  upload.set_media_type("application/pdf");
  upload.set_size_bytes(static_cast<int64_t>(content.size()));
  upload.set_sha256(HexEncode(Sha256(content)));
  upload.set_request_id("d1");
  bool sent = false;
  auto document = op->UploadDocument(upload, [&]() -> absl::StatusOr<std::string> {
    if (sent) return std::string();
    sent = true;
    return content;
  });
  ASSERT_TRUE(document.ok()) << document.status();
  // 44 items under their case keys; the old key wraps 40 case keys and made
  // 40 person hashes.
  EXPECT_EQ(Usage(server),
            (std::map<std::string, int64_t>{{store::kCaseKeyId, 44}, {"old-key", 80}}));

  // Load: updates and reads (including lookups by person) all through the rotation.
  std::atomic<bool> running{true};
  std::atomic<int> failures{0}, operations{0};
  std::thread writer([&] {
    for (int i = 0; running; ++i) {
      v1::UpdateFormRequest update;
      update.set_name(names[i % names.size()]);
      update.mutable_form()->mutable_wishes_and_plans()->set_expectations(absl::StrCat("v", i));
      update.mutable_update_mask()->add_paths("wishes_and_plans.expectations");
      update.set_request_id(absl::StrCat("u", i));
      (op->UpdateForm(update).ok() ? operations : failures)++;
    }
  });
  std::thread reader([&] {
    for (int i = 0; running; ++i) {
      (m760->GetCase(names[i % names.size()]).ok() ? operations : failures)++;
      v1::ListCasesRequest find;
      find.set_person_identifier(std::to_string(99020000 + i % names.size()));
      auto found = uds->ListCases(find);
      (found.ok() && found->cases_size() == 1 ? operations : failures)++;
    }
  });

  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  WriteKeyFile(options.key_file, old_key + "\n" + new_key + "\n");
  std::map<std::string, int64_t> usage;
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    usage = Usage(server);
    // Done, and the load ran beside it (on the in-memory engine the
    // re-encryption itself takes milliseconds).
    if (!usage.contains("old-key") && usage.contains("new-key") && operations > 50) break;
  }
  running = false;
  writer.join();
  reader.join();
  EXPECT_FALSE(usage.contains("old-key")) << "every case key re-wrapped, every hash re-made";
  EXPECT_EQ(usage["new-key"], 80) << ::testing::PrintToString(usage);
  EXPECT_GE(usage[store::kCaseKeyId], 44) << "the data stays sealed under the case keys";
  EXPECT_EQ(failures, 0);
  EXPECT_GT(operations, 50);

  // Nothing uses the old key any more: retire it and restart.
  server.Stop();
  WriteKeyFile(options.key_file, new_key + "\n");
  server.Restart();
  auto m760_again = server.ClientFor("municipality-760");
  auto uds_again = server.ClientFor("immigration-service-uds");
  for (const std::string& name : names) {
    auto read = m760_again->GetCase(name);
    ASSERT_TRUE(read.ok()) << read.status();
  }
  v1::ListCasesRequest find;
  find.set_person_identifier("99020007");
  auto found = uds_again->ListCases(find);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->cases_size(), 1) << "lookups work under the new key alone";
  v1::DownloadDocumentRequest download;
  download.set_name(document->name());
  std::string fetched;
  v1::Document metadata;
  ASSERT_TRUE(m760_again
                  ->DownloadDocument(
                      download,
                      [&](const v1::Document& m) {
                        metadata = m;
                        return absl::OkStatus();
                      },
                      [&](const std::string& chunk) {
                        fetched += chunk;
                        return absl::OkStatus();
                      })
                  .ok());
  EXPECT_EQ(fetched, content) << "documents read under the new key alone";
  EXPECT_EQ(metadata.title(), "Fiktiv tilladelse");
}

TEST(KeyRotationTest, AKeyStillInUseCannotBeDropped) {
  TestServer server(WithKeyFile(KeyRing::GenerateKeyLine("old-key") + "\n"));
  ASSERT_TRUE(server.ClientFor("operator-redcross")->CreateCase(SampleForm(), "c").ok());

  const absl::Status status = ReplaceKeys(server, KeyRing::GenerateKeyLine("new-key"));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("old-key"), std::string::npos) << status;
  EXPECT_TRUE(server.ClientFor("operator-redcross")->ListCases({}).ok());
}

TEST(KeyRotationTest, ARetryAcrossARotationStillReturnsTheFirstResult) {
  const std::string old_key = KeyRing::GenerateKeyLine("old-key");
  TestServer server(WithKeyFile(old_key + "\n"));
  auto op = server.ClientFor("operator-redcross");
  auto first = op->CreateCase(SampleForm(), "create-once");
  ASSERT_TRUE(first.ok()) << first.status();

  ASSERT_TRUE(ReplaceKeys(server, old_key + "\n" + KeyRing::GenerateKeyLine("new-key")).ok());

  auto retry = op->CreateCase(SampleForm(), "create-once");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->name(), first->name());
}

}  // namespace
}  // namespace handover
