// The one pipeline every RPC of the three services runs, unary and streaming
// alike, in this order:
//
//   1. identify   who is calling: certificate and metadata (caller.h); the
//                 access record starts here (the operation's row,
//                 operations.h).
//   2. authorise  the role: policy::CheckRole on the operation's access-table
//                 row, before the request is looked at (a caller that may
//                 never call the method learns nothing about its request).
//   3. validate   the request: its size and the fields the schema does not
//                 name (CallSteps::CheckRequest, on every message of a
//                 stream), then the handler's own field checks.
//   4. execute    in the store, which authorises the case itself against the
//                 case's facts inside the same read or write
//                 (CallSteps::CaseAuthorizer: policy::Authorize).
//   5. project    the view the caller may see (views.h, policy::ProjectForm),
//                 naming in the record what it discloses.
//   6. audit      the access record: for reads and refusals here (Audit),
//                 durable before the answer; for writes in the store's own
//                 transaction (CallSteps::Write).
//   7. respond.
//
// Any step may refuse the call, and every refusal takes one path, Refuse,
// whatever the kind of call (unary, server or client stream): the record as
// it stands, with the status code's name as outcome, is made durable, then
// the call is finished with the status (UNAVAILABLE if the record could not
// be written; load shedding is answered at once, unrecorded: see Audit). A
// unary handler reads top to bottom as these steps:
//
//   UnaryCall call(context, pipeline_, kGetCase);                 // 1
//   if (call.Refused(call.Admit(*request))) return call.reactor(); // 2, 3
//   auto id = ParseCaseName(request->name(), "name");            // 3
//   if (call.Refused(id.status())) return call.reactor();
//   if (!v1::CaseView_IsValid(request->view()))
//     return call.Refuse(FieldError("view", "unknown CaseView value"));
//   call.NameCase(request->name());
//   store_->GetCase(*id, ..., call.CaseAuthorizer(request->name()),  // 4
//                   call.Read<store::CaseSnapshot>(project));        // 5, 6, 7
//   return call.reactor();
//
// Threads: handlers and reactors run on gRPC's threads, store callbacks on the
// store's; the steps of one call run one after another, never concurrently,
// so CallSteps needs no lock. Callbacks built here copy what they need (the
// record, the reactor pointer): a unary call's CallSteps may live on the
// handler's stack. A streaming reactor holds its Call as a member and passes
// itself as the reactor (document_service.cc); a server stream refused before
// its reactor exists is answered by a RefusedStream (StreamCall).
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <functional>
#include <string>
#include <unordered_set>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/grpc_status.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/case.pb.h"
#include "server/service/caller.h"
#include "server/service/operations.h"
#include "server/service/service_options.h"
#include "server/store/case_store.h"

namespace handover::service {

// What every call of one service shares. Immutable; `store` must outlive it.
class Pipeline {
 public:
  Pipeline(store::CaseStore* store, const ServiceOptions& options);

  // Where refusals and writes are recorded.
  store::CaseStore* store() const { return store_; }
  // Where reads are recorded: the store, or nowhere when
  // ServiceOptions::record_reads is off (benchmarks only).
  store::CaseStore* read_log() const { return record_reads_ ? store_ : nullptr; }
  const identity::CallerNaming& caller_naming() const { return *caller_naming_; }
  size_t max_request_bytes() const { return max_request_bytes_; }

