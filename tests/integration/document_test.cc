// Documents: streamed upload and download over real mutual TLS into a real
// SQLite file. Content larger than any one message round-trips with its hash;
// every refused upload (hash, size, media type, cancellation, household rule)
// leaves nothing stored; downloads resume; medical records leave only under
// consent, and a withdrawal stops a download under way; versions keep their
// history and appear in the feed; nothing is stored in plaintext; memory per
// transfer stays bounded.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <malloc.h>
#include <filesystem>
#include <fstream>

#include <atomic>
#include <future>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "client/document_files.h"
#include "common/crypto.h"
#include "common/dates.h"
#include "common/signing.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using client::HandoverClient;
using testing::TestServer;

constexpr int64_t kMiB = 1024 * 1024;
// The bound stated in docs/data-protection.md: how much the peak heap in use (server and
// client together) may grow while a 25 MiB document goes up, or down. Most
// of it is gRPC's HTTP/2 flow-control buffering on both sides.
constexpr int64_t kDocumentMemoryBound = 16 * kMiB;

// Fictional content of `size` bytes that starts like a PDF.
std::string FakePdf(int64_t size, unsigned seed = 7) {
  std::string content = "%PDF-1.7\n% fictional test document\n";
  std::mt19937 random(seed);
  while (static_cast<int64_t>(content.size()) < size) content.push_back(char(random() & 0xff));
  content.resize(static_cast<size_t>(size));
  return content;
}

std::string Sha256Hex(const std::string& content) { return HexEncode(Sha256(content)); }

v1::DocumentUpload Metadata(const std::string& parent, v1::DocumentType type,
                            const std::string& content,
                            const std::string& media_type = "application/pdf") {
  v1::DocumentUpload upload;
  upload.set_parent(parent);
  upload.set_type(type);
  upload.set_title("Fiktivt dokument");
  upload.set_media_type(media_type);
  upload.set_size_bytes(static_cast<int64_t>(content.size()));
  upload.set_sha256(Sha256Hex(content));
  upload.set_request_id(HandoverClient::NewRequestId());
  return upload;
}

// Sends `content` in chunks of `chunk` bytes.
absl::StatusOr<v1::Document> Upload(HandoverClient& client, const v1::DocumentUpload& metadata,
                                    const std::string& content, size_t chunk = 64 * 1024) {
  size_t at = 0;
  return client.UploadDocument(metadata, [&]() -> absl::StatusOr<std::string> {
    std::string piece = content.substr(at, chunk);
    at += piece.size();
    return piece;
  });
}

