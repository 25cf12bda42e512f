// The client library: connects to handoverd over mutual TLS and makes typed,
// blocking calls. Every call sends the actor metadata and a deadline; errors
// come back as absl::Status with the server's code and message.
//
// Thread safety: a HandoverClient may be used from several threads at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/sync_stream.h>

#include "absl/status/statusor.h"
#include "handover/v1/document_service.grpc.pb.h"
#include "handover/v1/handover_service.grpc.pb.h"

namespace handover::client {

struct ClientOptions {
  // host:port of handoverd. Default "localhost:7443".
  std::string server = "localhost:7443";
  // PEM files: this organisation's certificate and key, and the CA that the
  // server's certificate must chain to. All required.
  std::string certificate_file;
  std::string private_key_file;
  std::string ca_file;
  // The person or system account acting (sent as x-handover-actor). Required.
  std::string actor;
  // Why the data is accessed (sent as x-handover-purpose, recorded in the
  // access log), e.g. "reception-planning". Optional.
  std::string purpose;
  // Per-call deadline. Default 30 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
};

// An open Watch stream. Next blocks for the next item; Cancel (from any
// thread) makes a blocked Next return false.
class WatchStream {
 public:
  WatchStream(std::unique_ptr<grpc::ClientContext> context,
              std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader);
  // False at the end of the stream; then call Finish.
  bool Next(v1::WatchResponse* item);
  void Cancel();
  // The stream's final status (blocks until it ends).
  absl::Status Finish();

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader_;
};

// A channel to options.server over mutual TLS with the PEM files in
// `options`, with `arguments` added. INVALID_ARGUMENT naming the option for a
// missing file.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MutualTlsChannel(
    const ClientOptions& options, grpc::ChannelArguments arguments = {});

class HandoverClient {
 public:
  // Reads the PEM files and sets up the channel (which connects lazily).
  // INVALID_ARGUMENT naming the option for a missing file or actor.
  static absl::StatusOr<std::unique_ptr<HandoverClient>> Connect(const ClientOptions& options);

  // A fresh request id for a write that is not retried by the caller.
  static std::string NewRequestId();

  absl::StatusOr<v1::Case> CreateCase(const v1::HandoverForm& form, const std::string& request_id);
  absl::StatusOr<v1::Case> GetCase(const std::string& name, v1::CaseView view = v1::CASE_VIEW_FULL);
  absl::StatusOr<v1::ListCasesResponse> ListCases(const v1::ListCasesRequest& request);
  absl::StatusOr<v1::Case> UpdateForm(const v1::UpdateFormRequest& request);
  absl::StatusOr<v1::ListVersionsResponse> ListVersions(const v1::ListVersionsRequest& request);
  absl::StatusOr<v1::CaseVersion> GetVersion(const std::string& name);
  absl::StatusOr<v1::Case> AssignCase(const v1::AssignCaseRequest& request);
  absl::StatusOr<v1::Consent> RecordConsent(const v1::RecordConsentRequest& request);
  absl::StatusOr<v1::Consent> WithdrawConsent(const std::string& name,
                                              const std::string& request_id);
  absl::StatusOr<v1::SyncResponse> Sync(const v1::SyncRequest& request);
  // Operator: erase a case's personal data; returns the case name.
  absl::StatusOr<std::string> EraseCase(const std::string& name, const std::string& reason,
                                        const std::string& request_id);
  // Any role: how the server sees this client (role, organisation, how the
  // certificate was named, its expiry, the actor it received).
  absl::StatusOr<v1::WhoAmIResponse> WhoAmI();

  // AuditService (auditor role).
  absl::StatusOr<v1::QueryAccessLogResponse> QueryAccessLog(
      const v1::QueryAccessLogRequest& request);
  // Streams the whole log to `sink` in order; stops at sink's first error.
  absl::Status ExportAccessLog(
      const std::function<absl::Status(const v1::ExportAccessLogResponse&)>& sink);
  absl::StatusOr<v1::SubjectAccessReportResponse> SubjectAccessReport(
      const std::string& person_identifier);
  // Opens a Watch stream; it has no deadline.
  std::unique_ptr<WatchStream> Watch(const v1::WatchRequest& request);

  // DocumentService. Sends `metadata`, then each chunk `next_chunk` returns
  // until it returns an empty string; an error from it cancels the upload
  // (the server then stores nothing). Transfers have no deadline.
  absl::StatusOr<v1::Document> UploadDocument(
      const v1::DocumentUpload& metadata,
      const std::function<absl::StatusOr<std::string>()>& next_chunk);
  absl::StatusOr<v1::ListDocumentsResponse> ListDocuments(const std::string& parent,
                                                          bool include_history = false);
  // Calls `on_metadata` once, then `sink` with each chunk in order, from
  // request.offset; the first error from either cancels the stream and is
  // returned.
  absl::Status DownloadDocument(const v1::DownloadDocumentRequest& request,
                                const std::function<absl::Status(const v1::Document&)>& on_metadata,
                                const std::function<absl::Status(const std::string&)>& sink);

 private:
  HandoverClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options);

  // The actor (and purpose) metadata every call carries.
  void AddIdentity(grpc::ClientContext* context) const;
  // Runs one unary call on `stub` with actor metadata and the deadline.
  template <typename Stub, typename Request, typename Response, typename Method>
  absl::Status Call(Stub* stub, Method method, const Request& request, Response* response);
  template <typename Request, typename Response, typename Method>
  absl::Status Call(Method method, const Request& request, Response* response) {
    return Call(stub_.get(), method, request, response);
  }

  std::unique_ptr<v1::HandoverService::Stub> stub_;
  std::unique_ptr<v1::AuditService::Stub> audit_stub_;
  std::unique_ptr<v1::DocumentService::Stub> document_stub_;
  const ClientOptions options_;
};

}  // namespace handover::client
