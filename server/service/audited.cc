#include "server/service/audited.h"

#include <algorithm>

#include "common/errors.h"
#include "server/store/access_sections.h"

namespace handover::service {

namespace {

// "ipv4:127.0.0.1:5000" -> "127.0.0.1", "ipv6:[::1]:5000" -> "::1".
std::string PeerAddress(const std::string& uri) {
  std::string address = uri.substr(uri.find(':') + 1);
  address = address.substr(0, address.rfind(':'));
  if (address.size() >= 2 && address.front() == '[')
    address = address.substr(1, address.size() - 2);
  return address;
}

}  // namespace

v1::AccessRecord AccessSkeleton(const grpc::CallbackServerContext& context,
                                const absl::StatusOr<Caller>& caller, const char* operation) {
  v1::AccessRecord record;
  record.set_operation(operation);
  if (caller.ok()) {
    record.set_organisation(caller->principal.organisation_id);
    record.set_role(std::string(RoleName(caller->principal.role)));
    record.set_actor(caller->actor);
    record.set_purpose(caller->purpose);
    return record;
  }
  // Refused before identification: keep what is safe to keep.
  record.set_peer(PeerAddress(context.peer()));
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find(kActorMetadataKey); it != metadata.end()) {
    std::string actor(it->second.data(), std::min<size_t>(it->second.size(), 128));
    std::replace_if(
        actor.begin(), actor.end(), [](char c) { return c <= ' ' || c > '~'; }, '?');
    record.set_actor(actor);
  }
  return record;
}

void AddSections(const v1::Case& view, v1::AccessRecord* record) {
  DisclosedCases(record).Add(view);
}

DisclosedCases::DisclosedCases(v1::AccessRecord* record)
    : record_(record), named_(record->case_names().begin(), record->case_names().end()) {}

void DisclosedCases::Add(const v1::Case& view) {
  if (named_.insert(view.name()).second) record_->add_case_names(view.name());
  store::AddCaseSections(view, record_);
}

void RecordThen(store::CaseStore* store, v1::AccessRecord record, const absl::Status& status,
                std::function<void(absl::Status)> then) {
  record.set_outcome(status.ok() ? "OK" : std::string(absl::StatusCodeToString(status.code())));
  store->RecordAccess(std::move(record), [status,
                                          then = std::move(then)](absl::StatusOr<int64_t> logged) {
    then(logged.ok() ? status
                     : absl::UnavailableError("the access log could not be written; nothing was "
                                              "disclosed, retry later"));
  });
}

void FinishAudited(grpc::ServerUnaryReactor* reactor, store::CaseStore* store,
                   v1::AccessRecord record, const absl::Status& status) {
  // Shed load at once: nothing was disclosed, and a record would make the
  // overload worse (the writer's queue is what is full). A request over the
  // size limit is refused like any other request, with its record.
  if (store == nullptr ||
      (status.code() == absl::StatusCode::kResourceExhausted && !IsRequestTooLarge(status))) {
    reactor->Finish(ToGrpcStatus(status));
    return;
  }
  RecordThen(store, std::move(record), status,
             [reactor](absl::Status outcome) { reactor->Finish(ToGrpcStatus(outcome)); });
}

}  // namespace handover::service
