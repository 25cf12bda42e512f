#include "server/service/handover_service.h"

#include <google/protobuf/util/field_mask_util.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/dates.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "common/resource_names.h"
#include "common/standard_codes.h"
#include "common/validation.h"
#include "server/policy/policy.h"
#include "server/service/audited.h"
#include "server/service/caller.h"
#include "server/service/handler_steps.h"
#include "server/service/page_tokens.h"
#include "server/service/views.h"
#include "server/store/access_sections.h"

namespace handover::service {
namespace {

using policy::Operation;

// Refuses the call once the refusal is recorded.
grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context, store::CaseStore* store,
                                 v1::AccessRecord record, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  FinishAudited(reactor, store, std::move(record), status);
  return reactor;
}

// Which cases ListCases walks for the caller; the policy table decides, the
// store filters. (Which events Sync and Watch see: policy::EventFilterFor.)
store::CaseQuery::Scope QueryScope(const Principal& principal, Operation operation) {
  switch (policy::ScopeOf(operation, principal.role)) {
    case policy::Scope::kOwnCases:
      return store::CaseQuery::Scope::kOperator;
    case policy::Scope::kAssignedToCaller:
      return store::CaseQuery::Scope::kMunicipality;
    default:
      return store::CaseQuery::Scope::kAll;
  }
}

absl::Status ValidateUpdateMask(const google::protobuf::FieldMask& mask) {
  for (int i = 0; i < mask.paths_size(); ++i) {
    if (!google::protobuf::util::FieldMaskUtil::GetFieldDescriptors(v1::HandoverForm::descriptor(),
                                                                    mask.paths(i), nullptr)) {
      return FieldError(absl::StrCat("update_mask.paths[", i, "]"),
                        "not a field path of HandoverForm");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateConsent(const v1::Consent& consent) {
  if (consent.purpose() == v1::CONSENT_PURPOSE_UNSPECIFIED ||
      !v1::ConsentPurpose_IsValid(consent.purpose())) {
    return FieldError("consent.purpose", "required, one of the ConsentPurpose values");
  }
  if (!consent.has_given_date()) return FieldError("consent.given_date", "required");
  if (!IsValidDate(consent.given_date())) {
    return FieldError("consent.given_date", "must be a real calendar date");
  }
  if (CompareDates(consent.given_date(), TodayUtc()) > 0) {
    return FieldError("consent.given_date", "must not be in the future");
  }
  if (!consent.recipient_municipality_code().empty() &&
      !IsMunicipalityCode(consent.recipient_municipality_code())) {
    return FieldError("consent.recipient_municipality_code",
                      "must be a three-digit municipality code");
  }
  return absl::OkStatus();
}

// In a handler: refuse the call (recorded in `audit`) if `expr` fails.
#define RETURN_REFUSED_IF_ERROR(expr)                                  \
  do {                                                                 \
    absl::Status status_ = (expr);                                     \
    if (!status_.ok()) return Refuse(context, store_, audit, status_); \
  } while (0)

}  // namespace

HandoverService::HandoverService(store::CaseStore* store, feed::FeedHub* hub,
                                 ServiceOptions options)
    : store_(store), hub_(hub), options_(std::move(options)) {}

grpc::ServerUnaryReactor* HandoverService::CreateCase(grpc::CallbackServerContext* context,
                                                      const v1::CreateCaseRequest* request,
                                                      v1::CreateCaseResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "CreateCase");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kCreateCase));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  RETURN_REFUSED_IF_ERROR(ValidateRequestId(request->request_id(), "request_id"));
  if (!request->has_form()) return Refuse(context, store_, audit, FieldError("form", "required"));
  RETURN_REFUSED_IF_ERROR(ValidateForm(request->form(), options_.form_limits));
  store::AddFormSections(request->form(), &audit);

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->CreateCase(
      WriteContextOf(*caller, request->request_id(), *request, audit), request->form(),
      Respond<store::CaseSnapshot>(
          reactor, [response, principal = caller->principal](store::CaseSnapshot& snapshot) {
            *response->mutable_case_() = CaseView(principal, snapshot);
          }));
  return reactor;
}

