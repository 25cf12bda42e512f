// common/access_chain.h offline: an intact export verifies, and each kind of
// tampering with its lines is told apart by name (altered, deleted,
// reordered, duplicated) at the line and record where it shows.
#include "common/access_chain.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "common/signing.h"

namespace handover {
namespace {

using Items = std::vector<v1::ExportAccessLogResponse>;

class AccessChainTest : public ::testing::Test {
 protected:
  // Line 1 the key, lines 2 to 6 records 1 to 5, line 7 a checkpoint at 5,
  // line 8 record 6.
  AccessChainTest() {
    items_.emplace_back().set_public_key_pem(signer_.public_key_pem());
    std::string previous = kGenesisHash;
    for (int64_t sequence = 1; sequence <= 6; ++sequence) {
      if (sequence == 6) {
        v1::Checkpoint* checkpoint = items_.emplace_back().mutable_checkpoint();
        checkpoint->set_sequence(5);
        checkpoint->set_head_hash(previous);
        checkpoint->set_signature(signer_.Sign(CheckpointMessage(5, previous)));
      }
      v1::AccessLogEntry* entry = items_.emplace_back().mutable_entry();
      v1::AccessRecord* record = entry->mutable_record();
      record->set_sequence(sequence);
      record->set_organisation("municipality-760");
      record->set_role("municipality");
      record->set_actor("caseworker-k");
      record->set_operation("GetCase");
      record->add_case_names("cases/0123456789abcdef");
      record->set_outcome("OK");
      entry->set_hash(ChainHash(previous, *record));
      previous = entry->hash();
    }
  }

  std::string Problem(const Items& items) {
    auto report = VerifyAccessLog(items, signer_.public_key_pem());
    EXPECT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
    return std::string(report.status().message());
  }

  // Line `line` (from 1) of the export.
  v1::ExportAccessLogResponse& Line(Items& items, int line) { return items[line - 1]; }

  Signer signer_ = Signer::Generate();
  Items items_;
};

TEST_F(AccessChainTest, AnIntactExportVerifies) {
  auto report = VerifyAccessLog(items_, signer_.public_key_pem());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->records, 6);
  EXPECT_EQ(report->checkpoints, 1);
  EXPECT_EQ(report->signed_through, 5);
}

TEST_F(AccessChainTest, TwoSwappedLinesAreReorderedNotDeleted) {
  Items swapped = items_;
  std::swap(Line(swapped, 3), Line(swapped, 4));
  EXPECT_EQ(Problem(swapped), "line 3: records 2 and 3 are swapped (reordered)");
}

TEST_F(AccessChainTest, NeighboursSwappedAcrossACheckpointAreReordered) {
  Items swapped = items_;
  std::swap(Line(swapped, 6), Line(swapped, 8));  // records 5 and 6, the checkpoint between
  EXPECT_EQ(Problem(swapped), "line 6: records 5 and 6 are swapped (reordered)");
}

TEST_F(AccessChainTest, ARecordMovedFurtherIsReordered) {
  Items moved = items_;
  auto record2 = Line(moved, 3);
  moved.erase(moved.begin() + 2);
  moved.insert(moved.begin() + 4, record2);  // 1, 3, 4, 2, 5
  EXPECT_EQ(Problem(moved),
            "line 3: record 3 comes before record 2, which is on line 5 (reordered)");
}

TEST_F(AccessChainTest, ADeletedRecordIsMissing) {
  Items deleted = items_;
  deleted.erase(deleted.begin() + 2);
  EXPECT_EQ(Problem(deleted), "line 3: record 2 is missing (deleted)");
}

TEST_F(AccessChainTest, SeveralDeletedRecordsAreMissing) {
  Items deleted = items_;
  deleted.erase(deleted.begin() + 2, deleted.begin() + 5);
  EXPECT_EQ(Problem(deleted), "line 3: records 2 to 4 are missing (deleted)");
}

TEST_F(AccessChainTest, ADeletedRecordIsMissingEvenIfTheNextOneWasMoved) {
  Items tampered = items_;
  std::swap(Line(tampered, 4), Line(tampered, 5));  // 1, 2, 4, 3, 5
  tampered.erase(tampered.begin() + 2);             // 1, 4, 3, 5
  EXPECT_EQ(Problem(tampered), "line 3: record 2 is missing (deleted)");
}

TEST_F(AccessChainTest, ACopiedLineIsDuplicated) {
  Items duplicated = items_;
  const v1::ExportAccessLogResponse record2 = Line(duplicated, 3);
  const v1::ExportAccessLogResponse record3 = Line(duplicated, 4);
  duplicated.insert(duplicated.begin() + 3, record2);  // 1, 2, 2, 3
  EXPECT_EQ(Problem(duplicated), "line 4: record 2 is duplicated (also on line 3)");

  duplicated = items_;
  duplicated.push_back(record2);  // record 2 again at the end
  EXPECT_EQ(Problem(duplicated), "line 9: record 2 is duplicated (also on line 3)");

  duplicated = items_;
  duplicated.insert(duplicated.begin() + 2, record3);  // 1, 3, 2, 3
  EXPECT_EQ(Problem(duplicated), "line 3: record 3 is duplicated (also on line 5)");
}

TEST_F(AccessChainTest, AnAlteredRecordDoesNotMatchItsHash) {
  Items altered = items_;
  Line(altered, 4).mutable_entry()->mutable_record()->set_actor("someone-else");
  EXPECT_EQ(Problem(altered), "line 4: record 3 does not match its hash (changed)");

  altered = items_;
  Line(altered, 4).mutable_entry()->mutable_record()->set_sequence(0);
  EXPECT_EQ(Problem(altered), "line 4: record 0 has no valid sequence number (changed)");
}

TEST_F(AccessChainTest, MessagesNameNoRecordContent) {
  Items swapped = items_;
  std::swap(Line(swapped, 3), Line(swapped, 4));
  Items duplicated = items_;
  duplicated.push_back(items_[2]);
  Items altered = items_;
  Line(altered, 4).mutable_entry()->mutable_record()->set_actor("someone-else");
  for (const Items* items : {&swapped, &duplicated, &altered}) {
    const std::string message = Problem(*items);
    for (const char* content :
         {"caseworker", "someone-else", "municipality", "cases/", "GetCase"}) {
      EXPECT_EQ(message.find(content), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace handover
