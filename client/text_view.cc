#include "client/text_view.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/dates.h"

namespace handover::client {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

std::string Label(const std::string& field_name) {
  std::string label = absl::StrReplaceAll(field_name, {{"_", " "}});
  if (!label.empty()) label[0] = absl::ascii_toupper(label[0]);
  return label;
}

std::string Time(const google::protobuf::Timestamp& ts) {
  return google::protobuf::util::TimeUtil::ToString(ts);
}

std::string Scalar(const Message& message, const FieldDescriptor* field, int index) {
  const auto* r = message.GetReflection();
  const bool rep = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(message, field, index) : r->GetString(message, field);
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field)) ? "yes"
                                                                                            : "no";
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(message, field, index)
                              : r->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(message, field, index)
                              : r->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumLabel(rep ? r->GetRepeatedEnum(message, field, index)
                           : r->GetEnum(message, field));
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub =
          rep ? r->GetRepeatedMessage(message, field, index) : r->GetMessage(message, field);
      if (sub.GetDescriptor() == v1::Date::descriptor()) {
        return FormatDate(static_cast<const v1::Date&>(sub));
      }
      return "";
    }
    default:
      return "?";
  }
}

bool IsLeaf(const FieldDescriptor* field) {
  return field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
         field->message_type() == v1::Date::descriptor();
}

void RenderFields(const Message& message, int indent, std::string* out) {
  const auto* r = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(message, &fields);
  const std::string pad(indent, ' ');
  for (const FieldDescriptor* field : fields) {
    const std::string label = Label(field->name());
    if (IsLeaf(field)) {
      if (field->is_repeated()) {
        std::vector<std::string> items;
        for (int i = 0; i < r->FieldSize(message, field); ++i) {
          items.push_back(Scalar(message, field, i));
        }
        absl::StrAppend(out, pad, label, ": ", absl::StrJoin(items, ", "), "\n");
      } else {
        absl::StrAppend(out, pad, label, ": ", Scalar(message, field, 0), "\n");
      }
    } else if (field->is_repeated()) {
      absl::StrAppend(out, pad, label, ":\n");
      for (int i = 0; i < r->FieldSize(message, field); ++i) {
        std::string item;
        RenderFields(r->GetRepeatedMessage(message, field, i), indent + 4, &item);
        if (item.size() > static_cast<size_t>(indent + 4)) item.replace(indent + 2, 2, "- ");
        out->append(item);
      }
    } else {
      absl::StrAppend(out, pad, label, ":\n");
      RenderFields(r->GetMessage(message, field), indent + 2, out);
    }
  }
}

void RenderForm(const v1::HandoverForm& form, std::string* out) {
  const auto* r = form.GetReflection();
  std::vector<const FieldDescriptor*> sections;
  r->ListFields(form, &sections);
  for (const FieldDescriptor* section : sections) {
    absl::StrAppend(out, "\n", Label(section->name()), "\n");
    if (section->is_repeated()) {
      for (int i = 0; i < r->FieldSize(form, section); ++i) {
        std::string item;
        RenderFields(r->GetRepeatedMessage(form, section, i), 4, &item);
        if (item.size() > 4) item.replace(2, 2, "- ");
        out->append(item);
      }
    } else {
      RenderFields(r->GetMessage(form, section), 2, out);
    }
  }
}

void RenderWithheld(const google::protobuf::RepeatedPtrField<std::string>& withheld,
                    std::string* out) {
  if (withheld.empty()) return;
  absl::StrAppend(out, "\nWithheld from this view (no consent or not for your role):\n");
  for (const std::string& path : withheld) absl::StrAppend(out, "  ", path, "\n");
}

}  // namespace

std::string EnumLabel(const google::protobuf::EnumValueDescriptor* value) {
  if (value == nullptr) return "?";
  // The zero value is <PREFIX>_UNSPECIFIED; strip <PREFIX>_ from the others.
  std::string prefix = value->type()->value(0)->name();
  prefix.resize(prefix.size() - std::string("UNSPECIFIED").size());
  std::string name = value->name();
  if (absl::StartsWith(name, prefix)) name = name.substr(prefix.size());
  return absl::AsciiStrToLower(absl::StrReplaceAll(name, {{"_", " "}}));
}