 private:
  store::CaseStore* const store_;
  const std::shared_ptr<const identity::CallerNaming> caller_naming_;
  const size_t max_request_bytes_;
  const bool record_reads_;
};

// Step 6 for reads and refusals: records `record` with `status` as outcome
// ("OK" or the code's name, e.g. "PERMISSION_DENIED") in `log`, then calls
// `then` with `status`, or with UNAVAILABLE if the record could not be
// written (then nothing may be disclosed). `then` runs at once, unrecorded,
// if `log` is null (reads unrecorded, for benchmarks) or `status` is load
// shedding (RESOURCE_EXHAUSTED other than a request over the size limit:
// nothing was disclosed, and a record would add to the overload). `then` runs
// on the store's callback thread, or on the caller's if unrecorded.
void Audit(store::CaseStore* log, v1::AccessRecord record, const absl::Status& status,
           std::function<void(absl::Status)> then);

// The one refusal path: Audit, then `reactor->Finish` with the outcome.
// `reactor` is any gRPC server reactor (unary, reading or writing).
template <typename Reactor>
void Refuse(Reactor* reactor, store::CaseStore* log, v1::AccessRecord record,
            const absl::Status& status) {
  Audit(log, std::move(record), status,
        [reactor](absl::Status outcome) { reactor->Finish(ToGrpcStatus(outcome)); });
}

// The record's who/what/why for `operation`, from the caller if identified;
// otherwise what is safe to keep of what the call carried (the actor header,
// truncated and printable, the peer's address, and what its certificate
// states as `naming` reads it: CallerNaming::DescribeRefused; no
// organisation). Also used by the interceptor for requests that never reach
// a handler.
v1::AccessRecord AccessRecordFor(const grpc::CallbackServerContext& context,
                                 const identity::CallerNaming& naming,
                                 const absl::StatusOr<Caller>& caller, absl::string_view operation);

// Names in a record the cases views show and what they disclosed
// (store::AddCaseSections), each case once, without rescanning the names so
// far for every case (a page of 500 did 125,000 string comparisons).
// `record` must outlive it.
class DisclosedCases {
 public:
  explicit DisclosedCases(v1::AccessRecord* record);
  void Add(const v1::Case& view);

 private:
  v1::AccessRecord* record_;
  std::unordered_set<std::string> named_;
};

// One call's way through the steps: the caller, the operation and its access
// record. Constructing it is step 1.
class CallSteps {
 public:
  CallSteps(const grpc::CallbackServerContext& context, const Pipeline& pipeline,
            const Operation& operation);

  // Steps 1 and 2: the caller's identity (UNAUTHENTICATED, INVALID_ARGUMENT:
  // caller.h) and its role (policy::CheckRole: PERMISSION_DENIED).
  absl::Status Admit() const;
  // Admit, then CheckRequest(request): for calls with one request message.
  absl::Status Admit(const google::protobuf::Message& request) const;
  // Step 3's common part, for every request message of every call:
  // RESOURCE_EXHAUSTED (RequestTooLargeError) over the size limit,
  // INVALID_ARGUMENT naming the path of a field the schema does not name.
  absl::Status CheckRequest(const google::protobuf::Message& request) const;

  // Valid once Admit() is OK.
  const Caller& caller() const { return *caller_; }
  const Principal& principal() const { return caller_->principal; }

  const Pipeline& pipeline() const { return *pipeline_; }
  const Operation& operation() const { return *operation_; }
  // The access record so far: a refusal records it as it is then.
  v1::AccessRecord& record() { return record_; }
  const v1::AccessRecord& record() const { return record_; }

  // The call is about `case_name`: the record names it (alone) and the
  // operation's section.
  void NameCase(absl::string_view case_name);

  // Step 4: authorises the operation (its case_access row) on the case the
  // store loads, naming `case_name` in a NOT_FOUND.
  store::Authorizer CaseAuthorizer(std::string case_name) const;
  // Step 4 for a write, which carries its record (as it is now) into the
  // store's transaction; `request` must outlive the store call.
  store::WriteContext Write(const std::string& request_id,
                            const google::protobuf::Message& request) const;

 private:
  const Pipeline* pipeline_;
  const Operation* operation_;
  absl::StatusOr<Caller> caller_;
  v1::AccessRecord record_;
};

// A server stream refused before its reactor started (Watch,
// ExportAccessLog): only finishes. Deletes itself in OnDone.
template <typename Response>
class RefusedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  void OnDone() override { delete this; }
};

// The reactor a refusal creates when there is none yet: only a server stream
// refused before it started has none.
template <typename Reactor>
struct RefusedStreamOf {
  static Reactor* New() { return nullptr; }
};
template <typename Response>
struct RefusedStreamOf<grpc::ServerWriteReactor<Response>> {
  static grpc::ServerWriteReactor<Response>* New() { return new RefusedStream<Response>(); }
};

