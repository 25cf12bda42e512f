#include "client/case_commands.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/input_files.h"
#include "client/text_view.h"
#include "common/dates.h"

namespace handover::client {
namespace {

using Run = std::function<absl::Status(HandoverClient&)>;

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

// `request_id`, or a new one if it is empty.
std::string RequestIdOrNew(const std::string& request_id) {
  return request_id.empty() ? HandoverClient::NewRequestId() : request_id;
}

// Every case visible to the caller (of `person`, if not empty), page by page.
absl::Status ListCases(HandoverClient& client, const Settings& settings, int page_size,
                       const std::string& person) {
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
}

// list, find.
void AddListCommands(CLI::App& app, const Settings& settings, Run* run) {
  struct Args {
    int page_size = 100;
    std::string person;
  };
  auto args = std::make_shared<Args>();
  auto* list = app.add_subcommand("list", "List the cases you may see");
  list->add_option("--page-size", args->page_size, "Cases per request")->capture_default_str();
  list->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) {
      return ListCases(client, settings, args->page_size, "");
    };
  });

  auto* find = app.add_subcommand("find", "Find the case of a person by udlændingenummer");
  find->add_option("person_identifier", args->person, "The person identifier")->required();
  find->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) {
      return ListCases(client, settings, args->page_size, args->person);
    };
  });
}

void AddShowCommand(CLI::App& app, const Settings& settings, Run* run) {
  struct Args {
    std::string case_arg;
    int64_t version = 0;
  };
  auto args = std::make_shared<Args>();
  auto* show = app.add_subcommand("show", "Show a case and its form");
  show->add_option("case", args->case_arg, "cases/<id> or <id>")->required();
  show->add_option("--version", args->version, "An earlier version instead of the current one");
  show->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) -> absl::Status {
      if (args->version > 0) {
        auto v = client.GetVersion(
            absl::StrCat(CaseNameArg(args->case_arg), "/versions/", args->version));
        if (!v.ok()) return v.status();
        Print(settings, *v, RenderVersion(*v));
        return absl::OkStatus();
      }
      auto c = client.GetCase(CaseNameArg(args->case_arg));
      if (!c.ok()) return c.status();
      Print(settings, *c, RenderCase(*c));
      return absl::OkStatus();
    };
  });
}

void AddHistoryCommand(CLI::App& app, const Settings& settings, Run* run) {
  auto case_arg = std::make_shared<std::string>();
  auto* history = app.add_subcommand("history", "List a case's versions, newest first");
  history->add_option("case", *case_arg, "cases/<id> or <id>")->required();
  history->callback([&settings, case_arg, run] {
    *run = [&settings, case_arg](HandoverClient& client) -> absl::Status {
      v1::ListVersionsRequest request;
      request.set_parent(CaseNameArg(*case_arg));
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
}

void AddPushCommand(CLI::App& app, const Settings& settings, Run* run) {
  struct Args {
    std::string file, case_arg, mask, etag, request_id;
  };
  auto args = std::make_shared<Args>();
  auto* push = app.add_subcommand(
      "push", "Create a case from a form in a JSON file, or update one with --case");
  push->add_option("file", args->file, "HandoverForm as JSON (proto field names)")->required();
  push->add_option("--case", args->case_arg, "Update this case instead of creating one");
  push->add_option("--mask", args->mask, "Comma-separated form paths to update (default: all)");
  push->add_option("--etag", args->etag, "Update only if the case is still at this etag");
  push->add_option("--request-id", args->request_id, "Idempotency key; reuse it when retrying");
  push->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) -> absl::Status {
      auto json = ReadFile(args->file);
      if (!json.ok()) return json.status();
      auto form = ParseFormFile(*json);
      if (!form.ok()) return form.status();
      const std::string id = RequestIdOrNew(args->request_id);
      absl::StatusOr<v1::Case> result;
      if (args->case_arg.empty()) {
        result = client.CreateCase(*form, id);
      } else {
        v1::UpdateFormRequest request;
        request.set_name(CaseNameArg(args->case_arg));
        *request.mutable_form() = *form;
        for (auto path : absl::StrSplit(args->mask, ',', absl::SkipEmpty())) {
          request.mutable_update_mask()->add_paths(std::string(path));
        }
        request.set_etag(args->etag);
        request.set_request_id(id);
        result = client.UpdateForm(request);
      }
      if (!result.ok()) return result.status();
      Print(settings, *result,
            absl::StrCat(args->case_arg.empty() ? "created " : "updated ", result->name(),
                         " version ", result->version(), " (etag ", result->etag(), ")\n"));
      return absl::OkStatus();
    };
  });
}

