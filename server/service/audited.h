// Step six of every RPC: the access record. A call that reads personal data,
// or is refused, is answered only once its AccessRecord is durable; if the
// record cannot be written, nothing is disclosed (UNAVAILABLE). Writes carry
// their record into the store's own transaction (WriteContext::audit).
#pragma once

#include <grpcpp/support/server_callback.h>

#include <string>
#include <unordered_set>
#include <vector>

#include "common/grpc_status.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/case.pb.h"
#include "server/service/caller.h"
#include "server/store/case_store.h"

namespace handover::service {

// The record's who/what/why, from the caller if identified (otherwise what the
// call carried: the actor header, if any, and no organisation).
v1::AccessRecord AccessSkeleton(const grpc::CallbackServerContext& context,
                                const absl::StatusOr<Caller>& caller, const char* operation);

// Names the case a view shows and what it disclosed (store::AddCaseSections:
// the sections are named in server/store/access_sections.h).
void AddSections(const v1::Case& view, v1::AccessRecord* record);

// AddSections for a page of case views: each case named once, without
// rescanning the names so far for every case (a page of 500 did 125,000
// string comparisons).
class DisclosedCases {
 public:
  explicit DisclosedCases(v1::AccessRecord* record);
  void Add(const v1::Case& view);

 private:
  v1::AccessRecord* record_;
  std::unordered_set<std::string> named_;
};

// Records `record` with `status` as outcome in `store`, then calls `then`
// with `status`, or with UNAVAILABLE if the record could not be written (then
// nothing may be disclosed).
void RecordThen(store::CaseStore* store, v1::AccessRecord record, const absl::Status& status,
                std::function<void(absl::Status)> then);
// Records `record` with `status` as outcome in `store`, then finishes the
// call; at once, unrecorded, if `store` is null (reads unrecorded, for
// benchmarks only) or the status is RESOURCE_EXHAUSTED from load shedding
// (nothing was disclosed; a request over the size limit is recorded).
void FinishAudited(grpc::ServerUnaryReactor* reactor, store::CaseStore* store,
                   v1::AccessRecord record, const absl::Status& status);

// A store callback for reads: on success `fill(result, &record)` writes the
// response and says what it disclosed; either way the call finishes once the
// record is durable.
template <typename T, typename Fill>
store::Done<T> RespondAudited(grpc::ServerUnaryReactor* reactor, store::CaseStore* store,
                              v1::AccessRecord record, Fill fill) {
  return [reactor, store, record = std::move(record),
          fill = std::move(fill)](absl::StatusOr<T> result) mutable {
    if (result.ok()) fill(*result, &record);
    FinishAudited(reactor, store, std::move(record), result.status());
  };
}

// A server stream refused before it started (Watch, ExportAccessLog): it
// finishes with `status` once the refusal is recorded.
template <typename Response>
class RefusedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  RefusedStream(store::CaseStore* store, v1::AccessRecord record, const absl::Status& status) {
    record.set_outcome(std::string(absl::StatusCodeToString(status.code())));
    store->RecordAccess(std::move(record), [this, status](absl::StatusOr<int64_t>) {
      this->Finish(ToGrpcStatus(status));
    });
  }
  void OnDone() override { delete this; }
};

// A store callback for writes, whose record the store wrote with the write.
template <typename T, typename Fill>
store::Done<T> Respond(grpc::ServerUnaryReactor* reactor, Fill fill) {
  return [reactor, fill = std::move(fill)](absl::StatusOr<T> result) mutable {
    if (!result.ok()) {
      reactor->Finish(ToGrpcStatus(result.status()));
      return;
    }
    fill(*result);
    reactor->Finish(grpc::Status::OK);
  };
}

}  // namespace handover::service
