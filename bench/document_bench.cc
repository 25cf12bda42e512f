// Document benchmark: upload and download of a large document (25 MiB by
// default) through DocumentService over mutual TLS, against baseline E in the
// same run: the same bytes streamed to and from
// a bare gRPC service over the same TLS that does no work. handoverd hashes,
// checks, encrypts and stages each chunk, then stores it durably; on the way
// out it re-checks consent, reads and decrypts each chunk.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "absl/strings/str_format.h"
#include "baseline/echo.grpc.pb.h"
#include "bench/baseline/echo_server.h"
#include "bench/bench_support.h"
#include "client/document_files.h"
#include "common/crypto.h"
#include "common/signing.h"

namespace handover::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kChunk = client::kUploadChunkBytes;
// What the store sends per download message (DomainStoreOptions).
const size_t kDownloadChunk = store::DomainStoreOptions{}.document_chunk_bytes;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// MiB/s of `run`, the best of `rounds` (the machine is shared and noisy).
template <typename Run>
double BestMiBPerSecond(int rounds, int64_t bytes, Run run) {
  double best = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto start = Clock::now();
    run();
    best = std::max(best, bytes / 1048576.0 / Seconds(start));
  }
  return best;
}

void Fail(const std::string& what, const absl::Status& status) {
  std::cerr << "document_bench: " << what << ": " << status << "\n";
  std::exit(1);
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"document_bench: document upload and download throughput against baseline E"};
  int mib = 25, rounds = 5;
  std::string dir = "/tmp/handover-document-bench";
  app.add_option("--mib", mib, "Document size in MiB")->capture_default_str();
  app.add_option("--rounds", rounds, "Transfers per measurement (the best counts)")
      ->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (emptied)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::remove_all(dir);

  const int64_t bytes = int64_t(mib) * 1048576;
  std::string content = "%PDF-1.7\n% fictional benchmark document\n";
  content.resize(static_cast<size_t>(bytes), 'b');
  const std::string sha256 = HexEncode(Sha256(content));

  ServerOptions options;
  options.service.documents.max_bytes =
      std::max<int64_t>(bytes, options.service.documents.max_bytes);
  BenchServer server(dir, options);
  const std::string case_name = CreateAssignedCases(server, 1).front();
  auto op = server.ClientFor("operator-redcross");
  auto m760 = server.ClientFor("municipality-760");
  EchoServer echo(server.pki());
  auto echo_stub = Echo::NewStub(MutualTlsChannel(server.pki(), "operator-redcross", echo.port()));

  auto chunks = [&content] {
    return [&content, at = size_t(0)]() mutable -> absl::StatusOr<std::string> {
      std::string piece = content.substr(at, kChunk);
      at += piece.size();
      return piece;
    };
  };
  std::string document_name;
  const double upload = BestMiBPerSecond(rounds, bytes, [&] {
    v1::DocumentUpload metadata;
    metadata.set_parent(case_name);
    metadata.set_type(v1::DOCUMENT_TYPE_INDIVIDUAL_CONTRACT);
    metadata.set_title("Bench kontrakt (fiktiv)");
    metadata.set_media_type("application/pdf");
    metadata.set_size_bytes(bytes);
    metadata.set_sha256(sha256);
    metadata.set_request_id(client::HandoverClient::NewRequestId());
    auto stored = op->UploadDocument(metadata, chunks());
    if (!stored.ok()) Fail("upload", stored.status());
    document_name = stored->name();
  });
  const double swallow = BestMiBPerSecond(rounds, bytes, [&] {
    grpc::ClientContext context;
    SwallowResponse response;
    auto writer = echo_stub->Swallow(&context, &response);
    Chunk chunk;
    auto next = chunks();
    for (std::string piece = *next(); !piece.empty(); piece = *next()) {
      chunk.set_data(std::move(piece));
      writer->Write(chunk);
    }
    writer->WritesDone();
    if (!writer->Finish().ok() || response.total_bytes() != bytes)
      Fail("swallow", absl::UnknownError(""));
  });
  const double download = BestMiBPerSecond(rounds, bytes, [&] {
    v1::DownloadDocumentRequest request;
    request.set_name(document_name);
    int64_t received = 0;
    absl::Status status = m760->DownloadDocument(
        request, [](const v1::Document&) { return absl::OkStatus(); },
        [&received](const std::string& chunk) {
          received += static_cast<int64_t>(chunk.size());
          return absl::OkStatus();
        });
    if (!status.ok() || received != bytes) Fail("download", status);
  });
  const double emit = BestMiBPerSecond(rounds, bytes, [&] {
    grpc::ClientContext context;
    EmitRequest request;
    request.set_total_bytes(bytes);
    request.set_chunk_bytes(static_cast<int>(kDownloadChunk));
    auto reader = echo_stub->Emit(&context, request);
    Chunk chunk;
    int64_t received = 0;
    while (reader->Read(&chunk)) received += static_cast<int64_t>(chunk.data().size());
    if (!reader->Finish().ok() || received != bytes) Fail("emit", absl::UnknownError(""));
  });

  std::string table = absl::StrFormat(
      "document_bench: a %d MiB document over mutual TLS, best of %d (uploads in %d KiB "
      "messages, downloads in %d KiB)\n"
      "%-10s %14s %18s %8s\n"
      "%-10s %14.1f %18.1f %7.2fx\n"
      "%-10s %14.1f %18.1f %7.2fx\n",
      mib, rounds, static_cast<int>(kChunk / 1024), static_cast<int>(kDownloadChunk / 1024),
      "transfer", "handoverd MiB/s", "baseline E MiB/s", "ratio", "upload", upload, swallow,
      upload / swallow, "download", download, emit, download / emit);
  WriteTable(table, std::string(HANDOVER_SOURCE_DIR) + "/bench/results/document.txt");
  return 0;
}

}  // namespace handover::bench

int main(int argc, char** argv) { return handover::bench::Main(argc, argv); }
