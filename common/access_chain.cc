#include "common/access_chain.h"

#include "absl/strings/str_cat.h"
#include "common/serialize.h"
#include "common/signing.h"

namespace handover {

std::string ChainHash(absl::string_view previous_hash, const v1::AccessRecord& record) {
  return Sha256(absl::StrCat(previous_hash, SerializeDeterministic(record)));
}

std::string CheckpointMessage(int64_t sequence, absl::string_view head_hash) {
  return absl::StrCat("handover/v1 checkpoint\n", sequence, "\n", head_hash);
}

absl::StatusOr<VerifyReport> VerifyAccessLog(const std::vector<v1::ExportAccessLogResponse>& items,
                                             absl::string_view public_key_pem) {
  VerifyReport report;
  std::string previous = kGenesisHash;
  int64_t expected = 1;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string line = absl::StrCat("line ", i + 1);
    if (items[i].has_entry()) {
      const v1::AccessLogEntry& entry = items[i].entry();
      const int64_t sequence = entry.record().sequence();
      if (sequence > expected) {
        return absl::DataLossError(absl::StrCat(line, ": records ", expected, " to ", sequence - 1,
                                                " are missing (deleted)"));
      }
      if (sequence < expected) {
        return absl::DataLossError(absl::StrCat(line, ": record ", sequence,
                                                " is out of order (reordered or duplicated)"));
      }
      if (ChainHash(previous, entry.record()) != entry.hash()) {
        return absl::DataLossError(absl::StrCat(
            line, ": record ", sequence, " does not match its hash (changed)"));
      }
      previous = entry.hash();
      ++expected;
      ++report.records;
    } else if (items[i].has_checkpoint()) {
      const v1::Checkpoint& checkpoint = items[i].checkpoint();
      if (checkpoint.sequence() != expected - 1 || checkpoint.head_hash() != previous) {
        return absl::DataLossError(absl::StrCat(line, ": checkpoint at record ",
                                                checkpoint.sequence(),
                                                " does not match the log before it"));
      }
      if (!VerifySignature(public_key_pem,
                           CheckpointMessage(checkpoint.sequence(), checkpoint.head_hash()),
                           checkpoint.signature())
               .ok()) {
        return absl::DataLossError(absl::StrCat(line, ": checkpoint at record ",
                                                checkpoint.sequence(),
                                                " is not signed by the given key"));
      }
      ++report.checkpoints;
      report.signed_through = checkpoint.sequence();
    }
  }
  return report;
}

}  // namespace handover
