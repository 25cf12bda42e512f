#include "common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace handover {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr unsigned char kBlobFormat = 0x01;         // KeyRing::Seal
constexpr unsigned char kDataKeyBlobFormat = 0x02;  // DataKey::Seal

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

std::string Hkdf(absl::string_view key, absl::string_view info) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  std::string out(kKeyBytes, '\0');
  size_t out_len = out.size();
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  const auto* i = reinterpret_cast<const unsigned char*>(info.data());
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), k, static_cast<int>(key.size())) <= 0 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), i, static_cast<int>(info.size())) <= 0 ||
      EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &out_len) <= 0) {
    throw std::runtime_error("HKDF failed");
  }
  return out;
}

absl::Status Corrupt() { return absl::DataLossError("stored data failed authentication"); }

// AES-256-GCM under `key` (32 bytes) with a fresh random nonce: returns
// `header` | nonce | ciphertext | tag, the header not authenticated (callers
// bind what matters through their format byte check and associated data).
std::string AesGcmSeal(absl::string_view key, std::string header, absl::string_view plaintext,
                       absl::string_view associated_data) {
  std::string out = std::move(header);
  const std::string nonce = RandomBytes(kNonceBytes);
  out.reserve(out.size() + kNonceBytes + plaintext.size() + kTagBytes);
  out += nonce;
  const size_t body = out.size();
  out.resize(body + plaintext.size() + kTagBytes);
  auto* dst = reinterpret_cast<unsigned char*>(out.data());

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx &&
            EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                               reinterpret_cast<const unsigned char*>(key.data()),
                               reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                              reinterpret_cast<const unsigned char*>(associated_data.data()),
                              static_cast<int>(associated_data.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), dst + body, &len,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), dst + body + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                                dst + body + plaintext.size()) == 1;
  if (!ok) throw std::runtime_error("AES-GCM encryption failed");
  return out;
}

// Opens nonce | ciphertext | tag (`sealed`, the part of a blob after its
// header) under `key`; DATA_LOSS on any mismatch.
absl::StatusOr<std::string> AesGcmOpen(absl::string_view key, absl::string_view sealed,
                                       absl::string_view associated_data) {
  if (sealed.size() < kNonceBytes + kTagBytes) return Corrupt();
  absl::string_view nonce = sealed.substr(0, kNonceBytes);
  absl::string_view rest = sealed.substr(kNonceBytes);
  absl::string_view ciphertext = rest.substr(0, rest.size() - kTagBytes);
  std::string tag(rest.substr(rest.size() - kTagBytes));

  std::string out(ciphertext.size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(associated_data.data()),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        reinterpret_cast<const unsigned char*>(ciphertext.data()),
                        static_cast<int>(ciphertext.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return Corrupt();
  }
  return out;
}

bool HexDecode(absl::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

}  // namespace

std::string HexEncode(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

absl::StatusOr<KeyRing> KeyRing::LoadFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("key file ", path, ": cannot be read"));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("key file ", path, ": must not be accessible by group or others (chmod 600)"));
  }
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("key file ", path, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str());
}

absl::StatusOr<KeyRing> KeyRing::Parse(absl::string_view text) {
  KeyRing ring;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    std::string key;
    if (fields.size() != 2 || fields[0].size() > 64 || !HexDecode(fields[1], &key) ||
        key.size() != kKeyBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("key file line ", line_number, ": must be '<key-id> <64 hex digits>'"));
    }
    std::string id(fields[0]);
    if (ring.keys_.contains(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("key file line ", line_number, ": duplicate key id"));
    }
    SubKeys sub{Hkdf(key, "handover/v1 encryption"), Hkdf(key, "handover/v1 keyed hash")};
    ring.keys_.emplace(id, std::move(sub));
    ring.current_key_id_ = id;
  }
  if (ring.keys_.empty()) return absl::InvalidArgumentError("key file: holds no key");
  return ring;
}

std::string KeyRing::GenerateKeyLine(absl::string_view key_id) {
  return absl::StrCat(key_id, " ", HexEncode(RandomBytes(kKeyBytes)));
}

