// Recognising a document's media type from its content, so a declared type is
// never taken on trust. Knows PDF, PNG, JPEG (by their leading bytes) and
// plain text (UTF-8 without control characters other than tab, line feed,
// form feed and carriage return).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace handover {

// The media types DocumentService allows unless configured otherwise.
const std::vector<std::string>& DefaultAllowedMediaTypes();

// True for the media types this file can recognise.
bool IsRecognisedMediaType(absl::string_view media_type);

// Checks, as the bytes arrive in pieces of any size, that content is of one
// declared media type.
class MediaTypeCheck {
 public:
  explicit MediaTypeCheck(std::string declared) : declared_(std::move(declared)) {}
  // Feeds the next bytes. INVALID_ARGUMENT naming `media_type` as soon as
  // the content cannot be of the declared type.
  absl::Status Add(absl::string_view bytes);
  // After the last bytes: INVALID_ARGUMENT if they did not show the type.
  absl::Status Finish();

 private:
  absl::Status Mismatch() const;

  const std::string declared_;
  std::string head_;  // the first bytes, until the signature is decided
  bool head_checked_ = false;
  int utf8_continuations_ = 0;  // text: continuation bytes still expected
};

}  // namespace handover