// The whole content from `offset`, or the status the download ended with.
absl::StatusOr<std::string> Download(HandoverClient& client, const std::string& name,
                                     int64_t version = 0, int64_t offset = 0) {
  v1::DownloadDocumentRequest request;
  request.set_name(name);
  request.set_version(version);
  request.set_offset(offset);
  std::string content;
  absl::Status status = client.DownloadDocument(
      request, [](const v1::Document&) { return absl::OkStatus(); },
      [&content](const std::string& chunk) {
        content += chunk;
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return content;
}

class DocumentTest : public ::testing::Test {
 protected:
  // On SQLite: the tests read the stored rows and the staging files from
  // outside the server.
  static ServerOptions Options() {
    ServerOptions options = testing::SqliteServerOptions(testing::NewTempDir());
    // Far below the document sizes here: content must stream.
    options.max_receive_message_bytes = 256 * 1024;
    return options;
  }

  std::string NewAssignedCase(const std::string& person = "99000401") {
    auto created =
        operator_->CreateCase(testing::SampleForm(person), HandoverClient::NewRequestId());
    EXPECT_TRUE(created.ok()) << created.status();
    v1::AssignCaseRequest assign;
    assign.set_name(created->name());
    assign.set_municipality_code("760");
    *assign.mutable_decision_date() = MakeDate(2026, 5, 15);
    assign.set_request_id(HandoverClient::NewRequestId());
    EXPECT_TRUE(uds_->AssignCase(assign).ok());
    return created->name();
  }

  absl::StatusOr<v1::Consent> Consent(const std::string& name, v1::ConsentPurpose purpose) {
    v1::RecordConsentRequest request;
    request.set_parent(name);
    request.mutable_consent()->set_purpose(purpose);
    *request.mutable_consent()->mutable_given_date() = MakeDate(2026, 5, 1);
    request.set_request_id(HandoverClient::NewRequestId());
    return operator_->RecordConsent(request);
  }

  // The case's document versions and content chunks in the database file
  // (read from outside the server), and files in the staging directory.
  int64_t StoredDocumentRows(const std::string& case_name) {
    SQLite::Database db(server_.options().database_path, SQLite::OPEN_READONLY);
    store::SqliteTxn rows(db, nullptr);
    int64_t count = 0;
    for (const store::DocumentVersionRow& version :
         rows.LoadDocumentVersions(case_name.substr(6), true)) {
      ++count;
      for (int64_t seq = 0; rows.LoadSealedChunk(version.blob_id, seq); ++seq) ++count;
    }
    return count;
  }
  size_t StagingFiles() {
    size_t n = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator(server_.options().database_path + ".staging")) {
      ++n;
    }
    return n;
  }

  TestServer server_{Options()};
  std::unique_ptr<HandoverClient> operator_ = server_.ClientFor("operator-redcross");
  std::unique_ptr<HandoverClient> uds_ = server_.ClientFor("immigration-service-uds");
  std::unique_ptr<HandoverClient> m760_ = server_.ClientFor("municipality-760");
  std::unique_ptr<HandoverClient> m147_ = server_.ClientFor("municipality-147");
  std::unique_ptr<HandoverClient> auditor_ = server_.ClientFor("auditor-dpo");
};

TEST_F(DocumentTest, ContentLargerThanAnyMessageRoundTripsWithItsHash) {
  const std::string name = NewAssignedCase();
  const std::string content = FakePdf(9 * kMiB + 12345);
  auto stored =
      Upload(*operator_, Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content), content);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->version(), 1);
  EXPECT_EQ(stored->size_bytes(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(stored->sha256(), Sha256Hex(content));
  EXPECT_EQ(stored->title(), "Fiktivt dokument");

  auto listed = m760_->ListDocuments(name);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->documents_size(), 1);
  EXPECT_EQ(listed->documents(0).name(), stored->name());

  auto fetched = Download(*m760_, stored->name());
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(fetched->size(), content.size());
  EXPECT_EQ(Sha256Hex(*fetched), stored->sha256());
  EXPECT_EQ(StagingFiles(), 0u);

  // The upload, the listing and the download are each in the access log.
  v1::QueryAccessLogRequest query;
  query.set_case_name(name);
  auto log = auditor_->QueryAccessLog(query);
  ASSERT_TRUE(log.ok()) << log.status();
  std::vector<std::string> seen;
  for (const auto& entry : log->entries()) {
    const v1::AccessRecord& record = entry.record();
    if (record.operation().find("Document") == std::string::npos) continue;
    seen.push_back(absl::StrCat(record.operation(), " ", record.organisation(), " ",
                                absl::StrJoin(record.sections(), ","), " ", record.outcome()));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "UploadDocument redcross documents(DOCUMENT_TYPE_RESIDENCE_PERMIT) OK",
                      "ListDocuments 760 documents(DOCUMENT_TYPE_RESIDENCE_PERMIT) OK",
                      "DownloadDocument 760 documents(DOCUMENT_TYPE_RESIDENCE_PERMIT) OK"}));

  // Another municipality, and the Immigration Service, get nothing.
  EXPECT_EQ(m147_->ListDocuments(name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Download(*m147_, stored->name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(uds_->ListDocuments(name).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(DocumentTest, RefusedUploadsLeaveNothingStored) {
  const std::string name = NewAssignedCase();
  const std::string content = FakePdf(3 * kMiB);
  struct Case {
    const char* what;
    v1::DocumentUpload metadata;
    std::string sent;
    absl::StatusCode code;
    const char* field;
  };
  v1::DocumentUpload wrong_hash = Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content);
  wrong_hash.set_sha256(Sha256Hex("something else"));
  v1::DocumentUpload too_small = Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content);
  too_small.set_size_bytes(static_cast<int64_t>(content.size()) - 1);
  v1::DocumentUpload too_large = Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content);
  too_large.set_size_bytes(static_cast<int64_t>(content.size()) + 1);
  std::string png = content;
  png.replace(0, 8, "\x89PNG\r\n\x1a\n");
  v1::DocumentUpload over_limit = Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content);
  over_limit.set_size_bytes(26 * kMiB);
  v1::DocumentUpload exe =
      Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content, "application/x-msdownload");
  v1::DocumentUpload social_report = Metadata(name, v1::DOCUMENT_TYPE_SOCIAL_REPORT, content);
  v1::DocumentUpload childcare = Metadata(name, v1::DOCUMENT_TYPE_CHILDCARE_STATEMENT, content);
  const std::vector<Case> cases = {
      {"hash mismatch", wrong_hash, content, absl::StatusCode::kInvalidArgument, "metadata.sha256"},
      {"more bytes than declared", too_small, content, absl::StatusCode::kInvalidArgument,
       "metadata.size_bytes"},
      {"fewer bytes than declared", too_large, content, absl::StatusCode::kInvalidArgument,
       "metadata.size_bytes"},
      {"content not the declared type", Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, png),
       png, absl::StatusCode::kInvalidArgument, "metadata.media_type"},
      {"over the size limit", over_limit, content, absl::StatusCode::kInvalidArgument,
       "metadata.size_bytes"},
      {"media type not allowed", exe, content, absl::StatusCode::kInvalidArgument,
       "metadata.media_type"},
      {"social report for an adult", social_report, content, absl::StatusCode::kInvalidArgument,
       "metadata.type"},
      {"childcare statement without children", childcare, content,
       absl::StatusCode::kInvalidArgument, "metadata.type"},
  };
  for (const Case& c : cases) {
    auto stored = Upload(*operator_, c.metadata, c.sent);
    EXPECT_EQ(stored.status().code(), c.code) << c.what << ": " << stored.status();
    EXPECT_NE(stored.status().message().find(c.field), std::string::npos)
        << c.what << ": " << stored.status();
  }
  // A client that gives up half-way.
  int sent = 0;
  auto cancelled =
      operator_->UploadDocument(Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content),
                                [&]() -> absl::StatusOr<std::string> {
                                  if (++sent > 10)
                                    return absl::CancelledError("the user pressed ctrl-c");
                                  return content.substr((sent - 1) * 64 * 1024, 64 * 1024);
                                });
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kCancelled);
  // The cancelled reactor ends asynchronously on the server.
  for (int i = 0; i < 100 && StagingFiles() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(StagingFiles(), 0u);
  EXPECT_EQ(StoredDocumentRows(name), 0);
  auto listed = operator_->ListDocuments(name);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->documents_size(), 0);
}

