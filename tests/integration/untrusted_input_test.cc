// What an outside probe sends that no well-behaved client does: fields the
// schema does not name, bytes that do not decode, a message over the size
// limit. Each is refused with a status that says why, leaves nothing
// written, and leaves an access record like every other refusal.
#include <google/protobuf/unknown_field_set.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/testing/test_server.h"

namespace handover {
namespace {

using testing::PkiFile;
using testing::SampleForm;
using testing::TestServer;

class UntrustedInputTest : public ::testing::Test {
 protected:
  static ServerOptions Options() {
    ServerOptions options = testing::TestServerOptions(testing::NewTempDir());
    options.max_receive_message_bytes = 64 * 1024;
    return options;
  }

  // The access log's records for `operation` with `outcome`.
  std::vector<v1::AccessRecord> Records(const std::string& operation, const std::string& outcome) {
    std::vector<v1::AccessRecord> found;
    auto log = auditor_->QueryAccessLog(v1::QueryAccessLogRequest());
    EXPECT_TRUE(log.ok()) << log.status();
    if (!log.ok()) return found;
    for (const auto& entry : log->entries()) {
      if (entry.record().operation() == operation && entry.record().outcome() == outcome) {
        found.push_back(entry.record());
      }
    }
    return found;
  }

  grpc::Status SendRaw(const std::string& method, const std::string& bytes) {
    return testing::SendRawRequest(server_.address(), method, bytes, "municipality-760");
  }

  TestServer server_{Options()};
  std::unique_ptr<client::HandoverClient> operator_ = server_.ClientFor("operator-redcross");
  std::unique_ptr<client::HandoverClient> auditor_ = server_.ClientFor("auditor-dpo");
};

void AddUnknownField(google::protobuf::Message* message, int number) {
  message->GetReflection()->MutableUnknownFields(message)->AddLengthDelimited(number, "probe");
}

TEST_F(UntrustedInputTest, AnUnknownTopLevelFieldIsRefusedAndNothingStored) {
  v1::HandoverForm form = SampleForm();
  AddUnknownField(&form, 999);
  auto created = operator_->CreateCase(form, "unknown-top");
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(created.status().message(), "form: unknown field number 999 is not in the schema");
  auto cases = operator_->ListCases({});
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(cases->cases_size(), 0);
  EXPECT_EQ(Records("CreateCase", "INVALID_ARGUMENT").size(), 1u);
}

TEST_F(UntrustedInputTest, AnUnknownFieldInsideHealthIsRefusedAndNothingStored) {
  auto created = operator_->CreateCase(SampleForm(), "known");
  ASSERT_TRUE(created.ok()) << created.status();
  v1::UpdateFormRequest update;
  update.set_name(created->name());
  *update.mutable_form() = SampleForm();
  update.mutable_form()->mutable_health()->set_special_needs(true);
  AddUnknownField(update.mutable_form()->mutable_health(), 77);
  update.mutable_update_mask()->add_paths("health");
  update.set_request_id("unknown-nested");
  auto updated = operator_->UpdateForm(update);
  EXPECT_EQ(updated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(updated.status().message(),
            "form.health: unknown field number 77 is not in the schema");
  auto current = operator_->GetCase(created->name());
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->version(), 1);
  EXPECT_EQ(Records("UpdateForm", "INVALID_ARGUMENT").size(), 1u);
}

TEST_F(UntrustedInputTest, AnUnknownFieldInAReadRequestIsRefusedToo) {
  v1::ListCasesRequest list;
  AddUnknownField(&list, 50);
  auto listed = operator_->ListCases(list);
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(listed.status().message(), "request: unknown field number 50 is not in the schema");
}

TEST_F(UntrustedInputTest, AnUndecodableRequestIsInvalidAndRecorded) {
  // Field 1 (name) as a length-delimited string claiming 100 bytes; 3 follow.
  const std::string truncated = std::string("\x0a\x64", 2) + "abc";
  const grpc::Status status = SendRaw("/handover.v1.HandoverService/GetCase", truncated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "request: cannot be decoded as the request message of GetCase");
  const auto records = Records("GetCase", "INVALID_ARGUMENT");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].organisation(), "760");
  EXPECT_EQ(records[0].actor(), "probe-1");
}

TEST_F(UntrustedInputTest, AnOversizeRequestIsExhaustedAndRecorded) {
  v1::GetCaseRequest request;
  request.set_name(std::string(100 * 1024, 'x'));
  const grpc::Status status =
      SendRaw("/handover.v1.HandoverService/GetCase", request.SerializeAsString());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("over the server's limit of 65536 (max-message-bytes)"),
            std::string::npos)
      << status.error_message();
  const auto records = Records("GetCase", "RESOURCE_EXHAUSTED");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].organisation(), "760");
}

// grpc.health.v1 answers for the server ("") and for each service by name;
// an unknown name is NOT_FOUND.
TEST_F(UntrustedInputTest, HealthAnswersPerServiceName) {
  for (const std::string name : {"", "handover.v1.HandoverService", "handover.v1.DocumentService",
                                 "handover.v1.AuditService"}) {
    grpc::Status failure;
    EXPECT_EQ(testing::HealthStatus(server_.address(), name, &failure), 1)
        << name << ": " << failure.error_message();
  }
  grpc::Status failure;
  EXPECT_EQ(testing::HealthStatus(server_.address(), "no.Such.Service", &failure), -1);
  EXPECT_EQ(failure.error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace handover
