#include "bench/baseline/echo_server.h"

#include <grpcpp/server_builder.h>

#include <cstdlib>
#include <iostream>

#include "baseline/echo.grpc.pb.h"
#include "server/tls_credentials.h"

namespace handover::bench {

class EchoServer::Service final : public Echo::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context, const EchoRequest* request,
                                 EchoResponse* response) override {
    response->set_payload(std::string(static_cast<size_t>(request->response_bytes()), 'x'));
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerReadReactor<Chunk>* Swallow(grpc::CallbackServerContext*,
                                          SwallowResponse* response) override {
    class Reactor : public grpc::ServerReadReactor<Chunk> {
     public:
      explicit Reactor(SwallowResponse* response) : response_(response) { StartRead(&chunk_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        response_->set_total_bytes(response_->total_bytes() +
                                   static_cast<int64_t>(chunk_.data().size()));
        StartRead(&chunk_);
      }
      void OnDone() override { delete this; }

     private:
      SwallowResponse* response_;
      Chunk chunk_;
    };
    return new Reactor(response);
  }

  grpc::ServerWriteReactor<Chunk>* Emit(grpc::CallbackServerContext*,
                                        const EmitRequest* request) override {
    class Reactor : public grpc::ServerWriteReactor<Chunk> {
     public:
      explicit Reactor(const EmitRequest& request)
          : left_(request.total_bytes()), chunk_bytes_(std::max(1, request.chunk_bytes())) {
        Next();
      }
      void OnWriteDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::CANCELLED);
          return;
        }
        Next();
      }
      void OnDone() override { delete this; }

     private:
      void Next() {
        if (left_ <= 0) {
          Finish(grpc::Status::OK);
          return;
        }
        const int64_t n = std::min<int64_t>(left_, chunk_bytes_);
        chunk_.set_data(std::string(static_cast<size_t>(n), 'x'));
        left_ -= n;
        StartWrite(&chunk_);
      }
      int64_t left_;
      const int chunk_bytes_;
      Chunk chunk_;
    };
    return new Reactor(*request);
  }
};

EchoServer::EchoServer(const std::string& pki) : service_(std::make_unique<Service>()) {
  auto trust = identity::CertificateTrust::Open(pki + "/ca.pem", "", {});
  if (!trust.ok()) {
    std::cerr << "bench: the echo baseline: " << trust.status() << "\n";
    std::exit(1);
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      "127.0.0.1:0",
      MutualTlsCredentials(pki + "/server.pem", pki + "/server.key", pki + "/ca.pem", 60,
                           *std::move(trust), std::make_shared<identity::CertificateRefusalLog>()),
      &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    std::cerr << "bench: the echo baseline did not start\n";
    std::exit(1);
  }
}

EchoServer::~EchoServer() {
  if (server_) server_->Shutdown();
}

}  // namespace handover::bench
