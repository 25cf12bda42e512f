// PgTxn: cases, versions, assignments, consents, request fingerprints and
// erasure; and the value spellings of pg_values.h.
#include "absl/strings/str_cat.h"
#include "common/resource_names.h"
#include "server/store/case_state.h"
#include "server/store/postgres/pg_txn.h"
#include "server/store/postgres/pg_values.h"
#include "server/store/sealing.h"

namespace handover::store {
namespace {

// One array element, double-quoted with '"' and '\' escaped.
void AppendElement(std::string* literal, const std::string& value) {
  if (literal->size() > 1) *literal += ',';
  *literal += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') *literal += '\\';
    *literal += c;
  }
  *literal += '"';
}

}  // namespace

std::string TextArray(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (const std::string& value : values) AppendElement(&literal, value);
  return literal + "}";
}

std::string ByteaArray(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (const std::string& value : values) {
    std::string hex = "\\x";
    for (unsigned char c : value) absl::StrAppend(&hex, absl::Hex(c, absl::kZeroPad2));
    AppendElement(&literal, hex);
  }
  return literal + "}";
}

namespace {

constexpr char kConsentColumns[] =
    "consent_id, purpose, recipient_municipality_code, given_date, record_time, withdraw_time";

// kConsentColumns at `first`.
ConsentReadRow ConsentColumns(const pqxx::row& row, int first) {
  ConsentReadRow consent{.consent_id = row[first].c_str(),
                         .purpose = row[first + 1].as<int>(),
                         .recipient_municipality_code = row[first + 2].c_str(),
                         .given_date = row[first + 3].as<int64_t>(),
                         .record_time = row[first + 4].as<int64_t>()};
  if (!row[first + 5].is_null()) consent.withdraw_time = row[first + 5].as<int64_t>();
  return consent;
}

// "operator_id, current_version, create_time, update_time" at `first`.
CaseHeadRow HeadColumns(const pqxx::row& row, int first) {
  return {.operator_id = row[first].c_str(),
          .current_version = row[first + 1].as<int64_t>(),
          .create_time = row[first + 2].as<int64_t>(),
          .update_time = row[first + 3].as<int64_t>()};
}

// "municipality_code, decision_date, takeover_date, assign_time" at `first`.
AssignmentReadRow AssignmentColumns(const pqxx::row& row, int first) {
  return {.municipality_code = row[first].c_str(),
          .decision_date = row[first + 1].as<int64_t>(),
          .takeover_date = row[first + 2].as<int64_t>(),
          .assign_time = row[first + 3].as<int64_t>()};
}

// From "form, create_time, author_organisation, author_actor, key_id" at
// `first` (form NULL when not asked for).
VersionRow VersionFromRow(const pqxx::row& row, int first, const std::string& case_id,
                          int64_t version, bool with_form) {
  VersionRow v{.case_id = case_id, .version = version};
  if (with_form) v.sealed_form = Bytes(row[first]);
  v.create_time = row[first + 1].as<int64_t>();
  v.author_organisation = row[first + 2].c_str();
  v.author_actor = row[first + 3].c_str();
  v.key_id = row[first + 4].is_null() ? "" : row[first + 4].c_str();
  return v;
}

}  // namespace

std::optional<CaseSnapshot> PgTxn::LoadCase(const std::string& case_id) {
  const pqxx::result row =
      Run("SELECT operator_id, current_version, create_time, update_time "
          "FROM cases WHERE case_id = $1 AND erased_time IS NULL",
          case_id);
  if (row.empty()) return std::nullopt;
  const CaseHeadRow head = HeadColumns(row[0], 0);
  std::vector<AssignmentReadRow> assignments;
  for (const pqxx::row& assignment :
       Run("SELECT municipality_code, decision_date, takeover_date, assign_time FROM assignments "
           "WHERE case_id = $1 ORDER BY seq DESC LIMIT 2",
           case_id)) {
    assignments.push_back(AssignmentColumns(assignment, 0));
  }
  std::vector<ConsentReadRow> consents;
  for (const pqxx::row& consent :
       Run(absl::StrCat("SELECT ", kConsentColumns,
                        " FROM consents WHERE case_id = $1 ORDER BY record_time, consent_id"),
           case_id)) {
    consents.push_back(ConsentColumns(consent, 0));
  }
  return CaseFromRows(case_id, head, assignments, consents);
}

