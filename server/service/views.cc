#include "server/service/views.h"

#include <google/protobuf/util/time_util.h>

#include <utility>
#include <variant>

#include "server/policy/policy.h"

namespace handover::service {

v1::Case CaseView(const Principal& caller, store::CaseSnapshot& snapshot) {
  v1::Case view = std::move(snapshot.meta);
  if (snapshot.form) {
    std::vector<std::string> withheld;
    policy::ProjectForm(caller, snapshot.facts, &*snapshot.form, &withheld);
    *view.mutable_form() = std::move(*snapshot.form);
    for (auto& path : withheld) view.add_withheld_fields(std::move(path));
  }
  return view;
}

v1::ChangeEvent EventView(const Principal& caller, store::FeedEvent& event) {
  v1::ChangeEvent view = std::move(event.event);
  if (event.snapshot) *view.mutable_case_() = CaseView(caller, *event.snapshot);
  return view;
}

v1::WhoAmIResponse WhoAmIView(const Caller& caller) {
  v1::WhoAmIResponse view;
  view.set_role(std::string(RoleName(caller.principal.role)));
  view.set_organisation_id(caller.principal.organisation_id);
  if (caller.principal.role == Role::kMunicipality) {
    view.set_municipality_code(caller.principal.organisation_id);
  }
  view.set_organisation_cvr(caller.cvr);
  view.set_organisation_name(caller.organisation_name);
  view.set_certificate_serial(caller.certificate_serial);
  if (caller.certificate_not_after != absl::InfinitePast()) {
    *view.mutable_certificate_expire_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
        absl::ToUnixSeconds(caller.certificate_not_after));
  }
  view.set_naming(caller.cvr.empty() ? "spiffe" : "oces");
  view.set_actor(caller.actor);
  return view;
}

v1::ExportAccessLogResponse ExportItemView(store::AccessExportItem& item) {
  v1::ExportAccessLogResponse response;
  if (auto* entry = std::get_if<v1::AccessLogEntry>(&item.item)) {
    *response.mutable_entry() = std::move(*entry);
  } else {
    *response.mutable_checkpoint() = std::move(std::get<v1::Checkpoint>(item.item));
  }
  return response;
}

}  // namespace handover::service