grpc::ServerUnaryReactor* HandoverService::GetCase(grpc::CallbackServerContext* context,
                                                   const v1::GetCaseRequest* request,
                                                   v1::GetCaseResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "GetCase");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kGetCase));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  auto case_id = ParseCaseName(request->name(), "name");
  RETURN_REFUSED_IF_ERROR(case_id.status());
  if (!v1::CaseView_IsValid(request->view())) {
    return Refuse(context, store_, audit, FieldError("view", "unknown CaseView value"));
  }
  const bool with_form = request->view() != v1::CASE_VIEW_BASIC;

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->GetCase(*case_id, 0, with_form,
                  AuthorizerFor(caller->principal, Operation::kGetCase, request->name()),
                  RespondAudited<store::CaseSnapshot>(
                      reactor, read_log(), AboutCase(audit, request->name()),
                      [response, principal = caller->principal](store::CaseSnapshot& snapshot,
                                                                v1::AccessRecord* record) {
                        *response->mutable_case_() = CaseView(principal, snapshot);
                        record->set_version(response->case_().version());
                        AddSections(response->case_(), record);
                      }));
  return reactor;
}

grpc::ServerUnaryReactor* HandoverService::ListCases(grpc::CallbackServerContext* context,
                                                     const v1::ListCasesRequest* request,
                                                     v1::ListCasesResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "ListCases");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kListCases));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  auto page_size =
      EffectivePageSize(request->page_size(), options_.default_page_size, options_.max_page_size);
  RETURN_REFUSED_IF_ERROR(page_size.status());
  auto after = DecodeCaseToken(request->page_token());
  RETURN_REFUSED_IF_ERROR(after.status());
  if (!v1::CaseView_IsValid(request->view())) {
    return Refuse(context, store_, audit, FieldError("view", "unknown CaseView value"));
  }

  store::CaseQuery query;
  query.scope = QueryScope(caller->principal, Operation::kListCases);
  query.organisation_id = caller->principal.organisation_id;
  if (!request->person_identifier().empty()) {
    RETURN_REFUSED_IF_ERROR(
        ValidatePersonIdentifier(request->person_identifier(), "person_identifier"));
    query.person_identifier = request->person_identifier();
  }
  query.after_case_id = *after;
  query.page_size = *page_size;
  query.with_form = request->view() == v1::CASE_VIEW_FULL;

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->ListCases(std::move(query),
                    RespondAudited<store::CasePage>(
                        reactor, read_log(), audit,
                        [response, principal = caller->principal, epoch = store_->feed_epoch()](
                            store::CasePage& page, v1::AccessRecord* record) {
                          DisclosedCases disclosed(record);
                          for (auto& snapshot : page.cases) {
                            *response->add_cases() = CaseView(principal, snapshot);
                            disclosed.Add(response->cases(response->cases_size() - 1));
                          }
                          if (!page.last_case_id.empty()) {
                            response->set_next_page_token(EncodeCaseToken(page.last_case_id));
                          }
                          response->set_revision(page.revision);
                          response->set_feed_epoch(epoch);
                        }));
  return reactor;
}

