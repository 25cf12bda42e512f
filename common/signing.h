// Ed25519 signatures (OpenSSL) and SHA-256, for the access log's hash chain
// and its signed checkpoints.
//
// Thread safety: a Signer is immutable after loading; Sign may be called
// concurrently.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace handover {

class Signer {
 public:
  // Reads a PEM Ed25519 private key. FAILED_PRECONDITION if group or others
  // may read the file, INVALID_ARGUMENT if it is not an Ed25519 key.
  static absl::StatusOr<Signer> LoadPrivateKey(const std::string& path);
  // A fresh key, for tests.
  static Signer Generate();

  // 64-byte Ed25519 signature of `data`.
  std::string Sign(absl::string_view data) const;
  // The public key as PEM (SubjectPublicKeyInfo).
  const std::string& public_key_pem() const { return public_key_pem_; }

 private:
  explicit Signer(std::shared_ptr<EVP_PKEY> key);
  std::shared_ptr<EVP_PKEY> key_;
  std::string public_key_pem_;
};

// OK if `signature` is `public_key_pem`'s Ed25519 signature of `data`;
// INVALID_ARGUMENT for a bad key, DATA_LOSS for a bad signature.
absl::Status VerifySignature(absl::string_view public_key_pem, absl::string_view data,
                             absl::string_view signature);

// SHA-256, 32 raw bytes.
std::string Sha256(absl::string_view data);

// SHA-256 of data that arrives in pieces.
class Sha256Stream {
 public:
  Sha256Stream();
  void Add(absl::string_view data);
  // 32 raw bytes; call once, then no more Add.
  std::string Finish();

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context_;
};

}  // namespace handover
