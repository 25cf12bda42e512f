#include "server/store/access_log.h"

#include "common/access_chain.h"
#include "server/store/sealing.h"

namespace handover::store {

v1::AccessLogEntry AppendAccessRecord(WriteTxn& txn, v1::AccessRecord record) {
  const std::optional<AccessHead> last = txn.LastAccessEntry();
  record.set_sequence(last ? last->sequence + 1 : 1);
  if (!record.has_time()) *record.mutable_time() = ToTimestamp(NowMicros());
  v1::AccessLogEntry entry;
  entry.set_hash(ChainHash(last ? last->hash : std::string(kGenesisHash), record));
  *entry.mutable_record() = std::move(record);
  txn.AppendAccessEntry(entry);
  return entry;
}

std::optional<v1::Checkpoint> AppendCheckpoint(WriteTxn& txn, const Signer& signer,
                                               int64_t now_micros) {
  const std::optional<AccessHead> head = txn.LastAccessEntry();
  if (!head || head->sequence <= txn.SignedThrough()) return std::nullopt;
  v1::Checkpoint checkpoint;
  checkpoint.set_sequence(head->sequence);
  checkpoint.set_head_hash(head->hash);
  *checkpoint.mutable_time() = ToTimestamp(now_micros);
  checkpoint.set_signature(signer.Sign(CheckpointMessage(head->sequence, head->hash)));
  txn.InsertCheckpoint(checkpoint);
  return checkpoint;
}

}  // namespace handover::store
