// The store in domain terms: cases, immutable form versions, assignments and
// consents. Nothing here knows gRPC; a PostgreSQL backend would implement the
// same interface.
//
// Every method is asynchronous: it returns at once and calls `done` exactly
// once, on a store thread, when the work is finished — for writes, only after
// the write is durable. `done` must not block.
//
// Case-scoped methods take an `Authorizer`: it is called with the case's facts
// inside the read or write transaction, before any personal data is
// decrypted; a non-OK status aborts the operation with that status, and
// nothing is written. A case that does not exist is reported as NOT_FOUND
// with the same message the policy gives for a case outside the caller's scope.
//
// Writes that carry a request id are idempotent per calling organisation: a
// retry with the same id and the same request returns the first result; the
// same id with a different request fails with ALREADY_EXISTS.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "common/identity.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/case.pb.h"
#include "handover/v1/document_service.pb.h"
#include "handover/v1/feed.pb.h"
#include "handover/v1/form.pb.h"
#include "server/policy/policy.h"
#include "server/store/document_staging.h"

namespace handover::store {

template <typename T>
using Done = std::function<void(absl::StatusOr<T>)>;
using Authorizer = std::function<absl::Status(const policy::CaseFacts&)>;

// A case as stored, at one version.
struct CaseSnapshot {
  // Everything but form and withheld_fields; `version` and `etag` are those of
  // the version shown.
  v1::Case meta;
  // What the policy needs.
  policy::CaseFacts facts;
  // The shown version's metadata (no form).
  v1::CaseVersion version;
  // Decrypted form of that version, when asked for. Not yet projected.
  std::optional<v1::HandoverForm> form;
};

// Who writes, and the request that asked for it.
struct WriteContext {
  Principal principal;
  std::string actor;
  // Required for every write.
  std::string request_id;
  // The whole request message: a retry must match it exactly. Read only
  // while the store method runs (to fingerprint it); it need not outlive it.
  const google::protobuf::Message* request = nullptr;
  // If set, appended to the access log in the write's own transaction: on
  // success with the case and version written and outcome "OK", on failure
  // (after the write is rolled back) with the status code as outcome.
  std::optional<v1::AccessRecord> audit;
};

// Filters for the access log; empty or zero means no filter.
struct AccessQuery {
  std::string case_id;
  std::string organisation;
  std::string actor;
  int64_t start_micros = 0;  // inclusive
  int64_t end_micros = 0;    // exclusive
  int64_t after_sequence = 0;
  int page_size = 100;
};

// One item of an access-log export, in log order: an entry, or the signed
// checkpoint at the entry just before it.
struct AccessExportItem {
  std::variant<v1::AccessLogEntry, v1::Checkpoint> item;
};

// What the store holds about one person (the subject access report): their
// cases, erased ones too, and every access record naming them.
struct SubjectAccessFindings {
  std::vector<std::string> case_names;
  std::vector<v1::AccessRecord> records;
};

struct UpdateFormCommand {
  std::string case_id;
  v1::HandoverForm form;
  // Paths relative to the form; empty replaces the whole form.
  google::protobuf::FieldMask update_mask;
  // Empty: no concurrency check.
  std::string etag;
  // Checks the form that results from applying the mask, in the transaction.
  std::function<absl::Status(const v1::HandoverForm&)> validate;
};

struct AssignCommand {
  std::string case_id;
  std::string municipality_code;
  v1::Date decision_date;
};

// Which cases ListCases walks; the service derives it from the policy.
struct CaseQuery {
  enum class Scope { kOperator, kMunicipality, kAll };
  Scope scope = Scope::kAll;
  // The operator's or municipality's id, for those scopes.
  std::string organisation_id;
  // Only the case of this person identifier (compared by keyed hash).
  std::optional<std::string> person_identifier;
  // Cases with ids after this one, in id order.
  std::string after_case_id;
  int page_size = 50;
  bool with_form = false;
};

struct CasePage {
  std::vector<CaseSnapshot> cases;
  // Empty on the last page.
  std::string last_case_id;
  // The feed head revision the page was read at.
  int64_t revision = 0;
};

// Which events a caller sees, after a revision.
struct FeedQuery {
  // The caller's events: policy::EventFilterFor(caller). The store applies it
  // as it is; the policy decides what it lets through.
  policy::EventFilter filter;
  int64_t after_revision = 0;
  int page_size = 100;
  // Attach each event's case, read now, if `authorize` allows it.
  bool include_cases = false;
  Authorizer authorize;
};

// An event as committed, with who may see it: what the store hands the feed
// hub after each commit so live watchers need not read it back.
struct CommittedEvent {
  v1::ChangeEvent event;  // without `case`
  policy::EventAudience audience;
};

struct FeedEvent {
  v1::ChangeEvent event;  // without `case`
  std::optional<CaseSnapshot> snapshot;
};

struct FeedPage {
  std::vector<FeedEvent> events;
  // The caller has seen everything up to this revision.
  int64_t scanned_through = 0;
  // Nothing after scanned_through yet.
  bool caught_up = false;
};

struct VersionPage {
  std::vector<v1::CaseVersion> versions;
  // Non-zero if there may be more: the next page starts below this version.
  int64_t next_before_version = 0;
};

// One stored version of a document (its content is read chunk by chunk).
struct DocumentRecord {
  // Every field filled, the title decrypted.
  v1::Document document;
  std::string blob_id;
  // Every chunk but the last holds this many bytes.
  int64_t chunk_bytes = 0;
};

struct DocumentList {
  policy::CaseFacts facts;
  // Per document the current version first; older ones only if asked for.
  std::vector<DocumentRecord> documents;
};

struct AddDocumentCommand {
  std::string case_id;
  // Empty: a new document. Otherwise a new version of this one (same type).
  std::string document_id;
  v1::DocumentType type = v1::DOCUMENT_TYPE_UNSPECIFIED;
  std::string title;
  std::string media_type;
  std::string sha256;  // hex, already checked against the content
  // The content, completed; its chunks are copied in by the write.
  std::shared_ptr<StagedDocument> staged;
  // Checks the type against the case's current form, in the transaction.
  std::function<absl::Status(const v1::HandoverForm&)> validate;
};

// Whether the caller may receive a document of this type from a case with
// these facts (consent); called after the case-level Authorizer.
using DocumentAuthorizer = std::function<absl::Status(const policy::CaseFacts&, v1::DocumentType)>;

class CaseStore {
 public:
  virtual ~CaseStore() = default;

