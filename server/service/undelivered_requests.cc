#include "server/service/undelivered_requests.h"

#include <grpcpp/server_context.h>

#include "absl/strings/str_cat.h"
#include "server/service/caller.h"
#include "server/service/pipeline.h"

namespace handover::service {
namespace {

using grpc::experimental::InterceptionHookPoints;

// "/handover.v1.HandoverService/GetCase" -> "GetCase".
std::string OperationOf(const char* method) {
  const std::string full = method ? method : "";
  const size_t slash = full.rfind('/');
  return slash == std::string::npos ? full : full.substr(slash + 1);
}

class UndeliveredRequestInterceptor : public grpc::experimental::Interceptor {
 public:
  UndeliveredRequestInterceptor(grpc::experimental::ServerRpcInfo* info, store::CaseStore* store,
                                const identity::CallerNaming* naming)
      : info_(info), store_(store), naming_(naming) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // Only calls whose one request arrives before the handler runs: a
    // client stream's reads end with no message (the client half-closed).
    const auto type = info_->type();
    if ((type == grpc::experimental::ServerRpcInfo::Type::UNARY ||
         type == grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING) &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      undelivered_ = true;
    }
    if (!undelivered_ ||
        !methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      methods->Proceed();
      return;
    }
    const std::string operation = OperationOf(info_->method());
    const absl::Status status = absl::InvalidArgumentError(
        absl::StrCat("request: cannot be decoded as the request message of ", operation));
    methods->ModifySendStatus(ToGrpcStatus(status));
    const auto* context = dynamic_cast<const grpc::CallbackServerContext*>(info_->server_context());
    if (context == nullptr) {
      methods->Proceed();
      return;
    }
    // Recorded as every refusal is (pipeline.h), then the status goes out.
    Audit(store_,
          AccessRecordFor(*context, *naming_, IdentifyCaller(*context, *naming_), operation),
          status, [methods](absl::Status) { methods->Proceed(); });
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  store::CaseStore* const store_;
  const identity::CallerNaming* const naming_;
  bool undelivered_ = false;
};

class Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  Factory(store::CaseStore* store, std::shared_ptr<const identity::CallerNaming> naming)
      : store_(store), naming_(std::move(naming)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new UndeliveredRequestInterceptor(info, store_, naming_.get());
  }

 private:
  store::CaseStore* const store_;
  const std::shared_ptr<const identity::CallerNaming> naming_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
UndeliveredRequestInterceptorFactory(store::CaseStore* store,
                                     std::shared_ptr<const identity::CallerNaming> naming) {
  return std::make_unique<Factory>(store, std::move(naming));
}

}  // namespace handover::service
