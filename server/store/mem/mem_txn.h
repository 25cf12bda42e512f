// The in-memory engine's rows: every ReadTxn and WriteTxn operation of
// backend.h over MemTables, as the SQL of the other engines spells them.
// A violated key throws std::runtime_error, as a constraint would.
//
// Threads: valid only inside its task; reads a snapshot no one writes, or
// writes the copy only the writer thread holds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/store/backend.h"
#include "server/store/mem/mem_tables.h"

namespace handover::store {

class MemTxn final : public WriteTxn {
 public:
  // `tables` outlives the transaction. A read snapshot's tables are only read:
  // a read task sees this object as a ReadTxn.
  explicit MemTxn(MemTables& tables) : t_(tables) {}

  std::optional<CaseSnapshot> LoadCase(const std::string& case_id) override;
  std::optional<VersionRow> LoadVersion(const std::string& case_id, int64_t version,
                                        bool with_form) override;
  std::map<std::string, CaseRows> LoadCurrentCases(const std::vector<std::string>& case_ids,
                                                   bool with_form) override;
  std::vector<std::string> SelectCases(const CaseSelection& selection) override;
  std::vector<VersionRow> ListVersions(const std::string& case_id, int64_t before_version,
                                       int limit) override;
  std::optional<v1::Consent> LoadConsent(const std::string& case_id,
                                         const std::string& consent_id) override;
  bool HasLiveCaseForPerson(const std::string& operator_id,
                            const std::vector<std::string>& person_hashes) override;
  std::vector<std::string> CasesOfPerson(const std::vector<std::string>& person_hashes) override;

  int64_t HeadRevision() override { return t_.head_revision; }
  int64_t CompactedThrough() override { return t_.compacted_through; }
  std::string FeedEpoch() override { return t_.feed_epoch; }
  std::vector<v1::ChangeEvent> ReadEvents(int64_t after, const policy::EventFilter& filter,
                                          int limit) override;
  std::vector<CommittedEvent> EventsAfter(int64_t after) override;
  std::optional<RequestRow> FindRequest(const std::string& organisation,
                                        const std::string& request_id) override;

  std::optional<AccessHead> LastAccessEntry() override;
  int64_t SignedThrough() override;
  std::vector<v1::AccessLogEntry> QueryAccessRecords(const AccessQuery& query) override;
  std::vector<AccessExportItem> ExportAccessRecords(int64_t after_sequence, int limit) override;
  std::vector<v1::AccessRecord> RecordsForCases(const std::vector<std::string>& case_ids) override;

  std::optional<DocumentVersionRow> LoadDocumentVersion(const std::string& case_id,
                                                        const std::string& document_id,
                                                        int64_t version) override;
  std::vector<DocumentVersionRow> LoadDocumentVersions(const std::string& case_id,
                                                       bool include_history) override;
  std::optional<v1::DocumentType> BlobDocumentType(const std::string& case_id,
                                                   const std::string& blob_id) override;
  std::optional<std::string> LoadSealedChunk(const std::string& blob_id, int64_t seq) override;
  std::map<std::string, int64_t> KeyUsage() override;

  void InsertCase(const std::string& case_id, const std::string& operator_id,
                  const std::string& person_hash, const std::string& hash_key_id,
                  int64_t now) override;
  void InsertVersion(const VersionRow& row) override;
  void SetCurrentVersion(const std::string& case_id, int64_t version, int64_t now) override;
  void SetPersonHash(const std::string& case_id, const std::string& person_hash,
                     const std::string& hash_key_id) override;
  void TouchCase(const std::string& case_id, int64_t now) override;
  void InsertAssignment(const AssignmentRow& row) override;
  void InsertConsent(const ConsentRow& row) override;
  void SetConsentWithdrawn(const std::string& consent_id, int64_t now) override;
  int64_t AppendEvent(const EventRow& event, int64_t now) override;
  void RecordRequest(const std::string& organisation, const std::string& request_id,
                     const RequestRow& row) override;
  void AppendAccessEntry(const v1::AccessLogEntry& entry) override;
  void InsertCheckpoint(const v1::Checkpoint& checkpoint) override;
  void EraseCaseData(const std::string& case_id, int64_t now) override;
  std::vector<std::string> ExpiredCases(const v1::Date& takeover_before) override;
  int64_t CompactEvents(int64_t before_micros) override;
  void ScrubAfterCommit() override {}  // nothing outlives a deleted row here
  void InsertDocument(const std::string& case_id, const std::string& document_id,
                      v1::DocumentType type) override;
  void SetDocumentVersion(const std::string& case_id, const std::string& document_id,
                          int64_t version) override;
  void InsertDocumentVersion(const DocumentVersionRow& row) override;
  void InsertChunk(const std::string& blob_id, int64_t seq, const std::string& key_id,
                   const std::string& sealed) override;
  std::vector<SealedItem> StaleItems(SealedItem::Kind kind, const std::string& key_id,
                                     int limit) override;
  void Reseal(const SealedItem& item, const std::string& key_id) override;

 private:
  // The case row; throws if there is none.
  MemCase& CaseRow(const std::string& case_id);
  // What LoadCase reads, for a live case.
  CaseSnapshot Snapshot(const std::string& case_id, const MemCase& row) const;

  MemTables& t_;
};

}  // namespace handover::store
