// DomainStore's key rotation and the migration to per-case keys: what each
// key is used for, swapping in a re-read key file, re-wrapping case keys,
// re-sealing items from before per-case keys under their case's key, and
// re-making person hashes under the current key.
#include <set>

#include "absl/strings/str_cat.h"
#include "server/store/document_staging.h"
#include "server/store/domain_store.h"
#include "server/store/domain_store_tasks.h"

namespace handover::store {
namespace {

// Chunks are large: a few at a time keeps the writer's memory small.
constexpr int kChunksPerStep = 64;

std::string AssociatedDataOf(const SealedItem& item) {
  switch (item.kind) {
    case SealedItem::Kind::kForm:
    case SealedItem::Kind::kPersonHash:
      return FormAssociatedData(item.case_id, item.version);
    case SealedItem::Kind::kTitle:
      return TitleAssociatedData(item.case_id, item.document_id, item.version);
    case SealedItem::Kind::kChunk:
      return ChunkAssociatedData(item.blob_id, item.seq);
  }
  return "";
}

}  // namespace

void DomainStore::KeyUsage(Done<std::map<std::string, int64_t>> done) {
  Read<std::map<std::string, int64_t>>(
      [this](ReadTxn& txn) -> absl::StatusOr<std::map<std::string, int64_t>> {
        std::map<std::string, int64_t> usage = txn.KeyUsage();
        auto wrapping = case_keys_->Usage();
        if (!wrapping.ok()) return wrapping.status();
        for (const auto& [id, count] : *wrapping) usage[id] += count;
        return usage;
      },
      std::move(done));
}

void DomainStore::ReplaceKeys(std::shared_ptr<const KeyRing> ring, Done<bool> done) {
  // Checked and swapped inside a write, so no write uses a key that is about
  // to go, and no key still in use can be dropped.
  Write<bool>(
      [this, ring = std::move(ring)](WriteTxn& txn) -> absl::StatusOr<bool> {
        for (const auto& [id, count] : txn.KeyUsage()) {
          if (id == kCaseKeyId || count == 0) continue;
          if (id.empty() || !ring->HasKey(id)) {
            return absl::FailedPreconditionError(absl::StrCat(
                "key file: a key still in use is missing (", id.empty() ? "unlabelled" : id,
                "); keep it until re-encryption is done"));
          }
        }
        if (absl::Status s = case_keys_->ReplaceKeys(ring); !s.ok()) return s;
        absl::MutexLock lock(&keys_mu_);
        keys_ = ring;
        return true;
      },
      std::move(done));
}

void DomainStore::Reencrypt(int limit, Done<int> done) {
  Write<int>(
      [this, limit](WriteTxn& txn) -> absl::StatusOr<int> {
        // 1. Case keys under the current key of the key file.
        absl::StatusOr<int> rewrapped = case_keys_->Rewrap(limit);
        if (!rewrapped.ok()) return rewrapped.status();
        int count = *rewrapped;
        const CaseCipher cipher = Cipher();
        const KeyRing& ring = cipher.ring();
        // 2. Items from before per-case keys, under their case's key (made
        // now, in one key store transaction, for cases that have none).
        for (SealedItem::Kind kind :
             {SealedItem::Kind::kForm, SealedItem::Kind::kTitle, SealedItem::Kind::kChunk}) {
          const int room = kind == SealedItem::Kind::kChunk
                               ? std::min(limit - count, kChunksPerStep)
                               : limit - count;
          if (room <= 0) return count;
          std::vector<SealedItem> items = txn.StaleItems(kind, kCaseKeyId, room);
          std::set<std::string> cases;
          for (const SealedItem& item : items) cases.insert(item.case_id);
          std::map<std::string, DataKey> keys;
          if (absl::Status s = case_keys_->CreateMany({cases.begin(), cases.end()}, &keys);
              !s.ok()) {
            return s;
          }
          for (SealedItem& item : items) {
            const std::string aad = AssociatedDataOf(item);
            auto plain = cipher.Open(item.case_id, item.sealed, aad);
            if (!plain.ok()) return plain.status();
            item.sealed = keys.at(item.case_id).Seal(*plain, aad);
            txn.Reseal(item, kCaseKeyId);
            ++count;
          }
        }
        // 3. Person hashes under the current key of the key file.
        if (limit - count <= 0) return count;
        for (const SealedItem& item :
             txn.StaleItems(SealedItem::Kind::kPersonHash, ring.current_key_id(), limit - count)) {
          auto plain = cipher.Open(item.case_id, item.sealed, AssociatedDataOf(item));
          if (!plain.ok()) return plain.status();
          v1::HandoverForm form;
          if (!form.ParseFromString(*plain))
            return absl::DataLossError("stored form does not parse");
          txn.SetPersonHash(item.case_id, PersonHash(ring, form.identity().person_identifier()),
                            ring.current_key_id());
          ++count;
        }
        return count;
      },
      std::move(done));
}

}  // namespace handover::store
