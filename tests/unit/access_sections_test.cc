// server/store/access_sections.h: the one place an access record's sections
// are named, used by the service (what an answer disclosed) and the store
// (what a write touched).
#include "server/store/access_sections.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace handover::store {
namespace {

std::vector<std::string> Sections(const v1::AccessRecord& record) {
  return {record.sections().begin(), record.sections().end()};
}

TEST(AccessSectionsTest, FormSectionsAreItsTopLevelFieldsPresentEachOnce) {
  v1::HandoverForm form;
  form.mutable_identity()->set_given_names("Testa Fiktiva");
  form.mutable_health()->set_special_needs(true);
  v1::AccessRecord record;
  record.add_sections("health");
  AddFormSections(form, &record);
  AddFormSections(form, &record);
  EXPECT_EQ(Sections(record), (std::vector<std::string>{"health", "identity"}));
}

TEST(AccessSectionsTest, AFieldPathNamesItsTopLevelSection) {
  v1::AccessRecord record;
  AddFieldPathSection("health.special_needs_description", &record);
  AddFieldPathSection("health", &record);
  AddFieldPathSection("languages", &record);
  EXPECT_EQ(Sections(record), (std::vector<std::string>{"health", "languages"}));
}

TEST(AccessSectionsTest, ACaseViewNamesCaseConsentsAndItsForm) {
  v1::Case view;
  view.set_name("cases/0123456789abcdef");
  v1::AccessRecord bare;
  AddCaseSections(view, &bare);
  EXPECT_EQ(Sections(bare), std::vector<std::string>{"case"});
  EXPECT_TRUE(bare.case_names().empty()) << "naming the case is the caller's";

  view.add_consents();
  view.mutable_form()->mutable_languages();
  v1::AccessRecord full;
  AddCaseSections(view, &full);
  EXPECT_EQ(Sections(full), (std::vector<std::string>{"case", "consents", "languages"}));
}

TEST(AccessSectionsTest, DocumentSectionNamesTheType) {
  EXPECT_EQ(DocumentSection(v1::DOCUMENT_TYPE_MEDICAL_RECORD),
            "documents(DOCUMENT_TYPE_MEDICAL_RECORD)");
}

}  // namespace
}  // namespace handover::store
