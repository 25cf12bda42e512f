#include "common/errors.h"

#include "absl/strings/str_cat.h"

namespace handover {

absl::Status FieldError(absl::string_view field_path, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field_path, ": ", rule));
}

absl::Status CaseNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat(name, ": no such case visible to the caller"));
}

}  // namespace handover
