// The one mapping between absl::Status (used everywhere inside) and
// grpc::Status (on the wire). Codes map one to one and the message is kept.
// absl payloads (type URL -> serialized message) travel as google.rpc.Status
// details (google.protobuf.Any) in the grpc-status-details-bin trailer, the
// standard rich error model, and come back as payloads.
// tests/unit/grpc_status_test.cc checks the round trip.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace handover {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace handover
