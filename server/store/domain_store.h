// The case store's domain rules, written once over any Backend (backend.h):
// idempotent replay of client writes, the case invariants (one live case per
// person per operator, already assigned, already withdrawn), the etag check,
// which events each write emits and to whom, the access record inside the
// write's own transaction, sealing with associated data, person hashing,
// erasure, feed paging, key rotation. The backend only stores rows.
//
// Threads: every CaseStore method may be called from any thread; callbacks
// run on the backend's threads (see case_store.h). Key rotation methods
// likewise.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto.h"
#include "common/signing.h"
#include "server/store/backend.h"
#include "server/store/case_keys.h"
#include "server/store/case_store.h"
#include "server/store/sealing.h"

namespace handover::store {

class DiskSpace;        // server/store/disk_space.h
struct PreparedUpdate;  // server/store/form_update.h

struct DomainStoreOptions {
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

class DomainStore final : public CaseStore {
 public:
  // Takes the backend and the key store over; reads the feed epoch and head.
  // UNAVAILABLE if they cannot be read. FAILED_PRECONDITION, saying what to
  // do, if the feed ends below the key store's mark in the same epoch (the
  // database was put back by hand from an older copy); else raises the mark.
  static absl::StatusOr<std::unique_ptr<DomainStore>> Open(std::unique_ptr<Backend> backend,
                                                           std::unique_ptr<CaseKeys> case_keys,
                                                           std::shared_ptr<const KeyRing> keys,
                                                           DomainStoreOptions options);
  // Completes queued work (the backend's), then closes it.
  ~DomainStore() override;

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
                       Done<std::vector<AccessExportItem>> done) override;
  void SubjectAccess(std::string person_identifier, Done<SubjectAccessFindings> done) override;

  absl::StatusOr<std::unique_ptr<StagedDocument>> StageDocument(
      const std::string& case_id) override;
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

  // Finishes the erasures a restore undid: deletes the rows of every live
  // case whose data is sealed under a case key the key store no longer has
  // (erased after the backup the data came from), with a CASE_ERASED event
  // and an access record by `actor` each. Returns how many. Scans every case
  // in one write: run it at start, after a restore.
  void EraseKeyless(std::string actor, Done<int> done);

  WriteQueueStats write_stats() const { return backend_->write_stats(); }
  int64_t storage_bytes() const { return backend_->storage_bytes(); }

  // Key rotation and the per-case-key migration (domain_keys.cc). What each
  // key id is used for: case keys it wraps, person hashes it made, items
  // still sealed directly under it (from before per-case keys); kCaseKeyId
  // counts the items sealed under their case's key.
  void KeyUsage(Done<std::map<std::string, int64_t>> done);
  // Swaps in a new key ring (a re-read key file). FAILED_PRECONDITION, and the
  // old ring stays, if a key still in use is missing from it.
  void ReplaceKeys(std::shared_ptr<const KeyRing> ring, Done<bool> done);
  // Up to `limit` steps of rotation and migration: re-wrap case keys under
  // the current key, re-seal items from before per-case keys under their
  // case's key, re-make person hashes under the current key. Returns how
  // many; run repeatedly (the server does, in the background) until 0.
  void Reencrypt(int limit, Done<int> done);
  // An online copy of the key store (keep it briefly: case_keys.h).
  absl::Status BackupKeys(const std::string& backup_path) {
    return case_keys_->Backup(backup_path);
  }

 private:
  DomainStore(std::unique_ptr<Backend> backend, std::unique_ptr<CaseKeys> case_keys,
              std::shared_ptr<const KeyRing> keys, DomainStoreOptions options,
              std::string feed_epoch, int64_t marked_revision);

  // The key store's feed mark (case_keys.h FeedMark) is raised at open, once
  // per this many revisions as commits are published, and at close: a
  // database put back by hand is refused at open unless it is newer than the
  // last mark (at most this many revisions behind the head it replaced after
  // a crash; exactly the head after a clean stop).
  static constexpr int64_t kFeedMarkEvery = 1000;
  // Raises the mark to `revision` (at once with `force`, else only once it is
  // kFeedMarkEvery past the last); a failure is logged and tried again later.
  void RaiseFeedMark(int64_t revision, bool force) ABSL_LOCKS_EXCLUDED(mark_mu_);

  // Runs `apply(txn) -> StatusOr<T>` in a write transaction, with `audit` (if
  // any) appended to the access log in the same transaction — the write's
  // record on success, its refusal after the rollback — and hands the result
  // to `done` once durable (domain_store_tasks.h).
  template <typename T, typename Fn>
  void Write(Fn apply, Done<T> done, std::optional<v1::AccessRecord> audit = std::nullopt);
  // The skeleton every client write shares: replay a request seen before
  // (`replay(txn, prior)`), else `apply(txn, &produced)` and remember the
  // request with what it produced; in one Write with the context's record.
  template <typename T, typename Replay, typename Apply>
  void ClientWrite(const WriteContext& context, Replay replay, Apply apply, Done<T> done);
  // Runs `read(txn) -> StatusOr<T>` on a read snapshot.
  template <typename T, typename Fn>
  void Read(Fn read, Done<T> done);
  // After each commit, on the backend's writer.
  void OnCommit(ReadTxn& txn);
  // UpdateForm's second step: `prepared` (possibly empty or stale) is what a
  // read snapshot worked out (form_update.h).
  void CommitUpdateForm(const WriteContext& context,
                        std::shared_ptr<const UpdateFormCommand> command, Authorizer authorize,
                        std::shared_ptr<std::optional<PreparedUpdate>> prepared,
                        Done<CaseSnapshot> done);

  std::shared_ptr<const KeyRing> keys() const;
  // Seals and opens under case keys (and the ring for older items).
  CaseCipher Cipher() const;
  // The case's key: one made by a write of the group now committing, or the
  // key store's.
  absl::StatusOr<DataKey> CaseKey(const std::string& case_id) const;
  // A new case's key, stored before the write's group commits.
  DataKey NewCaseKey(const std::string& case_id);
  // Pre-commit: makes the group's new case keys durable.
  absl::Status StorePendingKeys();
  // `done`, after the key store has scrubbed the erased keys' bytes from its
  // pages (CaseKeys::Scrub), once the erasing write has committed.
  template <typename T>
  Done<T> ScrubKeysBefore(Done<T> done);

  mutable absl::Mutex keys_mu_;
  std::shared_ptr<const KeyRing> keys_ ABSL_GUARDED_BY(keys_mu_);
  const DomainStoreOptions options_;
  const std::string feed_epoch_;
  absl::Mutex listener_mu_;
  CommitListener listener_ ABSL_GUARDED_BY(listener_mu_);
  int64_t published_revision_ ABSL_GUARDED_BY(listener_mu_) = 0;
  int64_t published_compaction_ ABSL_GUARDED_BY(listener_mu_) = 0;
  absl::Mutex mark_mu_;
  int64_t marked_revision_ ABSL_GUARDED_BY(mark_mu_);
  mutable absl::Mutex pending_mu_;
  // New cases' keys, from their write until the group's pre-commit.
  std::map<std::string, DataKey> pending_keys_ ABSL_GUARDED_BY(pending_mu_);
  std::unique_ptr<CaseKeys> case_keys_;  // outlives the backend
  std::unique_ptr<Backend> backend_;
};

}  // namespace handover::store