std::string RenderConsent(const v1::Consent& consent) {
  return absl::StrCat(
      EnumLabel(v1::ConsentPurpose_descriptor()->FindValueByNumber(consent.purpose())), " for ",
      consent.recipient_municipality_code().empty()
          ? "the assigned municipality"
          : absl::StrCat("municipality ", consent.recipient_municipality_code()),
      ", given ", FormatDate(consent.given_date()),
      consent.has_withdraw_time() ? absl::StrCat(", WITHDRAWN ", Time(consent.withdraw_time()))
                                  : ", active",
      "  (", consent.name(), ")");
}

std::string RenderDocument(const v1::Document& document) {
  return absl::StrCat(document.name(), "  v", document.version(), "  ",
                      EnumLabel(v1::DocumentType_descriptor()->FindValueByNumber(document.type())),
                      "  ", absl::StrFormat("%.1f KiB", document.size_bytes() / 1024.0), "  ",
                      document.media_type(), "  \"", document.title(), "\"");
}

std::string RenderDocumentTable(const v1::ListDocumentsResponse& documents) {
  std::string out;
  for (const v1::Document& document : documents.documents()) {
    absl::StrAppend(&out, RenderDocument(document), "\n");
  }
  if (documents.documents().empty()) out = "no documents you may see\n";
  for (const std::string& type : documents.withheld_types()) {
    absl::StrAppend(&out, "withheld (needs the person's consent): ",
                    EnumLabel(v1::DocumentType_descriptor()->FindValueByName(type)), "\n");
  }
  return out;
}

std::string RenderCase(const v1::Case& c) {
  std::string out = absl::StrCat("Case ", c.name(), "\n");
  absl::StrAppend(
      &out, "  State: ", EnumLabel(v1::CaseState_descriptor()->FindValueByNumber(c.state())), "\n");
  absl::StrAppend(&out, "  Operator: ", c.operator_id(), "\n");
  if (c.has_assignment()) {
    const v1::Assignment& a = c.assignment();
    absl::StrAppend(&out, "  Municipality: ", a.municipality_code(), " (decided ",
                    FormatDate(a.decision_date()), ", responsible from ",
                    FormatDate(a.takeover_date()), ")\n");
    if (!a.previous_municipality_code().empty()) {
      absl::StrAppend(&out, "  Previously assigned to: ", a.previous_municipality_code(), "\n");
    }
  }
  absl::StrAppend(&out, "  Version: ", c.version(), " (etag ", c.etag(), ")\n");
  absl::StrAppend(&out, "  Created: ", Time(c.create_time()), "\n");
  absl::StrAppend(&out, "  Updated: ", Time(c.update_time()), "\n");
  if (c.consents_size() > 0) {
    absl::StrAppend(&out, "  Consents:\n");
    for (const auto& consent : c.consents()) {
      absl::StrAppend(&out, "    ", RenderConsent(consent), "\n");
    }
  }
  if (c.has_form()) RenderForm(c.form(), &out);
  RenderWithheld(c.withheld_fields(), &out);
  return out;
}

std::string RenderVersion(const v1::CaseVersion& version) {
  std::string out =
      absl::StrCat("Version ", version.name(), "\n  Written: ", Time(version.create_time()), " by ",
                   version.author_organisation(), " (", version.author_actor(), ")\n");
  if (version.has_form()) RenderForm(version.form(), &out);
  RenderWithheld(version.withheld_fields(), &out);
  return out;
}

std::string RenderEventLine(const v1::ChangeEvent& event) {
  std::string line =
      absl::StrFormat("revision %-8d %-18s %s  version %d  %s", event.revision(),
                      EnumLabel(v1::EventKind_descriptor()->FindValueByNumber(event.kind())),
                      event.case_name(), event.version(), Time(event.commit_time()));
  if (event.withdrawn_fields_size() > 0) {
    absl::StrAppend(&line, "  delete: ", absl::StrJoin(event.withdrawn_fields(), ", "));
  }
  return line;
}

std::string RenderAccessTable(const std::vector<v1::AccessRecord>& records) {
  std::string out = absl::StrFormat("%6s  %-27s  %-14s %-19s %-16s %-16s %-9s %s\n", "SEQ", "TIME",
                                    "ORGANISATION", "ROLE", "ACTOR", "OPERATION", "OUTCOME",
                                    "CASES / SECTIONS / PURPOSE");
  for (const v1::AccessRecord& r : records) {
    absl::StrAppendFormat(&out, "%6d  %-27s  %-14s %-19s %-16s %-16s %-9s %s / %s / %s\n",
                          r.sequence(), Time(r.time()), r.organisation(), r.role(), r.actor(),
                          r.operation(), r.outcome(), absl::StrJoin(r.case_names(), ","),
                          absl::StrJoin(r.sections(), ","),
                          r.purpose().empty() ? "-" : r.purpose());
    if (r.organisation().empty() && !r.peer().empty()) {
      // Refused before the caller was named: who knocked, as the record has it.
      absl::StrAppend(&out, "        from ", r.peer());
      if (!r.organisation_cvr().empty()) absl::StrAppend(&out, ", CVR ", r.organisation_cvr());
      if (!r.certificate_serial().empty()) {
        absl::StrAppend(&out, ", certificate ", r.certificate_serial());
      }
      if (!r.certificate_issuer().empty()) {
        absl::StrAppend(&out, ", issuer ", r.certificate_issuer());
      }
      out += "\n";
    }
  }
  if (records.empty()) out += "(no records)\n";
  return out;
}

