#include "server/store/event_view.h"

#include "common/resource_names.h"
#include "server/store/sealing.h"

namespace handover::store {

v1::ChangeEvent ChangeEventFromRow(int64_t revision, const EventRow& row, int64_t commit_time) {
  v1::ChangeEvent event;
  event.set_revision(revision);
  event.set_case_name(CaseName(row.case_id));
  event.set_kind(row.kind);
  event.set_version(row.version);
  *event.mutable_commit_time() = ToTimestamp(commit_time);
  for (const std::string& path : row.withdrawn_fields) event.add_withdrawn_fields(path);
  if (!row.document_id.empty()) {
    event.set_document_name(DocumentName(row.case_id, row.document_id));
    event.set_document_version(row.document_version);
    event.set_document_type(row.document_type);
  }
  return event;
}

policy::EventAudience AudienceOf(const EventRow& row) {
  return {.operator_id = row.operator_id,
          .municipality_code = row.municipality_code,
          .municipality_only = row.municipality_only};
}

}  // namespace handover::store
