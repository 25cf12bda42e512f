// The thin storage backend under the domain store (domain_store.h): rows in,
// rows out, in transactions. A backend knows tables, statements and commits;
// it knows nothing of who may see what, of sealing, of idempotency or of
// which events a write emits — those are the domain store's, written once.
// Modelled on etcd's mvcc-over-backend split and SpiceDB's one Datastore
// interface with one conformance suite (tests/conformance/) every engine
// passes.
//
// THE CONTRACT every backend meets (the PostgreSQL backend will be held to
// it; SQLite meets it with its single writer thread):
//
//  1. Write transactions are serialised: `Write` tasks run one at a time, in
//     one commit order, each seeing every task committed before it. Each
//     task is all-or-nothing: one that fails — by returning an error, or by
//     throwing from any row operation, after any number of statements — is
//     rolled back alone, to a savepoint the engine opens EXPLICITLY before
//     the task's first statement (SQLite: SAVEPOINT task; PostgreSQL: the
//     same statement, since libpqxx 6's subtransaction never opened one for
//     prepared statements), and the group's other tasks commit untouched;
//     its `after_rollback` then runs in the same transaction. If the group
//     cannot commit (the pre-commit hook fails, the connection breaks, COMMIT
//     fails), no task of it is stored and every task is told UNAVAILABLE in
//     the words of storage_errors.h — nothing stored, or, when the link broke
//     during COMMIT itself, that the outcome is unknown. A connection found
//     broken before COMMIT is opened again and the group run once more.
//     `done` runs only once the commit is durable.
//     tests/conformance/fault_conformance_test.cc fails every write at each
//     of its steps to hold every engine to this.
//  2. Feed revisions (`AppendEvent`) are assigned in commit order, strictly
//     increasing, with no gaps between committed events and never reused — not
//     after a rollback, not after compaction, not after a restore (a restore
//     moves the counter past every revision handed out and gives a new
//     epoch: backup.h). A reader that has seen revision r and reads again
//     sees every event after r that is committed, once.
//  3. The access log is appended in commit order: `LastAccessEntry` in a write
//     transaction is the entry the previous committed append wrote, so the
//     hash chain the domain store computes has one order.
//  4. A read task sees one consistent snapshot across all its statements: a
//     commit between two of them is either wholly visible or not at all.
//  5. The commit hook runs after each durable commit, before the next write
//     transaction begins, so what it reads is exactly the state after that
//     commit.
//
// Errors: an operation that fails in storage throws std::exception (the
// domain store turns it into INTERNAL, with the driver's words in the log
// only, and the task is rolled back); "not there" is an empty optional,
// never an exception.
//
// Threads: `Write` and `Read` may be called from any thread; their tasks run
// on the backend's threads and must not block on other store calls. A
// transaction object is valid only inside its task.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/feed.pb.h"
#include "server/policy/policy.h"
#include "server/store/case_store.h"

