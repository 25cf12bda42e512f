#include "client/handover_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/own_certificate.h"
#include "common/crypto.h"
#include "common/grpc_status.h"
#include "common/identity.h"

namespace handover::client {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* option) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(option, ": required"));
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(option, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> MutualTlsChannel(const ClientOptions& options,
                                                                grpc::ChannelArguments arguments) {
  grpc::SslCredentialsOptions tls;
  auto ca = ReadPem(options.ca_file, "ca");
  if (!ca.ok()) return ca.status();
  auto cert = ReadPem(options.certificate_file, "cert");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(options.private_key_file, "key");
  if (!key.ok()) return key.status();
  // A certificate the server would refuse, said plainly.
  if (absl::Status own =
          CheckOwnCertificate(*cert, options.certificate_file, *key, options.private_key_file);
      !own.ok()) {
    return own;
  }
  tls.pem_root_certs = *ca;
  tls.pem_cert_chain = *cert;
  tls.pem_private_key = *key;
  return grpc::CreateCustomChannel(options.server, grpc::SslCredentials(tls), arguments);
}

absl::StatusOr<std::unique_ptr<HandoverClient>> HandoverClient::Connect(
    const ClientOptions& options) {
  grpc::ChannelArguments arguments;
  // Reconnect soon after the server comes back, not after minutes of back-off.
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  auto channel = MutualTlsChannel(options, arguments);
  if (!channel.ok()) return channel.status();
  if (absl::Status actor = ValidateActor(options.actor); !actor.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("actor: ", actor.message()));
  }
  return std::unique_ptr<HandoverClient>(new HandoverClient(*std::move(channel), options));
}

std::string HandoverClient::NewRequestId() { return HexEncode(RandomBytes(16)); }

HandoverClient::HandoverClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : stub_(v1::HandoverService::NewStub(channel)),
      audit_stub_(v1::AuditService::NewStub(channel)),
      document_stub_(v1::DocumentService::NewStub(channel)),
      options_(std::move(options)) {}

void HandoverClient::AddIdentity(grpc::ClientContext* context) const {
  context->AddMetadata(kActorMetadataKey, options_.actor);
  if (!options_.purpose.empty()) context->AddMetadata(kPurposeMetadataKey, options_.purpose);
}

template <typename Stub, typename Request, typename Response, typename Method>
absl::Status HandoverClient::Call(Stub* stub, Method method, const Request& request,
                                  Response* response) {
  grpc::ClientContext context;
  AddIdentity(&context);
  context.set_deadline(std::chrono::system_clock::now() + options_.timeout);
  return FromGrpcStatus((stub->*method)(&context, request, response));
}

absl::StatusOr<v1::Case> HandoverClient::CreateCase(const v1::HandoverForm& form,
                                                    const std::string& request_id) {
  v1::CreateCaseRequest request;
  *request.mutable_form() = form;
  request.set_request_id(request_id);
  v1::CreateCaseResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::CreateCase, request, &response); !s.ok()) return s;
  return std::move(*response.mutable_case_());
}

absl::StatusOr<v1::Case> HandoverClient::GetCase(const std::string& name, v1::CaseView view) {
  v1::GetCaseRequest request;
  request.set_name(name);
  request.set_view(view);
  v1::GetCaseResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::GetCase, request, &response); !s.ok()) return s;
  return std::move(*response.mutable_case_());
}

absl::StatusOr<v1::ListCasesResponse> HandoverClient::ListCases(
    const v1::ListCasesRequest& request) {
  v1::ListCasesResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::ListCases, request, &response); !s.ok()) return s;
  return response;
}

absl::StatusOr<v1::Case> HandoverClient::UpdateForm(const v1::UpdateFormRequest& request) {
  v1::UpdateFormResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::UpdateForm, request, &response); !s.ok()) return s;
  return std::move(*response.mutable_case_());
}

absl::StatusOr<v1::ListVersionsResponse> HandoverClient::ListVersions(
    const v1::ListVersionsRequest& request) {
  v1::ListVersionsResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::ListVersions, request, &response); !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<v1::CaseVersion> HandoverClient::GetVersion(const std::string& name) {
  v1::GetVersionRequest request;
  request.set_name(name);
  v1::GetVersionResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::GetVersion, request, &response); !s.ok()) return s;
  return std::move(*response.mutable_version());
}

absl::StatusOr<v1::Case> HandoverClient::AssignCase(const v1::AssignCaseRequest& request) {
  v1::AssignCaseResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::AssignCase, request, &response); !s.ok()) return s;
  return std::move(*response.mutable_case_());
}

absl::StatusOr<v1::Consent> HandoverClient::RecordConsent(const v1::RecordConsentRequest& request) {
  v1::RecordConsentResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::RecordConsent, request, &response); !s.ok()) {
    return s;
  }
  return std::move(*response.mutable_consent());
}

absl::StatusOr<v1::Consent> HandoverClient::WithdrawConsent(const std::string& name,
                                                            const std::string& request_id) {
  v1::WithdrawConsentRequest request;
  request.set_name(name);
  request.set_request_id(request_id);
  v1::WithdrawConsentResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::WithdrawConsent, request, &response); !s.ok()) {
    return s;
  }
  return std::move(*response.mutable_consent());
}