grpc::ServerUnaryReactor* HandoverService::UpdateForm(grpc::CallbackServerContext* context,
                                                      const v1::UpdateFormRequest* request,
                                                      v1::UpdateFormResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "UpdateForm");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kUpdateForm));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  auto case_id = ParseCaseName(request->name(), "name");
  RETURN_REFUSED_IF_ERROR(case_id.status());
  RETURN_REFUSED_IF_ERROR(ValidateRequestId(request->request_id(), "request_id"));
  if (!request->has_form()) return Refuse(context, store_, audit, FieldError("form", "required"));
  RETURN_REFUSED_IF_ERROR(ValidateUpdateMask(request->update_mask()));
  audit = AboutCase(audit, request->name());
  if (request->update_mask().paths().empty()) {
    store::AddFormSections(request->form(), &audit);
  } else {
    for (const std::string& path : request->update_mask().paths()) {
      store::AddFieldPathSection(path, &audit);
    }
  }

  store::UpdateFormCommand command;
  command.case_id = *case_id;
  command.form = request->form();
  command.update_mask = request->update_mask();
  command.etag = request->etag();
  command.validate = [limits = options_.form_limits](const v1::HandoverForm& form) {
    return ValidateForm(form, limits);
  };
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->UpdateForm(
      WriteContextOf(*caller, request->request_id(), *request, audit), std::move(command),
      AuthorizerFor(caller->principal, Operation::kUpdateForm, request->name()),
      Respond<store::CaseSnapshot>(
          reactor, [response, principal = caller->principal](store::CaseSnapshot& snapshot) {
            *response->mutable_case_() = CaseView(principal, snapshot);
          }));
  return reactor;
}

grpc::ServerUnaryReactor* HandoverService::ListVersions(grpc::CallbackServerContext* context,
                                                        const v1::ListVersionsRequest* request,
                                                        v1::ListVersionsResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "ListVersions");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kListVersions));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  auto case_id = ParseCaseName(request->parent(), "parent");
  RETURN_REFUSED_IF_ERROR(case_id.status());
  auto page_size =
      EffectivePageSize(request->page_size(), options_.default_page_size, options_.max_page_size);
  RETURN_REFUSED_IF_ERROR(page_size.status());
  auto before = DecodeVersionToken(request->page_token());
  RETURN_REFUSED_IF_ERROR(before.status());

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->ListVersions(
      *case_id, *before, *page_size,
      AuthorizerFor(caller->principal, Operation::kListVersions, request->parent()),
      RespondAudited<store::VersionPage>(
          reactor, read_log(), AboutCase(audit, request->parent(), "versions"),
          [response](store::VersionPage& page, v1::AccessRecord*) {
            for (auto& version : page.versions) *response->add_versions() = std::move(version);
            if (page.next_before_version > 0) {
              response->set_next_page_token(EncodeVersionToken(page.next_before_version));
            }
          }));
  return reactor;
}

grpc::ServerUnaryReactor* HandoverService::GetVersion(grpc::CallbackServerContext* context,
                                                      const v1::GetVersionRequest* request,
                                                      v1::GetVersionResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "GetVersion");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kGetVersion));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  auto ref = ParseVersionName(request->name(), "name");
  RETURN_REFUSED_IF_ERROR(ref.status());

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->GetCase(ref->case_id, ref->version, true,
                  AuthorizerFor(caller->principal, Operation::kGetVersion, CaseName(ref->case_id)),
                  RespondAudited<store::CaseSnapshot>(
                      reactor, read_log(), AboutCase(audit, CaseName(ref->case_id)),
                      [response, principal = caller->principal](store::CaseSnapshot& snapshot,
                                                                v1::AccessRecord* record) {
                        v1::Case view = CaseView(principal, snapshot);
                        record->set_version(view.version());
                        AddSections(view, record);
                        v1::CaseVersion* version = response->mutable_version();
                        *version = std::move(snapshot.version);
                        *version->mutable_form() = std::move(*view.mutable_form());
                        *version->mutable_withheld_fields() =
                            std::move(*view.mutable_withheld_fields());
                      }));
  return reactor;
}