TEST_F(DocumentTest, UploadIsIdempotentPerRequestId) {
  const std::string name = NewAssignedCase();
  const std::string content = FakePdf(200 * 1024);
  const v1::DocumentUpload metadata = Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content);
  auto first = Upload(*operator_, metadata, content);
  auto retry = Upload(*operator_, metadata, content);
  ASSERT_TRUE(first.ok() && retry.ok()) << first.status() << retry.status();
  EXPECT_EQ(first->name(), retry->name());
  EXPECT_EQ(retry->version(), 1);
  EXPECT_EQ(operator_->ListDocuments(name)->documents_size(), 1);
}

TEST_F(DocumentTest, ResumedDownloadYieldsTheSameBytesAndHash) {
  const std::string name = NewAssignedCase();
  const std::string content = FakePdf(2 * kMiB + 777);
  auto stored =
      Upload(*operator_, Metadata(name, v1::DOCUMENT_TYPE_INDIVIDUAL_CONTRACT, content), content);
  ASSERT_TRUE(stored.ok()) << stored.status();

  // Directly from an offset inside a chunk.
  const int64_t offset = 1000000;
  auto tail = Download(*m760_, stored->name(), 0, offset);
  ASSERT_TRUE(tail.ok()) << tail.status();
  EXPECT_EQ(*tail, content.substr(offset));
  EXPECT_EQ(Download(*m760_, stored->name(), 0, stored->size_bytes() + 1).status().code(),
            absl::StatusCode::kOutOfRange);

  // Through files: interrupted after some chunks, then resumed.
  const std::string dir = testing::NewTempDir();
  const std::string path = dir + "/contract.pdf";
  int chunks = 0;
  v1::DownloadDocumentRequest request;
  request.set_name(stored->name());
  {
    std::ofstream part(path + ".part", std::ios::binary);
    absl::Status interrupted = m760_->DownloadDocument(
        request, [](const v1::Document&) { return absl::OkStatus(); },
        [&](const std::string& chunk) {
          part.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
          return ++chunks == 5 ? absl::AbortedError("connection lost") : absl::OkStatus();
        });
    EXPECT_EQ(interrupted.code(), absl::StatusCode::kAborted);
  }
  EXPECT_LT(std::filesystem::file_size(path + ".part"), content.size());
  auto resumed = client::DownloadFile(*m760_, stored->name(), 0, path, /*resume=*/true);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(client::FileSha256(path).value(), Sha256Hex(content));
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
}