  // OK if a client write may start now; UNAVAILABLE (naming the rule) while
  // the disk is below its free-space reserve. Every write checks it again
  // when it commits; this is for work before that (an upload's staging).
  virtual absl::Status AdmitWrite() { return absl::OkStatus(); }

  // A new case at version 1 owned by the calling operator. `form` must be valid.
  virtual void CreateCase(const WriteContext& context, v1::HandoverForm form,
                          Done<CaseSnapshot> done) = 0;
  // A new version. ABORTED if `etag` is set and stale. If the result equals the
  // current form, no version is written and the current one is returned.
  virtual void UpdateForm(const WriteContext& context, UpdateFormCommand command,
                          Authorizer authorize, Done<CaseSnapshot> done) = 0;
  // Assigns or re-assigns. FAILED_PRECONDITION if already assigned to that
  // municipality.
  virtual void AssignCase(const WriteContext& context, AssignCommand command, Authorizer authorize,
                          Done<CaseSnapshot> done) = 0;
  virtual void RecordConsent(const WriteContext& context, std::string case_id, v1::Consent consent,
                             Authorizer authorize, Done<v1::Consent> done) = 0;
  // FAILED_PRECONDITION if already withdrawn.
  virtual void WithdrawConsent(const WriteContext& context, std::string case_id,
                               std::string consent_id, Authorizer authorize,
                               Done<v1::Consent> done) = 0;

  // `version` 0 means the current one.
  virtual void GetCase(std::string case_id, int64_t version, bool with_form, Authorizer authorize,
                       Done<CaseSnapshot> done) = 0;
  virtual void ListCases(CaseQuery query, Done<CasePage> done) = 0;
  // Newest first, below `before_version` (0: from the newest).
  virtual void ListVersions(std::string case_id, int64_t before_version, int page_size,
                            Authorizer authorize, Done<VersionPage> done) = 0;

