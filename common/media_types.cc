#include "common/media_types.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace handover {
namespace {

struct Signature {
  const char* media_type;
  absl::string_view magic;
};

constexpr std::array<Signature, 3> kSignatures = {{
    {"application/pdf", absl::string_view("%PDF-", 5)},
    {"image/png", absl::string_view("\x89PNG\r\n\x1a\n", 8)},
    {"image/jpeg", absl::string_view("\xff\xd8\xff", 3)},
}};
constexpr const char* kText = "text/plain";

const Signature* SignatureOf(absl::string_view media_type) {
  for (const Signature& s : kSignatures) {
    if (media_type == s.media_type) return &s;
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& DefaultAllowedMediaTypes() {
  static const auto* types =
      new std::vector<std::string>{"application/pdf", "image/png", "image/jpeg", kText};
  return *types;
}

bool IsRecognisedMediaType(absl::string_view media_type) {
  return media_type == kText || SignatureOf(media_type) != nullptr;
}

absl::Status MediaTypeCheck::Mismatch() const {
  return FieldError("metadata.media_type", absl::StrCat("the content is not ", declared_));
}

absl::Status MediaTypeCheck::Add(absl::string_view bytes) {
  if (const Signature* signature = SignatureOf(declared_)) {
    if (head_checked_) return absl::OkStatus();
    const size_t want = signature->magic.size() - head_.size();
    const absl::string_view piece = bytes.substr(0, want);
    head_.append(piece.data(), piece.size());
    if (head_.size() < signature->magic.size()) return absl::OkStatus();
    head_checked_ = true;
    return head_ == signature->magic ? absl::OkStatus() : Mismatch();
  }
  if (declared_ != kText) return Mismatch();
  head_checked_ = head_checked_ || !bytes.empty();
  for (const unsigned char c : bytes) {
    if (utf8_continuations_ > 0) {
      if ((c & 0xC0) != 0x80) return Mismatch();
      --utf8_continuations_;
      continue;
    }
    if (c < 0x20) {
      if (c != '\t' && c != '\n' && c != '\f' && c != '\r') return Mismatch();
    } else if (c == 0x7F) {
      return Mismatch();
    } else if (c >= 0x80) {
      if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
        utf8_continuations_ = 1;
      } else if ((c & 0xF0) == 0xE0) {
        utf8_continuations_ = 2;
      } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
        utf8_continuations_ = 3;
      } else {
        return Mismatch();
      }
    }
  }
  return absl::OkStatus();
}

absl::Status MediaTypeCheck::Finish() {
  if (!head_checked_ || utf8_continuations_ > 0) return Mismatch();
  return absl::OkStatus();
}

}  // namespace handover
