#include "server/service/views.h"

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

}  // namespace handover::service