  // Events after query.after_revision in revision order; after_revision 0
  // means from the oldest retained revision (the compacted-through one).
  // OUT_OF_RANGE (FeedCompactedError) if a non-zero after_revision was
  // compacted away; OUT_OF_RANGE (FeedAheadError) if it is beyond the head.
  virtual void ReadFeed(FeedQuery query, Done<FeedPage> done) = 0;
  // The feed epoch: an opaque identifier of the history the revisions belong
  // to, the same for every read of an open store (a database is restored
  // from a backup only while no server holds it, and the restore gives it a
  // new epoch). Sent with every Sync, Watch and ListCases response.
  virtual const std::string& feed_epoch() const = 0;
  // Drops events committed before `before_micros`; returns the new
  // compacted-through revision.
  virtual void CompactFeed(int64_t before_micros, Done<int64_t> done) = 0;
  // Called on the writer thread after each durable commit that added events
  // or compacted the feed: the new events in revision order (no gaps since the
  // previous call), and the revision through which history is compacted.
  // Set once, before the first write; nullptr stops the calls.
  using CommitListener =
      std::function<void(std::vector<CommittedEvent> events, int64_t compacted_through)>;
  virtual void SetCommitListener(CommitListener listener) = 0;

  // Erases the case's personal data (form versions, consents, request
  // fingerprints); the case stays as a skeleton that is NOT_FOUND to everyone,
  // its feed events and the access log remain. Returns the case name.
  virtual void EraseCase(const WriteContext& context, std::string case_id, Authorizer authorize,
                         Done<std::string> done) = 0;
  // Erases every case whose integration-responsibility takeover date is before
  // `takeover_before`, recording each in the access log as done by `actor`.
  // Returns how many.
  virtual void EraseExpired(v1::Date takeover_before, std::string actor, Done<int> done) = 0;

  // Appends a record to the access log; `done` runs once it is durable.
  virtual void RecordAccess(v1::AccessRecord record, Done<int64_t> done) = 0;
  // Signs a checkpoint of the log's head if it grew since the last one.
  // FAILED_PRECONDITION if the store has no signing key.
  virtual void WriteCheckpoint(Done<bool> done) = 0;
  virtual void QueryAccessLog(AccessQuery query, Done<std::vector<v1::AccessLogEntry>> done) = 0;
  // Entries after `after_sequence`, each followed by its checkpoint if any.
  virtual void ExportAccessLog(int64_t after_sequence, int limit,
                               Done<std::vector<AccessExportItem>> done) = 0;
  // The person's cases (erased ones too) and every record naming them.
  virtual void SubjectAccess(std::string person_identifier, Done<SubjectAccessFindings> done) = 0;

  // Documents. A staging file for an upload's content to the case, sealed
  // under the case's key (NOT_FOUND if the case has none: erased).
  virtual absl::StatusOr<std::unique_ptr<StagedDocument>> StageDocument(
      const std::string& case_id) = 0;
  // Makes a staged upload a document (or a new version of one), with a feed
  // event, in one transaction. INVALID_ARGUMENT naming metadata.document for
  // a document_id the case does not have, metadata.type if its type differs,
  // or what `validate` says.
  virtual void AddDocument(const WriteContext& context, AddDocumentCommand command,
                           Authorizer authorize, Done<DocumentRecord> done) = 0;
  virtual void ListDocuments(std::string case_id, bool include_history, Authorizer authorize,
                             Done<DocumentList> done) = 0;
  // One version (0: the current one). NOT_FOUND if absent.
  virtual void GetDocument(std::string case_id, std::string document_id, int64_t version,
                           Authorizer authorize, DocumentAuthorizer may_receive,
                           Done<DocumentRecord> done) = 0;
  // Chunk `seq` of a version's content, decrypted, after checking again that
  // the caller may receive it (a consent withdrawn meanwhile stops a download).
  virtual void ReadDocumentChunk(std::string case_id, std::string blob_id, int64_t seq,
                                 Authorizer authorize, DocumentAuthorizer may_receive,
                                 Done<std::string> done) = 0;
};

}  // namespace handover::store
