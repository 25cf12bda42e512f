#include "client/document_commands.h"

#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "client/document_files.h"
#include "client/progress_bar.h"
#include "client/text_view.h"

namespace handover::client {
namespace {

struct DocumentArgs {
  std::string case_arg;
  std::string type = "";
  std::string title;
  std::string media_type;
  std::string replaces;
  std::string request_id;
  std::string file;
  std::string name;
  std::string out;
  int64_t version = 0;
  bool history = false;
  bool resume = false;
};

}  // namespace

void AddDocumentCommands(CLI::App& app, const Settings& settings,
                         std::function<absl::Status(HandoverClient&)>* run) {
  auto args = std::make_shared<DocumentArgs>();
  auto* doc = app.add_subcommand("doc", "Upload, list and download a case's documents");
  doc->require_subcommand(1);
  doc->fallthrough();

  auto* upload = doc->add_subcommand("upload", "Upload a document to a case (operator)");
  upload->add_option("case", args->case_arg, "cases/<id> or <id>")->required();
  upload->add_option("file", args->file, "The file to upload")
      ->required()
      ->check(CLI::ExistingFile);
  upload
      ->add_option("--type", args->type,
                   "medical-record, social-report, individual-contract, residence-permit, "
                   "social-documents, handover-form or childcare-statement")
      ->required();
  upload->add_option("--title", args->title, "Title shown to caseworkers (default: file name)");
  upload->add_option("--media-type", args->media_type,
                     "application/pdf, image/png, image/jpeg or text/plain (default: from the "
                     "file name)");
  upload->add_option("--replaces", args->replaces,
                     "cases/<id>/documents/<id>: upload a new version of this document");
  upload->add_option("--request-id", args->request_id, "Idempotency key; reuse it when retrying");
  upload->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) -> absl::Status {
      v1::DocumentUpload metadata;
      metadata.set_parent(CaseNameArg(args->case_arg));
      auto type = ParseEnumArg(*v1::DocumentType_descriptor(), args->type, "--type");
      if (!type.ok()) return type.status();
      metadata.set_type(static_cast<v1::DocumentType>(*type));
      metadata.set_title(args->title.empty() ? std::filesystem::path(args->file).filename().string()
                                             : args->title);
      metadata.set_media_type(args->media_type.empty() ? MediaTypeForFileName(args->file)
                                                       : args->media_type);
      if (metadata.media_type().empty()) {
        return absl::InvalidArgumentError(
            "--media-type: required when the file name does not tell (.pdf, .png, .jpg, .txt)");
      }
      metadata.set_document(args->replaces);
      metadata.set_request_id(args->request_id.empty() ? HandoverClient::NewRequestId()
                                                       : args->request_id);
      auto stored = UploadFile(client, metadata, args->file, TerminalProgress("uploading"));
      if (!stored.ok()) return stored.status();
      Print(settings, *stored, absl::StrCat("stored ", RenderDocument(*stored), "\n"));
      return absl::OkStatus();
    };
  });

  auto* list = doc->add_subcommand("list", "List a case's documents you may see");
  list->add_option("case", args->case_arg, "cases/<id> or <id>")->required();
  list->add_flag("--history", args->history, "Every version, not only the current ones");
  list->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) -> absl::Status {
      auto documents = client.ListDocuments(CaseNameArg(args->case_arg), args->history);
      if (!documents.ok()) return documents.status();
      Print(settings, *documents, RenderDocumentTable(*documents));
      return absl::OkStatus();
    };
  });

  auto* download =
      doc->add_subcommand("download", "Download a document to a file, verifying its SHA-256");
  download->add_option("document", args->name, "cases/<id>/documents/<id>")->required();
  download->add_option("--out", args->out, "The file to write (must not exist)")->required();
  download->add_option("--version", args->version, "A version other than the current one");
  download->add_flag("--resume", args->resume,
                     "Continue an interrupted download (<out>.part) from where it stopped");
  download->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) -> absl::Status {
      auto document = DownloadFile(client, args->name, args->version, args->out, args->resume,
                                   TerminalProgress("downloading"));
      if (!document.ok()) return document.status();
      Print(settings, *document,
            absl::StrCat("wrote ", args->out, " (", document->size_bytes(),
                         " bytes, SHA-256 verified) from ", RenderDocument(*document), "\n"));
      return absl::OkStatus();
    };
  });
}

}  // namespace handover::client
