#include "server/store/access_sections.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace handover::store {

void AddSection(absl::string_view section, v1::AccessRecord* record) {
  if (std::find(record->sections().begin(), record->sections().end(), section) ==
      record->sections().end()) {
    record->add_sections(std::string(section));
  }
}

void AddFormSections(const v1::HandoverForm& form, v1::AccessRecord* record) {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  form.GetReflection()->ListFields(form, &fields);
  for (const auto* field : fields) AddSection(field->name(), record);
}

void AddFieldPathSection(absl::string_view form_path, v1::AccessRecord* record) {
  AddSection(form_path.substr(0, form_path.find('.')), record);
}

void AddCaseSections(const v1::Case& view, v1::AccessRecord* record) {
  AddSection("case", record);
  if (view.consents_size() > 0) AddSection("consents", record);
  if (view.has_form()) AddFormSections(view.form(), record);
}

std::string DocumentSection(v1::DocumentType type) {
  return absl::StrCat("documents(", v1::DocumentType_Name(type), ")");
}

}  // namespace handover::store
