#include "server/store/sealing.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "common/serialize.h"
#include "common/validation.h"

namespace handover::store {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

google::protobuf::Timestamp ToTimestamp(int64_t micros) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(micros / 1000000);
  ts.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return ts;
}

int64_t ToMicros(const google::protobuf::Timestamp& timestamp) {
  return timestamp.seconds() * 1000000 + timestamp.nanos() / 1000;
}

std::string FormAssociatedData(const std::string& case_id, int64_t version) {
  return absl::StrCat("handover/v1/form/", case_id, "/", version);
}

std::string TitleAssociatedData(const std::string& case_id, const std::string& document_id,
                                int64_t version) {
  return absl::StrCat("handover/v1/document-title/", case_id, "/", document_id, "/", version);
}

namespace {
std::string PersonHashInput(const std::string& person_identifier) {
  return absl::StrCat("person_identifier:", CanonicalPersonIdentifier(person_identifier));
}
}  // namespace

std::string PersonHash(const KeyRing& keys, const std::string& person_identifier) {
  return keys.KeyedHash(PersonHashInput(person_identifier));
}

std::vector<std::string> PersonHashes(const KeyRing& keys, const std::string& person_identifier) {
  return keys.KeyedHashes(PersonHashInput(person_identifier));
}

std::vector<std::string> Fingerprint(const KeyRing& keys,
                                     const google::protobuf::Message& request) {
  return keys.KeyedHashes(
      absl::StrCat("request:", request.GetTypeName(), "\n", SerializeDeterministic(request)));
}

absl::StatusOr<DataKey> CaseCipher::Key(const std::string& case_id) const {
  absl::StatusOr<DataKey> key = key_of_(case_id);
  // No key: the case was erased (perhaps after the backup this data came from).
  if (!key.ok() && key.status().code() == absl::StatusCode::kNotFound) {
    return CaseNotFound(CaseName(case_id));
  }
  return key;
}

absl::StatusOr<std::string> CaseCipher::Seal(const std::string& case_id,
                                             const std::string& plaintext,
                                             const std::string& associated_data) const {
  absl::StatusOr<DataKey> key = Key(case_id);
  if (!key.ok()) return key.status();
  return key->Seal(plaintext, associated_data);
}

absl::StatusOr<std::string> CaseCipher::Open(const std::string& case_id, const std::string& sealed,
                                             const std::string& associated_data) const {
  if (!DataKey::IsSealed(sealed)) return ring_->Open(sealed, associated_data);
  absl::StatusOr<DataKey> key = Key(case_id);
  if (!key.ok()) return key.status();
  return key->Open(sealed, associated_data);
}

}  // namespace handover::store