TEST_F(DocumentTest, MedicalRecordLeavesOnlyUnderConsentAndWithdrawalStopsADownload) {
  const std::string name = NewAssignedCase();
  const std::string content = FakePdf(20 * kMiB, 11);
  auto stored =
      Upload(*operator_, Metadata(name, v1::DOCUMENT_TYPE_MEDICAL_RECORD, content), content);
  ASSERT_TRUE(stored.ok()) << stored.status();

  auto without = m760_->ListDocuments(name);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->documents_size(), 0);
  ASSERT_EQ(without->withheld_types_size(), 1);
  EXPECT_EQ(without->withheld_types(0), "DOCUMENT_TYPE_MEDICAL_RECORD");
  auto refused = Download(*m760_, stored->name());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("CONSENT_PURPOSE_MEDICAL_RECORD"), std::string::npos);

  auto consent = Consent(name, v1::CONSENT_PURPOSE_MEDICAL_RECORD);
  ASSERT_TRUE(consent.ok()) << consent.status();
  auto with = m760_->ListDocuments(name);
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(with->documents_size(), 1);
  auto fetched = Download(*m760_, stored->name());
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(Sha256Hex(*fetched), stored->sha256());

  // Withdrawn after the first chunk: the rest does not leave.
  v1::DownloadDocumentRequest request;
  request.set_name(stored->name());
  int64_t received = 0;
  bool withdrawn = false;
  absl::Status stopped = m760_->DownloadDocument(
      request, [](const v1::Document&) { return absl::OkStatus(); },
      [&](const std::string& chunk) {
        received += static_cast<int64_t>(chunk.size());
        if (!withdrawn) {
          withdrawn = true;
          EXPECT_TRUE(
              operator_->WithdrawConsent(consent->name(), HandoverClient::NewRequestId()).ok());
        }
        return absl::OkStatus();
      });
  EXPECT_EQ(stopped.code(), absl::StatusCode::kFailedPrecondition) << stopped;
  EXPECT_LT(received, static_cast<int64_t>(content.size()));
  EXPECT_EQ(m760_->ListDocuments(name)->documents_size(), 0);
  EXPECT_EQ(Download(*m760_, stored->name()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(DocumentTest, ReplacedDocumentKeepsItsHistoryAndEachVersionIsInTheFeed) {
  const std::string name = NewAssignedCase();
  const std::string first = FakePdf(100 * 1024, 1), second = FakePdf(150 * 1024, 2);
  auto v1 = Upload(*operator_, Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, first), first);
  ASSERT_TRUE(v1.ok()) << v1.status();
  v1::DocumentUpload replace = Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, second);
  replace.set_document(v1->name());
  auto v2 = Upload(*operator_, replace, second);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->name(), v1->name());
  EXPECT_EQ(v2->version(), 2);
  v1::DocumentUpload other_type = Metadata(name, v1::DOCUMENT_TYPE_INDIVIDUAL_CONTRACT, second);
  other_type.set_document(v1->name());
  EXPECT_EQ(Upload(*operator_, other_type, second).status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(m760_->ListDocuments(name)->documents_size(), 1);
  auto history = m760_->ListDocuments(name, /*include_history=*/true);
  ASSERT_EQ(history->documents_size(), 2);
  EXPECT_EQ(history->documents(0).version(), 2);
  EXPECT_EQ(Download(*m760_, v1->name(), 1).value(), first);
  EXPECT_EQ(Download(*m760_, v1->name()).value(), second);

  v1::SyncRequest sync;
  auto feed = m760_->Sync(sync);
  ASSERT_TRUE(feed.ok()) << feed.status();
  std::vector<int64_t> document_versions;
  for (const v1::ChangeEvent& event : feed->events()) {
    if (event.kind() != v1::EVENT_KIND_DOCUMENT_ADDED) continue;
    EXPECT_EQ(event.document_name(), v1->name());
    EXPECT_EQ(event.document_type(), v1::DOCUMENT_TYPE_RESIDENCE_PERMIT);
    document_versions.push_back(event.document_version());
  }
  EXPECT_EQ(document_versions, (std::vector<int64_t>{1, 2}));
}

