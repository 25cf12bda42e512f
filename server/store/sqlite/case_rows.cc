// SqliteTxn: cases, versions, assignments, consents, request fingerprints and
// erasure; and the value spellings of case_rows.h.
#include "server/store/sqlite/case_rows.h"

#include <SQLiteCpp/Statement.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/resource_names.h"
#include "server/store/case_state.h"
#include "server/store/sealing.h"
#include "server/store/sqlite/sqlite_txn.h"
#include "server/store/sqlite/statement_cache.h"

namespace handover::store {

std::string Blob(const SQLite::Column& column) {
  return std::string(static_cast<const char*>(column.getBlob()),
                     static_cast<size_t>(column.getBytes()));
}

void BindBlob(SQLite::Statement& statement, int index, const std::string& bytes) {
  statement.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

std::string InMarks(size_t count) {
  std::vector<std::string> marks(count, "?");
  return absl::StrCat(" IN (", absl::StrJoin(marks, ", "), ")");
}

void BindBlobs(SQLite::Statement& statement, int first, const std::vector<std::string>& blobs) {
  for (size_t i = 0; i < blobs.size(); ++i)
    BindBlob(statement, first + static_cast<int>(i), blobs[i]);
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

namespace {

constexpr char kConsentColumns[] =
    "consent_id, purpose, recipient_municipality_code, given_date, record_time, withdraw_time";

// kConsentColumns at `first`.
ConsentReadRow ConsentColumns(SQLite::Statement& row, int first) {
  ConsentReadRow consent{.consent_id = row.getColumn(first).getString(),
                         .purpose = row.getColumn(first + 1).getInt(),
                         .recipient_municipality_code = row.getColumn(first + 2).getString(),
                         .given_date = row.getColumn(first + 3).getInt64(),
                         .record_time = row.getColumn(first + 4).getInt64()};
  if (!row.getColumn(first + 5).isNull())
    consent.withdraw_time = row.getColumn(first + 5).getInt64();
  return consent;
}

// "operator_id, current_version, create_time, update_time" at `first`.
CaseHeadRow HeadColumns(SQLite::Statement& row, int first) {
  return {.operator_id = row.getColumn(first).getString(),
          .current_version = row.getColumn(first + 1).getInt64(),
          .create_time = row.getColumn(first + 2).getInt64(),
          .update_time = row.getColumn(first + 3).getInt64()};
}

// "municipality_code, decision_date, takeover_date, assign_time" at `first`.
AssignmentReadRow AssignmentColumns(SQLite::Statement& row, int first) {
  return {.municipality_code = row.getColumn(first).getString(),
          .decision_date = row.getColumn(first + 1).getInt64(),
          .takeover_date = row.getColumn(first + 2).getInt64(),
          .assign_time = row.getColumn(first + 3).getInt64()};
}

// From "form, create_time, author_organisation, author_actor, key_id" at
// `first`.
VersionRow VersionFromRow(SQLite::Statement& row, int first, const std::string& case_id,
                          int64_t version, bool with_form) {
  VersionRow v{.case_id = case_id, .version = version};
  if (with_form) v.sealed_form = Blob(row.getColumn(first));
  v.create_time = row.getColumn(first + 1).getInt64();
  v.author_organisation = row.getColumn(first + 2).getString();
  v.author_actor = row.getColumn(first + 3).getString();
  v.key_id = row.getColumn(first + 4).getString();
  return v;
}

}  // namespace

std::optional<CaseSnapshot> SqliteTxn::LoadCase(const std::string& case_id) {
  Prepared row(db_,
               "SELECT operator_id, current_version, create_time, update_time "
               "FROM cases WHERE case_id = ? AND erased_time IS NULL");
  row->bind(1, case_id);
  if (!row->executeStep()) return std::nullopt;
  const CaseHeadRow head = HeadColumns(*row, 0);

  Prepared assignment_rows(db_,
                           "SELECT municipality_code, decision_date, takeover_date, "
                           "assign_time FROM assignments WHERE case_id = ? "
                           "ORDER BY seq DESC LIMIT 2");
  assignment_rows->bind(1, case_id);
  std::vector<AssignmentReadRow> assignments;
  while (assignment_rows->executeStep())
    assignments.push_back(AssignmentColumns(*assignment_rows, 0));

  Prepared consent_rows(
      db_, absl::StrCat("SELECT ", kConsentColumns,
                        " FROM consents WHERE case_id = ? ORDER BY record_time, consent_id"));
  consent_rows->bind(1, case_id);
  std::vector<ConsentReadRow> consents;
  while (consent_rows->executeStep()) consents.push_back(ConsentColumns(*consent_rows, 0));
  return CaseFromRows(case_id, head, assignments, consents);
}

std::optional<VersionRow> SqliteTxn::LoadVersion(const std::string& case_id, int64_t version,
                                                 bool with_form) {
  Prepared row(db_,
               "SELECT form, create_time, author_organisation, author_actor, key_id "
               "FROM case_versions WHERE case_id = ? AND version = ?");
  row->bind(1, case_id);
  row->bind(2, version);
  if (!row->executeStep()) return std::nullopt;
  return VersionFromRow(*row, 0, case_id, version, with_form);
}

std::map<std::string, CaseRows> SqliteTxn::LoadCurrentCases(
    const std::vector<std::string>& case_ids, bool with_form) {
  if (case_ids.empty()) return {};
  std::map<std::string, CurrentCaseRows> rows;
  const std::string ids = IdList(case_ids);
  Prepared cases(db_,
                 absl::StrCat("SELECT c.case_id, c.operator_id, c.current_version, c.create_time, "
                              "c.update_time, v.form, v.create_time, v.author_organisation, "
                              "v.author_actor, v.key_id FROM cases c JOIN case_versions v "
                              "ON v.case_id = c.case_id AND v.version = c.current_version "
                              "WHERE c.erased_time IS NULL AND c.case_id",
                              kInIdList));
  cases->bind(1, ids);
  while (cases->executeStep()) {
    const std::string id = cases->getColumn(0).getString();
    rows.emplace(
        id, CurrentCaseRows{.head = HeadColumns(*cases, 1),
                            .current = VersionFromRow(*cases, 5, id, cases->getColumn(2).getInt64(),
                                                      with_form)});
  }

  Prepared assignments(db_, absl::StrCat("SELECT case_id, municipality_code, decision_date, "
                                         "takeover_date, assign_time FROM assignments "
                                         "WHERE case_id",
                                         kInIdList, " ORDER BY case_id, seq DESC"));
  assignments->bind(1, ids);
  while (assignments->executeStep()) {
    auto it = rows.find(assignments->getColumn(0).getString());
    if (it != rows.end() && it->second.assignments.size() < 2) {
      it->second.assignments.push_back(AssignmentColumns(*assignments, 1));
    }
  }

  Prepared consents(
      db_, absl::StrCat("SELECT case_id, ", kConsentColumns, " FROM consents WHERE case_id",
                        kInIdList, " ORDER BY case_id, record_time, consent_id"));
  consents->bind(1, ids);
  while (consents->executeStep()) {
    auto it = rows.find(consents->getColumn(0).getString());
    if (it != rows.end()) it->second.consents.push_back(ConsentColumns(*consents, 1));
  }
  return CurrentCasesFromRows(rows);
}

std::vector<std::string> SqliteTxn::SelectCases(const CaseSelection& selection) {
  std::string sql = "SELECT case_id FROM cases WHERE case_id > ? AND erased_time IS NULL";
  if (selection.scope == CaseQuery::Scope::kOperator) sql += " AND operator_id = ?";
  if (selection.scope == CaseQuery::Scope::kMunicipality) sql += " AND municipality_code = ?";
  if (!selection.person_hashes.empty()) {
    sql += absl::StrCat(" AND person_hash", InMarks(selection.person_hashes.size()));
  }
  sql += " ORDER BY case_id LIMIT ?";
  Prepared select(db_, sql);
  int at = 1;
  select->bind(at++, selection.after_case_id);
  if (selection.scope != CaseQuery::Scope::kAll) select->bind(at++, selection.organisation_id);
  BindBlobs(*select, at, selection.person_hashes);
  at += static_cast<int>(selection.person_hashes.size());
  select->bind(at, selection.limit);
  std::vector<std::string> ids;
  while (select->executeStep()) ids.push_back(select->getColumn(0).getString());
  return ids;
}

std::vector<VersionRow> SqliteTxn::ListVersions(const std::string& case_id, int64_t before_version,
                                                int limit) {
  Prepared select(db_,
                  "SELECT version, create_time, author_organisation, author_actor "
                  "FROM case_versions WHERE case_id = ? AND version < ? "
                  "ORDER BY version DESC LIMIT ?");
  select->bind(1, case_id);
  select->bind(2, before_version > 0 ? before_version : INT64_MAX);
  select->bind(3, limit);
  std::vector<VersionRow> rows;
  while (select->executeStep()) {
    rows.push_back({.case_id = case_id,
                    .version = select->getColumn(0).getInt64(),
                    .create_time = select->getColumn(1).getInt64(),
                    .author_organisation = select->getColumn(2).getString(),
                    .author_actor = select->getColumn(3).getString()});
  }
  return rows;
}

std::optional<v1::Consent> SqliteTxn::LoadConsent(const std::string& case_id,
                                                  const std::string& consent_id) {
  Prepared row(db_, absl::StrCat("SELECT ", kConsentColumns,
                                 " FROM consents WHERE consent_id = ? AND case_id = ?"));
  row->bind(1, consent_id);
  row->bind(2, case_id);
  if (!row->executeStep()) return std::nullopt;
  return ConsentFromRow(case_id, ConsentColumns(*row, 0));
}

bool SqliteTxn::HasLiveCaseForPerson(const std::string& operator_id,
                                     const std::vector<std::string>& person_hashes) {
  Prepared existing(
      db_, absl::StrCat("SELECT 1 FROM cases WHERE operator_id = ? AND erased_time IS NULL "
                        "AND person_hash",
                        InMarks(person_hashes.size())));
  existing->bind(1, operator_id);
  BindBlobs(*existing, 2, person_hashes);
  return existing->executeStep();
}

std::vector<std::string> SqliteTxn::CasesOfPerson(const std::vector<std::string>& person_hashes) {
  Prepared cases(db_, absl::StrCat("SELECT case_id FROM cases WHERE person_hash",
                                   InMarks(person_hashes.size()), " ORDER BY case_id"));
  BindBlobs(*cases, 1, person_hashes);
  std::vector<std::string> ids;
  while (cases->executeStep()) ids.push_back(cases->getColumn(0).getString());
  return ids;
}

std::optional<RequestRow> SqliteTxn::FindRequest(const std::string& organisation,
                                                 const std::string& request_id) {
  Prepared row(db_,
               "SELECT fingerprint, case_id, version, consent_id, document_id FROM requests "
               "WHERE organisation = ? AND request_id = ?");
  row->bind(1, organisation);
  row->bind(2, request_id);
  if (!row->executeStep()) return std::nullopt;
  return RequestRow{.fingerprint = Blob(row->getColumn(0)),
                    .result = {row->getColumn(1).getString(), row->getColumn(2).getInt64(),
                               row->getColumn(3).getString(), row->getColumn(4).getString()}};
}

void SqliteTxn::InsertCase(const std::string& case_id, const std::string& operator_id,
                           const std::string& person_hash, const std::string& hash_key_id,
                           int64_t now) {
  Prepared insert(db_,
                  "INSERT INTO cases (case_id, operator_id, municipality_code, "
                  "current_version, person_hash, hash_key_id, create_time, update_time) "
                  "VALUES (?, ?, NULL, 1, ?, ?, ?, ?)");
  insert->bind(1, case_id);
  insert->bind(2, operator_id);
  BindBlob(*insert, 3, person_hash);
  insert->bind(4, hash_key_id);
  insert->bind(5, now);
  insert->bind(6, now);
  insert->exec();
}

void SqliteTxn::InsertVersion(const VersionRow& row) {
  Prepared insert(db_,
                  "INSERT INTO case_versions (case_id, version, form, create_time, "
                  "author_organisation, author_actor, key_id) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, row.case_id);
  insert->bind(2, row.version);
  BindBlob(*insert, 3, row.sealed_form);
  insert->bind(4, row.create_time);
  insert->bind(5, row.author_organisation);
  insert->bind(6, row.author_actor);
  insert->bind(7, row.key_id);
  insert->exec();
}

void SqliteTxn::SetCurrentVersion(const std::string& case_id, int64_t version, int64_t now) {
  Prepared update(db_, "UPDATE cases SET current_version = ?, update_time = ? WHERE case_id = ?");
  update->bind(1, version);
  update->bind(2, now);
  update->bind(3, case_id);
  update->exec();
}

void SqliteTxn::SetPersonHash(const std::string& case_id, const std::string& person_hash,
                              const std::string& hash_key_id) {
  // Only if it differs: rewriting it would rewrite its index page too.
  Prepared rehash(db_,
                  "UPDATE cases SET person_hash = ?1, hash_key_id = ?3 "
                  "WHERE case_id = ?2 AND (person_hash IS NOT ?1 OR hash_key_id IS NOT ?3)");
  BindBlob(*rehash, 1, person_hash);
  rehash->bind(2, case_id);
  rehash->bind(3, hash_key_id);
  rehash->exec();
}

void SqliteTxn::TouchCase(const std::string& case_id, int64_t now) {
  Prepared update(db_, "UPDATE cases SET update_time = ? WHERE case_id = ?");
  update->bind(1, now);
  update->bind(2, case_id);
  update->exec();
}

void SqliteTxn::InsertAssignment(const AssignmentRow& row) {
  Prepared insert(
      db_,
      "INSERT INTO assignments (case_id, seq, municipality_code, decision_date, "
      "takeover_date, assign_time, author_organisation, author_actor) "
      "VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM assignments WHERE case_id = ?1), "
      "?2, ?3, ?4, ?5, ?6, ?7)");
  insert->bind(1, row.case_id);
  insert->bind(2, row.municipality_code);
  insert->bind(3, DateToInt(row.decision_date));
  insert->bind(4, DateToInt(row.takeover_date));
  insert->bind(5, row.assign_time);
  insert->bind(6, row.author_organisation);
  insert->bind(7, row.author_actor);
  insert->exec();
  Prepared update(db_, "UPDATE cases SET municipality_code = ?, update_time = ? WHERE case_id = ?");
  update->bind(1, row.municipality_code);
  update->bind(2, row.assign_time);
  update->bind(3, row.case_id);
  update->exec();
}

void SqliteTxn::InsertConsent(const ConsentRow& row) {
  Prepared insert(db_,
                  "INSERT INTO consents (consent_id, case_id, purpose, "
                  "recipient_municipality_code, given_date, record_time, "
                  "withdraw_time, author_organisation, author_actor) "
                  "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)");
  insert->bind(1, row.consent_id);
  insert->bind(2, row.case_id);
  insert->bind(3, static_cast<int>(row.consent.purpose()));
  insert->bind(4, row.consent.recipient_municipality_code());
  insert->bind(5, DateToInt(row.consent.given_date()));
  insert->bind(6, row.record_time);
  insert->bind(7, row.author_organisation);
  insert->bind(8, row.author_actor);
  insert->exec();
}

void SqliteTxn::SetConsentWithdrawn(const std::string& consent_id, int64_t now) {
  Prepared update(db_, "UPDATE consents SET withdraw_time = ? WHERE consent_id = ?");
  update->bind(1, now);
  update->bind(2, consent_id);
  update->exec();
}

void SqliteTxn::RecordRequest(const std::string& organisation, const std::string& request_id,
                              const RequestRow& row) {
  Prepared insert(db_,
                  "INSERT INTO requests (organisation, request_id, fingerprint, case_id, "
                  "version, consent_id, document_id) VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, organisation);
  insert->bind(2, request_id);
  BindBlob(*insert, 3, row.fingerprint);
  insert->bind(4, row.result.case_id);
  insert->bind(5, row.result.version);
  insert->bind(6, row.result.consent_id);
  insert->bind(7, row.result.document_id);
  insert->exec();
}

void SqliteTxn::EraseCaseData(const std::string& case_id, int64_t now) {
  for (const char* sql :
       {"DELETE FROM document_chunks WHERE blob_id IN "
        "(SELECT blob_id FROM document_versions WHERE case_id = ?)",
        "DELETE FROM document_versions WHERE case_id = ?",
        "DELETE FROM documents WHERE case_id = ?", "DELETE FROM case_versions WHERE case_id = ?",
        "DELETE FROM consents WHERE case_id = ?", "DELETE FROM assignments WHERE case_id = ?",
        "DELETE FROM requests WHERE case_id = ?"}) {
    Prepared erase(db_, sql);
    erase->bind(1, case_id);
    erase->exec();
  }
  Prepared mark(db_,
                "UPDATE cases SET erased_time = ?, update_time = ?, "
                "municipality_code = NULL WHERE case_id = ?");
  mark->bind(1, now);
  mark->bind(2, now);
  mark->bind(3, case_id);
  mark->exec();
}

std::vector<std::string> SqliteTxn::ExpiredCases(const v1::Date& takeover_before) {
  Prepared expired(db_,
                   "SELECT c.case_id FROM cases c JOIN assignments a ON a.case_id = c.case_id "
                   "AND a.seq = (SELECT MAX(seq) FROM assignments WHERE case_id = c.case_id) "
                   "WHERE c.erased_time IS NULL AND a.takeover_date < ?");
  expired->bind(1, DateToInt(takeover_before));
  std::vector<std::string> ids;
  while (expired->executeStep()) ids.push_back(expired->getColumn(0).getString());
  return ids;
}

void SqliteTxn::ScrubAfterCommit() {
  if (scrub_) *scrub_ = true;
}

}  // namespace handover::store
