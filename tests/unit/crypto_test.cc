// common/crypto.h: KeyRing sealing, rotation, keyed hashing and key files;
// DataKey sealing and the cleansing of its key bytes.
#include "common/crypto.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <new>
#include <string>

#include "absl/strings/str_cat.h"

namespace handover {
namespace {

// Fixed, obviously fake test keys.
const std::string kHexA(64, 'a');
const std::string kHexB = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kLineA = "test-key-1 " + kHexA;
const std::string kLineB = "test-key-2 " + kHexB;

constexpr char kPlaintext[] = "Testperson Fiktiv, born 2000-01-01";
constexpr char kAad[] = "cases/0123456789abcdef";

KeyRing MustParse(const std::string& text) {
  absl::StatusOr<KeyRing> ring = KeyRing::Parse(text);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return *std::move(ring);
}

TEST(KeyRingTest, SealOpenRoundTrip) {
  const KeyRing ring = MustParse(kLineA);
  const std::string blob = ring.Seal(kPlaintext, kAad);
  EXPECT_EQ(blob.find(kPlaintext), std::string::npos);
  const absl::StatusOr<std::string> opened = ring.Open(blob, kAad);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kPlaintext);
}

TEST(KeyRingTest, RoundTripsEmptyPlaintext) {
  const KeyRing ring = MustParse(kLineA);
  const absl::StatusOr<std::string> opened = ring.Open(ring.Seal("", kAad), kAad);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "");
}

TEST(KeyRingTest, SealUsesAFreshNonce) {
  const KeyRing ring = MustParse(kLineA);
  EXPECT_NE(ring.Seal(kPlaintext, kAad), ring.Seal(kPlaintext, kAad));
}

TEST(KeyRingTest, OpenWithOtherAssociatedDataIsDataLoss) {
  const KeyRing ring = MustParse(kLineA);
  const std::string blob = ring.Seal(kPlaintext, kAad);
  EXPECT_EQ(ring.Open(blob, "cases/fedcba9876543210").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ring.Open(blob, "").status().code(), absl::StatusCode::kDataLoss);
}

TEST(KeyRingTest, AnyFlippedByteIsDataLoss) {
  const KeyRing ring = MustParse(kLineA);
  const std::string blob = ring.Seal(kPlaintext, kAad);
  for (size_t i = 0; i < blob.size(); ++i) {
    std::string changed = blob;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_EQ(ring.Open(changed, kAad).status().code(), absl::StatusCode::kDataLoss)
        << "byte " << i;
  }
}

TEST(KeyRingTest, TruncatedBlobIsDataLoss) {
  const KeyRing ring = MustParse(kLineA);
  const std::string blob = ring.Seal(kPlaintext, kAad);
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{20}, blob.size() - 1}) {
    EXPECT_EQ(ring.Open(blob.substr(0, n), kAad).status().code(), absl::StatusCode::kDataLoss)
        << "length " << n;
  }
}

TEST(KeyRingTest, BlobFromAKeyNotInTheRingIsDataLoss) {
  const std::string blob = MustParse(kLineA).Seal(kPlaintext, kAad);
  EXPECT_EQ(MustParse(kLineB).Open(blob, kAad).status().code(), absl::StatusCode::kDataLoss);
  // Same key id, different key material.
  EXPECT_EQ(MustParse("test-key-1 " + kHexB).Open(blob, kAad).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(KeyRingTest, RotationOpensOldDataAndSealsWithTheNewKey) {
  const KeyRing old_ring = MustParse(kLineA);
  const KeyRing rotated = MustParse(kLineA + "\n" + kLineB + "\n");
  EXPECT_EQ(old_ring.current_key_id(), "test-key-1");
  EXPECT_EQ(rotated.current_key_id(), "test-key-2");

  const absl::StatusOr<std::string> old_data = rotated.Open(old_ring.Seal(kPlaintext, kAad), kAad);
  ASSERT_TRUE(old_data.ok()) << old_data.status();
  EXPECT_EQ(*old_data, kPlaintext);

  const std::string new_blob = rotated.Seal(kPlaintext, kAad);
  ASSERT_GT(new_blob.size(), 2u);
  EXPECT_EQ(new_blob[0], '\x01');
  EXPECT_EQ(new_blob.substr(2, static_cast<unsigned char>(new_blob[1])), "test-key-2");
  EXPECT_EQ(old_ring.Open(new_blob, kAad).status().code(), absl::StatusCode::kDataLoss);
  const absl::StatusOr<std::string> new_data = rotated.Open(new_blob, kAad);
  ASSERT_TRUE(new_data.ok()) << new_data.status();
  EXPECT_EQ(*new_data, kPlaintext);
}

TEST(KeyRingTest, KeyedHashIsDeterministicAndThirtyTwoBytes) {
  const KeyRing ring = MustParse(kLineA);
  const std::string hash = ring.KeyedHash("99000001");
  EXPECT_EQ(hash.size(), 32u);
  EXPECT_EQ(ring.KeyedHash("99000001"), hash);
  EXPECT_EQ(MustParse(kLineA).KeyedHash("99000001"), hash);
  EXPECT_NE(ring.KeyedHash("99000002"), hash);
  EXPECT_NE(ring.KeyedHash(""), hash);
  EXPECT_NE(MustParse(kLineB).KeyedHash("99000001"), hash);
}

TEST(KeyRingTest, LookupsFindHashesMadeBeforeARotation) {
  const std::string before = MustParse(kLineA).KeyedHash("99000001");
  const KeyRing rotated = MustParse(kLineA + "\n" + kLineB);
  EXPECT_NE(rotated.KeyedHash("99000001"), before) << "new hashes use the new key";
  const std::vector<std::string> all = rotated.KeyedHashes("99000001");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], rotated.KeyedHash("99000001"));
  EXPECT_EQ(all[1], before);
}

