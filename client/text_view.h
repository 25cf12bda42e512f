// Readable text for a terminal: a case with its form in sections, and tables
// of cases and versions. Forms are rendered by walking the message, so every
// field the schema gains is shown without changes here.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"

#include "handover/v1/audit.pb.h"
#include "handover/v1/case.pb.h"
#include "handover/v1/document_service.pb.h"
#include "handover/v1/feed.pb.h"
#include "handover/v1/handover_service.pb.h"

namespace handover::client {

std::string RenderCase(const v1::Case& c);
std::string RenderVersion(const v1::CaseVersion& version);
std::string RenderCaseTable(const std::vector<v1::Case>& cases);
std::string RenderVersionTable(const std::vector<v1::CaseVersion>& versions);
std::string RenderConsent(const v1::Consent& consent);
// One line per document version: name, version, type, size, media type, title.
std::string RenderDocumentTable(const v1::ListDocumentsResponse& documents);
std::string RenderDocument(const v1::Document& document);
// "revision 42  form updated  cases/…  version 3  2026-…Z".
std::string RenderEventLine(const v1::ChangeEvent& event);
// The access log as a table, one record a line.
std::string RenderAccessTable(const std::vector<v1::AccessRecord>& records);
// A subject access report a person can read: who saw their data, when, why.
std::string RenderSubjectReport(const v1::SubjectAccessReportResponse& report);
// How the server sees the caller, one "key: value" a line: role,
// organisation, municipality code, CVR and name (each only if set), naming,
// actor, certificate serial (if set), and the certificate's expiry in RFC
// 3339 UTC with whole days from `now` ("in 30 days", "expired 2 days ago").
std::string RenderWhoAmI(const v1::WhoAmIResponse& me, absl::Time now);
// "single adult" for HOUSEHOLD_TYPE_SINGLE_ADULT.
std::string EnumLabel(const google::protobuf::EnumValueDescriptor* value);

}  // namespace handover::client
