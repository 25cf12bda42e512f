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

}  // namespace handover::store
