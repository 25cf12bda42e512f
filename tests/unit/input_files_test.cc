// client/input_files.h: the form file of `push` and the export of `audit
// verify`, parsed without a server.
#include "client/input_files.h"

#include <gtest/gtest.h>

namespace handover::client {
namespace {

TEST(InputFilesTest, AnExportIsOneItemPerLineAndNamesItsLastKey) {
  auto parsed = ParseAccessLogExport(
      "{\"publicKeyPem\":\"first\"}\n{\"entry\":{\"hash\":\"AA==\"}}\n"
      "{\"publicKeyPem\":\"second\"}\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->items.size(), 3u);
  EXPECT_TRUE(parsed->items[1].has_entry());
  EXPECT_EQ(parsed->public_key_pem, "second");
  EXPECT_TRUE(ParseAccessLogExport("")->items.empty());
}

TEST(InputFilesTest, ABadExportLineIsNamedByNumberWithoutItsContent) {
  auto parsed = ParseAccessLogExport("{\"publicKeyPem\":\"k\"}\n{\"entry\":\"Fictional Name\"}");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(parsed.status().message(), "line 2: not an export item");
  // An empty line inside the file is a line that does not parse.
  EXPECT_EQ(ParseAccessLogExport("{}\n\n{}\n").status().message(), "line 2: not an export item");
}

TEST(InputFilesTest, AFormFileIsAHandoverFormAsJson) {
  auto form = ParseFormFile("{\"identity\":{\"givenNames\":\"Fictional\"}}");
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(form->identity().given_names(), "Fictional");
  EXPECT_EQ(ParseFormFile("{\"noSuchField\":1}").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace handover::client
