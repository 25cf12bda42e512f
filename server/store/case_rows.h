// Reading and writing the rows of one case, inside a transaction the caller
// owns. Used by SqliteStore on both the writer and the reader connections.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/crypto.h"
#include "server/store/case_store.h"

namespace handover::store {

int64_t NowMicros();
// A BLOB column's bytes.
std::string Blob(const SQLite::Column& column);
google::protobuf::Timestamp ToTimestamp(int64_t micros);
int64_t ToMicros(const google::protobuf::Timestamp& timestamp);
int64_t DateToInt(const v1::Date& date);  // YYYYMMDD
v1::Date IntToDate(int64_t yyyymmdd);

// The associated data that binds a sealed form to its case and version.
std::string FormAssociatedData(const std::string& case_id, int64_t version);
// The keyed hash under which a person identifier is stored (hyphens ignored).
std::string PersonHash(const KeyRing& keys, const std::string& person_identifier);
// Its hash under every key in the ring, for lookups across a key rotation.
std::vector<std::string> PersonHashes(const KeyRing& keys, const std::string& person_identifier);
// " IN (?, ?, ...)" with one mark per hash, and binding them from `first`.
std::string InMarks(size_t count);
void BindBlobs(SQLite::Statement& statement, int first, const std::vector<std::string>& blobs);
// " IN (SELECT value FROM json_each(?))", bound to IdList(ids): a list as one
// parameter, so the statement's text (and its cached statement) is the same
// whatever the number of ids.
extern const char kInIdList[];
std::string IdList(const std::vector<std::string>& ids);

// The case's metadata and policy facts (no version data), NOT_FOUND if absent.
absl::StatusOr<CaseSnapshot> LoadCase(SQLite::Database& db, const std::string& case_id);

// LoadCase, then `authorize` on the facts, then the version (0: current) with
// its form decrypted if `with_form`. NOT_FOUND for a missing version.
absl::StatusOr<CaseSnapshot> ReadSnapshot(SQLite::Database& db, const KeyRing& keys,
                                          const std::string& case_id, int64_t version,
                                          bool with_form, const Authorizer& authorize);

// The current snapshot of each of `case_ids`, as ReadSnapshot(version 0)
// would give it one by one (NOT_FOUND, authorize's refusal, or the snapshot),
// read with one statement per table for all of them: a page's worth of cases
// costs three statements instead of four per case.
std::map<std::string, absl::StatusOr<CaseSnapshot>> ReadCurrentSnapshots(
    SQLite::Database& db, const KeyRing& keys, const std::vector<std::string>& case_ids,
    bool with_form, const Authorizer& authorize);

// Inserts a version whose form is already sealed (for this case and version)
// under `key_id`, written by `context`'s caller.
void InsertVersionRow(SQLite::Database& db, const WriteContext& context, const std::string& case_id,
                      int64_t version, const std::string& sealed, const std::string& key_id,
                      int64_t now);

// One consent of a case, NOT_FOUND if absent or of another case.
absl::StatusOr<v1::Consent> LoadConsent(SQLite::Database& db, const std::string& case_id,
                                        const std::string& consent_id);

// A change to record in the feed, in the write's transaction.
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
// Appends the event; its revision is assigned by SQLite, in commit order.
void AppendEvent(SQLite::Database& db, const EventRow& event, int64_t now);
// The columns EventFromRow reads, in its order, for SELECTs from events.
extern const char kEventColumns[];
v1::ChangeEvent EventFromRow(SQLite::Statement& row);
// The policy's event filter over the events table: terms to append to a
// WHERE clause (each " AND ..."), and the values of their parameters in order.
// The policy decides; this only spells its filter in SQL (NULL
// municipality_code never equals a code, as in policy::MatchesEvent).
struct EventFilterSql {
  std::string conditions;
  std::vector<std::string> parameters;
};
EventFilterSql EventFilterSqlOf(const policy::EventFilter& filter);
// Events with revisions after `after`, oldest first, with their audience.
std::vector<CommittedEvent> EventsAfter(SQLite::Database& db, int64_t after);
// The newest revision ever assigned (0 if none), also after compaction.
int64_t HeadRevision(SQLite::Database& db);
// Revisions up to this one have been compacted away.
int64_t CompactedThrough(SQLite::Database& db);
// The feed epoch (feed_state.feed_epoch): which history the revisions belong
// to; a restore from a backup gives a new one.
std::string FeedEpoch(SQLite::Database& db);

// What an earlier request with the same id produced.
struct PriorRequest {
  std::string case_id;
  int64_t version = 0;
  std::string consent_id;
  std::string document_id;
};
// The prior result for (organisation, request id), if any; ALREADY_EXISTS if
// the id was used for a request with another fingerprint.
// `fingerprints`: the request's fingerprint under each key, current first.
absl::StatusOr<std::optional<PriorRequest>> FindPriorRequest(
    SQLite::Database& db, const WriteContext& context,
    const std::vector<std::string>& fingerprints);
// Stores the first (current key's) fingerprint.
void RecordRequest(SQLite::Database& db, const WriteContext& context,
                   const std::vector<std::string>& fingerprints, const PriorRequest& result);

}  // namespace handover::store
