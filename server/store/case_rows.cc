#include "server/store/case_rows.h"
#include "server/store/statement_cache.h"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "common/validation.h"

namespace handover::store {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

google::protobuf::Timestamp ToTimestamp(int64_t micros) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(micros / 1000000);
  ts.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return ts;
}

int64_t ToMicros(const google::protobuf::Timestamp& timestamp) {
  return timestamp.seconds() * 1000000 + timestamp.nanos() / 1000;
}

int64_t DateToInt(const v1::Date& date) {
  return int64_t{date.year()} * 10000 + date.month() * 100 + date.day();
}

v1::Date IntToDate(int64_t yyyymmdd) {
  v1::Date date;
  date.set_year(static_cast<int32_t>(yyyymmdd / 10000));
  date.set_month(static_cast<int32_t>(yyyymmdd / 100 % 100));
  date.set_day(static_cast<int32_t>(yyyymmdd % 100));
  return date;
}

std::string FormAssociatedData(const std::string& case_id, int64_t version) {
  return absl::StrCat("handover/v1/form/", case_id, "/", version);
}

namespace {
std::string PersonHashInput(const std::string& person_identifier) {
  return absl::StrCat("person_identifier:", CanonicalPersonIdentifier(person_identifier));
}
}  // namespace

std::string PersonHash(const KeyRing& keys, const std::string& person_identifier) {
  return keys.KeyedHash(PersonHashInput(person_identifier));
}

std::vector<std::string> PersonHashes(const KeyRing& keys, const std::string& person_identifier) {
  return keys.KeyedHashes(PersonHashInput(person_identifier));
}

std::string InMarks(size_t count) {
  std::vector<std::string> marks(count, "?");
  return absl::StrCat(" IN (", absl::StrJoin(marks, ", "), ")");
}

void BindBlobs(SQLite::Statement& statement, int first, const std::vector<std::string>& blobs) {
  for (size_t i = 0; i < blobs.size(); ++i) {
    statement.bind(first + static_cast<int>(i), blobs[i].data(), static_cast<int>(blobs[i].size()));
  }
}

const char kInIdList[] = " IN (SELECT value FROM json_each(?))";

std::string IdList(const std::vector<std::string>& ids) {
  std::string json = "[";
  for (const std::string& id : ids) {
    if (json.size() > 1) json += ',';
    json += '"';
    for (char c : id) {
      if (c == '"' || c == '\\') json += '\\';
      if (static_cast<unsigned char>(c) < 0x20) {
        absl::StrAppend(&json, "\\u00", absl::Hex(c, absl::kZeroPad2));
      } else {
        json += c;
      }
    }
    json += '"';
  }
  return json + "]";
}

std::string Blob(const SQLite::Column& column) {
  return std::string(static_cast<const char*>(column.getBlob()),
                     static_cast<size_t>(column.getBytes()));
}

