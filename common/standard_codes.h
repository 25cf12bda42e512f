// Membership tests for the public code lists the form uses.
#pragma once

#include "absl/strings/string_view.h"

namespace handover {

// An officially assigned ISO 3166-1 alpha-2 country code, upper case ("SY").
bool IsIso3166Alpha2(absl::string_view code);
// Shape of an ISO 639-1 or 639-3 language code: two or three lower-case
// letters ("ar", "prs"). The 639-3 list has ~7,900 entries and changes
// yearly, so only the shape is checked.
bool IsIso639Shape(absl::string_view code);
// An ISCO-08 code at any level: 1 to 4 digits ("2", "22", "222", "2221").
bool IsIsco08Shape(absl::string_view code);
// A Danish municipality code: three digits ("760").
bool IsMunicipalityCode(absl::string_view code);

}  // namespace handover
