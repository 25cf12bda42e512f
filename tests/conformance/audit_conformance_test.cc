// The access log: sequences in commit order, queries, the hash chain and its
// signed checkpoints, and a write's record in the write's own transaction.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <variant>

#include "common/access_chain.h"
#include "common/signing.h"
#include "handover/v1/handover_service.pb.h"
#include "server/store/sealing.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {
namespace {

using testing::Await;
using ::testing::ElementsAre;
using testing::SampleForm;

constexpr int64_t kDayMicros = 86'400'000'000;
constexpr int64_t kBaseMicros = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

absl::StatusOr<int64_t> RecordAccess(store::CaseStore& store, v1::AccessRecord record) {
  return Await<int64_t>([&](auto done) { store.RecordAccess(std::move(record), done); });
}

std::vector<v1::AccessLogEntry> Query(store::CaseStore& store, store::AccessQuery query) {
  auto entries = Await<std::vector<v1::AccessLogEntry>>(
      [&](auto done) { store.QueryAccessLog(std::move(query), done); });
  EXPECT_TRUE(entries.ok()) << entries.status();
  return entries.ok() ? *std::move(entries) : std::vector<v1::AccessLogEntry>{};
}

std::vector<int64_t> Sequences(const std::vector<v1::AccessLogEntry>& entries) {
  std::vector<int64_t> sequences;
  for (const v1::AccessLogEntry& entry : entries) sequences.push_back(entry.record().sequence());
  return sequences;
}

// A read record of `organisation`'s `actor` about a case, at day `day`.
v1::AccessRecord ReadRecord(const std::string& organisation, const std::string& actor,
                            const std::string& case_id, int day) {
  v1::AccessRecord record;
  record.set_organisation(organisation);
  record.set_role("operator");
  record.set_actor(actor);
  record.set_operation("GetCase");
  record.add_case_names("cases/" + case_id);
  record.set_outcome("OK");
  *record.mutable_time() = store::ToTimestamp(kBaseMicros + day * kDayMicros);
  return record;
}

TEST_P(AuditConformance, RecordedSequencesIncreaseByOne) {
  std::vector<int64_t> sequences;
  for (int i = 0; i < 5; ++i) {
    auto sequence = RecordAccess(*store_, ReadRecord("redcross", "a", "0123456789abcdef", i));
    ASSERT_TRUE(sequence.ok()) << sequence.status();
    sequences.push_back(*sequence);
  }
  EXPECT_THAT(sequences, ElementsAre(1, 2, 3, 4, 5));
}

TEST_P(AuditConformance, QueryFiltersByCaseOrganisationActorTimeAndSequence) {
  const std::string a = "0123456789abcdef", b = "fedcba9876543210";
  ASSERT_TRUE(RecordAccess(*store_, ReadRecord("redcross", "anna", a, 0)).ok());   // 1
  ASSERT_TRUE(RecordAccess(*store_, ReadRecord("redcross", "bo", b, 1)).ok());     // 2
  ASSERT_TRUE(RecordAccess(*store_, ReadRecord("hanstholm", "anna", a, 2)).ok());  // 3
  ASSERT_TRUE(RecordAccess(*store_, ReadRecord("hanstholm", "carl", b, 3)).ok());  // 4
  v1::AccessRecord both = ReadRecord("uds", "dora", a, 4);
  both.add_case_names("cases/" + b);
  ASSERT_TRUE(RecordAccess(*store_, both).ok());  // 5

  EXPECT_THAT(Sequences(Query(*store_, {})), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(Sequences(Query(*store_, {.case_id = a})), ElementsAre(1, 3, 5));
  EXPECT_THAT(Sequences(Query(*store_, {.case_id = b})), ElementsAre(2, 4, 5));
  EXPECT_THAT(Sequences(Query(*store_, {.organisation = "hanstholm"})), ElementsAre(3, 4));
  EXPECT_THAT(Sequences(Query(*store_, {.actor = "anna"})), ElementsAre(1, 3));
  EXPECT_THAT(Sequences(Query(*store_, {.case_id = a, .organisation = "redcross"})),
              ElementsAre(1));
  EXPECT_THAT(Sequences(Query(*store_, {.start_micros = kBaseMicros + 1 * kDayMicros,
                                        .end_micros = kBaseMicros + 3 * kDayMicros})),
              ElementsAre(2, 3))
      << "start inclusive, end exclusive";
  EXPECT_THAT(Sequences(Query(*store_, {.after_sequence = 3})), ElementsAre(4, 5));
  EXPECT_THAT(Sequences(Query(*store_, {.after_sequence = 1, .page_size = 2})), ElementsAre(2, 3));
  // What was recorded reads back, hash and all.
  const std::vector<v1::AccessLogEntry> all = Query(*store_, {});
  EXPECT_EQ(all[4].record().case_names_size(), 2);
  EXPECT_EQ(all[4].record().organisation(), "uds");
  EXPECT_EQ(all[4].hash().size(), 32u);
}

TEST_P(AuditConformance, ExportedEntriesChainEachToThePrevious) {
  auto created =
      Create("create-1", SampleForm("99000061"), kRedCross, Record(kRedCross, "CreateCase"));
  ASSERT_TRUE(created.ok()) << created.status();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(RecordAccess(*store_, ReadRecord("redcross", "a", CaseId(*created), i)).ok());
  }
  const std::vector<v1::ExportAccessLogResponse> items = Export();
  ASSERT_EQ(items.size(), 5u);
  std::string previous = kGenesisHash;
  int64_t sequence = 0;
  for (const v1::ExportAccessLogResponse& item : items) {
    ASSERT_TRUE(item.has_entry());
    EXPECT_EQ(item.entry().record().sequence(), ++sequence);
    EXPECT_EQ(item.entry().hash(), ChainHash(previous, item.entry().record()))
        << "entry " << sequence;
    previous = item.entry().hash();
  }
  EXPECT_TRUE(VerifyAccessLog(items, signer_->public_key_pem()).ok());

  auto tail = Await<std::vector<store::AccessExportItem>>(
      [&](auto done) { store_->ExportAccessLog(3, 1, done); });
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 1u);
  ASSERT_TRUE(std::holds_alternative<v1::AccessLogEntry>((*tail)[0].item));
  EXPECT_EQ(std::get<v1::AccessLogEntry>((*tail)[0].item).record().sequence(), 4);
}

