#include "client/audit_commands.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/input_files.h"
#include "client/text_view.h"
#include "common/access_chain.h"
#include "common/json.h"

namespace handover::client {
namespace {

using Run = std::function<absl::Status(HandoverClient&)>;

void AddQueryCommand(CLI::App& audit, const Settings& settings, Run* run) {
  struct Args {
    std::string filter_case, filter_organisation, filter_actor;
  };
  auto args = std::make_shared<Args>();
  auto* query = audit.add_subcommand("query", "Access records, oldest first");
  query->add_option("--case", args->filter_case, "Only records naming this case");
  query->add_option("--organisation", args->filter_organisation, "Only this organisation");
  query->add_option("--actor", args->filter_actor, "Only this person or system account");
  query->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) -> absl::Status {
      v1::QueryAccessLogRequest request;
      if (!args->filter_case.empty()) request.set_case_name(CaseNameArg(args->filter_case));
      request.set_organisation(args->filter_organisation);
      request.set_actor(args->filter_actor);
      v1::QueryAccessLogResponse all;
      do {
        auto page = client.QueryAccessLog(request);
        if (!page.ok()) return page.status();
        for (auto& e : *page->mutable_entries()) *all.add_entries() = std::move(e);
        request.set_page_token(page->next_page_token());
      } while (!request.page_token().empty());
      std::vector<v1::AccessRecord> records;
      for (const auto& e : all.entries()) records.push_back(e.record());
      Print(settings, all, RenderAccessTable(records));
      return absl::OkStatus();
    };
  });
}

void AddExportCommand(CLI::App& audit, Run* run) {
  auto export_file = std::make_shared<std::string>();
  auto* export_log =
      audit.add_subcommand("export", "Write the whole log as JSON lines, for verify");
  export_log->add_option("--out", *export_file, "File to write")->required();
  export_log->callback([export_file, run] {
    *run = [export_file](HandoverClient& client) -> absl::Status {
      std::ofstream out(*export_file);
      if (!out) return absl::InvalidArgumentError("--out: cannot write " + *export_file);
      int64_t lines = 0;
      absl::Status status = client.ExportAccessLog([&](const v1::ExportAccessLogResponse& item) {
        out << ToJsonLine(item) << "\n";
        ++lines;
        return out ? absl::OkStatus() : absl::InternalError("--out: write failed");
      });
      if (status.ok()) std::cerr << "exported " << lines << " lines to " << *export_file << "\n";
      return status;
    };
  });
}

// Offline: checks an export file without a server.
void AddVerifyCommand(CLI::App& audit, std::function<absl::Status()>* run_offline) {
  struct Args {
    std::string verify_file, public_key_file;
  };
  auto args = std::make_shared<Args>();
  auto* verify = audit.add_subcommand(
      "verify", "Check an export offline: hash chain, order, gaps, signed checkpoints");
  verify->add_option("file", args->verify_file, "An export from 'audit export'")->required();
  verify->add_option("--public-key", args->public_key_file,
                     "The server's checkpoint key (PEM), obtained out of band; default: the "
                     "key inside the export (which proves nothing against a forger)");
  verify->callback([args, run_offline] {
    *run_offline = [args]() -> absl::Status {
      auto text = ReadFile(args->verify_file);
      if (!text.ok()) return text.status();
      auto parsed = ParseAccessLogExport(*text);
      if (!parsed.ok()) return parsed.status();
      std::string key_pem = std::move(parsed->public_key_pem);
      if (!args->public_key_file.empty()) {
        auto pem = ReadFile(args->public_key_file);
        if (!pem.ok()) return pem.status();
        key_pem = *pem;
      }
      auto report = VerifyAccessLog(parsed->items, key_pem);
      if (!report.ok()) return report.status();
      std::cout << "verified: " << report->records << " records in an unbroken hash chain, "
                << report->checkpoints << " signed checkpoints; ";
      if (report->signed_through > 0) {
        std::cout << "records 1 to " << report->signed_through << " are covered by a signature";
      } else {
        std::cout << "no record is covered by a signature yet (checkpoints are signed "
                     "periodically)";
      }
      std::cout << (args->public_key_file.empty() ? " (checked with the key inside the export)"
                                                  : "")
                << "\n";
      return absl::OkStatus();
    };
  });
}

void AddSubjectCommand(CLI::App& audit, const Settings& settings, Run* run) {
  auto person = std::make_shared<std::string>();
  auto* subject =
      audit.add_subcommand("subject", "Subject access report: every access to one person's data");
  subject->add_option("person_identifier", *person, "The person's udlændingenummer")->required();
  subject->callback([&settings, person, run] {
    *run = [&settings, person](HandoverClient& client) -> absl::Status {
      auto report = client.SubjectAccessReport(*person);
      if (!report.ok()) return report.status();
      Print(settings, *report, RenderSubjectReport(*report));
      return absl::OkStatus();
    };
  });
}

}  // namespace

void AddAuditCommands(CLI::App& app, const Settings& settings, Run* run,
                      std::function<absl::Status()>* run_offline) {
  auto* audit = app.add_subcommand("audit", "The access log (auditor), and offline verification");
  audit->require_subcommand(1);
  audit->fallthrough();
  AddQueryCommand(*audit, settings, run);
  AddExportCommand(*audit, run);
  AddVerifyCommand(*audit, run_offline);
  AddSubjectCommand(*audit, settings, run);
}

}  // namespace handover::client