grpc::ServerUnaryReactor* HandoverService::AssignCase(grpc::CallbackServerContext* context,
                                                      const v1::AssignCaseRequest* request,
                                                      v1::AssignCaseResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "AssignCase");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kAssignCase));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  auto case_id = ParseCaseName(request->name(), "name");
  RETURN_REFUSED_IF_ERROR(case_id.status());
  RETURN_REFUSED_IF_ERROR(ValidateRequestId(request->request_id(), "request_id"));
  if (!IsMunicipalityCode(request->municipality_code())) {
    return Refuse(context, store_, audit,
                  FieldError("municipality_code", "required, a three-digit municipality code"));
  }
  audit = AboutCase(audit, request->name(), "assignment");
  store::AssignCommand command{*case_id, request->municipality_code(), TodayUtc()};
  if (request->has_decision_date()) {
    if (!IsValidDate(request->decision_date())) {
      return Refuse(context, store_, audit,
                    FieldError("decision_date", "must be a real calendar date"));
    }
    command.decision_date = request->decision_date();
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->AssignCase(
      WriteContextOf(*caller, request->request_id(), *request, audit), std::move(command),
      AuthorizerFor(caller->principal, Operation::kAssignCase, request->name()),
      Respond<store::CaseSnapshot>(
          reactor, [response, principal = caller->principal](store::CaseSnapshot& snapshot) {
            *response->mutable_case_() = CaseView(principal, snapshot);
          }));
  return reactor;
}

grpc::ServerUnaryReactor* HandoverService::RecordConsent(grpc::CallbackServerContext* context,
                                                         const v1::RecordConsentRequest* request,
                                                         v1::RecordConsentResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "RecordConsent");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kRecordConsent));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  auto case_id = ParseCaseName(request->parent(), "parent");
  RETURN_REFUSED_IF_ERROR(case_id.status());
  RETURN_REFUSED_IF_ERROR(ValidateRequestId(request->request_id(), "request_id"));
  if (!request->has_consent())
    return Refuse(context, store_, audit, FieldError("consent", "required"));
  RETURN_REFUSED_IF_ERROR(ValidateConsent(request->consent()));
  audit = AboutCase(audit, request->parent(), "consents");

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->RecordConsent(
      WriteContextOf(*caller, request->request_id(), *request, audit), *case_id, request->consent(),
      AuthorizerFor(caller->principal, Operation::kRecordConsent, request->parent()),
      Respond<v1::Consent>(reactor, [response](v1::Consent& consent) {
        *response->mutable_consent() = std::move(consent);
      }));
  return reactor;
}

grpc::ServerUnaryReactor* HandoverService::WithdrawConsent(
    grpc::CallbackServerContext* context, const v1::WithdrawConsentRequest* request,
    v1::WithdrawConsentResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "WithdrawConsent");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kWithdrawConsent));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  auto ref = ParseConsentName(request->name(), "name");
  RETURN_REFUSED_IF_ERROR(ref.status());
  RETURN_REFUSED_IF_ERROR(ValidateRequestId(request->request_id(), "request_id"));
  audit = AboutCase(audit, CaseName(ref->case_id), "consents");

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->WithdrawConsent(
      WriteContextOf(*caller, request->request_id(), *request, audit), ref->case_id,
      ref->consent_id,
      AuthorizerFor(caller->principal, Operation::kWithdrawConsent, CaseName(ref->case_id)),
      Respond<v1::Consent>(reactor, [response](v1::Consent& consent) {
        *response->mutable_consent() = std::move(consent);
      }));
  return reactor;
}