TEST(KeyRingTest, SealedKeyIdNamesTheSealingKey) {
  const KeyRing rotated = MustParse(kLineA + "\n" + kLineB);
  EXPECT_EQ(KeyRing::SealedKeyId(rotated.Seal("x", "aad")), "test-key-2");
  EXPECT_EQ(KeyRing::SealedKeyId("garbage"), "");
}

TEST(KeyRingTest, ParseSkipsCommentsAndBlankLines) {
  const KeyRing ring = MustParse("# test keys\n\n  " + kLineA + "  \r\n# rotated\n" + kLineB);
  EXPECT_EQ(ring.current_key_id(), "test-key-2");
}

void ExpectParseError(const std::string& text, const std::string& message) {
  const absl::StatusOr<KeyRing> ring = KeyRing::Parse(text);
  EXPECT_EQ(ring.status(), absl::InvalidArgumentError(message)) << text;
  EXPECT_EQ(std::string(ring.status().message()).find(kHexA), std::string::npos);
}

TEST(KeyRingTest, ParseErrorsNameTheLine) {
  const std::string shape = ": must be '<key-id> <64 hex digits>'";
  ExpectParseError("# comment\n\ntest-key-1 " + std::string(64, 'g'), "key file line 3" + shape);
  ExpectParseError(kLineA + "\ntest-key-2 " + kHexA.substr(2), "key file line 2" + shape);
  ExpectParseError("test-key-1 " + kHexA + "00", "key file line 1" + shape);
  ExpectParseError("test-key-1 " + kHexA.substr(1), "key file line 1" + shape);
  ExpectParseError(kHexA, "key file line 1" + shape);
  ExpectParseError(kLineA + " extra", "key file line 1" + shape);
  ExpectParseError(std::string(65, 'k') + " " + kHexA, "key file line 1" + shape);
  ExpectParseError(kLineA + "\n" + kLineB + "\n" + "test-key-1 " + kHexB,
                   "key file line 3: duplicate key id");
}

TEST(KeyRingTest, ParseRejectsAFileWithoutKeys) {
  EXPECT_EQ(KeyRing::Parse("").status(), absl::InvalidArgumentError("key file: holds no key"));
  EXPECT_EQ(KeyRing::Parse("# only a comment\n\n").status(),
            absl::InvalidArgumentError("key file: holds no key"));
}

TEST(KeyRingTest, GeneratedKeyLineParses) {
  const std::string line = KeyRing::GenerateKeyLine("test-key-9");
  EXPECT_NE(line, KeyRing::GenerateKeyLine("test-key-9"));
  const KeyRing ring = MustParse(line);
  EXPECT_EQ(ring.current_key_id(), "test-key-9");
}

std::string WriteKeyFile(const std::string& name, const std::string& text, mode_t mode) {
  const std::string path = absl::StrCat(testing::TempDir(), "/", name);
  std::remove(path.c_str());
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  }
  EXPECT_EQ(chmod(path.c_str(), mode), 0);
  return path;
}