TEST_P(AuditConformance, CheckpointSignsTheHeadOnceItGrew) {
  auto none = Await<bool>([&](auto done) { store_->WriteCheckpoint(done); });
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(*none) << "an empty log has nothing to sign";

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(RecordAccess(*store_, ReadRecord("redcross", "a", "0123456789abcdef", i)).ok());
  }
  auto signed_once = Await<bool>([&](auto done) { store_->WriteCheckpoint(done); });
  ASSERT_TRUE(signed_once.ok()) << signed_once.status();
  EXPECT_TRUE(*signed_once);
  auto again = Await<bool>([&](auto done) { store_->WriteCheckpoint(done); });
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "the log did not grow";

  const std::vector<v1::ExportAccessLogResponse> items = Export();
  ASSERT_EQ(items.size(), 4u);
  ASSERT_TRUE(items[3].has_checkpoint()) << "the checkpoint follows its entry";
  const v1::Checkpoint& checkpoint = items[3].checkpoint();
  EXPECT_EQ(checkpoint.sequence(), 3);
  EXPECT_EQ(checkpoint.head_hash(), items[2].entry().hash());
  EXPECT_TRUE(VerifySignature(signer_->public_key_pem(),
                              CheckpointMessage(checkpoint.sequence(), checkpoint.head_hash()),
                              checkpoint.signature())
                  .ok());
  auto report = VerifyAccessLog(items, signer_->public_key_pem());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->signed_through, 3);
}