void AddAssignCommand(CLI::App& app, const Settings& settings, Run* run) {
  struct Args {
    std::string case_arg, municipality, decision_date, request_id;
  };
  auto args = std::make_shared<Args>();
  auto* assign =
      app.add_subcommand("assign", "Assign a case to a municipality (Immigration Service)");
  assign->add_option("case", args->case_arg, "cases/<id> or <id>")->required();
  assign->add_option("municipality_code", args->municipality, "Three-digit municipality code")
      ->required();
  assign->add_option("--decision-date", args->decision_date, "YYYY-MM-DD (default today)");
  assign->add_option("--request-id", args->request_id, "Idempotency key; reuse it when retrying");
  assign->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) -> absl::Status {
      v1::AssignCaseRequest request;
      request.set_name(CaseNameArg(args->case_arg));
      request.set_municipality_code(args->municipality);
      request.set_request_id(RequestIdOrNew(args->request_id));
      if (!args->decision_date.empty()) {
        auto date = ParseDateArg(args->decision_date, "--decision-date");
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
}

// consent record, consent withdraw.
void AddConsentCommands(CLI::App& app, const Settings& settings, Run* run) {
  struct Args {
    std::string case_arg, purpose, given, recipient, consent_name, request_id;
  };
  auto args = std::make_shared<Args>();
  auto* consent = app.add_subcommand("consent", "Record or withdraw a consent (operator)");
  consent->require_subcommand(1);
  consent->fallthrough();

  auto* record = consent->add_subcommand("record", "Record a consent the person has given");
  record->add_option("case", args->case_arg, "cases/<id> or <id>")->required();
  record->add_option("purpose", args->purpose, "health-needs, medical-record or social-documents")
      ->required();
  record->add_option("--given", args->given, "Date the person gave it, YYYY-MM-DD")->required();
  record->add_option("--recipient", args->recipient, "Only for this municipality code");
  record->add_option("--request-id", args->request_id, "Idempotency key; reuse it when retrying");
  record->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) -> absl::Status {
      v1::RecordConsentRequest request;
      request.set_parent(CaseNameArg(args->case_arg));
      auto p = ParsePurpose(args->purpose);
      if (!p.ok()) return p.status();
      auto date = ParseDateArg(args->given, "--given");
      if (!date.ok()) return date.status();
      request.mutable_consent()->set_purpose(*p);
      *request.mutable_consent()->mutable_given_date() = *date;
      request.mutable_consent()->set_recipient_municipality_code(args->recipient);
      request.set_request_id(RequestIdOrNew(args->request_id));
      auto result = client.RecordConsent(request);
      if (!result.ok()) return result.status();
      Print(settings, *result, absl::StrCat("recorded ", RenderConsent(*result), "\n"));
      return absl::OkStatus();
    };
  });

  auto* withdraw = consent->add_subcommand("withdraw", "Record that a consent was withdrawn");
  withdraw->add_option("consent", args->consent_name, "cases/<id>/consents/<id>")->required();
  withdraw->add_option("--request-id", args->request_id, "Idempotency key; reuse it when retrying");
  withdraw->callback([&settings, args, run] {
    *run = [&settings, args](HandoverClient& client) -> absl::Status {
      auto result = client.WithdrawConsent(args->consent_name, RequestIdOrNew(args->request_id));
      if (!result.ok()) return result.status();
      Print(settings, *result, absl::StrCat("withdrew ", RenderConsent(*result), "\n"));
      return absl::OkStatus();
    };
  });
}

}  // namespace

void AddCaseCommands(CLI::App& app, const Settings& settings, Run* run) {
  AddListCommands(app, settings, run);
  AddShowCommand(app, settings, run);
  AddHistoryCommand(app, settings, run);
  AddPushCommand(app, settings, run);
  AddAssignCommand(app, settings, run);
  AddConsentCommands(app, settings, run);
}

void AddEraseCommand(CLI::App& app, Run* run) {
  struct Args {
    std::string case_arg, reason, request_id;
  };
  auto args = std::make_shared<Args>();
  auto* erase = app.add_subcommand("erase", "Erase a case's personal data now (operator)");
  erase->add_option("case", args->case_arg, "cases/<id> or <id>")->required();
  erase->add_option("--reason", args->reason, "Reason code, recorded, e.g. person-request")
      ->required();
  erase->add_option("--request-id", args->request_id, "Idempotency key; reuse it when retrying");
  erase->callback([args, run] {
    *run = [args](HandoverClient& client) -> absl::Status {
      auto name = client.EraseCase(CaseNameArg(args->case_arg), args->reason,
                                   RequestIdOrNew(args->request_id));
      if (!name.ok()) return name.status();
      std::cout << "erased " << *name << "\n";
      return absl::OkStatus();
    };
  });
}

}  // namespace handover::client
