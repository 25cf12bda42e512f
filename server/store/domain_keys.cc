// DomainStore's key rotation: which key seals how much, swapping in a
// re-read key file, and re-sealing what an old key sealed.
#include "absl/strings/str_cat.h"
#include "server/store/document_staging.h"
#include "server/store/domain_store.h"
#include "server/store/domain_store_tasks.h"

namespace handover::store {
namespace {

// Chunks are large: a few at a time keeps the writer's memory small.
constexpr int kChunksPerReencryption = 64;

std::string AssociatedDataOf(const SealedItem& item) {
  switch (item.kind) {
    case SealedItem::Kind::kForm:
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
      [](ReadTxn& txn) -> absl::StatusOr<std::map<std::string, int64_t>> { return txn.KeyUsage(); },
      std::move(done));
}

void DomainStore::ReplaceKeys(std::shared_ptr<const KeyRing> ring, Done<bool> done) {
  // Checked and swapped inside a write, so no write seals with a key that is
  // about to go, and no key still in use can be dropped.
  Write<bool>(
      [this, ring = std::move(ring)](WriteTxn& txn) -> absl::StatusOr<bool> {
        for (const auto& [id, count] : txn.KeyUsage()) {
          if (count > 0 && (id.empty() || !ring->HasKey(id))) {
            return absl::FailedPreconditionError(absl::StrCat(
                "key file: a key still in use is missing (", id.empty() ? "unlabelled" : id,
                "); keep it until re-encryption is done"));
          }
        }
        absl::MutexLock lock(&keys_mu_);
        keys_ = ring;
        return true;
      },
      std::move(done));
}

void DomainStore::Reencrypt(int limit, Done<int> done) {
  Write<int>(
      [this, limit](WriteTxn& txn) -> absl::StatusOr<int> {
        const std::shared_ptr<const KeyRing> ring = keys();
        const std::string& current = ring->current_key_id();
        int count = 0;
        for (SealedItem::Kind kind :
             {SealedItem::Kind::kForm, SealedItem::Kind::kTitle, SealedItem::Kind::kChunk}) {
          const int room = kind == SealedItem::Kind::kChunk
                               ? std::min(limit - count, kChunksPerReencryption)
                               : limit - count;
          if (room <= 0) break;
          for (SealedItem& item : txn.StaleItems(kind, current, room)) {
            const std::string aad = AssociatedDataOf(item);
            auto plain = ring->Open(item.sealed, aad);
            if (!plain.ok()) return plain.status();
            item.sealed = ring->Seal(*plain, aad);
            txn.Reseal(item, current);
            if (item.current_form) {
              // The current version: move the lookup hash to the new key too.
              v1::HandoverForm form;
              form.ParseFromString(*plain);
              txn.SetPersonHash(item.case_id,
                                PersonHash(*ring, form.identity().person_identifier()));
            }
            ++count;
          }
        }
        return count;
      },
      std::move(done));
}

}  // namespace handover::store