std::string KeyRing::Seal(absl::string_view plaintext, absl::string_view associated_data) const {
  const SubKeys& key = keys_.find(current_key_id_)->second;
  std::string header;
  header.reserve(2 + current_key_id_.size());
  header.push_back(static_cast<char>(kBlobFormat));
  header.push_back(static_cast<char>(current_key_id_.size()));
  header += current_key_id_;
  return AesGcmSeal(key.encryption, std::move(header), plaintext, associated_data);
}

absl::StatusOr<std::string> KeyRing::Open(absl::string_view blob,
                                          absl::string_view associated_data) const {
  if (blob.size() < 2 || static_cast<unsigned char>(blob[0]) != kBlobFormat) return Corrupt();
  const size_t id_len = static_cast<unsigned char>(blob[1]);
  if (blob.size() < 2 + id_len + kNonceBytes + kTagBytes) return Corrupt();
  auto it = keys_.find(blob.substr(2, id_len));
  if (it == keys_.end()) return absl::DataLossError("stored data sealed with an unknown key");
  return AesGcmOpen(it->second.encryption, blob.substr(2 + id_len), associated_data);
}

namespace {
std::string Hmac(const std::string& key, absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &digest_len);
  return std::string(reinterpret_cast<char*>(digest), digest_len);
}
}  // namespace

std::string KeyRing::KeyedHash(absl::string_view data) const {
  return Hmac(keys_.find(current_key_id_)->second.hashing, data);
}

std::vector<std::string> KeyRing::KeyedHashes(absl::string_view data) const {
  std::vector<std::string> hashes{KeyedHash(data)};
  for (const auto& [id, sub] : keys_) {
    if (id != current_key_id_) hashes.push_back(Hmac(sub.hashing, data));
  }
  return hashes;
}

std::string KeyRing::SealedKeyId(absl::string_view blob) {
  if (blob.size() < 2 || static_cast<unsigned char>(blob[0]) != kBlobFormat) return "";
  const size_t id_len = static_cast<unsigned char>(blob[1]);
  if (blob.size() < 2 + id_len) return "";
  return std::string(blob.substr(2, id_len));
}

DataKey DataKey::Generate() {
  DataKey key;
  if (RAND_bytes(key.key_.data(), static_cast<int>(key.key_.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return key;
}

absl::StatusOr<DataKey> DataKey::FromBytes(std::string raw) {
  if (raw.size() != kBytes) {
    OPENSSL_cleanse(raw.data(), raw.size());
    return absl::InvalidArgumentError(
        absl::StrCat("data key: must be ", kBytes, " bytes, not ", raw.size()));
  }
  DataKey key;
  std::memcpy(key.key_.data(), raw.data(), kBytes);
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

DataKey& DataKey::operator=(const DataKey& other) {
  if (this != &other) key_ = other.key_;
  return *this;
}

DataKey::~DataKey() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string DataKey::Seal(absl::string_view plaintext, absl::string_view associated_data) const {
  return AesGcmSeal(absl::string_view(reinterpret_cast<const char*>(key_.data()), key_.size()),
                    std::string(1, static_cast<char>(kDataKeyBlobFormat)), plaintext,
                    associated_data);
}

absl::StatusOr<std::string> DataKey::Open(absl::string_view blob,
                                          absl::string_view associated_data) const {
  if (!IsSealed(blob)) return Corrupt();
  return AesGcmOpen(absl::string_view(reinterpret_cast<const char*>(key_.data()), key_.size()),
                    blob.substr(1), associated_data);
}

bool DataKey::IsSealed(absl::string_view blob) {
  return blob.size() >= 1 + kNonceBytes + kTagBytes &&
         static_cast<unsigned char>(blob[0]) == kDataKeyBlobFormat;
}

std::string DataKey::Bytes() const {
  return std::string(reinterpret_cast<const char*>(key_.data()), key_.size());
}

bool operator==(const DataKey& a, const DataKey& b) {
  return CRYPTO_memcmp(a.key_.data(), b.key_.data(), DataKey::kBytes) == 0;
}

}  // namespace handover
