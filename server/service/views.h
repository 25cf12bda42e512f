// Step five of every RPC: project what the store read into what the caller
// may see (policy::ProjectForm), as proto messages.
#pragma once

#include "common/identity.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/case.pb.h"
#include "handover/v1/feed.pb.h"
#include "handover/v1/handover_service.pb.h"
#include "server/service/caller.h"
#include "server/store/case_store.h"

namespace handover::service {

// The case with its form (if read) projected for `caller`. Consumes `snapshot`.
v1::Case CaseView(const Principal& caller, store::CaseSnapshot& snapshot);
// The event, with its case projected for `caller` if one was read. Consumes `event`.
v1::ChangeEvent EventView(const Principal& caller, store::FeedEvent& event);
// How the server sees `caller` (WhoAmI): role, organisation, and for a
// certificate named by CVR ("oces" naming) the CVR, register name and
// certificate serial; the certificate's expiry if it was read.
v1::WhoAmIResponse WhoAmIView(const Caller& caller);
// An access-log export item as the export stream sends it. Consumes `item`.
v1::ExportAccessLogResponse ExportItemView(store::AccessExportItem& item);

}  // namespace handover::service