TEST_P(AuditConformance, CheckpointWithoutASigningKeyIsFailedPrecondition) {
  store::DomainStoreOptions unsigned_options = options_;
  unsigned_options.signer = nullptr;
  Open(unsigned_options);
  ASSERT_TRUE(RecordAccess(*store_, ReadRecord("redcross", "a", "0123456789abcdef", 0)).ok());
  EXPECT_EQ(Await<bool>([&](auto done) { store_->WriteCheckpoint(done); }).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_P(AuditConformance, SuccessfulWriteRecordsItsOutcomeInTheSameTransaction) {
  auto created =
      Create("create-1", SampleForm("99000061"), kRedCross, Record(kRedCross, "CreateCase"));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::vector<v1::AccessLogEntry> entries = Query(*store_, {});
  ASSERT_EQ(entries.size(), 1u);
  const v1::AccessRecord& record = entries[0].record();
  EXPECT_EQ(record.operation(), "CreateCase");
  EXPECT_EQ(record.outcome(), "OK");
  EXPECT_THAT(record.case_names(), ElementsAre(created->meta.name()));
  EXPECT_EQ(record.version(), 1);
  EXPECT_EQ(Sequences(Query(*store_, {.case_id = CaseId(*created)})), std::vector<int64_t>{1});
}

TEST_P(AuditConformance, RefusedWriteLeavesOnlyItsRecord) {
  auto created = Create("create-1", SampleForm("99000061"));
  ASSERT_TRUE(created.ok());
  const int64_t head = Head();
  const std::vector<v1::AccessLogEntry> before = Query(*store_, {});

  const std::string unknown = "0123456789abcdef";
  v1::HandoverForm form = SampleForm("99000061");
  auto refused = Update(unknown, form, "", "update-1", {}, kRedCross,
                        Record(kRedCross, "UpdateForm", CaseName(unknown)));
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kNotFound);

  const std::vector<v1::AccessLogEntry> after = Query(*store_, {});
  ASSERT_EQ(after.size(), before.size() + 1) << "exactly one record";
  const v1::AccessRecord& record = after.back().record();
  EXPECT_EQ(record.operation(), "UpdateForm");
  EXPECT_EQ(record.outcome(), "NOT_FOUND");
  EXPECT_THAT(record.case_names(), ElementsAre(CaseName(unknown)));
  EXPECT_EQ(Head(), head) << "no event";
  EXPECT_EQ(List()->cases.size(), 1u);

  // A refused write that found its case: a stale etag, recorded as ABORTED.
  auto stale = Update(CaseId(*created), form, "v9", "update-2", {}, kRedCross,
                      Record(kRedCross, "UpdateForm", created->meta.name()));
  ASSERT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Query(*store_, {}).back().record().outcome(), "ABORTED");
  EXPECT_THAT(VersionsOf(CaseId(*created)), ElementsAre(1));
  EXPECT_EQ(Head(), head);

  // The refused request ids were not remembered.
  v1::HandoverForm changed = SampleForm("99000061");
  changed.mutable_identity()->set_given_names("Changed Fiktiva");
  EXPECT_TRUE(Update(CaseId(*created), changed, "v1", "update-1").ok());
  EXPECT_TRUE(Update(CaseId(*created), SampleForm("99000061"), "v2", "update-2").ok());
  // And the chain still verifies across the refusals.
  EXPECT_TRUE(VerifyAccessLog(Export(), signer_->public_key_pem()).ok());
}

TEST_P(AuditConformance, SubjectAccessFindsThePersonsCasesAndRecords) {
  auto mine =
      Create("create-1", SampleForm("99000061"), kRedCross, Record(kRedCross, "CreateCase"));
  auto other =
      Create("create-2", SampleForm("99000062"), kRedCross, Record(kRedCross, "CreateCase"));
  ASSERT_TRUE(mine.ok() && other.ok());
  ASSERT_TRUE(RecordAccess(*store_, ReadRecord("uds", "a", CaseId(*mine), 0)).ok());
  auto report = Await<store::SubjectAccessFindings>(
      [&](auto done) { store_->SubjectAccess("9900-0061", done); });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->case_names, ElementsAre(mine->meta.name()));
  ASSERT_EQ(report->records.size(), 2u);
  EXPECT_EQ(report->records[0].operation(), "CreateCase");
  EXPECT_EQ(report->records[1].organisation(), "uds");
}

}  // namespace
}  // namespace handover::conformance
