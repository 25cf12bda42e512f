// The one mapping between absl::Status (used everywhere inside) and
// grpc::Status (on the wire). Codes map one to one; the message is kept.
// tests/grpc_status_test.cc checks the round trip for every code.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace handover {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace handover