std::optional<VersionRow> PgTxn::LoadVersion(const std::string& case_id, int64_t version,
                                             bool with_form) {
  const pqxx::result row =
      Run(with_form ? "SELECT form, create_time, author_organisation, author_actor, key_id "
                      "FROM case_versions WHERE case_id = $1 AND version = $2"
                    : "SELECT NULL, create_time, author_organisation, author_actor, key_id "
                      "FROM case_versions WHERE case_id = $1 AND version = $2",
          case_id, version);
  if (row.empty()) return std::nullopt;
  return VersionFromRow(row[0], 0, case_id, version, with_form);
}

std::map<std::string, CaseRows> PgTxn::LoadCurrentCases(const std::vector<std::string>& case_ids,
                                                        bool with_form) {
  if (case_ids.empty()) return {};
  const std::string ids = TextArray(case_ids);
  const pqxx::result cases =
      Run(absl::StrCat("SELECT c.case_id, c.operator_id, c.current_version, c.create_time, "
                       "c.update_time, ",
                       with_form ? "v.form" : "NULL",
                       ", v.create_time, v.author_organisation, v.author_actor, v.key_id "
                       "FROM cases c JOIN case_versions v "
                       "ON v.case_id = c.case_id AND v.version = c.current_version "
                       "WHERE c.erased_time IS NULL AND c.case_id = ANY($1::text[])"),
          ids);
  std::map<std::string, CurrentCaseRows> rows;
  for (const pqxx::row& row : cases) {
    const std::string id = row[0].c_str();
    rows.emplace(id, CurrentCaseRows{
                         .head = HeadColumns(row, 1),
                         .current = VersionFromRow(row, 5, id, row[2].as<int64_t>(), with_form)});
  }

  for (const pqxx::row& row :
       Run("SELECT case_id, municipality_code, decision_date, takeover_date, assign_time "
           "FROM assignments WHERE case_id = ANY($1::text[]) ORDER BY case_id, seq DESC",
           ids)) {
    auto it = rows.find(row[0].c_str());
    if (it != rows.end() && it->second.assignments.size() < 2) {
      it->second.assignments.push_back(AssignmentColumns(row, 1));
    }
  }

  for (const pqxx::row& row : Run(absl::StrCat("SELECT case_id, ", kConsentColumns,
                                               " FROM consents WHERE case_id = ANY($1::text[]) "
                                               "ORDER BY case_id, record_time, consent_id"),
                                  ids)) {
    auto it = rows.find(row[0].c_str());
    if (it != rows.end()) it->second.consents.push_back(ConsentColumns(row, 1));
  }
  return CurrentCasesFromRows(rows);
}

std::vector<std::string> PgTxn::SelectCases(const CaseSelection& selection) {
  std::string sql = "SELECT case_id FROM cases WHERE case_id > $1 AND erased_time IS NULL";
  std::vector<std::string> parameters = {selection.after_case_id};
  if (selection.scope != CaseQuery::Scope::kAll) {
    parameters.push_back(selection.organisation_id);
    absl::StrAppend(&sql,
                    selection.scope == CaseQuery::Scope::kOperator ? " AND operator_id = $"
                                                                   : " AND municipality_code = $",
                    parameters.size());
  }
  if (!selection.person_hashes.empty()) {
    parameters.push_back(ByteaArray(selection.person_hashes));
    absl::StrAppend(&sql, " AND person_hash = ANY($", parameters.size(), "::bytea[])");
  }
  parameters.push_back(std::to_string(selection.limit));
  absl::StrAppend(&sql, " ORDER BY case_id LIMIT $", parameters.size());
  std::vector<std::string> ids;
  for (const pqxx::row& row : Run(sql, pqxx::prepare::make_dynamic_params(parameters))) {
    ids.push_back(row[0].c_str());
  }
  return ids;
}

