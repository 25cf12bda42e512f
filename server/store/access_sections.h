// The sections an access record names: what a call disclosed or a write
// touched, named here and nowhere else. The service names what its answer
// disclosed (the views it sends); the store names what a write touched, in
// the write's own transaction (DescribeWrite in domain_store_tasks.h).
//
// A section is a top-level field of the form ("identity", "health"), "case"
// (a case's metadata), "consents", or "documents(<DocumentType>)" (documents
// of one type); calls about no form content name theirs directly
// ("access-log", "events", "assignment", "erasure").
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/case.pb.h"
#include "handover/v1/form.pb.h"

namespace handover::store {

// Adds `section` to the record's sections unless it is there.
void AddSection(absl::string_view section, v1::AccessRecord* record);
// The form's top-level sections that are present.
void AddFormSections(const v1::HandoverForm& form, v1::AccessRecord* record);
// The section of a form field path: its first component ("health" for
// "health.special_needs_description").
void AddFieldPathSection(absl::string_view form_path, v1::AccessRecord* record);
// What a case view discloses: "case", "consents" if it has any, and its
// form's sections. Does not name the case itself.
void AddCaseSections(const v1::Case& view, v1::AccessRecord* record);
// The section of documents of `type`: "documents(DOCUMENT_TYPE_...)".
std::string DocumentSection(v1::DocumentType type);

}  // namespace handover::store
