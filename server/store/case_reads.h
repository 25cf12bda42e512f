// Reading a case as the domain store shows it, inside a transaction the
// caller owns: the backend's rows, the authorizer asked before anything
// sealed is opened, then the shown version's form opened.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/store/backend.h"
#include "server/store/case_store.h"
#include "server/store/sealing.h"

namespace handover::store {

inline absl::Status AllowAll(const policy::CaseFacts&) { return absl::OkStatus(); }

// The live case's metadata and facts (no version), NOT_FOUND (the same
// message as the policy's for a case out of scope) if absent or erased.
absl::StatusOr<CaseSnapshot> LoadCase(ReadTxn& txn, const std::string& case_id);

// One consent of a case, NOT_FOUND if absent or of another case.
absl::StatusOr<v1::Consent> LoadConsent(ReadTxn& txn, const std::string& case_id,
                                        const std::string& consent_id);

// The version's metadata: name, number, time, author.
v1::CaseVersion VersionMeta(const VersionRow& row);

// LoadCase, then `authorize` on the facts, then the version (0: current) with
// its form opened if `with_form`. NOT_FOUND for a missing version or a case
// whose key is gone (erased); DATA_LOSS if the sealed form does not open.
absl::StatusOr<CaseSnapshot> ReadSnapshot(ReadTxn& txn, const CaseCipher& cipher,
                                          const std::string& case_id, int64_t version,
                                          bool with_form, const Authorizer& authorize);

// The current snapshot of each of `case_ids`, as ReadSnapshot(version 0)
// would give it one by one (NOT_FOUND, authorize's refusal, or the snapshot),
// read with one backend call for all of them.
std::map<std::string, absl::StatusOr<CaseSnapshot>> ReadCurrentSnapshots(
    ReadTxn& txn, const CaseCipher& cipher, const std::vector<std::string>& case_ids,
    bool with_form, const Authorizer& authorize);

}  // namespace handover::store