namespace handover::store {

// A form version as stored.
struct VersionRow {
  std::string case_id;
  int64_t version = 0;
  std::string sealed_form;  // empty unless asked for
  std::string key_id;       // the key that sealed it
  int64_t create_time = 0;  // micros
  std::string author_organisation;
  std::string author_actor;
};

// A live case's head (metadata and facts, from the case row, its newest two
// assignments and its consents) with its current version.
struct CaseRows {
  CaseSnapshot head;  // meta and facts; no version, no form
  VersionRow current;
};

struct AssignmentRow {
  std::string case_id;
  std::string municipality_code;
  v1::Date decision_date;
  v1::Date takeover_date;
  int64_t assign_time = 0;
  std::string author_organisation;
  std::string author_actor;
};

struct ConsentRow {
  std::string case_id;
  std::string consent_id;
  v1::Consent consent;  // purpose, recipient, given_date
  int64_t record_time = 0;
  std::string author_organisation;
  std::string author_actor;
};

// A change to record in the feed.
struct EventRow {
  std::string case_id;
  v1::EventKind kind = v1::EVENT_KIND_UNSPECIFIED;
  int64_t version = 0;
  std::string operator_id;
  // Addressed to this municipality, if any; `municipality_only` hides it from
  // the operator and the Immigration Service (revocations).
  std::optional<std::string> municipality_code;
  bool municipality_only = false;
  std::vector<std::string> withdrawn_fields;
  // EVENT_KIND_DOCUMENT_ADDED: which document version.
  std::string document_id;
  int64_t document_version = 0;
  v1::DocumentType document_type = v1::DOCUMENT_TYPE_UNSPECIFIED;
};

// What an earlier request with the same id produced.
struct PriorRequest {
  std::string case_id;
  int64_t version = 0;
  std::string consent_id;
  std::string document_id;
};

struct RequestRow {
  std::string fingerprint;
  PriorRequest result;
};

// Which live cases to list, in case id order.
struct CaseSelection {
  CaseQuery::Scope scope = CaseQuery::Scope::kAll;
  std::string organisation_id;
  // If non-empty: only cases whose person hash is one of these.
  std::vector<std::string> person_hashes;
  std::string after_case_id;
  int limit = 50;
};

// One stored document version.
struct DocumentVersionRow {
  std::string case_id;
  std::string document_id;
  v1::DocumentType type = v1::DOCUMENT_TYPE_UNSPECIFIED;
  int64_t version = 0;
  std::string blob_id;
  std::string sealed_title;
  std::string media_type;
  int64_t size_bytes = 0;
  std::string sha256;
  int64_t chunk_bytes = 0;
  int64_t create_time = 0;
  std::string author_organisation;
  std::string author_actor;
  std::string key_id;
};

// What key rotation and the per-case-key migration revisit: a sealed item
// (form version, title or chunk) not sealed under a given key id, or a live
// case whose person hash is not under a given key id (with its current form).
struct SealedItem {
  enum class Kind { kForm, kTitle, kChunk, kPersonHash };
  Kind kind = Kind::kForm;
  std::string case_id;
  std::string document_id;  // title
  int64_t version = 0;      // form, title, person hash (the current version)
  std::string blob_id;      // chunk
  int64_t seq = 0;          // chunk
  std::string sealed;
};

// The access log's newest entry's sequence and hash.
struct AccessHead {
  int64_t sequence = 0;
  std::string hash;
};

// Reads, valid in a read snapshot and in a write transaction.
class ReadTxn {
 public:
  virtual ~ReadTxn() = default;

  // Cases. "Live": not erased.
  virtual std::optional<CaseSnapshot> LoadCase(const std::string& case_id) = 0;
  virtual std::optional<VersionRow> LoadVersion(const std::string& case_id, int64_t version,
                                                bool with_form) = 0;
  // The live ones of `case_ids`, with their current versions.
  virtual std::map<std::string, CaseRows> LoadCurrentCases(const std::vector<std::string>& case_ids,
                                                           bool with_form) = 0;
  virtual std::vector<std::string> SelectCases(const CaseSelection& selection) = 0;
  // Newest first, below `before_version`, without forms.
  virtual std::vector<VersionRow> ListVersions(const std::string& case_id, int64_t before_version,
                                               int limit) = 0;
  virtual std::optional<v1::Consent> LoadConsent(const std::string& case_id,
                                                 const std::string& consent_id) = 0;
  // Whether the operator has a live case whose person hash is one of these.
  virtual bool HasLiveCaseForPerson(const std::string& operator_id,
                                    const std::vector<std::string>& person_hashes) = 0;
  // Every case (erased ones too) whose person hash is one of these, by id.
  virtual std::vector<std::string> CasesOfPerson(const std::vector<std::string>& person_hashes) = 0;

  // The feed. The newest revision ever assigned (0 if none), also after
  // compaction; the revision through which history is compacted; the epoch.
  virtual int64_t HeadRevision() = 0;
  virtual int64_t CompactedThrough() = 0;
  virtual std::string FeedEpoch() = 0;
  // At most `limit` events after `after` that pass `filter`, in revision order.
  // The filter is the policy's (policy::EventFilterFor); the backend applies
  // it exactly as policy::MatchesEvent does (tests/conformance checks).
  virtual std::vector<v1::ChangeEvent> ReadEvents(int64_t after, const policy::EventFilter& filter,
                                                  int limit) = 0;
  // Every event after `after`, with its audience.
  virtual std::vector<CommittedEvent> EventsAfter(int64_t after) = 0;

