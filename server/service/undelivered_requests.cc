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
                                const std::string* trust_domain)
      : info_(info), store_(store), trust_domain_(trust_domain) {}

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
    Audit(store_, AccessRecordFor(*context, IdentifyCaller(*context, *trust_domain_), operation),
          status, [methods](absl::Status) { methods->Proceed(); });
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  store::CaseStore* const store_;
  const std::string* const trust_domain_;
  bool undelivered_ = false;
};

class Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  Factory(store::CaseStore* store, std::string trust_domain)
      : store_(store), trust_domain_(std::move(trust_domain)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new UndeliveredRequestInterceptor(info, store_, &trust_domain_);
  }

 private:
  store::CaseStore* const store_;
  const std::string trust_domain_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
UndeliveredRequestInterceptorFactory(store::CaseStore* store, std::string trust_domain) {
  return std::make_unique<Factory>(store, std::move(trust_domain));
}

}  // namespace handover::service