TEST_F(DocumentTest, ContentAndTitleAreEncryptedAtRestAndGoWithErasure) {
  const std::string name = NewAssignedCase();
  std::string content = "Fiktiv tekst: MARKER-IN-PLAINTEXT-4711\n";
  content += std::string(300 * 1024, 'x');
  v1::DocumentUpload metadata =
      Metadata(name, v1::DOCUMENT_TYPE_HANDOVER_FORM, content, "text/plain");
  metadata.set_title("TITLE-MARKER-0815");
  ASSERT_TRUE(Upload(*operator_, metadata, content).ok());
  server_.Stop();
  std::string raw;
  for (const std::string suffix : {"", "-wal"}) {
    std::ifstream in(server_.options().database_path + suffix, std::ios::binary);
    raw += std::string(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_EQ(raw.find("MARKER-IN-PLAINTEXT-4711"), std::string::npos);
  EXPECT_EQ(raw.find("TITLE-MARKER-0815"), std::string::npos);
  EXPECT_EQ(raw.find(std::string(1000, 'x')), std::string::npos);
  server_.Restart();
  EXPECT_GT(StoredDocumentRows(name), 0);
  auto erased = operator_->EraseCase(name, "test-erasure", HandoverClient::NewRequestId());
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(StoredDocumentRows(name), 0);
}

// Samples the heap in use (every arena, and mmapped blocks) every
// millisecond while alive, and keeps the peak.
class HeapPeak {
 public:
  HeapPeak()
      : thread_([this] {
          while (!stop_) {
            peak_ = std::max(peak_.load(), InUse());
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }) {}
  ~HeapPeak() { Stop(); }
  int64_t Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return peak_;
  }
  static int64_t InUse() {
    const struct mallinfo2 info = mallinfo2();
    return static_cast<int64_t>(info.uordblks + info.hblkhd);
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> peak_{0};
  std::thread thread_;
};

// Server and client share this process, so its peak bounds the server's.
TEST_F(DocumentTest, MemoryPerTransferStaysBoundedWhateverTheDocumentSize) {
  const std::string name = NewAssignedCase();
  const std::string dir = testing::NewTempDir();
  // Warm up (connections, thread pools, SQLite caches) with a small transfer.
  const std::string small = FakePdf(512 * 1024);
  auto warm = Upload(*operator_, Metadata(name, v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, small), small);
  ASSERT_TRUE(warm.ok()) << warm.status();
  ASSERT_TRUE(Download(*m760_, warm->name()).ok());

  // Peak heap growth while uploading, and while downloading, a document of
  // `mib` MiB from and to a file.
  auto measure = [&](int mib) -> std::pair<int64_t, int64_t> {
    const std::string source = absl::StrCat(dir, "/", mib, ".pdf");
    {  // written in pieces, so no large buffer ever sits in this process
      std::ofstream out(source, std::ios::binary);
      out << FakePdf(kMiB, mib);
      for (int i = 1; i < mib; ++i) out << std::string(kMiB, char('a' + i % 26));
    }
    const int64_t before_upload = HeapPeak::InUse();
    HeapPeak upload_peak;
    v1::DocumentUpload metadata;
    metadata.set_parent(name);
    metadata.set_type(v1::DOCUMENT_TYPE_INDIVIDUAL_CONTRACT);
    metadata.set_title("Fiktiv kontrakt");
    metadata.set_media_type("application/pdf");
    metadata.set_request_id(HandoverClient::NewRequestId());
    auto stored = client::UploadFile(*operator_, metadata, source);
    EXPECT_TRUE(stored.ok()) << stored.status();
    const int64_t upload = upload_peak.Stop() - before_upload;
    const int64_t before_download = HeapPeak::InUse();
    HeapPeak download_peak;
    auto fetched =
        client::DownloadFile(*m760_, stored->name(), 0, source + ".copy", /*resume=*/false);
    EXPECT_TRUE(fetched.ok()) << fetched.status();
    const int64_t download = download_peak.Stop() - before_download;
    std::printf("peak heap growth, %d MiB document: upload %.2f MiB, download %.2f MiB\n", mib,
                double(upload) / kMiB, double(download) / kMiB);
    return {upload, download};
  };
  for (int mib : {5, 25}) {  // five times the size, not five times the memory
    const auto [upload, download] = measure(mib);
    EXPECT_LE(upload, kDocumentMemoryBound) << mib << " MiB";
    EXPECT_LE(download, kDocumentMemoryBound) << mib << " MiB";
  }
}

// The second probe: uploads that send their metadata and stall each held a
// staging file (a descriptor) until the process ran out. Open uploads are
// bounded per connection, per organisation and in all, with a clear
// RESOURCE_EXHAUSTED, and a stalled one is cancelled after the idle timeout,
// its staging file removed.
TEST(StalledUploadTest, OpenUploadsAreBoundedAndAStalledOneIsCancelled) {
  ServerOptions options = testing::TestServerOptions(testing::NewTempDir());
  options.service.documents.uploads = {.max_open = 100,
                                       .max_open_per_organisation = 3,
                                       .max_open_per_connection = 2,
                                       .idle_timeout = std::chrono::milliseconds(600)};
  TestServer server(options);
  ASSERT_NE(server.server(), nullptr);
  const std::string staging = options.staging_directory;
  auto staging_files = [&] {
    size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(staging)) ++n;
    return n;
  };
  auto first = server.ClientFor("operator-redcross");
  auto second = server.ClientFor("operator-redcross");  // another connection
  auto created = first->CreateCase(testing::SampleForm("99000491"), HandoverClient::NewRequestId());
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string content = FakePdf(300 * 1024);

  // Uploads that send their metadata, then nothing until released.
  absl::Notification release;
  auto stalled = [&](HandoverClient& client) {
    return std::async(std::launch::async, [&] {
      return client
          .UploadDocument(Metadata(created->name(), v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content),
                          [&]() -> absl::StatusOr<std::string> {
                            release.WaitForNotification();
                            return absl::CancelledError("released");
                          })
          .status();
    });
  };
  auto wait_for_files = [&](size_t files) {
    for (int i = 0; i < 200 && staging_files() != files; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return staging_files();
  };
  std::vector<std::future<absl::Status>> open;
  open.push_back(stalled(*first));
  open.push_back(stalled(*first));
  ASSERT_EQ(wait_for_files(2), 2u);
  auto third = Upload(
      *first, Metadata(created->name(), v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content), content);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted) << third.status();
  EXPECT_TRUE(absl::StrContains(third.status().message(), "on this connection (at most 2)"))
      << third.status();
  open.push_back(stalled(*second));
  ASSERT_EQ(wait_for_files(3), 3u);
  auto fourth = Upload(
      *second, Metadata(created->name(), v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content), content);
  EXPECT_EQ(fourth.status().code(), absl::StatusCode::kResourceExhausted) << fourth.status();
  EXPECT_TRUE(absl::StrContains(fourth.status().message(), "by your organisation (at most 3)"))
      << fourth.status();

  // The idle timeout cancels the stalled ones and removes their files.
  EXPECT_EQ(wait_for_files(0), 0u);
  release.Notify();
  for (auto& upload : open) EXPECT_FALSE(upload.get().ok());
  // Their slots are free again: a whole upload goes through.
  auto whole = Upload(
      *first, Metadata(created->name(), v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, content), content);
  EXPECT_TRUE(whole.ok()) << whole.status();

  // The timeouts are in the access log, nothing as INTERNAL (a refusal for a
  // full server, like a full queue, is not recorded: pipeline.cc).
  auto log = server.ClientFor("auditor-dpo")->QueryAccessLog(v1::QueryAccessLogRequest());
  ASSERT_TRUE(log.ok()) << log.status();
  int timed_out = 0;
  for (const auto& entry : log->entries()) {
    if (entry.record().operation() != "UploadDocument") continue;
    EXPECT_NE(entry.record().outcome(), "INTERNAL");
    timed_out += entry.record().outcome() == "DEADLINE_EXCEEDED";
  }
  EXPECT_EQ(timed_out, 3);
}

}  // namespace
}  // namespace handover
