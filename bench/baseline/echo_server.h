// Baseline E for the benchmarks: the Echo service (echo.proto) on the
// callback API, listening with the same mutual TLS as handoverd.
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <string>

namespace handover::bench {

class EchoServer {
 public:
  // Listens on 127.0.0.1:<free port> with the dev PKI in `pki`. Exits the
  // process if it cannot.
  explicit EchoServer(const std::string& pki);
  ~EchoServer();
  int port() const { return port_; }

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace handover::bench
