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
#include "server/service/caller.h"
#include "server/service/page_tokens.h"
#include "server/service/views.h"
#include "server/store/access_sections.h"

namespace handover::service {
namespace {

using policy::Operation;

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

}  // namespace

HandoverService::HandoverService(store::CaseStore* store, feed::FeedHub* hub,
                                 ServiceOptions options)
    : store_(store), hub_(hub), options_(std::move(options)), pipeline_(store, options_) {}

grpc::ServerUnaryReactor* HandoverService::CreateCase(grpc::CallbackServerContext* context,
                                                      const v1::CreateCaseRequest* request,
                                                      v1::CreateCaseResponse* response) {
  UnaryCall call(context, pipeline_, kCreateCase);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  if (call.Refused(ValidateRequestId(request->request_id(), "request_id"))) return call.reactor();
  if (!request->has_form()) return call.Refuse(FieldError("form", "required"));
  if (call.Refused(ValidateForm(request->form(), options_.form_limits))) return call.reactor();
  store::AddFormSections(request->form(), &call.record());

  store_->CreateCase(call.Write(request->request_id(), *request), request->form(),
                     call.Written<store::CaseSnapshot>(
                         [response, principal = call.principal()](store::CaseSnapshot& snapshot) {
                           *response->mutable_case_() = CaseView(principal, snapshot);
                         }));
  return call.reactor();
}

grpc::ServerUnaryReactor* HandoverService::GetCase(grpc::CallbackServerContext* context,
                                                   const v1::GetCaseRequest* request,
                                                   v1::GetCaseResponse* response) {
  UnaryCall call(context, pipeline_, kGetCase);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  auto case_id = ParseCaseName(request->name(), "name");
  if (call.Refused(case_id.status())) return call.reactor();
  if (!v1::CaseView_IsValid(request->view())) {
    return call.Refuse(FieldError("view", "unknown CaseView value"));
  }
  const bool with_form = request->view() != v1::CASE_VIEW_BASIC;
  call.NameCase(request->name());

  store_->GetCase(
      *case_id, 0, with_form, call.CaseAuthorizer(request->name()),
      call.Read<store::CaseSnapshot>([response, principal = call.principal()](
                                         store::CaseSnapshot& snapshot, v1::AccessRecord* record) {
        *response->mutable_case_() = CaseView(principal, snapshot);
        record->set_version(response->case_().version());
        DisclosedCases(record).Add(response->case_());
      }));
  return call.reactor();
}

grpc::ServerUnaryReactor* HandoverService::ListCases(grpc::CallbackServerContext* context,
                                                     const v1::ListCasesRequest* request,
                                                     v1::ListCasesResponse* response) {
  UnaryCall call(context, pipeline_, kListCases);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  auto page_size =
      EffectivePageSize(request->page_size(), options_.default_page_size, options_.max_page_size);
  if (call.Refused(page_size.status())) return call.reactor();
  auto after = DecodeCaseToken(request->page_token());
  if (call.Refused(after.status())) return call.reactor();
  if (!v1::CaseView_IsValid(request->view())) {
    return call.Refuse(FieldError("view", "unknown CaseView value"));
  }

  store::CaseQuery query;
  query.scope = QueryScope(call.principal(), call.operation().access);
  query.organisation_id = call.principal().organisation_id;
  if (!request->person_identifier().empty()) {
    if (call.Refused(ValidatePersonIdentifier(request->person_identifier(), "person_identifier")))
      return call.reactor();
    query.person_identifier = request->person_identifier();
  }
  query.after_case_id = *after;
  query.page_size = *page_size;
  query.with_form = request->view() == v1::CASE_VIEW_FULL;

  store_->ListCases(std::move(query),
                    call.Read<store::CasePage>(
                        [response, principal = call.principal(), epoch = store_->feed_epoch()](
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
  return call.reactor();
}

grpc::ServerUnaryReactor* HandoverService::UpdateForm(grpc::CallbackServerContext* context,
                                                      const v1::UpdateFormRequest* request,
                                                      v1::UpdateFormResponse* response) {
  UnaryCall call(context, pipeline_, kUpdateForm);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  auto case_id = ParseCaseName(request->name(), "name");
  if (call.Refused(case_id.status())) return call.reactor();
  if (call.Refused(ValidateRequestId(request->request_id(), "request_id"))) return call.reactor();
  if (!request->has_form()) return call.Refuse(FieldError("form", "required"));
  if (call.Refused(ValidateUpdateMask(request->update_mask()))) return call.reactor();
  call.NameCase(request->name());
  if (request->update_mask().paths().empty()) {
    store::AddFormSections(request->form(), &call.record());
  } else {
    for (const std::string& path : request->update_mask().paths()) {
      store::AddFieldPathSection(path, &call.record());
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
  store_->UpdateForm(call.Write(request->request_id(), *request), std::move(command),
                     call.CaseAuthorizer(request->name()),
                     call.Written<store::CaseSnapshot>(
                         [response, principal = call.principal()](store::CaseSnapshot& snapshot) {
                           *response->mutable_case_() = CaseView(principal, snapshot);
                         }));
  return call.reactor();
}

grpc::ServerUnaryReactor* HandoverService::ListVersions(grpc::CallbackServerContext* context,
                                                        const v1::ListVersionsRequest* request,
                                                        v1::ListVersionsResponse* response) {
  UnaryCall call(context, pipeline_, kListVersions);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  auto case_id = ParseCaseName(request->parent(), "parent");
  if (call.Refused(case_id.status())) return call.reactor();
  auto page_size =
      EffectivePageSize(request->page_size(), options_.default_page_size, options_.max_page_size);
  if (call.Refused(page_size.status())) return call.reactor();
  auto before = DecodeVersionToken(request->page_token());
  if (call.Refused(before.status())) return call.reactor();
  call.NameCase(request->parent());

  store_->ListVersions(
      *case_id, *before, *page_size, call.CaseAuthorizer(request->parent()),
      call.Read<store::VersionPage>([response](store::VersionPage& page, v1::AccessRecord*) {
        for (auto& version : page.versions) *response->add_versions() = std::move(version);
        if (page.next_before_version > 0) {
          response->set_next_page_token(EncodeVersionToken(page.next_before_version));
        }
      }));
  return call.reactor();
}

grpc::ServerUnaryReactor* HandoverService::GetVersion(grpc::CallbackServerContext* context,
                                                      const v1::GetVersionRequest* request,
                                                      v1::GetVersionResponse* response) {
  UnaryCall call(context, pipeline_, kGetVersion);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  auto ref = ParseVersionName(request->name(), "name");
  if (call.Refused(ref.status())) return call.reactor();
  call.NameCase(CaseName(ref->case_id));

  store_->GetCase(
      ref->case_id, ref->version, true, call.CaseAuthorizer(CaseName(ref->case_id)),
      call.Read<store::CaseSnapshot>([response, principal = call.principal()](
                                         store::CaseSnapshot& snapshot, v1::AccessRecord* record) {
        v1::Case view = CaseView(principal, snapshot);
        record->set_version(view.version());
        DisclosedCases(record).Add(view);
        v1::CaseVersion* version = response->mutable_version();
        *version = std::move(snapshot.version);
        *version->mutable_form() = std::move(*view.mutable_form());
        *version->mutable_withheld_fields() = std::move(*view.mutable_withheld_fields());
      }));
  return call.reactor();
}

grpc::ServerUnaryReactor* HandoverService::AssignCase(grpc::CallbackServerContext* context,
                                                      const v1::AssignCaseRequest* request,
                                                      v1::AssignCaseResponse* response) {
  UnaryCall call(context, pipeline_, kAssignCase);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  auto case_id = ParseCaseName(request->name(), "name");
  if (call.Refused(case_id.status())) return call.reactor();
  if (call.Refused(ValidateRequestId(request->request_id(), "request_id"))) return call.reactor();
  if (!IsMunicipalityCode(request->municipality_code())) {
    return call.Refuse(
        FieldError("municipality_code", "required, a three-digit municipality code"));
  }
  call.NameCase(request->name());
  store::AssignCommand command{*case_id, request->municipality_code(), TodayUtc()};
  if (request->has_decision_date()) {
    if (!IsValidDate(request->decision_date())) {
      return call.Refuse(FieldError("decision_date", "must be a real calendar date"));
    }
    command.decision_date = request->decision_date();
  }
  store_->AssignCase(call.Write(request->request_id(), *request), std::move(command),
                     call.CaseAuthorizer(request->name()),
                     call.Written<store::CaseSnapshot>(
                         [response, principal = call.principal()](store::CaseSnapshot& snapshot) {
                           *response->mutable_case_() = CaseView(principal, snapshot);
                         }));
  return call.reactor();
}

grpc::ServerUnaryReactor* HandoverService::RecordConsent(grpc::CallbackServerContext* context,
                                                         const v1::RecordConsentRequest* request,
                                                         v1::RecordConsentResponse* response) {
  UnaryCall call(context, pipeline_, kRecordConsent);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  auto case_id = ParseCaseName(request->parent(), "parent");
  if (call.Refused(case_id.status())) return call.reactor();
  if (call.Refused(ValidateRequestId(request->request_id(), "request_id"))) return call.reactor();
  if (!request->has_consent()) return call.Refuse(FieldError("consent", "required"));
  if (call.Refused(ValidateConsent(request->consent()))) return call.reactor();
  call.NameCase(request->parent());

  store_->RecordConsent(call.Write(request->request_id(), *request), *case_id, request->consent(),
                        call.CaseAuthorizer(request->parent()),
                        call.Written<v1::Consent>([response](v1::Consent& consent) {
                          *response->mutable_consent() = std::move(consent);
                        }));
  return call.reactor();
}

grpc::ServerUnaryReactor* HandoverService::WithdrawConsent(
    grpc::CallbackServerContext* context, const v1::WithdrawConsentRequest* request,
    v1::WithdrawConsentResponse* response) {
  UnaryCall call(context, pipeline_, kWithdrawConsent);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  auto ref = ParseConsentName(request->name(), "name");
  if (call.Refused(ref.status())) return call.reactor();
  if (call.Refused(ValidateRequestId(request->request_id(), "request_id"))) return call.reactor();
  call.NameCase(CaseName(ref->case_id));

  store_->WithdrawConsent(call.Write(request->request_id(), *request), ref->case_id,
                          ref->consent_id, call.CaseAuthorizer(CaseName(ref->case_id)),
                          call.Written<v1::Consent>([response](v1::Consent& consent) {
                            *response->mutable_consent() = std::move(consent);
                          }));
  return call.reactor();
}

grpc::ServerUnaryReactor* HandoverService::Sync(grpc::CallbackServerContext* context,
                                                const v1::SyncRequest* request,
                                                v1::SyncResponse* response) {
  UnaryCall call(context, pipeline_, kSync);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  if (request->after_revision() < 0) {
    return call.Refuse(FieldError("after_revision", "must not be negative"));
  }
  auto page_size = EffectivePageSize(request->page_size(), options_.default_sync_page_size,
                                     options_.max_page_size);
  if (call.Refused(page_size.status())) return call.reactor();

  store::FeedQuery query;
  query.filter = policy::EventFilterFor(call.principal());
  query.after_revision = request->after_revision();
  query.page_size = *page_size;
  query.include_cases = request->include_cases();
  query.authorize = call.CaseAuthorizer("case");

  store_->ReadFeed(std::move(query),
                   call.Read<store::FeedPage>([response, principal = call.principal(),
                                               epoch = store_->feed_epoch()](
                                                  store::FeedPage& page, v1::AccessRecord* record) {
                     DisclosedCases disclosed(record);
                     for (auto& event : page.events) {
                       *response->add_events() = EventView(principal, event);
                       const v1::ChangeEvent& view = response->events(response->events_size() - 1);
                       if (view.has_case_()) disclosed.Add(view.case_());
                     }
                     if (record->sections().empty() && !page.events.empty()) {
                       record->add_sections("events");
                     }
                     response->set_next_after_revision(page.scanned_through);
                     response->set_caught_up(page.caught_up);
                     response->set_feed_epoch(epoch);
                   }));
  return call.reactor();
}

grpc::ServerWriteReactor<v1::WatchResponse>* HandoverService::Watch(
    grpc::CallbackServerContext* context, const v1::WatchRequest* request) {
  StreamCall<v1::WatchResponse> call(context, pipeline_, kWatch);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  if (request->after_revision() < 0) {
    return call.Refuse(FieldError("after_revision", "must not be negative"));
  }
  store::FeedQuery query;
  query.filter = policy::EventFilterFor(call.principal());
  query.after_revision = request->after_revision();
  query.include_cases = request->include_cases();
  query.authorize = call.CaseAuthorizer("case");
  return Watcher::Start(context, store_, hub_, call.caller(), std::move(query), options_.watch,
                        call.record());
}

grpc::ServerUnaryReactor* HandoverService::EraseCase(grpc::CallbackServerContext* context,
                                                     const v1::EraseCaseRequest* request,
                                                     v1::EraseCaseResponse* response) {
  UnaryCall call(context, pipeline_, kEraseCase);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  auto case_id = ParseCaseName(request->name(), "name");
  if (call.Refused(case_id.status())) return call.reactor();
  if (call.Refused(ValidateRequestId(request->request_id(), "request_id"))) return call.reactor();
  if (call.Refused(ValidateReasonCode(request->reason(), "reason"))) return call.reactor();
  call.NameCase(request->name());
  call.record().set_purpose(request->reason());

  store_->EraseCase(
      call.Write(request->request_id(), *request), *case_id, call.CaseAuthorizer(request->name()),
      call.Written<std::string>([response](std::string& name) { response->set_name(name); }));
  return call.reactor();
}

grpc::ServerUnaryReactor* HandoverService::WhoAmI(grpc::CallbackServerContext* context,
                                                  const v1::WhoAmIRequest* request,
                                                  v1::WhoAmIResponse* response) {
  UnaryCall call(context, pipeline_, kWhoAmI);
  if (call.Refused(call.Admit(*request))) return call.reactor();
  // Nothing to execute in the store: the view is the caller as identified.
  *response = WhoAmIView(call.caller());
  return call.Answer();
}

}  // namespace handover::service