absl::StatusOr<v1::SyncResponse> HandoverClient::Sync(const v1::SyncRequest& request) {
  v1::SyncResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::Sync, request, &response); !s.ok()) return s;
  return response;
}

std::unique_ptr<WatchStream> HandoverClient::Watch(const v1::WatchRequest& request) {
  auto context = std::make_unique<grpc::ClientContext>();
  AddIdentity(context.get());
  auto reader = stub_->Watch(context.get(), request);
  return std::make_unique<WatchStream>(std::move(context), std::move(reader));
}

absl::StatusOr<std::string> HandoverClient::EraseCase(const std::string& name,
                                                      const std::string& reason,
                                                      const std::string& request_id) {
  v1::EraseCaseRequest request;
  request.set_name(name);
  request.set_reason(reason);
  request.set_request_id(request_id);
  v1::EraseCaseResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::EraseCase, request, &response); !s.ok()) return s;
  return response.name();
}

absl::StatusOr<v1::WhoAmIResponse> HandoverClient::WhoAmI() {
  v1::WhoAmIResponse response;
  if (auto s = Call(&v1::HandoverService::Stub::WhoAmI, v1::WhoAmIRequest(), &response); !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<v1::QueryAccessLogResponse> HandoverClient::QueryAccessLog(
    const v1::QueryAccessLogRequest& request) {
  v1::QueryAccessLogResponse response;
  if (auto s = Call(audit_stub_.get(), &v1::AuditService::Stub::QueryAccessLog, request, &response);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::Status HandoverClient::ExportAccessLog(
    const std::function<absl::Status(const v1::ExportAccessLogResponse&)>& sink) {
  grpc::ClientContext context;
  AddIdentity(&context);
  auto reader = audit_stub_->ExportAccessLog(&context, v1::ExportAccessLogRequest());
  v1::ExportAccessLogResponse item;
  absl::Status status;
  while (reader->Read(&item)) {
    status = sink(item);
    if (!status.ok()) {
      context.TryCancel();
      break;
    }
  }
  absl::Status end = FromGrpcStatus(reader->Finish());
  return status.ok() ? end : status;
}

absl::StatusOr<v1::SubjectAccessReportResponse> HandoverClient::SubjectAccessReport(
    const std::string& person_identifier) {
  v1::SubjectAccessReportRequest request;
  request.set_person_identifier(person_identifier);
  v1::SubjectAccessReportResponse response;
  if (auto s =
          Call(audit_stub_.get(), &v1::AuditService::Stub::SubjectAccessReport, request, &response);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<v1::Document> HandoverClient::UploadDocument(
    const v1::DocumentUpload& metadata,
    const std::function<absl::StatusOr<std::string>()>& next_chunk) {
  grpc::ClientContext context;
  AddIdentity(&context);
  v1::UploadDocumentResponse response;
  auto writer = document_stub_->UploadDocument(&context, &response);
  v1::UploadDocumentRequest request;
  *request.mutable_metadata() = metadata;
  bool open = writer->Write(request);
  while (open) {
    absl::StatusOr<std::string> chunk = next_chunk();
    if (!chunk.ok()) {
      context.TryCancel();
      writer->Finish();
      return chunk.status();
    }
    if (chunk->empty()) break;
    request.set_chunk(*std::move(chunk));
    open = writer->Write(request);  // false: the server ended the call early
  }
  writer->WritesDone();
  if (absl::Status s = FromGrpcStatus(writer->Finish()); !s.ok()) return s;
  return response.document();
}

absl::StatusOr<v1::ListDocumentsResponse> HandoverClient::ListDocuments(const std::string& parent,
                                                                        bool include_history) {
  v1::ListDocumentsRequest request;
  request.set_parent(parent);
  request.set_include_history(include_history);
  v1::ListDocumentsResponse response;
  if (auto s =
          Call(document_stub_.get(), &v1::DocumentService::Stub::ListDocuments, request, &response);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::Status HandoverClient::DownloadDocument(
    const v1::DownloadDocumentRequest& request,
    const std::function<absl::Status(const v1::Document&)>& on_metadata,
    const std::function<absl::Status(const std::string&)>& sink) {
  grpc::ClientContext context;
  AddIdentity(&context);
  auto reader = document_stub_->DownloadDocument(&context, request);
  v1::DownloadDocumentResponse item;
  absl::Status status;
  while (status.ok() && reader->Read(&item)) {
    status = item.has_metadata() ? on_metadata(item.metadata()) : sink(item.chunk());
  }
  if (!status.ok()) context.TryCancel();
  absl::Status end = FromGrpcStatus(reader->Finish());
  return status.ok() ? end : status;
}

WatchStream::WatchStream(std::unique_ptr<grpc::ClientContext> context,
                         std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader)
    : context_(std::move(context)), reader_(std::move(reader)) {}

bool WatchStream::Next(v1::WatchResponse* item) { return reader_->Read(item); }

void WatchStream::Cancel() { context_->TryCancel(); }

absl::Status WatchStream::Finish() { return FromGrpcStatus(reader_->Finish()); }

}  // namespace handover::client