  virtual std::optional<RequestRow> FindRequest(const std::string& organisation,
                                                const std::string& request_id) = 0;

  // The access log.
  virtual std::optional<AccessHead> LastAccessEntry() = 0;
  virtual int64_t SignedThrough() = 0;  // the newest checkpoint's sequence, 0 if none
  virtual std::vector<v1::AccessLogEntry> QueryAccessRecords(const AccessQuery& query) = 0;
  // Entries after `after_sequence` (at most `limit`), each followed by its
  // checkpoint, if any.
  virtual std::vector<AccessExportItem> ExportAccessRecords(int64_t after_sequence, int limit) = 0;
  virtual std::vector<v1::AccessRecord> RecordsForCases(
      const std::vector<std::string>& case_ids) = 0;

  // Documents. `version` 0: the current one.
  virtual std::optional<DocumentVersionRow> LoadDocumentVersion(const std::string& case_id,
                                                                const std::string& document_id,
                                                                int64_t version) = 0;
  // Current versions, or every version newest first per document, in
  // document id order.
  virtual std::vector<DocumentVersionRow> LoadDocumentVersions(const std::string& case_id,
                                                               bool include_history) = 0;
  // The type of the document whose version has this blob, if it is the case's.
  virtual std::optional<v1::DocumentType> BlobDocumentType(const std::string& case_id,
                                                           const std::string& blob_id) = 0;
  virtual std::optional<std::string> LoadSealedChunk(const std::string& blob_id, int64_t seq) = 0;

  // Sealed items per key id ("" for unlabelled forms), and live cases'
  // person hashes per key id (unlabelled ones, from before labels, are not
  // counted: rotation re-makes them).
  virtual std::map<std::string, int64_t> KeyUsage() = 0;
};

// A write transaction: reads see its own writes.
class WriteTxn : public ReadTxn {
 public:
  // `person_hash` was made under the ring's key `hash_key_id`.
  virtual void InsertCase(const std::string& case_id, const std::string& operator_id,
                          const std::string& person_hash, const std::string& hash_key_id,
                          int64_t now) = 0;
  virtual void InsertVersion(const VersionRow& row) = 0;
  virtual void SetCurrentVersion(const std::string& case_id, int64_t version, int64_t now) = 0;
  // Only writes if it differs.
  virtual void SetPersonHash(const std::string& case_id, const std::string& person_hash,
                             const std::string& hash_key_id) = 0;
  virtual void TouchCase(const std::string& case_id, int64_t now) = 0;
  // Appends the assignment (newest) and makes it the case's municipality.
  virtual void InsertAssignment(const AssignmentRow& row) = 0;
  virtual void InsertConsent(const ConsentRow& row) = 0;
  virtual void SetConsentWithdrawn(const std::string& consent_id, int64_t now) = 0;
  // Returns the event's revision (contract 2).
  virtual int64_t AppendEvent(const EventRow& event, int64_t now) = 0;
  virtual void RecordRequest(const std::string& organisation, const std::string& request_id,
                             const RequestRow& row) = 0;
  // `entry.record()` carries its sequence and time; indexed by its case names.
  virtual void AppendAccessEntry(const v1::AccessLogEntry& entry) = 0;
  virtual void InsertCheckpoint(const v1::Checkpoint& checkpoint) = 0;

  // Deletes every row of the case's personal data (documents and their
  // content, versions, consents, assignments, request fingerprints) and marks
  // the case erased; its events and access records stay.
  virtual void EraseCaseData(const std::string& case_id, int64_t now) = 0;
  // Live cases whose newest assignment's takeover date is before this one.
  virtual std::vector<std::string> ExpiredCases(const v1::Date& takeover_before) = 0;
  // Deletes events committed before `before_micros`; returns the compacted-
  // through revision (unchanged if nothing was old enough).
  virtual int64_t CompactEvents(int64_t before_micros) = 0;
  // After this transaction commits, remove what old images of deleted rows
  // the engine keeps (SQLite: truncate the write-ahead log).
  virtual void ScrubAfterCommit() = 0;