// The steps and the reactor a refusal finishes. `Reactor` is
// grpc::ServerUnaryReactor, a streaming reactor that runs its steps itself
// (passing `this`), or grpc::ServerWriteReactor<R> with no reactor yet: a
// server stream refused before it started gets a RefusedStream.
template <typename Reactor>
class Call : public CallSteps {
 public:
  Call(grpc::CallbackServerContext* context, const Pipeline& pipeline, const Operation& operation,
       Reactor* reactor)
      : CallSteps(*context, pipeline, operation), reactor_(reactor) {}

  // The one refusal path (Refuse above), recording the record as it is now;
  // returns the reactor, for a handler to return.
  // Once the refusal is handed on, the call may finish on another thread and
  // its reactor delete this Call (a streaming reactor owns it): nothing of
  // `this` is read after service::Refuse.
  Reactor* Refuse(const absl::Status& status) {
    if (reactor_ == nullptr) reactor_ = RefusedStreamOf<Reactor>::New();
    Reactor* const reactor = reactor_;
    service::Refuse(reactor, pipeline().store(), record(), status);
    return reactor;
  }
  // Refuses the call if `status` is an error; returns whether it did.
  bool Refused(const absl::Status& status) {
    if (status.ok()) return false;
    Refuse(status);
    return true;
  }

  Reactor* reactor() const { return reactor_; }

 private:
  Reactor* reactor_;
};

// A unary call: its reactor is the context's default one.
class UnaryCall : public Call<grpc::ServerUnaryReactor> {
 public:
  UnaryCall(grpc::CallbackServerContext* context, const Pipeline& pipeline,
            const Operation& operation)
      : Call(context, pipeline, operation, context->DefaultReactor()) {}

  // Steps 5 to 7 for a read: the store's callback. On success
  // `project(result, &record)` writes the response and names in the record
  // what it disclosed; either way the call finishes once the record (as it is
  // now, plus what `project` named) is durable in the read log.
  template <typename T, typename Project>
  store::Done<T> Read(Project project) const {
    return [reactor = reactor(), log = pipeline().read_log(), record = record(),
            project = std::move(project)](absl::StatusOr<T> result) mutable {
      if (result.ok()) project(*result, &record);
      Audit(log, std::move(record), result.status(),
            [reactor](absl::Status outcome) { reactor->Finish(ToGrpcStatus(outcome)); });
    };
  }
  // Steps 6 and 7 for an answer made without the store (WhoAmI): the handler
  // has written the response; the call finishes once the record, as it is
  // now, is durable in the read log (UNAVAILABLE, and nothing sent, if it
  // could not be written). Returns the reactor, for the handler to return.
  grpc::ServerUnaryReactor* Answer() const {
    Audit(pipeline().read_log(), record(), absl::OkStatus(),
          [reactor = reactor()](absl::Status outcome) { reactor->Finish(ToGrpcStatus(outcome)); });
    return reactor();
  }
  // Steps 5 and 7 for a write, whose record the store wrote with it (step 6):
  // the store's callback, finishing with the store's error or with
  // `project(result)` having written the response.
  template <typename T, typename Project>
  store::Done<T> Written(Project project) const {
    return [reactor = reactor(), project = std::move(project)](absl::StatusOr<T> result) mutable {
      if (!result.ok()) {
        reactor->Finish(ToGrpcStatus(result.status()));
        return;
      }
      project(*result);
      reactor->Finish(grpc::Status::OK);
    };
  }
};

// A server-streaming call before its reactor exists: a refusal answers with a
// RefusedStream (reactor()); once admitted, the handler starts its own reactor.
template <typename Response>
class StreamCall : public Call<grpc::ServerWriteReactor<Response>> {
 public:
  StreamCall(grpc::CallbackServerContext* context, const Pipeline& pipeline,
             const Operation& operation)
      : Call<grpc::ServerWriteReactor<Response>>(context, pipeline, operation, nullptr) {}
};

}  // namespace handover::service