std::vector<VersionRow> PgTxn::ListVersions(const std::string& case_id, int64_t before_version,
                                            int limit) {
  const pqxx::result rows =
      Run("SELECT version, create_time, author_organisation, author_actor FROM case_versions "
          "WHERE case_id = $1 AND version < $2 ORDER BY version DESC LIMIT $3",
          case_id, before_version > 0 ? before_version : INT64_MAX, limit);
  std::vector<VersionRow> versions;
  for (const pqxx::row& row : rows) {
    versions.push_back({.case_id = case_id,
                        .version = row[0].as<int64_t>(),
                        .create_time = row[1].as<int64_t>(),
                        .author_organisation = row[2].c_str(),
                        .author_actor = row[3].c_str()});
  }
  return versions;
}

std::optional<v1::Consent> PgTxn::LoadConsent(const std::string& case_id,
                                              const std::string& consent_id) {
  const pqxx::result row =
      Run(absl::StrCat("SELECT ", kConsentColumns,
                       " FROM consents WHERE consent_id = $1 AND case_id = $2"),
          consent_id, case_id);
  if (row.empty()) return std::nullopt;
  return ConsentFromRow(case_id, ConsentColumns(row[0], 0));
}

bool PgTxn::HasLiveCaseForPerson(const std::string& operator_id,
                                 const std::vector<std::string>& person_hashes) {
  return !Run("SELECT 1 FROM cases WHERE operator_id = $1 AND erased_time IS NULL "
              "AND person_hash = ANY($2::bytea[]) LIMIT 1",
              operator_id, ByteaArray(person_hashes))
              .empty();
}

std::vector<std::string> PgTxn::CasesOfPerson(const std::vector<std::string>& person_hashes) {
  std::vector<std::string> ids;
  for (const pqxx::row& row : Run("SELECT case_id FROM cases WHERE person_hash = ANY($1::bytea[]) "
                                  "ORDER BY case_id",
                                  ByteaArray(person_hashes))) {
    ids.push_back(row[0].c_str());
  }
  return ids;
}

std::optional<RequestRow> PgTxn::FindRequest(const std::string& organisation,
                                             const std::string& request_id) {
  const pqxx::result row =
      Run("SELECT fingerprint, case_id, version, consent_id, document_id FROM requests "
          "WHERE organisation = $1 AND request_id = $2",
          organisation, request_id);
  if (row.empty()) return std::nullopt;
  return RequestRow{
      .fingerprint = Bytes(row[0][0]),
      .result = {row[0][1].c_str(), row[0][2].as<int64_t>(), row[0][3].c_str(), row[0][4].c_str()}};
}

void PgTxn::InsertCase(const std::string& case_id, const std::string& operator_id,
                       const std::string& person_hash, const std::string& hash_key_id,
                       int64_t now) {
  Run("INSERT INTO cases (case_id, operator_id, municipality_code, current_version, "
      "person_hash, hash_key_id, create_time, update_time) "
      "VALUES ($1, $2, NULL, 1, $3, $4, $5, $5)",
      case_id, operator_id, Bytea(person_hash), hash_key_id, now);
}

void PgTxn::InsertVersion(const VersionRow& row) {
  Run("INSERT INTO case_versions (case_id, version, form, create_time, author_organisation, "
      "author_actor, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      row.case_id, row.version, Bytea(row.sealed_form), row.create_time, row.author_organisation,
      row.author_actor, row.key_id);
}

void PgTxn::SetCurrentVersion(const std::string& case_id, int64_t version, int64_t now) {
  Run("UPDATE cases SET current_version = $1, update_time = $2 WHERE case_id = $3", version, now,
      case_id);
}

