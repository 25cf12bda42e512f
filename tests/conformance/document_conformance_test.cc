// Documents: staged content copied in by one write, listed, read back chunk by
// chunk; versions keep their type.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "common/signing.h"
#include "handover/v1/document_service.pb.h"
#include "tests/conformance/case_documents.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {
namespace {

using testing::Await;
using ::testing::ElementsAre;
using testing::SampleForm;

// Fictional content spanning three chunks of the suite's 1 KiB.
std::string Fill(char fill) {
  std::string content = "%PDF-1.4 fictional test document\n";
  content.resize(2500, fill);
  return content;
}

std::string DocumentId(const store::DocumentRecord& record) {
  const std::string& name = record.document.name();
  return name.substr(name.rfind('/') + 1);
}

TEST_P(DocumentConformance, StagedDocumentRoundTripsChunkByChunk) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string case_id = CaseId(*created);
  CaseDocuments docs(*store_, case_id);
  const std::string content = Fill('a');
  auto added = docs.Add("upload-1", content, v1::DOCUMENT_TYPE_MEDICAL_RECORD);
  ASSERT_TRUE(added.ok()) << added.status();
  const v1::Document& document = added->document;
  EXPECT_TRUE(document.name().starts_with(CaseName(case_id) + "/documents/"));
  EXPECT_EQ(document.type(), v1::DOCUMENT_TYPE_MEDICAL_RECORD);
  EXPECT_EQ(document.version(), 1);
  EXPECT_EQ(document.title(), "Fictional document upload-1");
  EXPECT_EQ(document.media_type(), "application/pdf");
  EXPECT_EQ(document.size_bytes(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(document.sha256(), absl::BytesToHexString(Sha256(content)));
  EXPECT_EQ(added->chunk_bytes, 1024);

  auto list = docs.List(false);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->facts.operator_id, "redcross");
  ASSERT_EQ(list->documents.size(), 1u);
  EXPECT_EQ(list->documents[0].document.name(), document.name());
  EXPECT_EQ(list->documents[0].blob_id, added->blob_id);

  for (int64_t version : {0, 1}) {
    auto got = docs.Get(DocumentId(*added), version);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->document.title(), document.title());
    EXPECT_EQ(got->blob_id, added->blob_id);
  }
  auto content_read = docs.Content(*added);
  ASSERT_TRUE(content_read.ok()) << content_read.status();
  EXPECT_EQ(*content_read, content);
  auto past_the_end = docs.Chunk(*added, 3);
  EXPECT_EQ(past_the_end.status().code(), absl::StatusCode::kNotFound);

  const std::vector<v1::ChangeEvent> events = AllEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind(), v1::EVENT_KIND_DOCUMENT_ADDED);
  EXPECT_EQ(events[1].document_name(), document.name());
  EXPECT_EQ(events[1].document_version(), 1);
  EXPECT_EQ(events[1].document_type(), v1::DOCUMENT_TYPE_MEDICAL_RECORD);
}

TEST_P(DocumentConformance, NewVersionKeepsTheTypeAndTheOldContent) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string case_id = CaseId(*created);
  CaseDocuments docs(*store_, case_id);
  auto first = docs.Add("upload-1", Fill('a'), v1::DOCUMENT_TYPE_MEDICAL_RECORD);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string id = DocumentId(*first);
  auto second = docs.Add("upload-2", Fill('b'), v1::DOCUMENT_TYPE_MEDICAL_RECORD, id);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->document.name(), first->document.name());
  EXPECT_EQ(second->document.version(), 2);

  const int64_t head = Head();
  auto other_type = docs.Add("upload-3", Fill('c'), v1::DOCUMENT_TYPE_RESIDENCE_PERMIT, id);
  EXPECT_EQ(other_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Head(), head) << "nothing written";

  auto current = docs.List(false);
  ASSERT_TRUE(current.ok());
  ASSERT_EQ(current->documents.size(), 1u);
  EXPECT_EQ(current->documents[0].document.version(), 2);
  auto history = docs.List(true);
  ASSERT_TRUE(history.ok());
  std::vector<int64_t> versions;
  for (const store::DocumentRecord& r : history->documents)
    versions.push_back(r.document.version());
  EXPECT_THAT(versions, ElementsAre(2, 1)) << "current version first";

  EXPECT_EQ(*docs.Content(*first), Fill('a'));
  EXPECT_EQ(*docs.Content(*second), Fill('b'));
}

TEST_P(DocumentConformance, RetriedUploadReplaysTheFirstResult) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string case_id = CaseId(*created);
  CaseDocuments docs(*store_, case_id);
  auto first = docs.Add("upload-1", Fill('a'), v1::DOCUMENT_TYPE_MEDICAL_RECORD);
  ASSERT_TRUE(first.ok()) << first.status();
  auto retry = docs.Add("upload-1", Fill('a'), v1::DOCUMENT_TYPE_MEDICAL_RECORD);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->document.name(), first->document.name());
  EXPECT_EQ(retry->document.version(), 1);
  EXPECT_EQ(docs.List(true)->documents.size(), 1u);
  EXPECT_EQ(docs.Add("upload-1", Fill('z'), v1::DOCUMENT_TYPE_MEDICAL_RECORD).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_P(DocumentConformance, RefusedReceiverGetsNeitherDocumentNorChunk) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string case_id = CaseId(*created);
  CaseDocuments docs(*store_, case_id);
  auto added = docs.Add("upload-1", Fill('a'), v1::DOCUMENT_TYPE_MEDICAL_RECORD);
  ASSERT_TRUE(added.ok());
  store::DocumentAuthorizer refuse = [](const policy::CaseFacts&, v1::DocumentType type) {
    return type == v1::DOCUMENT_TYPE_MEDICAL_RECORD ? absl::FailedPreconditionError("no consent")
                                                    : absl::OkStatus();
  };
  auto got = docs.Get(DocumentId(*added), 0, refuse);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(docs.Content(*added, refuse).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(DocumentConformance, ErasedCaseTakesItsDocuments) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string case_id = CaseId(*created);
  CaseDocuments docs(*store_, case_id);
  auto added = docs.Add("upload-1", Fill('a'), v1::DOCUMENT_TYPE_MEDICAL_RECORD);
  ASSERT_TRUE(added.ok());
  ASSERT_TRUE(Erase(case_id, "erase-1").ok());
  EXPECT_EQ(docs.List(true).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(docs.Content(*added).status().code(), absl::StatusCode::kNotFound);
}

// A new version of a document the case does not have: the upload's own
// field is at fault (what clients have always been told).
TEST_P(DocumentConformance, NewVersionOfAnUnknownDocumentIsInvalidArgument) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string case_id = CaseId(*created);
  CaseDocuments docs(*store_, case_id);
  EXPECT_EQ(docs.Add("upload-1", Fill('a'), v1::DOCUMENT_TYPE_MEDICAL_RECORD, "0123456789abcdef")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace handover::conformance
