// Shared by the benchmarks: an in-process handoverd over real mutual TLS with
// a fresh dev PKI and database, clients per identity, and percentiles.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "client/handover_client.h"
#include "server/server.h"

namespace handover::bench {

class BenchServer {
 public:
  // Makes a dev PKI and an empty database under `dir`, and starts the server.
  // Exits the process with a message if that fails.
  BenchServer(const std::string& dir, ServerOptions options = {});
  std::unique_ptr<client::HandoverClient> ClientFor(const std::string& identity) const;
  HandoverServer& server() { return *server_; }
  const std::string& pki() const { return pki_; }

 private:
  std::string pki_;
  std::unique_ptr<HandoverServer> server_;
};

// A client of handoverd on localhost:`port` with `identity`'s certificate
// from `pki`, actor "bench", 120 s per call. Exits on failure.
std::unique_ptr<client::HandoverClient> BenchClient(const std::string& pki, int port,
                                                    const std::string& identity);

// A channel to localhost:`port` with `identity`'s certificate from `pki`, for
// calls the HandoverClient does not make (baseline E, raw async stubs).
// Channels with different `index` never share a connection. Exits on failure.
std::shared_ptr<grpc::Channel> MutualTlsChannel(const std::string& pki, const std::string& identity,
                                                int port, int index = 0);

// Operator redcross creates `count` cases that the Immigration Service assigns
// to municipality 760; returns their names. Exits on failure.
std::vector<std::string> CreateAssignedCases(const BenchServer& server, int count);
// Fast setup for large runs: creates cases for persons first..first+count-1
// (operator redcross) and assigns each to `municipality`, straight through
// the store with many writes in flight (no gRPC). Exits on failure.
void SeedAssignedCases(store::CaseStore* store, int64_t first, int64_t count,
                       const std::string& municipality);

// Runs deploy/dev-pki.sh into `pki`. Exits on failure.
void MakeDevPki(const std::string& pki);

// Prints `table` and writes it to `path` (creating its folder).
void WriteTable(const std::string& table, const std::string& path);

// The q-quantile (0..1) of `values` (sorted in place).
double Quantile(std::vector<double>& values, double q);
// A form of about `bytes` bytes, obviously fictional.
v1::HandoverForm BenchForm(const std::string& person_identifier, size_t bytes = 2048);

}  // namespace handover::bench
