// handoverctl: look cases up and script the handover exchange from a terminal.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <thread>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "client/cli_common.h"
#include "client/document_commands.h"
#include "client/exit_codes.h"
#include "client/handover_client.h"
#include "client/sync_agent.h"
#include "client/text_view.h"
#include "common/access_chain.h"
#include "common/dates.h"
#include "common/json.h"

namespace handover::client {
namespace {

absl::StatusOr<v1::Date> ParseDateArg(const std::string& text, const char* option) {
  std::vector<std::string> parts = absl::StrSplit(text, '-');
  int y = 0, m = 0, d = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &y) || !absl::SimpleAtoi(parts[1], &m) ||
      !absl::SimpleAtoi(parts[2], &d) || !IsValidDate(MakeDate(y, m, d))) {
    return absl::InvalidArgumentError(absl::StrCat(option, ": must be a date YYYY-MM-DD"));
  }
  return MakeDate(y, m, d);
}

absl::StatusOr<v1::ConsentPurpose> ParsePurpose(const std::string& text) {
  auto value = ParseEnumArg(*v1::ConsentPurpose_descriptor(), text, "purpose");
  if (!value.ok()) return value.status();
  return static_cast<v1::ConsentPurpose>(*value);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("file: cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// Runs `stop` once on the first SIGINT or SIGTERM, from a watcher thread. The
// signals must have been blocked before any thread started.
void StopOnSignal(std::function<void()> stop) {
  std::thread([signals = StopSignals(), stop = std::move(stop)] {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    stop();
  }).detach();
}

absl::StatusOr<std::unique_ptr<HandoverClient>> ConnectWith(const Settings& settings) {
  ClientOptions options = settings.connection;
  options.timeout = std::chrono::seconds(settings.timeout_seconds);
  return HandoverClient::Connect(options);
}

}  // namespace

int Main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"handoverctl: look up and exchange refugee handover forms"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command
  app.set_config("--config", "", "INI file with any of the options below (key = value)")
      ->envname("HANDOVER_CONFIG");
  app.add_option("--server", settings.connection.server, "handoverd host:port")
      ->envname("HANDOVER_SERVER")
      ->capture_default_str();
  app.add_option("--cert", settings.connection.certificate_file,
                 "Your organisation's certificate (PEM)")
      ->envname("HANDOVER_CERT");
  app.add_option("--key", settings.connection.private_key_file, "Its private key (PEM)")
      ->envname("HANDOVER_KEY");
  app.add_option("--ca", settings.connection.ca_file, "CA of the server certificate (PEM)")
      ->envname("HANDOVER_CA");
  app.add_option("--actor", settings.connection.actor,
                 "Who is acting: your caseworker id or system account")
      ->envname("HANDOVER_ACTOR");
  app.add_option("--purpose", settings.connection.purpose,
                 "Why you access the data, recorded in the access log (a-z 0-9 . _ : -)")
      ->envname("HANDOVER_PURPOSE");
  app.add_option("--output,-o", settings.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--timeout", settings.timeout_seconds, "Seconds per call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  // Each command sets `run`; it is called after parsing.
  std::function<absl::Status(HandoverClient&)> run;

  auto* list = app.add_subcommand("list", "List the cases you may see");
  int page_size = 100;
  list->add_option("--page-size", page_size, "Cases per request")->capture_default_str();
  auto list_cases = [&](const std::string& person) {
    return [&, person](HandoverClient& client) -> absl::Status {
      v1::ListCasesRequest request;
      request.set_page_size(page_size);
      request.set_person_identifier(person);
      v1::ListCasesResponse all;
      do {
        auto page = client.ListCases(request);
        if (!page.ok()) return page.status();
        for (auto& c : *page->mutable_cases()) *all.add_cases() = std::move(c);
        request.set_page_token(page->next_page_token());
      } while (!request.page_token().empty());
      // An empty listing is an answer; a person without a case is a lookup
      // that found nothing (exit 3). The message never names the person.
      if (!person.empty() && all.cases().empty()) {
        return absl::NotFoundError("no case of this person is visible to you");
      }
      Print(settings, all, RenderCaseTable({all.cases().begin(), all.cases().end()}));
      return absl::OkStatus();
    };
  };
  list->callback([&] { run = list_cases(""); });

  auto* find = app.add_subcommand("find", "Find the case of a person by udlændingenummer");
  std::string person;
  find->add_option("person_identifier", person, "The person identifier")->required();
  find->callback([&] { run = list_cases(person); });

  auto* show = app.add_subcommand("show", "Show a case and its form");
  std::string case_arg;
  int64_t version = 0;
  show->add_option("case", case_arg, "cases/<id> or <id>")->required();
  show->add_option("--version", version, "An earlier version instead of the current one");
  show->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      if (version > 0) {
        auto v = client.GetVersion(absl::StrCat(CaseNameArg(case_arg), "/versions/", version));
        if (!v.ok()) return v.status();
        Print(settings, *v, RenderVersion(*v));
        return absl::OkStatus();
      }
      auto c = client.GetCase(CaseNameArg(case_arg));
      if (!c.ok()) return c.status();
      Print(settings, *c, RenderCase(*c));
      return absl::OkStatus();
    };
  });

  auto* history = app.add_subcommand("history", "List a case's versions, newest first");
  history->add_option("case", case_arg, "cases/<id> or <id>")->required();
  history->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      v1::ListVersionsRequest request;
      request.set_parent(CaseNameArg(case_arg));
      v1::ListVersionsResponse all;
      do {
        auto page = client.ListVersions(request);
        if (!page.ok()) return page.status();
        for (auto& v : *page->mutable_versions()) *all.add_versions() = std::move(v);
        request.set_page_token(page->next_page_token());
      } while (!request.page_token().empty());
      Print(settings, all, RenderVersionTable({all.versions().begin(), all.versions().end()}));
      return absl::OkStatus();
    };
  });

  auto* push = app.add_subcommand(
      "push", "Create a case from a form in a JSON file, or update one with --case");
  std::string file, mask, etag, request_id;
  push->add_option("file", file, "HandoverForm as JSON (proto field names)")->required();
  push->add_option("--case", case_arg, "Update this case instead of creating one");
  push->add_option("--mask", mask, "Comma-separated form paths to update (default: all)");
  push->add_option("--etag", etag, "Update only if the case is still at this etag");
  push->add_option("--request-id", request_id, "Idempotency key; reuse it when retrying");
  push->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      auto json = ReadFile(file);
      if (!json.ok()) return json.status();
      v1::HandoverForm form;
      if (absl::Status s = FromJson(*json, &form); !s.ok()) return s;
      const std::string id = request_id.empty() ? HandoverClient::NewRequestId() : request_id;
      absl::StatusOr<v1::Case> result;
      if (case_arg.empty()) {
        result = client.CreateCase(form, id);
      } else {
        v1::UpdateFormRequest request;
        request.set_name(CaseNameArg(case_arg));
        *request.mutable_form() = form;
        for (auto path : absl::StrSplit(mask, ',', absl::SkipEmpty())) {
          request.mutable_update_mask()->add_paths(std::string(path));
        }
        request.set_etag(etag);
        request.set_request_id(id);
        result = client.UpdateForm(request);
      }
      if (!result.ok()) return result.status();
      Print(settings, *result,
            absl::StrCat(case_arg.empty() ? "created " : "updated ", result->name(),
                         " version ", result->version(), " (etag ", result->etag(), ")\n"));
      return absl::OkStatus();
    };
  });

  auto* assign = app.add_subcommand("assign", "Assign a case to a municipality (Immigration Service)");
  std::string municipality, decision_date;
  assign->add_option("case", case_arg, "cases/<id> or <id>")->required();
  assign->add_option("municipality_code", municipality, "Three-digit municipality code")
      ->required();
  assign->add_option("--decision-date", decision_date, "YYYY-MM-DD (default today)");
  assign->add_option("--request-id", request_id, "Idempotency key; reuse it when retrying");
  assign->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      v1::AssignCaseRequest request;
      request.set_name(CaseNameArg(case_arg));
      request.set_municipality_code(municipality);
      request.set_request_id(request_id.empty() ? HandoverClient::NewRequestId() : request_id);
      if (!decision_date.empty()) {
        auto date = ParseDateArg(decision_date, "--decision-date");
        if (!date.ok()) return date.status();
        *request.mutable_decision_date() = *date;
      }
      auto result = client.AssignCase(request);
      if (!result.ok()) return result.status();
      Print(settings, *result,
            absl::StrCat("assigned ", result->name(), " to municipality ",
                         result->assignment().municipality_code(), "; responsible from ",
                         FormatDate(result->assignment().takeover_date()), "\n"));
      return absl::OkStatus();
    };
  });

  auto* consent = app.add_subcommand("consent", "Record or withdraw a consent (operator)");
  consent->require_subcommand(1);
  consent->fallthrough();
  auto* record = consent->add_subcommand("record", "Record a consent the person has given");
  std::string purpose, given, recipient;
  record->add_option("case", case_arg, "cases/<id> or <id>")->required();
  record->add_option("purpose", purpose, "health-needs, medical-record or social-documents")
      ->required();
  record->add_option("--given", given, "Date the person gave it, YYYY-MM-DD")->required();
  record->add_option("--recipient", recipient, "Only for this municipality code");
  record->add_option("--request-id", request_id, "Idempotency key; reuse it when retrying");
  record->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      v1::RecordConsentRequest request;
      request.set_parent(CaseNameArg(case_arg));
      auto p = ParsePurpose(purpose);
      if (!p.ok()) return p.status();
      auto date = ParseDateArg(given, "--given");
      if (!date.ok()) return date.status();
      request.mutable_consent()->set_purpose(*p);
      *request.mutable_consent()->mutable_given_date() = *date;
      request.mutable_consent()->set_recipient_municipality_code(recipient);
      request.set_request_id(request_id.empty() ? HandoverClient::NewRequestId() : request_id);
      auto result = client.RecordConsent(request);
      if (!result.ok()) return result.status();
      Print(settings, *result, absl::StrCat("recorded ", RenderConsent(*result), "\n"));
      return absl::OkStatus();
    };
  });
  auto* withdraw = consent->add_subcommand("withdraw", "Record that a consent was withdrawn");
  std::string consent_name;
  withdraw->add_option("consent", consent_name, "cases/<id>/consents/<id>")->required();
  withdraw->add_option("--request-id", request_id, "Idempotency key; reuse it when retrying");
  withdraw->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      auto result = client.WithdrawConsent(
          consent_name, request_id.empty() ? HandoverClient::NewRequestId() : request_id);
      if (!result.ok()) return result.status();
      Print(settings, *result, absl::StrCat("withdrew ", RenderConsent(*result), "\n"));
      return absl::OkStatus();
    };
  });

  auto* sync = app.add_subcommand(
      "sync", "Mirror your cases into a directory (one JSON file per case) from the change feed");
  std::string into;
  bool follow = false;
  sync->add_option("--into", into, "Directory to keep current (created if missing)")->required();
  sync->add_flag("--follow", follow, "Keep following live changes until interrupted");
  sync->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      SyncAgent agent(&client, into);
      StopOnSignal([&agent] { agent.Stop(); });
      absl::Status status = follow ? agent.Follow() : agent.CatchUp();
      const SyncStats& s = agent.stats();
      std::cerr << "sync: at revision " << agent.cursor() << "; " << s.events << " events, "
                << s.files_written << " files written, " << s.files_deleted << " deleted, "
                << s.snapshots << " snapshots\n";
      return status;
    };
  });

  auto* watch = app.add_subcommand("watch", "Print changes to your cases as they commit");
  int64_t after = 0;
  bool progress = false;
  watch->add_option("--after", after, "Start after this revision (default: all retained)");
  watch->add_flag("--progress", progress, "Also print progress revisions");
  watch->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      v1::WatchRequest request;
      request.set_after_revision(after);
      std::unique_ptr<WatchStream> stream = client.Watch(request);
      StopOnSignal([&stream] { stream->Cancel(); });
      v1::WatchResponse item;
      while (stream->Next(&item)) {
        if (item.has_progress_revision() && !progress) continue;
        if (settings.output == "json") {
          std::cout << ToJsonLine(item) << std::endl;
        } else if (item.has_event()) {
          std::cout << RenderEventLine(item.event()) << std::endl;
        } else {
          std::cout << "progress " << item.progress_revision() << std::endl;
        }
      }
      absl::Status status = stream->Finish();
      return status.code() == absl::StatusCode::kCancelled ? absl::OkStatus() : status;
    };
  });

  auto* erase = app.add_subcommand("erase", "Erase a case's personal data now (operator)");
  std::string reason;
  erase->add_option("case", case_arg, "cases/<id> or <id>")->required();
  erase->add_option("--reason", reason, "Reason code, recorded, e.g. person-request")->required();
  erase->add_option("--request-id", request_id, "Idempotency key; reuse it when retrying");
  erase->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      auto name = client.EraseCase(CaseNameArg(case_arg), reason,
                                   request_id.empty() ? HandoverClient::NewRequestId() : request_id);
      if (!name.ok()) return name.status();
      std::cout << "erased " << *name << "\n";
      return absl::OkStatus();
    };
  });

  AddDocumentCommands(app, settings, &run);

  auto* audit = app.add_subcommand("audit", "The access log (auditor), and offline verification");
  audit->require_subcommand(1);
  audit->fallthrough();
  auto* query = audit->add_subcommand("query", "Access records, oldest first");
  std::string filter_case, filter_organisation, filter_actor;
  query->add_option("--case", filter_case, "Only records naming this case");
  query->add_option("--organisation", filter_organisation, "Only this organisation");
  query->add_option("--actor", filter_actor, "Only this person or system account");
  query->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      v1::QueryAccessLogRequest request;
      if (!filter_case.empty()) request.set_case_name(CaseNameArg(filter_case));
      request.set_organisation(filter_organisation);
      request.set_actor(filter_actor);
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
  auto* export_log = audit->add_subcommand("export", "Write the whole log as JSON lines, for verify");
  std::string export_file;
  export_log->add_option("--out", export_file, "File to write")->required();
  export_log->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      std::ofstream out(export_file);
      if (!out) return absl::InvalidArgumentError("--out: cannot write " + export_file);
      int64_t lines = 0;
      absl::Status status = client.ExportAccessLog([&](const v1::ExportAccessLogResponse& item) {
        out << ToJsonLine(item) << "\n";
        ++lines;
        return out ? absl::OkStatus() : absl::InternalError("--out: write failed");
      });
      if (status.ok()) std::cerr << "exported " << lines << " lines to " << export_file << "\n";
      return status;
    };
  });
  auto* verify = audit->add_subcommand(
      "verify", "Check an export offline: hash chain, order, gaps, signed checkpoints");
  std::string verify_file, public_key_file;
  verify->add_option("file", verify_file, "An export from 'audit export'")->required();
  verify->add_option("--public-key", public_key_file,
                     "The server's checkpoint key (PEM), obtained out of band; default: the "
                     "key inside the export (which proves nothing against a forger)");
  std::function<absl::Status()> run_offline;
  verify->callback([&] {
    run_offline = [&]() -> absl::Status {
      std::ifstream in(verify_file);
      if (!in) return absl::InvalidArgumentError("file: cannot read " + verify_file);
      std::vector<v1::ExportAccessLogResponse> items;
      std::string line, key_pem;
      for (int number = 1; std::getline(in, line); ++number) {
        v1::ExportAccessLogResponse item;
        if (absl::Status s = FromJson(line, &item); !s.ok()) {
          return absl::DataLossError(absl::StrCat("line ", number, ": not an export item"));
        }
        if (item.has_public_key_pem()) key_pem = item.public_key_pem();
        items.push_back(std::move(item));
      }
      if (!public_key_file.empty()) {
        auto pem = ReadFile(public_key_file);
        if (!pem.ok()) return pem.status();
        key_pem = *pem;
      }
      auto report = VerifyAccessLog(items, key_pem);
      if (!report.ok()) return report.status();
      std::cout << "verified: " << report->records << " records in an unbroken hash chain, "
                << report->checkpoints << " signed checkpoints; ";
      if (report->signed_through > 0) {
        std::cout << "records 1 to " << report->signed_through << " are covered by a signature";
      } else {
        std::cout << "no record is covered by a signature yet (checkpoints are signed "
                     "periodically)";
      }
      std::cout << (public_key_file.empty() ? " (checked with the key inside the export)" : "")
                << "\n";
      return absl::OkStatus();
    };
  });
  auto* subject = audit->add_subcommand(
      "subject", "Subject access report: every access to one person's data");
  subject->add_option("person_identifier", person, "The person's udlændingenummer")->required();
  subject->callback([&] {
    run = [&](HandoverClient& client) -> absl::Status {
      auto report = client.SubjectAccessReport(person);
      if (!report.ok()) return report.status();
      Print(settings, *report, RenderSubjectReport(*report));
      return absl::OkStatus();
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (sync->parsed() || watch->parsed()) {
    // Long-running: stop cleanly on SIGINT/SIGTERM (see StopOnSignal).
    const sigset_t signals = StopSignals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  }
  absl::Status status;
  if (run_offline) {
    status = run_offline();
  } else if (auto client = ConnectWith(settings); !client.ok()) {
    status = client.status();
  } else {
    status = run(**client);
  }
  if (!status.ok()) std::cerr << ErrorLine(status) << "\n";
  return ExitCodeFor(status);
}

}  // namespace handover::client

int main(int argc, char** argv) { return handover::client::Main(argc, argv); }
