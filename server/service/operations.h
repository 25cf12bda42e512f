// The operation table: one row per RPC of the three services, read by the
// pipeline (pipeline.h). A row holds no rule of its own: who may call, and
// which cases, is the policy's access table (policy::kAccessTable, read
// through policy::CheckRole and policy::Authorize), and the row only names
// which of its rows applies; the sections are named in
// server/store/access_sections.h. tests/unit/operations_test.cc checks that
// every method of the three services has exactly one row.
#pragma once

#include "server/policy/policy.h"

namespace handover::service {

struct Operation {
  // The method's name, as the access record's `operation` names it.
  const char* name;
  // The access-table row of the role check (policy::CheckRole), run before
  // the request is looked at: which roles may call the method at all.
  policy::Operation access;
  // The access-table row the store authorises the case with
  // (policy::Authorize on the case's facts, CallSteps::CaseAuthorizer). The
  // same as `access`, except for the feed: Sync and Watch include a case's
  // content only where GetCase would show it.
  policy::Operation case_access;
  // The call is about one case, which its record names (CallSteps::NameCase).
  bool about_one_case;
  // The section the record names whatever the answer discloses, or nullptr:
  // named with the case for a call about one case, from the start otherwise.
  // What an answer discloses (form sections, documents of a type, "events")
  // the handler names as it projects the view.
  const char* section;
};

inline constexpr Operation kCreateCase{"CreateCase", policy::Operation::kCreateCase,
                                       policy::Operation::kCreateCase, false, nullptr};
inline constexpr Operation kGetCase{"GetCase", policy::Operation::kGetCase,
                                    policy::Operation::kGetCase, true, nullptr};
inline constexpr Operation kListCases{"ListCases", policy::Operation::kListCases,
                                      policy::Operation::kListCases, false, nullptr};
inline constexpr Operation kUpdateForm{"UpdateForm", policy::Operation::kUpdateForm,
                                       policy::Operation::kUpdateForm, true, nullptr};
inline constexpr Operation kListVersions{"ListVersions", policy::Operation::kListVersions,
                                         policy::Operation::kListVersions, true, "versions"};
inline constexpr Operation kGetVersion{"GetVersion", policy::Operation::kGetVersion,
                                       policy::Operation::kGetVersion, true, nullptr};
inline constexpr Operation kAssignCase{"AssignCase", policy::Operation::kAssignCase,
                                       policy::Operation::kAssignCase, true, "assignment"};
inline constexpr Operation kRecordConsent{"RecordConsent", policy::Operation::kRecordConsent,
                                          policy::Operation::kRecordConsent, true, "consents"};
inline constexpr Operation kWithdrawConsent{"WithdrawConsent", policy::Operation::kWithdrawConsent,
                                            policy::Operation::kWithdrawConsent, true, "consents"};
inline constexpr Operation kSync{"Sync", policy::Operation::kReadFeed, policy::Operation::kGetCase,
                                 false, nullptr};
inline constexpr Operation kWatch{"Watch", policy::Operation::kReadFeed,
                                  policy::Operation::kGetCase, false, nullptr};
inline constexpr Operation kEraseCase{"EraseCase", policy::Operation::kEraseCase,
                                      policy::Operation::kEraseCase, true, "erasure"};
inline constexpr Operation kWhoAmI{"WhoAmI", policy::Operation::kWhoAmI, policy::Operation::kWhoAmI,
                                   false, nullptr};

inline constexpr Operation kQueryAccessLog{"QueryAccessLog", policy::Operation::kReadAccessLog,
                                           policy::Operation::kReadAccessLog, false, "access-log"};
inline constexpr Operation kExportAccessLog{"ExportAccessLog", policy::Operation::kReadAccessLog,
                                            policy::Operation::kReadAccessLog, false, "access-log"};
inline constexpr Operation kSubjectAccessReport{
    "SubjectAccessReport", policy::Operation::kReadAccessLog, policy::Operation::kReadAccessLog,
    false, "access-log"};

inline constexpr Operation kUploadDocument{"UploadDocument", policy::Operation::kUploadDocument,
                                           policy::Operation::kUploadDocument, true, nullptr};
inline constexpr Operation kListDocuments{"ListDocuments", policy::Operation::kReadDocuments,
                                          policy::Operation::kReadDocuments, true, nullptr};
inline constexpr Operation kDownloadDocument{"DownloadDocument", policy::Operation::kReadDocuments,
                                             policy::Operation::kReadDocuments, true, nullptr};

// Every row, for tests and tools.
inline constexpr const Operation* kAllRpcs[] = {
    &kCreateCase,     &kGetCase,       &kListCases,        &kUpdateForm,      &kListVersions,
    &kGetVersion,     &kAssignCase,    &kRecordConsent,    &kWithdrawConsent, &kSync,
    &kWatch,          &kEraseCase,     &kQueryAccessLog,   &kExportAccessLog, &kSubjectAccessReport,
    &kUploadDocument, &kListDocuments, &kDownloadDocument, &kWhoAmI};

}  // namespace handover::service
