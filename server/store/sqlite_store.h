// CaseStore on SQLite: WAL, synchronous=FULL, one group-committing writer and
// a pool of readers. Forms are sealed with AES-256-GCM, bound to their case
// and version by the associated data "handover/v1/form/<case>/<version>";
// person identifiers are kept only as keyed hashes.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/crypto.h"
#include "server/store/case_store.h"
#include "server/store/group_commit_writer.h"
#include "server/store/reader_pool.h"

namespace handover::store {

struct SqliteStoreOptions {
  // The database file; created if missing.
  std::string path;
  WriterOptions writer;
  ReaderOptions readers;
};

class SqliteStore final : public CaseStore {
 public:
  // Opens (creating if needed) and migrates the database. UNAVAILABLE with
  // SQLite's message if the file cannot be opened or migrated.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(SqliteStoreOptions options,
                                                           std::shared_ptr<const KeyRing> keys);
  // Completes queued work, then closes every connection.
  ~SqliteStore() override;

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
  void CompactFeed(int64_t before_micros, Done<int64_t> done) override;
  void SetCommitListener(std::function<void(int64_t head_revision)> listener) override;

  WriterStats writer_stats() const { return writer_->stats(); }

 private:
  SqliteStore(std::shared_ptr<const KeyRing> keys, std::unique_ptr<GroupCommitWriter> writer,
              std::unique_ptr<ReaderPool> readers);

  template <typename T, typename Fn>
  void Write(Fn apply, Done<T> done);
  template <typename T, typename Fn>
  void Read(Fn read, Done<T> done);

  std::shared_ptr<const KeyRing> keys_;
  std::unique_ptr<GroupCommitWriter> writer_;
  std::unique_ptr<ReaderPool> readers_;  // destroyed before the writer
};

}  // namespace handover::store
