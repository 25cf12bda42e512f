// Encryption at rest and keyed hashing, on OpenSSL.
//
// A key file holds one key per line: "<key-id> <64 hex digits>" (blank lines
// and lines starting with '#' are ignored). The last key is current: it seals
// new data and makes new keyed hashes. Every key in the file can open data
// sealed with it, and lookups match keyed hashes made under any key in the
// file, so a key is rotated by appending a new line; once nothing uses an old
// key (the server re-encrypts in the background) its line can be removed. From
// each key two sub-keys are derived with HKDF-SHA256: one for AES-256-GCM, one
// for HMAC-SHA256.
//
// Thread safety: a KeyRing is immutable after loading; all methods are const
// and safe to call concurrently.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace handover {

class KeyRing {
 public:
  // Reads a key file. Fails with FAILED_PRECONDITION if the file can be read by
  // group or others (it must be mode 0600 or 0400), INVALID_ARGUMENT naming the
  // line for a malformed key, NOT_FOUND if absent.
  static absl::StatusOr<KeyRing> LoadFile(const std::string& path);
  // Parses key file text (no permission check).
  static absl::StatusOr<KeyRing> Parse(absl::string_view text);
  // A fresh random key line "<key_id> <hex>", for key generation.
  static std::string GenerateKeyLine(absl::string_view key_id);

  // AES-256-GCM with a random 96-bit nonce. `associated_data` is authenticated,
  // not stored: Open must be given the same bytes. The result is
  // 0x01 | len(key id) | key id | nonce | ciphertext | tag.
  std::string Seal(absl::string_view plaintext, absl::string_view associated_data) const;
  // DATA_LOSS if the blob was changed, sealed under other associated data, or
  // sealed with a key not in this ring.
  absl::StatusOr<std::string> Open(absl::string_view blob, absl::string_view associated_data) const;
  // HMAC-SHA256 of `data` under the current key, 32 raw bytes.
  std::string KeyedHash(absl::string_view data) const;
  // The keyed hash under every key in the ring (the current one first), for
  // lookups that must find rows hashed before a rotation.
  std::vector<std::string> KeyedHashes(absl::string_view data) const;
  // The id of the key a blob from Seal was sealed with; empty if malformed.
  static std::string SealedKeyId(absl::string_view blob);

  const std::string& current_key_id() const { return current_key_id_; }
  bool HasKey(absl::string_view key_id) const { return keys_.find(key_id) != keys_.end(); }

 private:
  struct SubKeys {
    std::string encryption;  // 32 bytes
    std::string hashing;     // 32 bytes
  };
  std::map<std::string, SubKeys, std::less<>> keys_;
  std::string current_key_id_;
};

// One case's data key: a random 256-bit AES-256-GCM key that seals that case's
// data only, so erasing the key (crypto-erasure) makes every copy of the
// case's data unreadable, backups included. The key store keeps it wrapped
// (sealed) under a KeyRing key; see server/store/key_store.h.
//
// The raw key bytes are held inline and overwritten with OPENSSL_cleanse when
// the object is destroyed or assigned over; copies (cheap: 32 bytes) are
// cleansed the same way. Thread safety: immutable after construction; all
// methods are const and safe to call concurrently.
class DataKey {
 public:
  static constexpr size_t kBytes = 32;

  // A fresh key from the OpenSSL CSPRNG.
  static DataKey Generate();
  // A key from its raw bytes (as from Bytes()); INVALID_ARGUMENT unless
  // exactly 32 bytes. `raw` is cleansed before return either way.
  static absl::StatusOr<DataKey> FromBytes(std::string raw);

  DataKey(const DataKey& other) = default;
  DataKey& operator=(const DataKey& other);
  ~DataKey();

  // AES-256-GCM with a random 96-bit nonce; `associated_data` is
  // authenticated, not stored, and Open must be given the same bytes. The
  // result is 0x02 | nonce | ciphertext | tag, distinct from KeyRing's 0x01.
  std::string Seal(absl::string_view plaintext, absl::string_view associated_data) const;
  // DATA_LOSS if the blob is not DataKey-sealed, was changed, was sealed
  // under other associated data or with another key.
  absl::StatusOr<std::string> Open(absl::string_view blob, absl::string_view associated_data) const;
  // Whether `blob` has the DataKey format (first byte 0x02, long enough for a
  // nonce and tag); says nothing about which key sealed it.
  static bool IsSealed(absl::string_view blob);

  // A copy of the raw key bytes, for wrapping. The caller should
  // OPENSSL_cleanse the copy once done with it.
  std::string Bytes() const;

  // Constant-time comparison.
  friend bool operator==(const DataKey& a, const DataKey& b);
  friend bool operator!=(const DataKey& a, const DataKey& b) { return !(a == b); }

 private:
  DataKey() = default;
  std::array<unsigned char, kBytes> key_{};
};

// Lowercase hex of raw bytes.
std::string HexEncode(absl::string_view bytes);
// `n` cryptographically random bytes.
std::string RandomBytes(size_t n);

}  // namespace handover
