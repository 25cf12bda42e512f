#include "common/validation.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/dates.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "common/standard_codes.h"

namespace handover {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

std::string Index(absl::string_view path, int i) { return absl::StrCat(path, "[", i, "]"); }
std::string Child(absl::string_view path, absl::string_view field) {
  return absl::StrCat(path, ".", field);
}

// Walks every field by reflection: string sizes and characters, list sizes,
// enum values known to this schema, and real calendar dates.
absl::Status CheckGeneric(const Message& message, const FormLimits& limits,
                          const std::string& path) {
  if (message.GetDescriptor() == v1::Date::descriptor()) {
    if (!IsValidDate(static_cast<const v1::Date&>(message))) {
      return FieldError(path, "must be a real calendar date (year 1-9999)");
    }
    return absl::OkStatus();
  }
  const auto* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string field_path = Child(path, field->name());
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(message, field);
      if (static_cast<size_t>(n) > limits.max_list_items) {
        return FieldError(field_path, absl::StrCat("at most ", limits.max_list_items, " items"));
      }
      for (int i = 0; i < n; ++i) {
        const std::string item = Index(field_path, i);
        switch (field->cpp_type()) {
          case FieldDescriptor::CPPTYPE_STRING: {
            std::string scratch;
            RETURN_IF_ERROR(
                ValidateText(reflection->GetRepeatedStringReference(message, field, i, &scratch),
                             limits.max_text_bytes, item));
            break;
          }
          case FieldDescriptor::CPPTYPE_ENUM:
            if (field->enum_type()->FindValueByNumber(
                    reflection->GetRepeatedEnumValue(message, field, i)) == nullptr) {
              return FieldError(item, "unknown enum value");
            }
            break;
          case FieldDescriptor::CPPTYPE_MESSAGE:
            if (auto s =
                    CheckGeneric(reflection->GetRepeatedMessage(message, field, i), limits, item);
                !s.ok()) {
              return s;
            }
            break;
          default:
            break;
        }
      }
      continue;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        RETURN_IF_ERROR(ValidateText(reflection->GetStringReference(message, field, &scratch),
                                     limits.max_text_bytes, field_path));
        break;
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        if (field->enum_type()->FindValueByNumber(reflection->GetEnumValue(message, field)) ==
            nullptr) {
          return FieldError(field_path, "unknown enum value");
        }
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (auto s = CheckGeneric(reflection->GetMessage(message, field), limits, field_path);
            !s.ok()) {
          return s;
        }
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckCountry(absl::string_view code, const std::string& path) {
  if (!code.empty() && !IsIso3166Alpha2(code)) {
    return FieldError(path, "must be an ISO 3166-1 alpha-2 country code in upper case");
  }
  return absl::OkStatus();
}

absl::Status CheckLanguage(absl::string_view code, const std::string& path) {
  if (!code.empty() && !IsIso639Shape(code)) {
    return FieldError(path, "must be an ISO 639 language code (2 or 3 lower-case letters)");
  }
  return absl::OkStatus();
}

absl::Status CheckRange(int value, int low, int high, const std::string& path) {
  if (value < low || value > high) {
    return FieldError(path, absl::StrCat("must be from ", low, " to ", high));
  }
  return absl::OkStatus();
}

absl::Status CheckPersonalNumber(absl::string_view cpr, const std::string& path) {
  std::string digits = std::string(cpr);
  if (digits.size() == 11 && digits[6] == '-') digits.erase(6, 1);
  const bool all_digits =
      digits.size() == 10 && digits.find_first_not_of("0123456789") == std::string::npos;
  auto two = [&](int at) { return (digits[at] - '0') * 10 + (digits[at + 1] - '0'); };
  // The century is coded in the serial digits; 2000 is a leap year, so testing
  // day and month against it accepts every real birth date.
  if (!all_digits || !IsValidDate(MakeDate(2000, two(2), two(0)))) {
    return FieldError(path, "must be ten digits DDMMYYSSSS (a hyphen after DDMMYY is allowed)");
  }
  return absl::OkStatus();
}

absl::Status CheckIdentity(const v1::Identity& identity, const std::string& path) {
  RETURN_IF_ERROR(
      ValidatePersonIdentifier(identity.person_identifier(), Child(path, "person_identifier")));
  if (!identity.personal_number().empty()) {
    RETURN_IF_ERROR(
        CheckPersonalNumber(identity.personal_number(), Child(path, "personal_number")));
  }
  if (identity.given_names().empty()) return FieldError(Child(path, "given_names"), "required");
  if (identity.family_name().empty()) return FieldError(Child(path, "family_name"), "required");
  if (!identity.has_date_of_birth()) return FieldError(Child(path, "date_of_birth"), "required");
  if (CompareDates(identity.date_of_birth(), TodayUtc()) > 0) {
    return FieldError(Child(path, "date_of_birth"), "must not be in the future");
  }
  for (int i = 0; i < identity.nationalities_size(); ++i) {
    RETURN_IF_ERROR(
        CheckCountry(identity.nationalities(i), Index(Child(path, "nationalities"), i)));
  }
  for (int i = 0; i < identity.spoken_languages_size(); ++i) {
    RETURN_IF_ERROR(
        CheckLanguage(identity.spoken_languages(i), Index(Child(path, "spoken_languages"), i)));
  }
  RETURN_IF_ERROR(
      CheckLanguage(identity.interpreter_language(), Child(path, "interpreter_language")));
  if (identity.interpreter_needed() && identity.interpreter_language().empty()) {
    return FieldError(Child(path, "interpreter_language"), "required when interpreter_needed");
  }
  return absl::OkStatus();
}

absl::Status CheckHousehold(const v1::Household& household, const std::string& path) {
  if (household.type() == v1::HOUSEHOLD_TYPE_UNSPECIFIED) {
    return FieldError(Child(path, "type"), "required");
  }
  for (int i = 0; i < household.related_cases_size(); ++i) {
    RETURN_IF_ERROR(
        ParseCaseName(household.related_cases(i), Index(Child(path, "related_cases"), i)).status());
  }
  if (household.children_size() > 0 &&
      household.type() != v1::HOUSEHOLD_TYPE_FAMILY_WITH_CHILDREN) {
    return FieldError(Child(path, "children"), "only for HOUSEHOLD_TYPE_FAMILY_WITH_CHILDREN");
  }
  return absl::OkStatus();
}

absl::Status CheckCompetences(const v1::FormalCompetences& formal, const std::string& path) {
  for (int i = 0; i < formal.education_size(); ++i) {
    const std::string item = Index(Child(path, "education"), i);
    RETURN_IF_ERROR(CheckCountry(formal.education(i).country(), Child(item, "country")));
    RETURN_IF_ERROR(CheckRange(formal.education(i).years(), 0, 30, Child(item, "years")));
  }
  for (int i = 0; i < formal.work_experience_size(); ++i) {
    const std::string item = Index(Child(path, "work_experience"), i);
    const auto& work = formal.work_experience(i);
    if (!work.isco_code().empty() && !IsIsco08Shape(work.isco_code())) {
      return FieldError(Child(item, "isco_code"), "must be an ISCO-08 code of 1 to 4 digits");
    }
    RETURN_IF_ERROR(CheckCountry(work.country(), Child(item, "country")));
    RETURN_IF_ERROR(CheckRange(work.years(), 0, 60, Child(item, "years")));
  }
  return absl::OkStatus();
}

absl::Status CheckLanguages(const v1::LanguageProfile& languages, const std::string& path) {
  RETURN_IF_ERROR(CheckLanguage(languages.mother_tongue(), Child(path, "mother_tongue")));
  for (int i = 0; i < languages.other_languages_size(); ++i) {
    const std::string item = Index(Child(path, "other_languages"), i);
    if (languages.other_languages(i).language().empty()) {
      return FieldError(Child(item, "language"), "required");
    }
    RETURN_IF_ERROR(
        CheckLanguage(languages.other_languages(i).language(), Child(item, "language")));
  }
  return absl::OkStatus();
}

absl::Status CheckDocuments(const v1::HandoverForm& form, const std::string& path) {
  for (int i = 0; i < form.documents_size(); ++i) {
    RETURN_IF_ERROR(
        CheckDocumentType(form.documents(i).type(), form, Child(Index(path, i), "type")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RejectUnknownFields(const Message& message, absl::string_view path) {
  const auto* reflection = message.GetReflection();
  if (const auto& unknown = reflection->GetUnknownFields(message); !unknown.empty()) {
    return FieldError(
        path.empty() ? "request" : path,
        absl::StrCat("unknown field number ", unknown.field(0).number(), " is not in the schema"));
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string field_path =
        path.empty() ? std::string(field->name()) : Child(path, field->name());
    if (field->is_repeated()) {
      for (int i = 0, n = reflection->FieldSize(message, field); i < n; ++i) {
        absl::Status s = RejectUnknownFields(reflection->GetRepeatedMessage(message, field, i),
                                             field->is_map() ? field_path : Index(field_path, i));
        if (!s.ok()) return s;
      }
    } else if (absl::Status s =
                   RejectUnknownFields(reflection->GetMessage(message, field), field_path);
               !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateText(absl::string_view text, size_t max_bytes, absl::string_view field) {
  if (text.size() > max_bytes) {
    return FieldError(field, absl::StrCat("at most ", max_bytes, " bytes"));
  }
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7f) {
      return FieldError(field, "must not contain control characters (tab and line breaks only)");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view request_id, absl::string_view field) {
  if (request_id.empty()) return FieldError(field, "required");
  if (request_id.size() > 128) return FieldError(field, "at most 128 characters");
  for (char c : request_id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return FieldError(field, "only letters, digits and . _ : -");
  }
  return absl::OkStatus();
}

absl::Status ValidateReasonCode(absl::string_view code, absl::string_view field) {
  if (code.empty() || code.size() > 64 ||
      code.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._:-") !=
          absl::string_view::npos) {
    return FieldError(field, "1 to 64 of a-z 0-9 . _ : - (a reason code)");
  }
  return absl::OkStatus();
}

absl::Status ValidatePersonIdentifier(absl::string_view id, absl::string_view field) {
  if (id.empty()) return FieldError(field, "required");
  size_t digits = 0, hyphens = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    if (id[i] >= '0' && id[i] <= '9') {
      ++digits;
    } else if (id[i] == '-' && i > 0 && i + 1 < id.size()) {
      ++hyphens;
    } else {
      digits = 0;
      break;
    }
  }
  if (digits < 6 || digits > 12 || hyphens > 1) {
    return FieldError(field, "must be 6 to 12 digits, optionally with one hyphen inside");
  }
  return absl::OkStatus();
}

std::string CanonicalPersonIdentifier(absl::string_view id) {
  std::string canonical;
  for (char c : id) {
    if (c != '-') canonical.push_back(c);
  }
  return canonical;
}

absl::Status ValidateForm(const v1::HandoverForm& form, const FormLimits& limits,
                          absl::string_view path_prefix) {
  const std::string path(path_prefix);
  RETURN_IF_ERROR(CheckGeneric(form, limits, path));
  RETURN_IF_ERROR(CheckIdentity(form.identity(), Child(path, "identity")));
  RETURN_IF_ERROR(CheckHousehold(form.household(), Child(path, "household")));
  if (form.residence().has_permit_date() && form.residence().has_permit_expiry_date() &&
      CompareDates(form.residence().permit_expiry_date(), form.residence().permit_date()) < 0) {
    return FieldError(Child(path, "residence.permit_expiry_date"),
                      "must not be before residence.permit_date");
  }
  RETURN_IF_ERROR(CheckCompetences(form.formal_competences(), Child(path, "formal_competences")));
  RETURN_IF_ERROR(CheckLanguages(form.languages(), Child(path, "languages")));
  return CheckDocuments(form, Child(path, "documents"));
}

absl::Status CheckDocumentType(v1::DocumentType type, const v1::HandoverForm& form,
                               absl::string_view field) {
  switch (type) {
    case v1::DOCUMENT_TYPE_UNSPECIFIED:
      return FieldError(field, "required");
    case v1::DOCUMENT_TYPE_SOCIAL_REPORT:
      if (form.household().type() != v1::HOUSEHOLD_TYPE_UNACCOMPANIED_MINOR) {
        return FieldError(field, "a social report is only for an unaccompanied minor");
      }
      return absl::OkStatus();
    case v1::DOCUMENT_TYPE_CHILDCARE_STATEMENT:
      if (form.household().type() != v1::HOUSEHOLD_TYPE_FAMILY_WITH_CHILDREN) {
        return FieldError(field,
                          "a school, club or kindergarten statement is only for a family with "
                          "children under 18");
      }
      return absl::OkStatus();
    default:
      return v1::DocumentType_IsValid(type) ? absl::OkStatus()
                                            : FieldError(field, "unknown DocumentType value");
  }
}

}  // namespace handover