grpc::ServerUnaryReactor* HandoverService::Sync(grpc::CallbackServerContext* context,
                                                const v1::SyncRequest* request,
                                                v1::SyncResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "Sync");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kReadFeed));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  if (request->after_revision() < 0) {
    return Refuse(context, store_, audit, FieldError("after_revision", "must not be negative"));
  }
  auto page_size = EffectivePageSize(request->page_size(), options_.default_sync_page_size,
                                     options_.max_page_size);
  RETURN_REFUSED_IF_ERROR(page_size.status());

  store::FeedQuery query;
  query.filter = policy::EventFilterFor(caller->principal);
  query.after_revision = request->after_revision();
  query.page_size = *page_size;
  query.include_cases = request->include_cases();
  query.authorize = AuthorizerFor(caller->principal, Operation::kGetCase, "case");

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->ReadFeed(std::move(query),
                   RespondAudited<store::FeedPage>(
                       reactor, read_log(), audit,
                       [response, principal = caller->principal, epoch = store_->feed_epoch()](
                           store::FeedPage& page, v1::AccessRecord* record) {
                         DisclosedCases disclosed(record);
                         for (auto& event : page.events) {
                           *response->add_events() = EventView(principal, event);
                           const v1::ChangeEvent& view =
                               response->events(response->events_size() - 1);
                           if (view.has_case_()) disclosed.Add(view.case_());
                         }
                         if (record->sections().empty() && !page.events.empty()) {
                           record->add_sections("events");
                         }
                         response->set_next_after_revision(page.scanned_through);
                         response->set_caught_up(page.caught_up);
                         response->set_feed_epoch(epoch);
                       }));
  return reactor;
}

grpc::ServerWriteReactor<v1::WatchResponse>* HandoverService::Watch(
    grpc::CallbackServerContext* context, const v1::WatchRequest* request) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "Watch");
  if (!caller.ok()) return new RefusedStream<v1::WatchResponse>(store_, audit, caller.status());
  if (absl::Status role = policy::CheckRole(caller->principal, Operation::kReadFeed); !role.ok()) {
    return new RefusedStream<v1::WatchResponse>(store_, audit, role);
  }
  if (absl::Status unknown = CheckRequest(*request, options_.max_request_bytes); !unknown.ok()) {
    return new RefusedStream<v1::WatchResponse>(store_, audit, unknown);
  }
  if (request->after_revision() < 0) {
    return new RefusedStream<v1::WatchResponse>(
        store_, audit, FieldError("after_revision", "must not be negative"));
  }
  store::FeedQuery query;
  query.filter = policy::EventFilterFor(caller->principal);
  query.after_revision = request->after_revision();
  query.include_cases = request->include_cases();
  query.authorize = AuthorizerFor(caller->principal, Operation::kGetCase, "case");
  return Watcher::Start(context, store_, hub_, *std::move(caller), std::move(query), options_.watch,
                        std::move(audit));
}

grpc::ServerUnaryReactor* HandoverService::EraseCase(grpc::CallbackServerContext* context,
                                                     const v1::EraseCaseRequest* request,
                                                     v1::EraseCaseResponse* response) {
  auto caller = IdentifyCaller(*context, options_.trust_domain);
  v1::AccessRecord audit = AccessSkeleton(*context, caller, "EraseCase");
  RETURN_REFUSED_IF_ERROR(caller.status());
  RETURN_REFUSED_IF_ERROR(policy::CheckRole(caller->principal, Operation::kEraseCase));
  RETURN_REFUSED_IF_ERROR(CheckRequest(*request, options_.max_request_bytes));
  auto case_id = ParseCaseName(request->name(), "name");
  RETURN_REFUSED_IF_ERROR(case_id.status());
  RETURN_REFUSED_IF_ERROR(ValidateRequestId(request->request_id(), "request_id"));
  const std::string& reason = request->reason();
  if (reason.empty() || reason.size() > 64 ||
      reason.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._:-") != std::string::npos) {
    return Refuse(context, store_, audit,
                  FieldError("reason", "required, 1 to 64 of a-z 0-9 . _ : - (a reason code)"));
  }
  audit = AboutCase(audit, request->name(), "erasure");
  audit.set_purpose(reason);

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->EraseCase(
      WriteContextOf(*caller, request->request_id(), *request, audit), *case_id,
      AuthorizerFor(caller->principal, Operation::kEraseCase, request->name()),
      Respond<std::string>(reactor, [response](std::string& name) { response->set_name(name); }));
  return reactor;
}

}  // namespace handover::service
