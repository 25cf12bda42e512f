// The media type check reads the content, arriving in pieces of any size.
#include "common/media_types.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace handover {
namespace {

// Feeds `pieces` in order, then finishes; OK only if all of it passed.
absl::Status Check(const std::string& declared, const std::vector<std::string>& pieces) {
  MediaTypeCheck check(declared);
  for (const std::string& piece : pieces) {
    if (absl::Status s = check.Add(piece); !s.ok()) return s;
  }
  return check.Finish();
}

TEST(MediaTypeCheck, SignaturesMayBeSplitAcrossPieces) {
  EXPECT_TRUE(Check("application/pdf", {"%P", "DF", "-1.7\n..."}).ok());
  EXPECT_TRUE(Check("image/png", {std::string("\x89PNG\r\n\x1a\n", 8), "data"}).ok());
  EXPECT_TRUE(Check("image/jpeg", {"\xff", "\xd8\xff\xe0", "data"}).ok());
}

TEST(MediaTypeCheck, ContentOfAnotherTypeIsRefusedNamingTheField) {
  const absl::Status png_as_pdf = Check("application/pdf", {std::string("\x89PNG\r\n\x1a\n", 8)});
  EXPECT_EQ(png_as_pdf.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(png_as_pdf.message().find("metadata.media_type"), std::string::npos);
  EXPECT_FALSE(Check("image/png", {"%PDF-1.7"}).ok());
  EXPECT_FALSE(Check("application/pdf", {"%PD"}).ok()) << "too short to show the signature";
  EXPECT_FALSE(Check("application/zip", {"PK\x03\x04"}).ok()) << "a type it cannot recognise";
}

TEST(MediaTypeCheck, PlainTextIsUtf8WithoutControlCharacters) {
  EXPECT_TRUE(Check("text/plain", {"Fiktiv tekst\tmed \xc3", "\xa6\xc3\xb8\xc3\xa5\r\n"}).ok())
      << "a two-byte character split across pieces";
  EXPECT_FALSE(Check("text/plain", {std::string("a\0b", 3)}).ok()) << "NUL";
  EXPECT_FALSE(Check("text/plain", {"bell\a"}).ok());
  EXPECT_FALSE(Check("text/plain", {"\xff\xfe"}).ok()) << "not UTF-8";
  EXPECT_FALSE(Check("text/plain", {"ends inside a character \xc3"}).ok());
  EXPECT_FALSE(Check("text/plain", {}).ok()) << "empty";
}

}  // namespace
}  // namespace handover