namespace {

// A consent from kConsentColumns at `first`.
v1::Consent ConsentFromRow(SQLite::Statement& row, int first, const std::string& case_id) {
  v1::Consent consent;
  consent.set_name(ConsentName(case_id, row.getColumn(first).getString()));
  consent.set_purpose(static_cast<v1::ConsentPurpose>(row.getColumn(first + 1).getInt()));
  consent.set_recipient_municipality_code(row.getColumn(first + 2).getString());
  *consent.mutable_given_date() = IntToDate(row.getColumn(first + 3).getInt64());
  *consent.mutable_record_time() = ToTimestamp(row.getColumn(first + 4).getInt64());
  if (!row.getColumn(first + 5).isNull()) {
    *consent.mutable_withdraw_time() = ToTimestamp(row.getColumn(first + 5).getInt64());
  }
  return consent;
}

constexpr char kConsentColumns[] =
    "consent_id, purpose, recipient_municipality_code, given_date, record_time, withdraw_time";

// A case's metadata from "operator_id, current_version, create_time,
// update_time" at `first`; its state and assignment come later.
CaseSnapshot CaseFromRow(SQLite::Statement& row, int first, const std::string& case_id) {
  CaseSnapshot snapshot;
  v1::Case& meta = snapshot.meta;
  meta.set_name(CaseName(case_id));
  meta.set_operator_id(row.getColumn(first).getString());
  meta.set_version(row.getColumn(first + 1).getInt64());
  *meta.mutable_create_time() = ToTimestamp(row.getColumn(first + 2).getInt64());
  *meta.mutable_update_time() = ToTimestamp(row.getColumn(first + 3).getInt64());
  meta.set_state(v1::CASE_STATE_ASYLUM);
  snapshot.facts.operator_id = meta.operator_id();
  return snapshot;
}

// The newest assignment from "municipality_code, decision_date,
// takeover_date, assign_time" at `first`.
void AddAssignment(SQLite::Statement& row, int first, CaseSnapshot* snapshot) {
  v1::Case& meta = snapshot->meta;
  meta.set_state(v1::CASE_STATE_ASSIGNED);
  v1::Assignment* assignment = meta.mutable_assignment();
  assignment->set_municipality_code(row.getColumn(first).getString());
  *assignment->mutable_decision_date() = IntToDate(row.getColumn(first + 1).getInt64());
  *assignment->mutable_takeover_date() = IntToDate(row.getColumn(first + 2).getInt64());
  *assignment->mutable_assign_time() = ToTimestamp(row.getColumn(first + 3).getInt64());
  snapshot->facts.municipality_code = assignment->municipality_code();
}

void AddConsent(v1::Consent consent, CaseSnapshot* snapshot) {
  snapshot->facts.consents.push_back(policy::ConsentFact{
      consent.purpose(), consent.recipient_municipality_code(), consent.has_withdraw_time()});
  *snapshot->meta.add_consents() = std::move(consent);
}

// A version's columns, copied out of its statement row.
struct VersionRow {
  int64_t version = 0;
  std::string sealed_form;  // empty unless asked for
  int64_t create_time = 0;
  std::string author_organisation, author_actor;
};

// From "form, create_time, author_organisation, author_actor" at `first`.
VersionRow VersionFromRow(SQLite::Statement& row, int first, int64_t version, bool with_form) {
  VersionRow v{.version = version};
  if (with_form) v.sealed_form = Blob(row.getColumn(first));
  v.create_time = row.getColumn(first + 1).getInt64();
  v.author_organisation = row.getColumn(first + 2).getString();
  v.author_actor = row.getColumn(first + 3).getString();
  return v;
}

// Makes `row` the snapshot's shown version, its form decrypted if `with_form`.
absl::Status AddVersion(const KeyRing& keys, const std::string& case_id, VersionRow row,
                        bool with_form, CaseSnapshot* snapshot) {
  v1::CaseVersion& meta = snapshot->version;
  meta.set_name(VersionName(case_id, row.version));
  meta.set_version(row.version);
  *meta.mutable_create_time() = ToTimestamp(row.create_time);
  meta.set_author_organisation(std::move(row.author_organisation));
  meta.set_author_actor(std::move(row.author_actor));
  snapshot->meta.set_version(row.version);
  snapshot->meta.set_etag(absl::StrCat("v", row.version));
  if (!with_form) return absl::OkStatus();
  absl::StatusOr<std::string> plain =
      keys.Open(row.sealed_form, FormAssociatedData(case_id, row.version));
  if (!plain.ok()) return plain.status();
  v1::HandoverForm form;
  if (!form.ParseFromString(*plain)) return absl::DataLossError("stored form does not parse");
  snapshot->form = std::move(form);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CaseSnapshot> LoadCase(SQLite::Database& db, const std::string& case_id) {
  Prepared row(db,
               "SELECT operator_id, current_version, create_time, update_time "
               "FROM cases WHERE case_id = ? AND erased_time IS NULL");
  row->bind(1, case_id);
  if (!row->executeStep()) return CaseNotFound(CaseName(case_id));
  CaseSnapshot snapshot = CaseFromRow(*row, 0, case_id);

  Prepared assignments(db,
                       "SELECT municipality_code, decision_date, takeover_date, "
                       "assign_time FROM assignments WHERE case_id = ? "
                       "ORDER BY seq DESC LIMIT 2");
  assignments->bind(1, case_id);
  if (assignments->executeStep()) {
    AddAssignment(*assignments, 0, &snapshot);
    if (assignments->executeStep()) {
      snapshot.meta.mutable_assignment()->set_previous_municipality_code(
          assignments->getColumn(0).getString());
    }
  }

  Prepared consents(
      db, absl::StrCat("SELECT ", kConsentColumns,
                       " FROM consents WHERE case_id = ? ORDER BY record_time, consent_id"));
  consents->bind(1, case_id);
  while (consents->executeStep()) AddConsent(ConsentFromRow(*consents, 0, case_id), &snapshot);
  return snapshot;
}

absl::StatusOr<CaseSnapshot> ReadSnapshot(SQLite::Database& db, const KeyRing& keys,
                                          const std::string& case_id, int64_t version,
                                          bool with_form, const Authorizer& authorize) {
  absl::StatusOr<CaseSnapshot> snapshot = LoadCase(db, case_id);
  if (!snapshot.ok()) return snapshot.status();
  if (absl::Status allowed = authorize(snapshot->facts); !allowed.ok()) return allowed;
  if (version == 0) version = snapshot->meta.version();

  Prepared row(db,
               "SELECT form, create_time, author_organisation, author_actor "
               "FROM case_versions WHERE case_id = ? AND version = ?");
  row->bind(1, case_id);
  row->bind(2, version);
  if (!row->executeStep()) {
    return absl::NotFoundError(absl::StrCat(VersionName(case_id, version), ": no such version"));
  }
  if (absl::Status s = AddVersion(keys, case_id, VersionFromRow(*row, 0, version, with_form),
                                  with_form, &*snapshot);
      !s.ok()) {
    return s;
  }
  return snapshot;
}

std::map<std::string, absl::StatusOr<CaseSnapshot>> ReadCurrentSnapshots(
    SQLite::Database& db, const KeyRing& keys, const std::vector<std::string>& case_ids,
    bool with_form, const Authorizer& authorize) {
  std::map<std::string, absl::StatusOr<CaseSnapshot>> result;
  for (const std::string& id : case_ids) result.emplace(id, CaseNotFound(CaseName(id)));
  if (case_ids.empty()) return result;
  const std::string ids = IdList(case_ids);

  // Each case's rows, until its facts are complete and authorised.
  struct Read {
    CaseSnapshot snapshot;
    VersionRow version;
  };
  std::map<std::string, Read> reads;
  Prepared cases(db,
                 absl::StrCat("SELECT c.case_id, c.operator_id, c.current_version, c.create_time, "
                              "c.update_time, v.form, v.create_time, v.author_organisation, "
                              "v.author_actor FROM cases c JOIN case_versions v "
                              "ON v.case_id = c.case_id AND v.version = c.current_version "
                              "WHERE c.erased_time IS NULL AND c.case_id",
                              kInIdList));
  cases->bind(1, ids);
  while (cases->executeStep()) {
    const std::string id = cases->getColumn(0).getString();
    reads.emplace(
        id, Read{.snapshot = CaseFromRow(*cases, 1, id),
                 .version = VersionFromRow(*cases, 5, cases->getColumn(2).getInt64(), with_form)});
  }

  Prepared assignments(db, absl::StrCat("SELECT case_id, municipality_code, decision_date, "
                                        "takeover_date, assign_time FROM assignments "
                                        "WHERE case_id",
                                        kInIdList, " ORDER BY case_id, seq DESC"));
  assignments->bind(1, ids);
  std::string previous_id;
  int seen = 0;  // assignments of previous_id so far
  while (assignments->executeStep()) {
    const std::string id = assignments->getColumn(0).getString();
    seen = id == previous_id ? seen + 1 : 1;
    previous_id = id;
    auto it = reads.find(id);
    if (it == reads.end() || seen > 2) continue;
    if (seen == 1) {
      AddAssignment(*assignments, 1, &it->second.snapshot);
    } else {
      it->second.snapshot.meta.mutable_assignment()->set_previous_municipality_code(
          assignments->getColumn(1).getString());
    }
  }

  Prepared consents(
      db, absl::StrCat("SELECT case_id, ", kConsentColumns, " FROM consents WHERE case_id",
                       kInIdList, " ORDER BY case_id, record_time, consent_id"));
  consents->bind(1, ids);
  while (consents->executeStep()) {
    const std::string id = consents->getColumn(0).getString();
    if (auto it = reads.find(id); it != reads.end()) {
      AddConsent(ConsentFromRow(*consents, 1, id), &it->second.snapshot);
    }
  }

  for (auto& [id, read] : reads) {
    absl::StatusOr<CaseSnapshot>& out = result.at(id);
    if (absl::Status allowed = authorize(read.snapshot.facts); !allowed.ok()) {
      out = allowed;
    } else if (absl::Status s =
                   AddVersion(keys, id, std::move(read.version), with_form, &read.snapshot);
               !s.ok()) {
      out = s;
    } else {
      out = std::move(read.snapshot);
    }
  }
  return result;
}

void InsertVersionRow(SQLite::Database& db, const WriteContext& context, const std::string& case_id,
                      int64_t version, const std::string& sealed, const std::string& key_id,
                      int64_t now) {
  Prepared insert(db,
                  "INSERT INTO case_versions (case_id, version, form, create_time, "
                  "author_organisation, author_actor, key_id) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, case_id);
  insert->bind(2, version);
  insert->bind(3, sealed.data(), static_cast<int>(sealed.size()));
  insert->bind(4, now);
  insert->bind(5, context.principal.organisation_id);
  insert->bind(6, context.actor);
  insert->bind(7, key_id);
  insert->exec();
}

absl::StatusOr<v1::Consent> LoadConsent(SQLite::Database& db, const std::string& case_id,
                                        const std::string& consent_id) {
  Prepared row(db, absl::StrCat("SELECT ", kConsentColumns,
                                " FROM consents WHERE consent_id = ? AND case_id = ?"));
  row->bind(1, consent_id);
  row->bind(2, case_id);
  if (!row->executeStep()) {
    return absl::NotFoundError(absl::StrCat(ConsentName(case_id, consent_id), ": no such consent"));
  }
  return ConsentFromRow(*row, 0, case_id);
}

void AppendEvent(SQLite::Database& db, const EventRow& event, int64_t now) {
  Prepared insert(db,
                  "INSERT INTO events (case_id, kind, version, commit_time, operator_id, "
                  "municipality_code, municipality_only, withdrawn_fields, document_id, "
                  "document_version, document_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, event.case_id);
  insert->bind(2, static_cast<int>(event.kind));
  insert->bind(3, event.version);
  insert->bind(4, now);
  insert->bind(5, event.operator_id);
  if (event.municipality_code) {
    insert->bind(6, *event.municipality_code);
  } else {
    insert->bind(6);
  }
  insert->bind(7, event.municipality_only ? 1 : 0);
  insert->bind(8, absl::StrJoin(event.withdrawn_fields, ","));
  insert->bind(9, event.document_id);
  insert->bind(10, event.document_version);
  insert->bind(11, static_cast<int>(event.document_type));
  insert->exec();
}

const char kEventColumns[] =
    "revision, case_id, kind, version, commit_time, withdrawn_fields, document_id, "
    "document_version, document_type";

v1::ChangeEvent EventFromRow(SQLite::Statement& row) {
  v1::ChangeEvent event;
  const std::string case_id = row.getColumn(1).getString();
  event.set_revision(row.getColumn(0).getInt64());
  event.set_case_name(CaseName(case_id));
  event.set_kind(static_cast<v1::EventKind>(row.getColumn(2).getInt()));
  event.set_version(row.getColumn(3).getInt64());
  *event.mutable_commit_time() = ToTimestamp(row.getColumn(4).getInt64());
  for (auto path : absl::StrSplit(row.getColumn(5).getString(), ',', absl::SkipEmpty())) {
    event.add_withdrawn_fields(std::string(path));
  }
  if (const std::string document_id = row.getColumn(6).getString(); !document_id.empty()) {
    event.set_document_name(DocumentName(case_id, document_id));
    event.set_document_version(row.getColumn(7).getInt64());
    event.set_document_type(static_cast<v1::DocumentType>(row.getColumn(8).getInt()));
  }
  return event;
}

std::vector<CommittedEvent> EventsAfter(SQLite::Database& db, int64_t after) {
  Prepared select(db,
                  absl::StrCat("SELECT ", kEventColumns,
                               ", operator_id, municipality_code, municipality_only FROM events "
                               "WHERE revision > ? ORDER BY revision"));
  select->bind(1, after);
  std::vector<CommittedEvent> events;
  while (select->executeStep()) {
    CommittedEvent committed{.event = EventFromRow(*select)};
    committed.audience.operator_id = select->getColumn(9).getString();
    if (!select->getColumn(10).isNull()) {
      committed.audience.municipality_code = select->getColumn(10).getString();
    }
    committed.audience.municipality_only = select->getColumn(11).getInt() != 0;
    events.push_back(std::move(committed));
  }
  return events;
}

int64_t HeadRevision(SQLite::Database& db) {
  Prepared head(db, "SELECT seq FROM sqlite_sequence WHERE name = 'events'");
  return head->executeStep() ? head->getColumn(0).getInt64() : 0;
}

int64_t CompactedThrough(SQLite::Database& db) {
  Prepared row(db, "SELECT compacted_through FROM feed_state");
  row->executeStep();
  return row->getColumn(0).getInt64();
}

std::string FeedEpoch(SQLite::Database& db) {
  Prepared row(db, "SELECT feed_epoch FROM feed_state");
  row->executeStep();
  return row->getColumn(0).getString();
}

absl::StatusOr<std::optional<PriorRequest>> FindPriorRequest(
    SQLite::Database& db, const WriteContext& context,
    const std::vector<std::string>& fingerprints) {
  Prepared row(db,
               "SELECT fingerprint, case_id, version, consent_id, document_id FROM requests "
               "WHERE organisation = ? AND request_id = ?");
  row->bind(1, context.principal.organisation_id);
  row->bind(2, context.request_id);
  if (!row->executeStep()) return std::nullopt;
  if (std::find(fingerprints.begin(), fingerprints.end(), Blob(row->getColumn(0))) ==
      fingerprints.end()) {
    return absl::AlreadyExistsError(
        "request_id: already used by this organisation for a different request");
  }
  return PriorRequest{row->getColumn(1).getString(), row->getColumn(2).getInt64(),
                      row->getColumn(3).getString(), row->getColumn(4).getString()};
}

void RecordRequest(SQLite::Database& db, const WriteContext& context,
                   const std::vector<std::string>& fingerprints, const PriorRequest& result) {
  const std::string& fingerprint = fingerprints.front();
  Prepared insert(db,
                  "INSERT INTO requests (organisation, request_id, fingerprint, case_id, "
                  "version, consent_id, document_id) VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, context.principal.organisation_id);
  insert->bind(2, context.request_id);
  insert->bind(3, fingerprint.data(), static_cast<int>(fingerprint.size()));
  insert->bind(4, result.case_id);
  insert->bind(5, result.version);
  insert->bind(6, result.consent_id);
  insert->bind(7, result.document_id);
  insert->exec();
}

EventFilterSql EventFilterSqlOf(const policy::EventFilter& filter) {
  EventFilterSql sql;
  if (filter.none) sql.conditions += " AND 0";
  if (filter.operator_id) {
    sql.conditions += " AND operator_id = ?";
    sql.parameters.push_back(*filter.operator_id);
  }
  if (filter.municipality_code) {
    sql.conditions += " AND municipality_code = ?";
    sql.parameters.push_back(*filter.municipality_code);
  }
  if (!filter.with_municipality_only) sql.conditions += " AND municipality_only = 0";
  return sql;
}

}  // namespace handover::store
