#include "common/access_chain.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/serialize.h"
#include "common/signing.h"

namespace handover {
namespace {

using Items = std::vector<v1::ExportAccessLogResponse>;

// The lines (from 1) that hold record `sequence`.
std::vector<size_t> LinesOf(const Items& items, int64_t sequence) {
  std::vector<size_t> lines;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].has_entry() && items[i].entry().record().sequence() == sequence) {
      lines.push_back(i + 1);
    }
  }
  return lines;
}

// The line of the first record after `line`, checkpoints skipped; 0 if none.
size_t NextRecordLine(const Items& items, size_t line) {
  for (size_t i = line; i < items.size(); ++i) {
    if (items[i].has_entry()) return i + 1;
  }
  return 0;
}

// The lowest sequence above `low` and below `high` anywhere in the export;
// `high` if none.
int64_t LowestPresentBetween(const Items& items, int64_t low, int64_t high) {
  int64_t lowest = high;
  for (const auto& item : items) {
    if (!item.has_entry()) continue;
    const int64_t sequence = item.entry().record().sequence();
    if (sequence > low && sequence < lowest) lowest = sequence;
  }
  return lowest;
}

// Why `line` holds record `sequence` where record `expected` belongs. Lines
// before it hold records 1 to expected - 1 once each, in order. Only
// sequence numbers and line numbers are named, never record content.
absl::Status OutOfPlace(const Items& items, size_t line, int64_t sequence, int64_t expected) {
  const std::string at = absl::StrCat("line ", line, ": ");
  std::vector<size_t> others = LinesOf(items, sequence);
  others.erase(std::find(others.begin(), others.end(), line));
  if (!others.empty()) {
    return absl::DataLossError(absl::StrCat(at, "record ", sequence, " is duplicated (also on ",
                                            others.size() == 1 ? "line " : "lines ",
                                            absl::StrJoin(others, ", "), ")"));
  }
  if (sequence < expected) {  // below 1: no record of the log has that number
    return absl::DataLossError(
        absl::StrCat(at, "record ", sequence, " has no valid sequence number (changed)"));
  }
  if (std::vector<size_t> later = LinesOf(items, expected); !later.empty()) {
    if (sequence == expected + 1 && NextRecordLine(items, line) == later.front()) {
      return absl::DataLossError(
          absl::StrCat(at, "records ", expected, " and ", sequence, " are swapped (reordered)"));
    }
    return absl::DataLossError(absl::StrCat(at, "record ", sequence, " comes before record ",
                                            expected, ", which is on line ", later.front(),
                                            " (reordered)"));
  }
  const int64_t last_missing = LowestPresentBetween(items, expected, sequence) - 1;
  if (last_missing == expected) {
    return absl::DataLossError(absl::StrCat(at, "record ", expected, " is missing (deleted)"));
  }
  return absl::DataLossError(
      absl::StrCat(at, "records ", expected, " to ", last_missing, " are missing (deleted)"));
}

}  // namespace

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
      if (sequence != expected) return OutOfPlace(items, i + 1, sequence, expected);
      if (ChainHash(previous, entry.record()) != entry.hash()) {
        return absl::DataLossError(
            absl::StrCat(line, ": record ", sequence, " does not match its hash (changed)"));
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
