// common/grpc_status.h: the absl::Status <-> grpc::Status mapping is one to
// one for every canonical code and keeps the message.
#include "common/grpc_status.h"

#include <gtest/gtest.h>

#include <string>

namespace handover {
namespace {

class GrpcStatusRoundTripTest : public testing::TestWithParam<int> {};

TEST_P(GrpcStatusRoundTripTest, KeepsCodeAndMessage) {
  const auto code = static_cast<absl::StatusCode>(GetParam());
  const std::string message = code == absl::StatusCode::kOk ? "" : "form.identity: required";
  const absl::Status original(code, message);

  const grpc::Status wire = ToGrpcStatus(original);
  EXPECT_EQ(static_cast<int>(wire.error_code()), GetParam());
  EXPECT_EQ(wire.error_message(), message);
  EXPECT_EQ(wire.ok(), code == absl::StatusCode::kOk);

  const absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), code);
  EXPECT_EQ(std::string(back.message()), message);
  EXPECT_EQ(back, original);
}

INSTANTIATE_TEST_SUITE_P(AllCanonicalCodes, GrpcStatusRoundTripTest, testing::Range(0, 17),
                         [](const testing::TestParamInfo<int>& info) {
                           return absl::StatusCodeToString(
                               static_cast<absl::StatusCode>(info.param));
                         });

TEST(GrpcStatusTest, CodesShareTheCanonicalNumbering) {
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::PermissionDeniedError("x")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ToGrpcStatus(absl::UnauthenticatedError("x")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::DATA_LOSS, "x")).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::ABORTED, "x")).code(),
            absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace handover