  // Documents. A new document at version 1, or the next version of one.
  virtual void InsertDocument(const std::string& case_id, const std::string& document_id,
                              v1::DocumentType type) = 0;
  virtual void SetDocumentVersion(const std::string& case_id, const std::string& document_id,
                                  int64_t version) = 0;
  virtual void InsertDocumentVersion(const DocumentVersionRow& row) = 0;
  virtual void InsertChunk(const std::string& blob_id, int64_t seq, const std::string& key_id,
                           const std::string& sealed) = 0;

  // Key rotation: up to `limit` items of `kind` not sealed (person hashes:
  // not hashed) under `key_id`; replaces one sealed item's seal.
  virtual std::vector<SealedItem> StaleItems(SealedItem::Kind kind, const std::string& key_id,
                                             int limit) = 0;
  virtual void Reseal(const SealedItem& item, const std::string& key_id) = 0;
};

// How many writes queue and commit together, whatever the engine.
struct WriterOptions {
  // Most tasks committed in one transaction. Default 256.
  size_t max_batch = 256;
  // Most tasks waiting; Submit beyond it fails at once with RESOURCE_EXHAUSTED.
  // Each waiting task holds a call's request and response in memory, so this
  // bounds memory under overload. Default 2048.
  size_t max_queue = 2048;
};

// How many reads run at once and queue.
struct ReaderOptions {
  // Threads, and so connections. Default 4.
  int threads = 4;
  // Most tasks waiting; beyond it Submit returns false (the call gets
  // RESOURCE_EXHAUSTED at once). Bounds memory under overload. Default 1024.
  size_t max_queue = 1024;
};

struct WriteQueueStats {
  // Upper bounds of the batch-size histogram buckets (the last catches all).
  static constexpr std::array<size_t, 10> kBatchBuckets = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  uint64_t groups = 0;     // transactions committed or rolled back
  uint64_t tasks = 0;      // tasks they held
  uint64_t rejected = 0;   // tasks refused because the queue was full
  size_t queue_depth = 0;  // tasks waiting now
  // Groups by size: batch_sizes[i] counts groups of at most kBatchBuckets[i]
  // tasks and more than kBatchBuckets[i-1] (not cumulative).
  std::array<uint64_t, kBatchBuckets.size()> batch_sizes{};
};

class Backend {
 public:
  using WriteTask = std::function<absl::Status(WriteTxn&)>;
  using ReadTask = std::function<void(ReadTxn&)>;
  virtual ~Backend() = default;

  // Queues a write task (contract 1). If the queue is full, calls
  // done(RESOURCE_EXHAUSTED) at once on the calling thread.
  virtual void Write(WriteTask apply, std::function<void(absl::Status)> done,
                     WriteTask after_rollback = nullptr) = 0;
  // Runs `read` on a snapshot (contract 4) on a backend thread; false (and
  // `read` is not run) if the read queue is full. If no snapshot can be
  // opened (the database is unreachable), `read` is not run and
  // `unavailable` gets UNAVAILABLE instead, on the backend thread.
  virtual bool Read(ReadTask read, std::function<void(absl::Status)> unavailable) = 0;
  // Called after each durable commit (contract 5). Set before the first write.
  virtual void SetCommitHook(ReadTask hook) = 0;
  // Called on the writer after a group's tasks and before its COMMIT (the
  // domain store makes the group's new case keys durable there, so no
  // committed data lacks its key). A failure rolls the whole group back.
  virtual void SetPreCommitHook(std::function<absl::Status()> hook) = 0;

  // The directory beside the data where uploads are staged.
  virtual const std::string& staging_directory() const = 0;
  virtual WriteQueueStats write_stats() const = 0;
  // What the database takes on disk now (SQLite: the file and its WAL).
  virtual int64_t storage_bytes() const = 0;
};

}  // namespace handover::store
