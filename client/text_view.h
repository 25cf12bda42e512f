// Readable text for a terminal: a case with its form in sections, and tables
// of cases and versions. Forms are rendered by walking the message, so every
// field the schema gains is shown without changes here.
#pragma once

#include <string>
#include <vector>

#include "handover/v1/audit.pb.h"
#include "handover/v1/case.pb.h"
#include "handover/v1/document_service.pb.h"
#include "handover/v1/feed.pb.h"

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
// "single adult" for HOUSEHOLD_TYPE_SINGLE_ADULT.
std::string EnumLabel(const google::protobuf::EnumValueDescriptor* value);

}  // namespace handover::client
