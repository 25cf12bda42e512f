#include "server/store/case_reads.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "server/store/case_state.h"
#include "server/store/sealing.h"

namespace handover::store {
namespace {

// Makes `row` the snapshot's shown version, its form opened if `with_form`.
absl::Status ShowVersion(const CaseCipher& cipher, const VersionRow& row, bool with_form,
                         CaseSnapshot* snapshot) {
  snapshot->version = VersionMeta(row);
  snapshot->meta.set_version(row.version);
  snapshot->meta.set_etag(CaseEtag(row.version));
  if (!with_form) {
    // Unopened, but only shown if it could be: not once its key is gone.
    return row.key_id == kCaseKeyId ? cipher.Key(row.case_id).status() : absl::OkStatus();
  }
  absl::StatusOr<std::string> plain =
      cipher.Open(row.case_id, row.sealed_form, FormAssociatedData(row.case_id, row.version));
  if (!plain.ok()) return plain.status();
  v1::HandoverForm form;
  if (!form.ParseFromString(*plain)) return absl::DataLossError("stored form does not parse");
  snapshot->form = std::move(form);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CaseSnapshot> LoadCase(ReadTxn& txn, const std::string& case_id) {
  std::optional<CaseSnapshot> head = txn.LoadCase(case_id);
  if (!head) return CaseNotFound(CaseName(case_id));
  return *std::move(head);
}

absl::StatusOr<v1::Consent> LoadConsent(ReadTxn& txn, const std::string& case_id,
                                        const std::string& consent_id) {
  std::optional<v1::Consent> consent = txn.LoadConsent(case_id, consent_id);
  if (!consent) {
    return absl::NotFoundError(absl::StrCat(ConsentName(case_id, consent_id), ": no such consent"));
  }
  return *std::move(consent);
}

v1::CaseVersion VersionMeta(const VersionRow& row) {
  v1::CaseVersion meta;
  meta.set_name(VersionName(row.case_id, row.version));
  meta.set_version(row.version);
  *meta.mutable_create_time() = ToTimestamp(row.create_time);
  meta.set_author_organisation(row.author_organisation);
  meta.set_author_actor(row.author_actor);
  return meta;
}

absl::StatusOr<CaseSnapshot> ReadSnapshot(ReadTxn& txn, const CaseCipher& cipher,
                                          const std::string& case_id, int64_t version,
                                          bool with_form, const Authorizer& authorize) {
  absl::StatusOr<CaseSnapshot> snapshot = LoadCase(txn, case_id);
  if (!snapshot.ok()) return snapshot.status();
  if (absl::Status allowed = authorize(snapshot->facts); !allowed.ok()) return allowed;
  if (version == 0) version = snapshot->meta.version();
  std::optional<VersionRow> row = txn.LoadVersion(case_id, version, with_form);
  if (!row) {
    return absl::NotFoundError(absl::StrCat(VersionName(case_id, version), ": no such version"));
  }
  if (absl::Status s = ShowVersion(cipher, *row, with_form, &*snapshot); !s.ok()) return s;
  return snapshot;
}

std::map<std::string, absl::StatusOr<CaseSnapshot>> ReadCurrentSnapshots(
    ReadTxn& txn, const CaseCipher& cipher, const std::vector<std::string>& case_ids,
    bool with_form, const Authorizer& authorize) {
  std::map<std::string, absl::StatusOr<CaseSnapshot>> result;
  for (const std::string& id : case_ids) result.emplace(id, CaseNotFound(CaseName(id)));
  if (case_ids.empty()) return result;
  for (auto& [id, rows] : txn.LoadCurrentCases(case_ids, with_form)) {
    absl::StatusOr<CaseSnapshot>& out = result.at(id);
    if (absl::Status allowed = authorize(rows.head.facts); !allowed.ok()) {
      out = allowed;
    } else if (absl::Status s = ShowVersion(cipher, rows.current, with_form, &rows.head); !s.ok()) {
      out = s;
    } else {
      out = std::move(rows.head);
    }
  }
  return result;
}

}  // namespace handover::store
