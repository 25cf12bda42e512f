// How the domain store binds what it seals and hashes to where it belongs:
// the associated data of each sealed item, the keyed hashes under which
// person identifiers and request fingerprints are kept, and the clock.
// Backend-neutral; one home for each of these rules.
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "common/crypto.h"

namespace handover::store {

int64_t NowMicros();
google::protobuf::Timestamp ToTimestamp(int64_t micros);
int64_t ToMicros(const google::protobuf::Timestamp& timestamp);

// The associated data that binds a sealed form to its case and version.
std::string FormAssociatedData(const std::string& case_id, int64_t version);
// The associated data binding a sealed title to its document version.
std::string TitleAssociatedData(const std::string& case_id, const std::string& document_id,
                                int64_t version);

// The keyed hash under which a person identifier is stored (canonical form).
std::string PersonHash(const KeyRing& keys, const std::string& person_identifier);
// Its hash under every key in the ring, for lookups across a key rotation.
std::vector<std::string> PersonHashes(const KeyRing& keys, const std::string& person_identifier);

// Binds a request to its id: the method (message type) and its exact content,
// under every key in the ring (the current one first), so a retry across a key
// rotation still matches.
std::vector<std::string> Fingerprint(const KeyRing& keys, const google::protobuf::Message& request);

// The key id recorded for an item sealed under its case's own data key
// (case_keys.h); never a key file's id, which has no spaces.
inline constexpr char kCaseKeyId[] = "(case key)";

// Seals a case's items under the case's data key, and opens them: under the
// case key, or — for an item sealed before per-case keys, until the
// migration (DomainStore::Reencrypt) re-seals it — under the key ring.
// Cheap to copy; safe to use from any thread.
class CaseCipher {
 public:
  using KeyOf = std::function<absl::StatusOr<DataKey>(const std::string& case_id)>;
  CaseCipher(std::shared_ptr<const KeyRing> ring, KeyOf key_of)
      : ring_(std::move(ring)), key_of_(std::move(key_of)) {}

  // NOT_FOUND (as for a case that does not exist) if the case has no key:
  // it was erased.
  absl::StatusOr<std::string> Seal(const std::string& case_id, const std::string& plaintext,
                                   const std::string& associated_data) const;
  absl::StatusOr<std::string> Open(const std::string& case_id, const std::string& sealed,
                                   const std::string& associated_data) const;
  absl::StatusOr<DataKey> Key(const std::string& case_id) const;
  const KeyRing& ring() const { return *ring_; }

 private:
  std::shared_ptr<const KeyRing> ring_;
  KeyOf key_of_;
};

}  // namespace handover::store
