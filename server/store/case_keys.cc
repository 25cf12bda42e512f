#include "server/store/case_keys.h"

#include "absl/strings/str_cat.h"

namespace handover::store {

std::string CaseKeyAssociatedData(const std::string& case_id) {
  return absl::StrCat("handover/v1/case-key/", case_id);
}

}  // namespace handover::store