TEST(KeyRingTest, LoadFileRefusesAFileOthersCanRead) {
  const std::string path = WriteKeyFile("crypto_test_keys_0644", kLineA + "\n", 0644);
  EXPECT_EQ(KeyRing::LoadFile(path).status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string group = WriteKeyFile("crypto_test_keys_0640", kLineA + "\n", 0640);
  EXPECT_EQ(KeyRing::LoadFile(group).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(KeyRingTest, LoadFileAcceptsOwnerOnlyFiles) {
  for (mode_t mode : {mode_t{0600}, mode_t{0400}}) {
    const std::string path =
        WriteKeyFile(absl::StrCat("crypto_test_keys_", mode), kLineA + "\n" + kLineB + "\n", mode);
    const absl::StatusOr<KeyRing> ring = KeyRing::LoadFile(path);
    ASSERT_TRUE(ring.ok()) << ring.status();
    EXPECT_EQ(ring->current_key_id(), "test-key-2");
  }
}

TEST(KeyRingTest, LoadFileOfAMissingFileIsNotFound) {
  EXPECT_EQ(KeyRing::LoadFile(testing::TempDir() + "/crypto_test_no_such_file").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(DataKeyTest, SealOpenRoundTrip) {
  const DataKey key = DataKey::Generate();
  const std::string blob = key.Seal(kPlaintext, kAad);
  EXPECT_EQ(blob.find(kPlaintext), std::string::npos);
  EXPECT_EQ(blob.size(), 1 + 12 + sizeof(kPlaintext) - 1 + 16);
  const absl::StatusOr<std::string> opened = key.Open(blob, kAad);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kPlaintext);
  const absl::StatusOr<std::string> empty = key.Open(key.Seal("", kAad), kAad);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, "");
}

TEST(DataKeyTest, SealUsesAFreshNonceAndGenerateAFreshKey) {
  const DataKey key = DataKey::Generate();
  EXPECT_NE(key.Seal(kPlaintext, kAad), key.Seal(kPlaintext, kAad));
  EXPECT_NE(DataKey::Generate(), DataKey::Generate());
}

TEST(DataKeyTest, FromBytesRoundTripsAndRejectsOtherLengths) {
  const DataKey key = DataKey::Generate();
  const absl::StatusOr<DataKey> copy = DataKey::FromBytes(key.Bytes());
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(*copy, key);
  EXPECT_TRUE(copy->Open(key.Seal(kPlaintext, kAad), kAad).ok());
  for (size_t n : {size_t{0}, size_t{16}, size_t{31}, size_t{33}, size_t{64}}) {
    EXPECT_EQ(DataKey::FromBytes(std::string(n, 'k')).status().code(),
              absl::StatusCode::kInvalidArgument)
        << "length " << n;
  }
}

TEST(DataKeyTest, OpenWithOtherAssociatedDataOrKeyIsDataLoss) {
  const DataKey key = DataKey::Generate();
  const std::string blob = key.Seal(kPlaintext, kAad);
  EXPECT_EQ(key.Open(blob, "cases/fedcba9876543210").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DataKey::Generate().Open(blob, kAad).status().code(), absl::StatusCode::kDataLoss);
}

TEST(DataKeyTest, AnyFlippedByteOrTruncationIsDataLoss) {
  const DataKey key = DataKey::Generate();
  const std::string blob = key.Seal(kPlaintext, kAad);
  for (size_t i = 0; i < blob.size(); ++i) {
    std::string changed = blob;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_EQ(key.Open(changed, kAad).status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
  }
  for (size_t n : {size_t{0}, size_t{1}, size_t{28}, blob.size() - 1}) {
    EXPECT_EQ(key.Open(blob.substr(0, n), kAad).status().code(), absl::StatusCode::kDataLoss)
        << "length " << n;
  }
}

TEST(DataKeyTest, FormatIsDistinctFromKeyRings) {
  const KeyRing ring = MustParse(kLineA);
  const DataKey key = DataKey::Generate();
  const std::string sealed_by_key = key.Seal(kPlaintext, kAad);
  const std::string sealed_by_ring = ring.Seal(kPlaintext, kAad);
  EXPECT_EQ(static_cast<unsigned char>(sealed_by_key[0]), 0x02);
  EXPECT_TRUE(DataKey::IsSealed(sealed_by_key));
  EXPECT_FALSE(DataKey::IsSealed(sealed_by_ring));
  EXPECT_FALSE(DataKey::IsSealed(""));
  EXPECT_FALSE(DataKey::IsSealed(std::string(1, '\x02')));
  EXPECT_EQ(KeyRing::SealedKeyId(sealed_by_key), "");
  EXPECT_EQ(ring.Open(sealed_by_key, kAad).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(key.Open(sealed_by_ring, kAad).status().code(), absl::StatusCode::kDataLoss);
}

TEST(DataKeyTest, CopiesOpenWhatTheOriginalSealed) {
  const DataKey key = DataKey::Generate();
  DataKey copy = key;
  EXPECT_EQ(copy, key);
  copy = DataKey::Generate();
  EXPECT_NE(copy, key);
  copy = key;
  EXPECT_TRUE(copy.Open(key.Seal(kPlaintext, kAad), kAad).ok());
}

TEST(DataKeyTest, DestructionCleansesTheKeyBytes) {
  alignas(DataKey) unsigned char storage[sizeof(DataKey)];
  auto* key = new (storage) DataKey(DataKey::Generate());
  const std::string raw = key->Bytes();
  ASSERT_NE(std::string(reinterpret_cast<char*>(storage), sizeof(storage)).find(raw),
            std::string::npos);
  key->~DataKey();
  EXPECT_EQ(std::string(reinterpret_cast<char*>(storage), sizeof(storage)),
            std::string(sizeof(storage), '\0'));
}

TEST(HexEncodeTest, LowerCaseTwoDigitsPerByte) {
  EXPECT_EQ(HexEncode(std::string("\x00\x0f\xa0\xff", 4)), "000fa0ff");
  EXPECT_EQ(HexEncode(""), "");
}

}  // namespace
}  // namespace handover
