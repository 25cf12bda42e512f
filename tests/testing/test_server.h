// Test support: the real server in-process on 127.0.0.1:<free port> over
// mutual TLS, on a fresh in-memory database (or a SQLite file), and clients for the demo
// organisations, using the certificates deploy/dev-pki.sh made for this run
// (the CTest fixture make_test_pki).
#pragma once

#include <future>
#include <memory>
#include <string>

#include "client/handover_client.h"
#include "handover/v1/form.pb.h"
#include "server/server.h"

namespace handover::testing {

// A file of the run's test PKI, e.g. PkiFile("operator-redcross.pem").
std::string PkiFile(const std::string& name);
// A new empty directory under the test temp dir.
std::string NewTempDir();

// Client options for `address` with the test PKI's certificate of `identity`
// ("operator-redcross", ...) and its CA; no actor.
client::ClientOptions ClientOptionsFor(const std::string& address, const std::string& identity);

// Server options using the test PKI and the in-memory engine (a mem://
// database named after `dir`, uploads staged in `dir`): for every test that
// does not test an engine.
ServerOptions TestServerOptions(const std::string& dir);
// The same with a SQLite database file in `dir` (handover.db), for the tests
// that need a file: backups, restores, what is left on disk.
ServerOptions SqliteServerOptions(const std::string& dir);

class TestServer {
 public:
  // Starts at once; fails the test (ADD_FAILURE) and leaves server() null if
  // it cannot start.
  explicit TestServer(ServerOptions options = TestServerOptions(NewTempDir()));
  ~TestServer();

  std::string address() const;
  const ServerOptions& options() const { return options_; }
  // Shuts down and starts again on the same database and port.
  void Restart();
  // Stops serving (Restart starts again).
  void Stop();
  HandoverServer* server() { return server_.get(); }

  // A client with the certificate of `identity` ("operator-redcross",
  // "municipality-760", ...) and the given actor.
  std::unique_ptr<client::HandoverClient> ClientFor(const std::string& identity,
                                                    const std::string& actor = "test-actor") const;

 private:
  ServerOptions options_;
  std::unique_ptr<HandoverServer> server_;
  int port_ = 0;
};

// Creates a case for `person` as the Red Cross and assigns it to 760 (two
// events, both 760's); the case's name, or "" (and a test failure) if the
// creation failed.
std::string CreateAndAssign(const TestServer& server, const std::string& person);

// Starts a server with `options` over a database put back by hand from an
// older copy, and fails the test unless the start is refused with
// FAILED_PRECONDITION naming the feed's end (`feed_end`), the key store's
// mark (`marked`) and `handoverd restore` (DomainStore::Open).
void ExpectStartRefusedAsAnOlderCopy(const ServerOptions& options, int64_t feed_end,
                                     int64_t marked);

// Sends `request` (serialised bytes) as the request of `method`
// ("/package.Service/Method") on a mutual-TLS channel with the certificate of
// `identity` and an actor header, as a client from another schema (or a
// fuzzer) would: a plain gRPC channel, which sends any certificate, expired
// or not. The response's bytes go to `response` if given.
grpc::Status SendRawRequest(const std::string& address, const std::string& method,
                            const std::string& request, const std::string& identity,
                            std::string* response = nullptr);

// grpc.health.v1 Check for `service` ("" for the server): 1 SERVING,
// 2 NOT_SERVING; -1 with the call's failure (NOT_FOUND for an unknown name).
int HealthStatus(const std::string& address, const std::string& service,
                 grpc::Status* failure = nullptr);

// Calls an asynchronous store method (`call(done)`) and waits for its result.
template <typename T, typename Call>
absl::StatusOr<T> Await(Call call) {
  std::promise<absl::StatusOr<T>> promise;
  auto future = promise.get_future();
  call([&promise](absl::StatusOr<T> result) { promise.set_value(std::move(result)); });
  return future.get();
}

// A complete, valid, obviously fictional form.
v1::HandoverForm SampleForm(const std::string& person_identifier = "99000001");

}  // namespace handover::testing
