// A feed event as shown, derived once from the row every engine stores
// (backend.h EventRow with its revision and commit time): the case and
// document names, the withdrawn fields, the document's version and type
// only for an event about a document. The engines map columns to the row.
//
// Threads: pure functions.
#pragma once

#include <cstdint>

#include "handover/v1/feed.pb.h"
#include "server/policy/policy.h"
#include "server/store/backend.h"

namespace handover::store {

v1::ChangeEvent ChangeEventFromRow(int64_t revision, const EventRow& row, int64_t commit_time);

// Who the event is addressed to, as stored with it.
policy::EventAudience AudienceOf(const EventRow& row);

}  // namespace handover::store
