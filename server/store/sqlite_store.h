// CaseStore on SQLite: WAL, synchronous=FULL, one group-committing writer and
// a pool of readers. Forms are sealed with AES-256-GCM, bound to their case
// and version by the associated data "handover/v1/form/<case>/<version>";
// person identifiers are kept only as keyed hashes.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto.h"
#include "common/signing.h"
#include "server/store/case_store.h"
#include "server/store/group_commit_writer.h"
#include "server/store/reader_pool.h"

namespace handover::store {

class Checkpointer;     // server/store/checkpointer.h
class DiskSpace;        // server/store/disk_space.h
struct PreparedUpdate;  // server/store/form_update.h

struct SqliteStoreOptions {
  // The database file; created if missing.
  std::string path;
  WriterOptions writer;
  ReaderOptions readers;
  // Signs access log checkpoints; without it WriteCheckpoint fails.
  std::shared_ptr<const Signer> signer;
  // Document content is stored, and sent, in chunks of this size: larger
  // chunks mean fewer store round trips per download (64 KiB gave 0.6x the
  // download rate in bench/document_bench). Default 256 KiB.
  size_t document_chunk_bytes = 256 * 1024;
  // The disk's free-space reserve; below it writes that carry an access
  // record (client writes) are refused. Not owned; may be null (no reserve).
  DiskSpace* disk = nullptr;
};

class SqliteStore final : public CaseStore {
 public:
  // Opens (creating if needed) and migrates the database. UNAVAILABLE with
  // SQLite's message if the file cannot be opened or migrated.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(SqliteStoreOptions options,
                                                           std::shared_ptr<const KeyRing> keys);
  // Completes queued work, then closes every connection.
  ~SqliteStore() override;

  absl::Status AdmitWrite() override;
  void CreateCase(const WriteContext& context, v1::HandoverForm form,
                  Done<CaseSnapshot> done) override;
  void UpdateForm(const WriteContext& context, UpdateFormCommand command, Authorizer authorize,
                  Done<CaseSnapshot> done) override;
  void AssignCase(const WriteContext& context, AssignCommand command, Authorizer authorize,
                  Done<CaseSnapshot> done) override;
  void RecordConsent(const WriteContext& context, std::string case_id, v1::Consent consent,
                     Authorizer authorize, Done<v1::Consent> done) override;
  void WithdrawConsent(const WriteContext& context, std::string case_id, std::string consent_id,
                       Authorizer authorize, Done<v1::Consent> done) override;
  void GetCase(std::string case_id, int64_t version, bool with_form, Authorizer authorize,
               Done<CaseSnapshot> done) override;
  void ListCases(CaseQuery query, Done<CasePage> done) override;
  void ListVersions(std::string case_id, int64_t before_version, int page_size,
                    Authorizer authorize, Done<VersionPage> done) override;
  void ReadFeed(FeedQuery query, Done<FeedPage> done) override;
  const std::string& feed_epoch() const override { return feed_epoch_; }
  void CompactFeed(int64_t before_micros, Done<int64_t> done) override;
  void SetCommitListener(CommitListener listener) override;
  void EraseCase(const WriteContext& context, std::string case_id, Authorizer authorize,
                 Done<std::string> done) override;
  void EraseExpired(v1::Date takeover_before, std::string actor, Done<int> done) override;
  void RecordAccess(v1::AccessRecord record, Done<int64_t> done) override;
  void WriteCheckpoint(Done<bool> done) override;
  void QueryAccessLog(AccessQuery query, Done<std::vector<v1::AccessLogEntry>> done) override;
  void ExportAccessLog(int64_t after_sequence, int limit,
                       Done<std::vector<v1::ExportAccessLogResponse>> done) override;
  void SubjectAccess(std::string person_identifier,
                     Done<v1::SubjectAccessReportResponse> done) override;

  absl::StatusOr<std::unique_ptr<StagedDocument>> StageDocument() override;
  void AddDocument(const WriteContext& context, AddDocumentCommand command, Authorizer authorize,
                   Done<DocumentRecord> done) override;
  void ListDocuments(std::string case_id, bool include_history, Authorizer authorize,
                     Done<DocumentList> done) override;
  void GetDocument(std::string case_id, std::string document_id, int64_t version,
                   Authorizer authorize, DocumentAuthorizer may_receive,
                   Done<DocumentRecord> done) override;
  void ReadDocumentChunk(std::string case_id, std::string blob_id, int64_t seq,
                         Authorizer authorize, DocumentAuthorizer may_receive,
                         Done<std::string> done) override;
  WriterStats writer_stats() const { return writer_->stats(); }

  // Key rotation. How many sealed items (form versions, document titles and
  // document chunks) each key id seals ("" for a form whose sealed header
  // names no key).
  void KeyUsage(Done<std::map<std::string, int64_t>> done);
  // Swaps in a new key ring (a re-read key file). FAILED_PRECONDITION, and the
  // old ring stays, if a key still in use is missing from it.
  void ReplaceKeys(std::shared_ptr<const KeyRing> ring, Done<bool> done);
  // Re-seals up to `limit` form versions, document chunks and titles not
  // sealed with the current key; returns how many. Run repeatedly (the server does, in the
  // background) until 0.
  void Reencrypt(int limit, Done<int> done);

 private:
  SqliteStore(std::shared_ptr<const KeyRing> keys, const SqliteStoreOptions& options,
              std::string feed_epoch, std::unique_ptr<Checkpointer> checkpointer,
              std::unique_ptr<GroupCommitWriter> writer, std::unique_ptr<ReaderPool> readers);

  // Runs `apply(db) -> StatusOr<T>` in the writer's group transaction, with
  // `audit` (if any) appended to the access log in the same transaction, and
  // hands the result to `done` once durable.
  template <typename T, typename Fn>
  void Write(Fn apply, Done<T> done, std::optional<v1::AccessRecord> audit = std::nullopt);
  // After each commit, on the writer thread.
  void OnCommit(SQLite::Database& db);
  template <typename T, typename Fn>
  void Read(Fn read, Done<T> done);
  // UpdateForm's second step, on the writer: `prepared` (possibly empty or
  // stale) is what a reader worked out.
  void CommitUpdateForm(const WriteContext& context,
                        std::shared_ptr<const UpdateFormCommand> command, Authorizer authorize,
                        std::shared_ptr<std::optional<PreparedUpdate>> prepared,
                        Done<CaseSnapshot> done);

  std::shared_ptr<const KeyRing> keys() const;

  mutable absl::Mutex keys_mu_;
  std::shared_ptr<const KeyRing> keys_ ABSL_GUARDED_BY(keys_mu_);
  std::shared_ptr<const Signer> signer_;
  const std::string feed_epoch_;  // read at open
  // Uploads in progress: "<database>.staging/" (emptied at open).
  std::string staging_directory_;
  size_t document_chunk_bytes_;
  DiskSpace* disk_ = nullptr;
  absl::Mutex listener_mu_;
  CommitListener listener_ ABSL_GUARDED_BY(listener_mu_);
  int64_t published_revision_ = 0;    // writer thread only: events handed to the listener
  int64_t published_compaction_ = 0;  // writer thread only
  // Set by an erasure: truncate the WAL after the commit, so no image of the
  // erased pages survives there.
  std::atomic<bool> truncate_wal_{false};
  std::unique_ptr<Checkpointer> checkpointer_;  // destroyed after the writer
  std::unique_ptr<GroupCommitWriter> writer_;
  std::unique_ptr<ReaderPool> readers_;  // destroyed before the writer
};

}  // namespace handover::store
