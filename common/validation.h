// Validation of the handover form and request fields. Every failure is
// INVALID_ARGUMENT "<field path>: <rule>" with paths rooted at the request
// ("form.identity.nationalities[2]: must be an ISO 3166-1 alpha-2 code");
// messages never repeat the offending value.
#pragma once

#include <cstddef>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "handover/v1/form.pb.h"

namespace handover {

// Size limits on form content. Defaults are generous for real forms and stop
// a client from filling the database through one field.
struct FormLimits {
  // Longest string field, in bytes. Default 4096.
  size_t max_text_bytes = 4096;
  // Most elements in any repeated field. Default 100.
  size_t max_list_items = 100;
};

// Checks a complete form (after any field mask is applied): required fields,
// sizes, known enum values, valid dates, standard codes, and the domain rules
// (e.g. a social report only for an unaccompanied minor). `path` prefixes
// every field path, normally "form".
absl::Status ValidateForm(const v1::HandoverForm& form, const FormLimits& limits,
                          absl::string_view path = "form");

// The household rules for a document of `type` on a case with `form`: a
// social report only for an unaccompanied minor, a school, club or
// kindergarten statement only for a family with children. INVALID_ARGUMENT
// naming `field` otherwise.
absl::Status CheckDocumentType(v1::DocumentType type, const v1::HandoverForm& form,
                               absl::string_view field);

// Refuses a message carrying fields the schema does not name (a newer
// client's, or a probe's): INVALID_ARGUMENT "<path>: unknown field number N
// is not in the schema", with `path` the message's path from the request
// ("form.health"; "" for the request itself). Looks through every nested
// message, repeated and map fields included.
absl::Status RejectUnknownFields(const google::protobuf::Message& message,
                                 absl::string_view path = "");

// Text (a form's strings, a document's title): at most `max_bytes`, and no
// control character but tab and line breaks — a NUL or an escape sequence is
// never part of a name or a note, and would reach terminals, logs and the
// municipalities' systems. `field` names it.
absl::Status ValidateText(absl::string_view text, size_t max_bytes, absl::string_view field);

// A reason code (why a case is erased, the purpose of a call): 1 to 64
// characters of [a-z0-9._:-], so it can carry no free text and no personal
// data into the access log. INVALID_ARGUMENT "<field>: 1 to 64 of a-z 0-9 .
// _ : - (a reason code)" otherwise.
absl::Status ValidateReasonCode(absl::string_view code, absl::string_view field);

// A request id: 1 to 128 characters of [A-Za-z0-9._:-]. `field` names it.
absl::Status ValidateRequestId(absl::string_view request_id, absl::string_view field);

// The person identifier (udlændingenummer), its one home: the format is
// 6 to 12 digits, optionally with one hyphen inside, and the hyphen carries
// no meaning. ValidatePersonIdentifier checks the format (on a form, in
// ListCases and in SubjectAccessReport); the store looks identifiers up by a
// keyed hash of CanonicalPersonIdentifier, so both spellings find one person.
absl::Status ValidatePersonIdentifier(absl::string_view id, absl::string_view field);
// The identifier without its hyphen ("1234-5678" -> "12345678").
std::string CanonicalPersonIdentifier(absl::string_view id);

}  // namespace handover