void PgTxn::SetPersonHash(const std::string& case_id, const std::string& person_hash,
                          const std::string& hash_key_id) {
  Run("UPDATE cases SET person_hash = $1, hash_key_id = $3 WHERE case_id = $2 "
      "AND (person_hash IS DISTINCT FROM $1 OR hash_key_id IS DISTINCT FROM $3)",
      Bytea(person_hash), case_id, hash_key_id);
}

void PgTxn::TouchCase(const std::string& case_id, int64_t now) {
  Run("UPDATE cases SET update_time = $1 WHERE case_id = $2", now, case_id);
}

void PgTxn::InsertAssignment(const AssignmentRow& row) {
  Run("INSERT INTO assignments (case_id, seq, municipality_code, decision_date, takeover_date, "
      "assign_time, author_organisation, author_actor) "
      "VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM assignments WHERE case_id = $1), "
      "$2, $3, $4, $5, $6, $7)",
      row.case_id, row.municipality_code, DateToInt(row.decision_date),
      DateToInt(row.takeover_date), row.assign_time, row.author_organisation, row.author_actor);
  Run("UPDATE cases SET municipality_code = $1, update_time = $2 WHERE case_id = $3",
      row.municipality_code, row.assign_time, row.case_id);
}

void PgTxn::InsertConsent(const ConsentRow& row) {
  Run("INSERT INTO consents (consent_id, case_id, purpose, recipient_municipality_code, "
      "given_date, record_time, withdraw_time, author_organisation, author_actor) "
      "VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)",
      row.consent_id, row.case_id, static_cast<int>(row.consent.purpose()),
      row.consent.recipient_municipality_code(), DateToInt(row.consent.given_date()),
      row.record_time, row.author_organisation, row.author_actor);
}

void PgTxn::SetConsentWithdrawn(const std::string& consent_id, int64_t now) {
  Run("UPDATE consents SET withdraw_time = $1 WHERE consent_id = $2", now, consent_id);
}

void PgTxn::RecordRequest(const std::string& organisation, const std::string& request_id,
                          const RequestRow& row) {
  Run("INSERT INTO requests (organisation, request_id, fingerprint, case_id, version, "
      "consent_id, document_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      organisation, request_id, Bytea(row.fingerprint), row.result.case_id, row.result.version,
      row.result.consent_id, row.result.document_id);
}

void PgTxn::EraseCaseData(const std::string& case_id, int64_t now) {
  for (const char* sql :
       {"DELETE FROM document_chunks WHERE blob_id IN "
        "(SELECT blob_id FROM document_versions WHERE case_id = $1)",
        "DELETE FROM document_versions WHERE case_id = $1",
        "DELETE FROM documents WHERE case_id = $1", "DELETE FROM case_versions WHERE case_id = $1",
        "DELETE FROM consents WHERE case_id = $1", "DELETE FROM assignments WHERE case_id = $1",
        "DELETE FROM requests WHERE case_id = $1"}) {
    Run(sql, case_id);
  }
  Run("UPDATE cases SET erased_time = $1, update_time = $1, municipality_code = NULL "
      "WHERE case_id = $2",
      now, case_id);
}

std::vector<std::string> PgTxn::ExpiredCases(const v1::Date& takeover_before) {
  std::vector<std::string> ids;
  for (const pqxx::row& row :
       Run("SELECT c.case_id FROM cases c JOIN assignments a ON a.case_id = c.case_id "
           "AND a.seq = (SELECT MAX(seq) FROM assignments WHERE case_id = c.case_id) "
           "WHERE c.erased_time IS NULL AND a.takeover_date < $1",
           DateToInt(takeover_before))) {
    ids.push_back(row[0].c_str());
  }
  return ids;
}

// PostgreSQL keeps deleted rows' old versions until VACUUM; the case's data
// is sealed under its key, which the domain store deleted first, so what is
// left there cannot be opened (deploy/postgresql.md).
void PgTxn::ScrubAfterCommit() {}

}  // namespace handover::store
