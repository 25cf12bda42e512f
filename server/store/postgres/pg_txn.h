// The PostgreSQL rows behind a transaction: every ReadTxn and WriteTxn
// operation (backend.h) as statements prepared once per connection
// (pg_statements.h), run in the transaction the backend opened (a group's
// savepoint, or a REPEATABLE READ snapshot for reads). Implemented by table
// group, as in sqlite/: pg_case_rows.cc, pg_event_rows.cc,
// pg_document_rows.cc, pg_access_log_rows.cc, pg_key_rows.cc.
//
// Errors: pqxx's exceptions (std::exception), as backend.h asks.
#pragma once

#include <pqxx/pqxx>

#include <utility>

#include "server/store/backend.h"
#include "server/store/postgres/pg_statements.h"

namespace handover::store {

class PgTxn final : public WriteTxn {
 public:
  // `wrote_events` is set by AppendEvent and CompactEvents (the backend then
  // wakes the other replicas); null for reads.
  PgTxn(pqxx::transaction_base& txn, PgStatements& statements, bool* wrote_events)
      : txn_(txn), statements_(statements), wrote_events_(wrote_events) {}

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
  int64_t HeadRevision() override;
  int64_t CompactedThrough() override;
  std::string FeedEpoch() override;
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
  void ScrubAfterCommit() override;
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
  // Runs `sql` ($1, $2, ... parameters) as this connection's prepared statement.
  template <typename... Args>
  pqxx::result Run(const std::string& sql, Args&&... args) {
    return txn_.exec_prepared(statements_.Name(sql), std::forward<Args>(args)...);
  }

  pqxx::transaction_base& txn_;
  PgStatements& statements_;
  bool* wrote_events_;
};

}  // namespace handover::store
