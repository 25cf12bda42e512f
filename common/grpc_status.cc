#include "common/grpc_status.h"

#include "google/rpc/status.pb.h"

namespace handover {

// absl::StatusCode and grpc::StatusCode share the canonical numbering 0..16.
grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status rich;
  status.ForEachPayload([&rich](absl::string_view type_url, const absl::Cord& payload) {
    google::protobuf::Any* detail = rich.add_details();
    detail->set_type_url(std::string(type_url));
    detail->set_value(std::string(payload));
  });
  std::string message(status.message());
  if (rich.details_size() == 0) {
    return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message);
  }
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(message);
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      rich.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status rich;
  if (!status.error_details().empty() && rich.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& detail : rich.details()) {
      result.SetPayload(detail.type_url(), absl::Cord(detail.value()));
    }
  }
  return result;
}

}  // namespace handover