std::string RenderSubjectReport(const v1::SubjectAccessReportResponse& report) {
  std::string out = "Subject access report\n";
  if (report.case_names().empty()) return out + "No case is held for this person identifier.\n";
  absl::StrAppend(&out, "Cases: ", absl::StrJoin(report.case_names(), ", "), "\n\n");
  int disclosed = 0;
  for (const v1::AccessRecord& r : report.records()) {
    if (r.outcome() != "OK") continue;
    ++disclosed;
    absl::StrAppend(
        &out, Time(r.time()), "  ", r.organisation(), " (", r.role(), "), person ", r.actor(), ": ",
        r.operation(),
        r.sections().empty() ? "" : absl::StrCat(" — ", absl::StrJoin(r.sections(), ", ")),
        r.purpose().empty() ? "" : absl::StrCat("; purpose: ", r.purpose()), "\n");
  }
  const int refused = report.records_size() - disclosed;
  absl::StrAppend(&out, "\n", disclosed, " accesses",
                  refused > 0 ? absl::StrCat(", ", refused, " refused attempts") : "", ".\n");
  return out;
}

std::string RenderWhoAmI(const v1::WhoAmIResponse& me, absl::Time now) {
  std::string out;
  auto line = [&out](absl::string_view key, absl::string_view value) {
    if (!value.empty()) absl::StrAppend(&out, key, ": ", value, "\n");
  };
  line("role", me.role());
  line("organisation", me.organisation_id());
  line("municipality code", me.municipality_code());
  line("CVR", me.organisation_cvr());
  line("name", me.organisation_name());
  line("naming", me.naming());
  line("actor", me.actor());
  line("certificate serial", me.certificate_serial());
  if (!me.has_certificate_expire_time()) {
    line("certificate expires", "unknown");
    return out;
  }
  const absl::Time expires = absl::FromUnixSeconds(me.certificate_expire_time().seconds());
  const int64_t days = absl::ToInt64Hours(expires - now) / 24;  // whole days, toward zero
  line("certificate expires",
       absl::StrCat(Time(me.certificate_expire_time()), " (",
                    expires >= now
                        ? absl::StrCat("in ", days, days == 1 ? " day" : " days")
                        : absl::StrCat("expired ", -days, -days == 1 ? " day" : " days", " ago"),
                    ")"));
  return out;
}

std::string RenderCaseTable(const std::vector<v1::Case>& cases) {
  std::string out = absl::StrFormat("%-23s %-9s %-12s %-12s %-10s %7s  %s\n", "CASE", "STATE",
                                    "OPERATOR", "MUNICIPALITY", "TAKEOVER", "VERSION", "UPDATED");
  for (const v1::Case& c : cases) {
    absl::StrAppendFormat(&out, "%-23s %-9s %-12s %-12s %-10s %7d  %s\n", c.name(),
                          EnumLabel(v1::CaseState_descriptor()->FindValueByNumber(c.state())),
                          c.operator_id(),
                          c.has_assignment() ? c.assignment().municipality_code() : "-",
                          c.has_assignment() ? FormatDate(c.assignment().takeover_date()) : "-",
                          c.version(), Time(c.update_time()));
  }
  if (cases.empty()) out += "(no cases)\n";
  return out;
}

std::string RenderVersionTable(const std::vector<v1::CaseVersion>& versions) {
  std::string out =
      absl::StrFormat("%7s  %-30s  %-20s  %s\n", "VERSION", "WRITTEN", "ORGANISATION", "ACTOR");
  for (const v1::CaseVersion& v : versions) {
    absl::StrAppendFormat(&out, "%7d  %-30s  %-20s  %s\n", v.version(), Time(v.create_time()),
                          v.author_organisation(), v.author_actor());
  }
  return out;
}

}  // namespace handover::client
