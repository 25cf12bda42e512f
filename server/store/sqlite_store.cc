#include "server/store/sqlite_store.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <algorithm>
#include <exception>
#include <future>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/dates.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "common/serialize.h"
#include "server/store/access_log_rows.h"
#include "server/store/case_rows.h"
#include "server/store/checkpointer.h"
#include "server/store/disk_space.h"
#include "server/store/document_rows.h"
#include "server/store/form_update.h"
#include "server/store/migrations.h"
#include "server/store/sqlite_store_tasks.h"
#include "server/store/statement_cache.h"

namespace handover::store {
namespace {

void InsertVersion(SQLite::Database& db, const KeyRing& keys, const WriteContext& context,
                   const std::string& case_id, int64_t version, const v1::HandoverForm& form,
                   int64_t now) {
  InsertVersionRow(db, context, case_id, version,
                   keys.Seal(SerializeDeterministic(form), FormAssociatedData(case_id, version)),
                   keys.current_key_id(), now);
}

// Deletes a case's personal data and leaves the skeleton, in the caller's
// transaction; tells the feed (the assigned municipality deletes its copy).
void EraseCaseRows(SQLite::Database& db, const CaseSnapshot& current, int64_t now) {
  const std::string case_id = current.meta.name().substr(6);
  for (const char* sql :
       {"DELETE FROM document_chunks WHERE blob_id IN "
        "(SELECT blob_id FROM document_versions WHERE case_id = ?)",
        "DELETE FROM document_versions WHERE case_id = ?",
        "DELETE FROM documents WHERE case_id = ?", "DELETE FROM case_versions WHERE case_id = ?",
        "DELETE FROM consents WHERE case_id = ?", "DELETE FROM assignments WHERE case_id = ?",
        "DELETE FROM requests WHERE case_id = ?"}) {
    Prepared erase(db, sql);
    erase->bind(1, case_id);
    erase->exec();
  }
  Prepared mark(db,
                "UPDATE cases SET erased_time = ?, update_time = ?, "
                "municipality_code = NULL WHERE case_id = ?");
  mark->bind(1, now);
  mark->bind(2, now);
  mark->bind(3, case_id);
  mark->exec();
  AppendEvent(db,
              {.case_id = case_id,
               .kind = v1::EVENT_KIND_CASE_ERASED,
               .version = current.meta.version(),
               .operator_id = current.facts.operator_id,
               .municipality_code = current.facts.municipality_code},
              now);
}

// Versions written before key ids were recorded: read the id from the
// sealed blob's header.
void LabelKeyIds(SQLite::Database& db) {
  Prepared unlabelled(db,
                      "SELECT case_id, version, form FROM case_versions "
                      "WHERE key_id IS NULL");
  std::vector<std::tuple<std::string, int64_t, std::string>> rows;
  while (unlabelled->executeStep()) {
    rows.emplace_back(unlabelled->getColumn(0).getString(), unlabelled->getColumn(1).getInt64(),
                      KeyRing::SealedKeyId(Blob(unlabelled->getColumn(2))));
  }
  for (const auto& [case_id, version, key_id] : rows) {
    Prepared label(db, "UPDATE case_versions SET key_id = ? WHERE case_id = ? AND version = ?");
    label->bind(1, key_id);
    label->bind(2, case_id);
    label->bind(3, version);
    label->exec();
  }
}

void TouchCase(SQLite::Database& db, const std::string& case_id, int64_t now) {
  Prepared update(db, "UPDATE cases SET update_time = ? WHERE case_id = ?");
  update->bind(1, now);
  update->bind(2, case_id);
  update->exec();
}

// Every commit empties the other connections' page caches (WAL), so a reader
// refills its cache on every transaction. By default SQLite mallocs and frees
// each 4 KiB page slot as it goes, which made malloc a fifth of a sync's CPU;
// with this, each connection takes its slots in one block when it opens and
// reuses them (10% more cases/s on a full sync). Process-wide, so it must run
// before SQLite's first use; if SQLite is already initialised it is skipped.
void PreallocatePageCaches() {
  static std::once_flag once;
  std::call_once(once, [] {
    constexpr int kPageBytes = 4096;          // SQLite's default page size, used here
    constexpr int kSlotsPerConnection = 512;  // the default cache_size (2,000 KiB)
    int header = 0;
    if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &header) != SQLITE_OK) return;
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, kPageBytes + header,
                         kSlotsPerConnection);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    SqliteStoreOptions options, std::shared_ptr<const KeyRing> keys) {
  PreallocatePageCaches();
  try {
    auto db = std::make_unique<SQLite::Database>(
        options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
    db->setBusyTimeout(5000);
    db->exec("PRAGMA journal_mode = WAL");
    db->exec("PRAGMA synchronous = FULL");
    // Deleted content (erasure) is overwritten, not left in free pages.
    db->exec("PRAGMA secure_delete = ON");
    db->exec("PRAGMA foreign_keys = ON");
    Migrate(*db);
    LabelKeyIds(*db);
    std::string feed_epoch = FeedEpoch(*db);
    if (absl::Status s = ResetStagingDirectory(options.path + ".staging"); !s.ok()) return s;
    auto checkpointer = std::make_unique<Checkpointer>(options.path, *db);
    auto writer = std::make_unique<GroupCommitWriter>(std::move(db), options.writer);
    auto readers = std::make_unique<ReaderPool>(options.path, options.readers);
    return std::unique_ptr<SqliteStore>(
        new SqliteStore(std::move(keys), options, std::move(feed_epoch), std::move(checkpointer),
                        std::move(writer), std::move(readers)));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("database ", options.path, ": ", e.what()));
  }
}

SqliteStore::SqliteStore(std::shared_ptr<const KeyRing> keys, const SqliteStoreOptions& options,
                         std::string feed_epoch, std::unique_ptr<Checkpointer> checkpointer,
                         std::unique_ptr<GroupCommitWriter> writer,
                         std::unique_ptr<ReaderPool> readers)
    : keys_(std::move(keys)),
      signer_(options.signer),
      feed_epoch_(std::move(feed_epoch)),
      staging_directory_(options.path + ".staging"),
      document_chunk_bytes_(options.document_chunk_bytes),
      disk_(options.disk),
      checkpointer_(std::move(checkpointer)),
      writer_(std::move(writer)),
      readers_(std::move(readers)) {
  writer_->SetCommitHook([this](SQLite::Database& db) { OnCommit(db); });
}

absl::Status SqliteStore::AdmitWrite() { return disk_ ? disk_->AdmitWrite() : absl::OkStatus(); }

void SqliteStore::OnCommit(SQLite::Database& db) {
  if (truncate_wal_.exchange(false)) {
    Prepared checkpoint(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    // Busy (a reader holds an old snapshot): try again after the next commit.
    if (checkpoint->executeStep() && checkpoint->getColumn(0).getInt() != 0) truncate_wal_ = true;
  }
  // Called under the lock, so once SetCommitListener(nullptr) returns no call
  // is still running into what the listener points at.
  absl::MutexLock lock(&listener_mu_);
  if (!listener_) return;
  std::vector<CommittedEvent> events = EventsAfter(db, published_revision_);
  const int64_t compacted = CompactedThrough(db);
  if (events.empty() && compacted == published_compaction_) return;  // e.g. access records
  if (!events.empty()) published_revision_ = events.back().event.revision();
  published_compaction_ = compacted;
  listener_(std::move(events), compacted);
}

SqliteStore::~SqliteStore() {
  // Writes first (their callbacks may still read), then reads; a callback that
  // comes after its side closed gets UNAVAILABLE.
  writer_.reset();
  readers_.reset();
  checkpointer_.reset();  // last: the writer connection's WAL hook pointed at it
}

void SqliteStore::CreateCase(const WriteContext& context, v1::HandoverForm form,
                             Done<CaseSnapshot> done) {
  const std::vector<std::string> fingerprint = Fingerprint(*keys(), *context.request);
  Write<CaseSnapshot>(
      [this, context, form = std::move(form),
       fingerprint](SQLite::Database& db) -> absl::StatusOr<CaseSnapshot> {
        auto prior = FindPriorRequest(db, context, fingerprint);
        if (!prior.ok()) return prior.status();
        if (*prior)
          return ReadSnapshot(db, *keys(), (*prior)->case_id, (*prior)->version, true, AllowAll);

        const std::vector<std::string> any_key =
            PersonHashes(*keys(), form.identity().person_identifier());
        const std::string& person_hash = any_key.front();  // the current key's
        Prepared existing(
            db, absl::StrCat("SELECT 1 FROM cases WHERE operator_id = ? AND erased_time IS NULL "
                             "AND person_hash",
                             InMarks(any_key.size())));
        existing->bind(1, context.principal.organisation_id);
        BindBlobs(*existing, 2, any_key);
        if (existing->executeStep()) {
          return absl::AlreadyExistsError(
              "form.identity.person_identifier: this operator already has a case for the person");
        }
        const std::string case_id = NewResourceId();
        const int64_t now = NowMicros();
        Prepared insert(db,
                        "INSERT INTO cases (case_id, operator_id, municipality_code, "
                        "current_version, person_hash, create_time, update_time) "
                        "VALUES (?, ?, NULL, 1, ?, ?, ?)");
        insert->bind(1, case_id);
        insert->bind(2, context.principal.organisation_id);
        insert->bind(3, person_hash.data(), static_cast<int>(person_hash.size()));
        insert->bind(4, now);
        insert->bind(5, now);
        insert->exec();
        InsertVersion(db, *keys(), context, case_id, 1, form, now);
        AppendEvent(db,
                    {.case_id = case_id,
                     .kind = v1::EVENT_KIND_CASE_CREATED,
                     .version = 1,
                     .operator_id = context.principal.organisation_id},
                    now);
        RecordRequest(db, context, fingerprint, {case_id, 1, ""});
        return ReadSnapshot(db, *keys(), case_id, 1, true, AllowAll);
      },
      std::move(done), context.audit);
}

void SqliteStore::UpdateForm(const WriteContext& context, UpdateFormCommand command,
                             Authorizer authorize, Done<CaseSnapshot> done) {
  // Worked out on a reader, committed by the writer (server/store/form_update.h).
  auto shared = std::make_shared<const UpdateFormCommand>(std::move(command));
  Read<PreparedUpdate>(
      [this, shared, authorize](SQLite::Database& db) {
        SQLite::Transaction snapshot(db, SQLite::TransactionBehavior::DEFERRED);
        return PrepareUpdate(db, *keys(), *shared, authorize);
      },
      [this, context, shared, authorize, done](absl::StatusOr<PreparedUpdate> prepared) {
        // A refusal here is repeated, and recorded, by the writer.
        auto ready = std::make_shared<std::optional<PreparedUpdate>>();
        if (prepared.ok()) *ready = *std::move(prepared);
        CommitUpdateForm(context, shared, authorize, ready, done);
      });
}

void SqliteStore::CommitUpdateForm(const WriteContext& context,
                                   std::shared_ptr<const UpdateFormCommand> command,
                                   Authorizer authorize,
                                   std::shared_ptr<std::optional<PreparedUpdate>> prepared,
                                   Done<CaseSnapshot> done) {
  const std::vector<std::string> fingerprint = Fingerprint(*keys(), *context.request);
  Write<CaseSnapshot>(
      [this, context, command, authorize, prepared,
       fingerprint](SQLite::Database& db) -> absl::StatusOr<CaseSnapshot> {
        auto prior = FindPriorRequest(db, context, fingerprint);
        if (!prior.ok()) return prior.status();
        if (*prior) {
          return ReadSnapshot(db, *keys(), (*prior)->case_id, (*prior)->version, true, authorize);
        }
        auto updated =
            CommitUpdate(db, *keys(), context, *command, authorize, std::move(*prepared));
        if (!updated.ok()) return updated.status();
        RecordRequest(db, context, fingerprint, {command->case_id, updated->meta.version(), ""});
        return updated;
      },
      std::move(done), context.audit);
}

void SqliteStore::AssignCase(const WriteContext& context, AssignCommand command,
                             Authorizer authorize, Done<CaseSnapshot> done) {
  const std::vector<std::string> fingerprint = Fingerprint(*keys(), *context.request);
  Write<CaseSnapshot>(
      [this, context, command = std::move(command), authorize = std::move(authorize),
       fingerprint](SQLite::Database& db) -> absl::StatusOr<CaseSnapshot> {
        auto prior = FindPriorRequest(db, context, fingerprint);
        if (!prior.ok()) return prior.status();
        if (*prior) return ReadSnapshot(db, *keys(), (*prior)->case_id, 0, true, authorize);

        auto current = LoadCase(db, command.case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        if (current->facts.municipality_code == command.municipality_code) {
          return absl::FailedPreconditionError(
              "municipality_code: the case is already assigned to this municipality");
        }
        const int64_t now = NowMicros();
        Prepared insert(
            db,
            "INSERT INTO assignments (case_id, seq, municipality_code, decision_date, "
            "takeover_date, assign_time, author_organisation, author_actor) "
            "VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM assignments WHERE case_id = ?1), "
            "?2, ?3, ?4, ?5, ?6, ?7)");
        insert->bind(1, command.case_id);
        insert->bind(2, command.municipality_code);
        insert->bind(3, DateToInt(command.decision_date));
        insert->bind(4, DateToInt(TakeoverDate(command.decision_date)));
        insert->bind(5, now);
        insert->bind(6, context.principal.organisation_id);
        insert->bind(7, context.actor);
        insert->exec();
        Prepared update(
            db, "UPDATE cases SET municipality_code = ?, update_time = ? WHERE case_id = ?");
        update->bind(1, command.municipality_code);
        update->bind(2, now);
        update->bind(3, command.case_id);
        update->exec();
        const int64_t version = current->meta.version();
        const std::string& operator_id = current->facts.operator_id;
        if (current->facts.municipality_code) {
          AppendEvent(db,
                      {.case_id = command.case_id,
                       .kind = v1::EVENT_KIND_ACCESS_REVOKED,
                       .version = version,
                       .operator_id = operator_id,
                       .municipality_code = current->facts.municipality_code,
                       .municipality_only = true},
                      now);
        }
        AppendEvent(db,
                    {.case_id = command.case_id,
                     .kind = v1::EVENT_KIND_ASSIGNED,
                     .version = version,
                     .operator_id = operator_id,
                     .municipality_code = command.municipality_code},
                    now);
        RecordRequest(db, context, fingerprint, {command.case_id, version, ""});
        return ReadSnapshot(db, *keys(), command.case_id, 0, true, authorize);
      },
      std::move(done), context.audit);
}

void SqliteStore::RecordConsent(const WriteContext& context, std::string case_id,
                                v1::Consent consent, Authorizer authorize, Done<v1::Consent> done) {
  const std::vector<std::string> fingerprint = Fingerprint(*keys(), *context.request);
  Write<v1::Consent>(
      [context, case_id = std::move(case_id), consent = std::move(consent),
       authorize = std::move(authorize),
       fingerprint](SQLite::Database& db) -> absl::StatusOr<v1::Consent> {
        auto prior = FindPriorRequest(db, context, fingerprint);
        if (!prior.ok()) return prior.status();
        if (*prior) return LoadConsent(db, (*prior)->case_id, (*prior)->consent_id);

        auto current = LoadCase(db, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        const std::string consent_id = NewResourceId();
        const int64_t now = NowMicros();
        Prepared insert(db,
                        "INSERT INTO consents (consent_id, case_id, purpose, "
                        "recipient_municipality_code, given_date, record_time, "
                        "withdraw_time, author_organisation, author_actor) "
                        "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)");
        insert->bind(1, consent_id);
        insert->bind(2, case_id);
        insert->bind(3, static_cast<int>(consent.purpose()));
        insert->bind(4, consent.recipient_municipality_code());
        insert->bind(5, DateToInt(consent.given_date()));
        insert->bind(6, now);
        insert->bind(7, context.principal.organisation_id);
        insert->bind(8, context.actor);
        insert->exec();
        TouchCase(db, case_id, now);
        AppendEvent(db,
                    {.case_id = case_id,
                     .kind = v1::EVENT_KIND_CONSENT_GIVEN,
                     .version = current->meta.version(),
                     .operator_id = current->facts.operator_id,
                     .municipality_code = current->facts.municipality_code},
                    now);
        RecordRequest(db, context, fingerprint, {case_id, 0, consent_id});
        return LoadConsent(db, case_id, consent_id);
      },
      std::move(done), context.audit);
}

void SqliteStore::WithdrawConsent(const WriteContext& context, std::string case_id,
                                  std::string consent_id, Authorizer authorize,
                                  Done<v1::Consent> done) {
  const std::vector<std::string> fingerprint = Fingerprint(*keys(), *context.request);
  Write<v1::Consent>(
      [context, case_id = std::move(case_id), consent_id = std::move(consent_id),
       authorize = std::move(authorize),
       fingerprint](SQLite::Database& db) -> absl::StatusOr<v1::Consent> {
        auto prior = FindPriorRequest(db, context, fingerprint);
        if (!prior.ok()) return prior.status();
        if (*prior) return LoadConsent(db, (*prior)->case_id, (*prior)->consent_id);

        auto current = LoadCase(db, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        auto consent = LoadConsent(db, case_id, consent_id);
        if (!consent.ok()) return consent.status();
        if (consent->has_withdraw_time()) {
          return absl::FailedPreconditionError("name: the consent is already withdrawn");
        }
        const int64_t now = NowMicros();
        Prepared update(db, "UPDATE consents SET withdraw_time = ? WHERE consent_id = ?");
        update->bind(1, now);
        update->bind(2, consent_id);
        update->exec();
        TouchCase(db, case_id, now);
        EventRow event{.case_id = case_id,
                       .kind = v1::EVENT_KIND_CONSENT_WITHDRAWN,
                       .version = current->meta.version(),
                       .operator_id = current->facts.operator_id,
                       .municipality_code = current->facts.municipality_code};
        auto after = LoadCase(db, case_id);
        if (!after.ok()) return after.status();
        if (current->facts.municipality_code &&
            !policy::HasActiveConsent(after->facts, consent->purpose(),
                                      *current->facts.municipality_code)) {
          event.withdrawn_fields = policy::FieldsCoveredBy(consent->purpose());
        }
        AppendEvent(db, event, now);
        RecordRequest(db, context, fingerprint, {case_id, 0, consent_id});
        return LoadConsent(db, case_id, consent_id);
      },
      std::move(done), context.audit);
}

void SqliteStore::GetCase(std::string case_id, int64_t version, bool with_form,
                          Authorizer authorize, Done<CaseSnapshot> done) {
  Read<CaseSnapshot>(
      [this, case_id = std::move(case_id), version, with_form,
       authorize = std::move(authorize)](SQLite::Database& db) {
        return ReadSnapshot(db, *keys(), case_id, version, with_form, authorize);
      },
      std::move(done));
}

void SqliteStore::ListCases(CaseQuery query, Done<CasePage> done) {
  Read<CasePage>(
      [this, query = std::move(query)](SQLite::Database& db) -> absl::StatusOr<CasePage> {
        SQLite::Transaction snapshot(db, SQLite::TransactionBehavior::DEFERRED);
        CasePage page;
        page.revision = HeadRevision(db);
        std::string sql = "SELECT case_id FROM cases WHERE case_id > ? AND erased_time IS NULL";
        if (query.scope == CaseQuery::Scope::kOperator) sql += " AND operator_id = ?";
        if (query.scope == CaseQuery::Scope::kMunicipality) sql += " AND municipality_code = ?";
        std::vector<std::string> person_hashes;
        if (query.person_identifier) {
          person_hashes = PersonHashes(*keys(), *query.person_identifier);
          sql += absl::StrCat(" AND person_hash", InMarks(person_hashes.size()));
        }
        sql += " ORDER BY case_id LIMIT ?";
        Prepared select(db, sql);
        int at = 1;
        select->bind(at++, query.after_case_id);
        if (query.scope != CaseQuery::Scope::kAll) select->bind(at++, query.organisation_id);
        BindBlobs(*select, at, person_hashes);
        at += static_cast<int>(person_hashes.size());
        select->bind(at, query.page_size + 1);
        std::vector<std::string> ids;
        while (select->executeStep()) ids.push_back(select->getColumn(0).getString());

        const bool more = ids.size() > static_cast<size_t>(query.page_size);
        if (more) ids.pop_back();
        auto snapshots = ReadCurrentSnapshots(db, *keys(), ids, query.with_form, AllowAll);
        for (const std::string& id : ids) {
          absl::StatusOr<CaseSnapshot>& snapshot = snapshots.at(id);
          if (!snapshot.ok()) return snapshot.status();
          page.cases.push_back(std::move(*snapshot));
        }
        if (more) page.last_case_id = ids.back();
        return page;
      },
      std::move(done));
}

void SqliteStore::ListVersions(std::string case_id, int64_t before_version, int page_size,
                               Authorizer authorize, Done<VersionPage> done) {
  Read<VersionPage>(
      [case_id = std::move(case_id), before_version, page_size,
       authorize = std::move(authorize)](SQLite::Database& db) -> absl::StatusOr<VersionPage> {
        auto current = LoadCase(db, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        Prepared select(db,
                        "SELECT version, create_time, author_organisation, author_actor "
                        "FROM case_versions WHERE case_id = ? AND version < ? "
                        "ORDER BY version DESC LIMIT ?");
        select->bind(1, case_id);
        select->bind(2, before_version > 0 ? before_version : INT64_MAX);
        select->bind(3, page_size + 1);
        VersionPage page;
        while (select->executeStep()) {
          v1::CaseVersion version;
          version.set_version(select->getColumn(0).getInt64());
          version.set_name(VersionName(case_id, version.version()));
          *version.mutable_create_time() = ToTimestamp(select->getColumn(1).getInt64());
          version.set_author_organisation(select->getColumn(2).getString());
          version.set_author_actor(select->getColumn(3).getString());
          page.versions.push_back(std::move(version));
        }
        if (page.versions.size() > static_cast<size_t>(page_size)) {
          page.versions.pop_back();
          page.next_before_version = page.versions.back().version();
        }
        return page;
      },
      std::move(done));
}

void SqliteStore::ReadFeed(FeedQuery query, Done<FeedPage> done) {
  Read<FeedPage>(
      [this, query = std::move(query)](SQLite::Database& db) -> absl::StatusOr<FeedPage> {
        SQLite::Transaction snapshot(db, SQLite::TransactionBehavior::DEFERRED);
        const int64_t compacted = CompactedThrough(db);
        // 0: from the oldest retained revision, whatever was compacted.
        const int64_t after = query.after_revision == 0 ? compacted : query.after_revision;
        if (after < compacted) return FeedCompactedError(compacted);
        const int64_t head = HeadRevision(db);
        if (after > head) return FeedAheadError(head, compacted);

        const EventFilterSql filter = EventFilterSqlOf(query.filter);
        Prepared select(db,
                        absl::StrCat("SELECT ", kEventColumns, " FROM events WHERE revision > ?",
                                     filter.conditions, " ORDER BY revision LIMIT ?"));
        int at = 1;
        select->bind(at++, after);
        for (const std::string& parameter : filter.parameters) select->bind(at++, parameter);
        select->bind(at, query.page_size);

        FeedPage page;
        std::vector<std::string> with_case;  // the events' cases, read once per page
        std::vector<std::string> event_cases;
        while (select->executeStep()) {
          page.events.push_back(FeedEvent{.event = EventFromRow(*select)});
          event_cases.push_back(select->getColumn(1).getString());
          if (query.include_cases &&
              page.events.back().event.kind() != v1::EVENT_KIND_ACCESS_REVOKED) {
            with_case.push_back(event_cases.back());
          }
        }
        if (!with_case.empty()) {
          std::sort(with_case.begin(), with_case.end());
          with_case.erase(std::unique(with_case.begin(), with_case.end()), with_case.end());
          auto snapshots = ReadCurrentSnapshots(db, *keys(), with_case, true, query.authorize);
          // The last event of a case takes its snapshot; earlier ones a copy.
          std::map<std::string, const FeedEvent*> holder;
          for (size_t i = page.events.size(); i-- > 0;) {
            FeedEvent& item = page.events[i];
            if (item.event.kind() == v1::EVENT_KIND_ACCESS_REVOKED) continue;
            const std::string& case_id = event_cases[i];
            if (auto held = holder.find(case_id); held != holder.end()) {
              item.snapshot = held->second->snapshot;
              continue;
            }
            absl::StatusOr<CaseSnapshot>& read = snapshots.at(case_id);
            if (read.ok()) {
              item.snapshot = std::move(*read);
            } else if (read.status().code() != absl::StatusCode::kNotFound) {
              return read.status();
            }
            holder.emplace(case_id, &item);
          }
        }
        const bool full = page.events.size() == static_cast<size_t>(query.page_size);
        page.caught_up = !full;
        page.scanned_through = full ? page.events.back().event.revision() : head;
        return page;
      },
      std::move(done));
}

void SqliteStore::CompactFeed(int64_t before_micros, Done<int64_t> done) {
  Write<int64_t>(
      [before_micros](SQLite::Database& db) -> absl::StatusOr<int64_t> {
        Prepared last(db, "SELECT MAX(revision) FROM events WHERE commit_time < ?");
        last->bind(1, before_micros);
        last->executeStep();
        const int64_t compacted = CompactedThrough(db);
        if (last->getColumn(0).isNull() || last->getColumn(0).getInt64() <= compacted) {
          return compacted;
        }
        const int64_t through = last->getColumn(0).getInt64();
        Prepared drop(db, "DELETE FROM events WHERE revision <= ?");
        drop->bind(1, through);
        drop->exec();
        Prepared mark(db, "UPDATE feed_state SET compacted_through = ?");
        mark->bind(1, through);
        mark->exec();
        return through;
      },
      std::move(done));
}

void SqliteStore::SetCommitListener(CommitListener listener) {
  // Run on the writer thread, so the starting point is consistent with commits.
  std::promise<void> set;
  writer_->Submit(
      [this, &listener](SQLite::Database& db) {
        absl::MutexLock lock(&listener_mu_);
        published_revision_ = HeadRevision(db);
        published_compaction_ = CompactedThrough(db);
        listener_ = std::move(listener);
        return absl::OkStatus();
      },
      [&set](absl::Status) { set.set_value(); });
  set.get_future().wait();
}

void SqliteStore::EraseCase(const WriteContext& context, std::string case_id, Authorizer authorize,
                            Done<std::string> done) {
  const std::vector<std::string> fingerprint = Fingerprint(*keys(), *context.request);
  Write<std::string>(
      [this, context, case_id = std::move(case_id), authorize = std::move(authorize),
       fingerprint](SQLite::Database& db) -> absl::StatusOr<std::string> {
        auto prior = FindPriorRequest(db, context, fingerprint);
        if (!prior.ok()) return prior.status();
        if (*prior) return CaseName((*prior)->case_id);
        auto current = LoadCase(db, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        EraseCaseRows(db, *current, NowMicros());
        RecordRequest(db, context, fingerprint, {case_id, 0, ""});
        truncate_wal_ = true;
        return CaseName(case_id);
      },
      std::move(done), context.audit);
}

void SqliteStore::EraseExpired(v1::Date takeover_before, std::string actor, Done<int> done) {
  Write<int>(
      [this, takeover_before, actor](SQLite::Database& db) -> absl::StatusOr<int> {
        Prepared expired(
            db,
            "SELECT c.case_id FROM cases c JOIN assignments a ON a.case_id = c.case_id "
            "AND a.seq = (SELECT MAX(seq) FROM assignments WHERE case_id = c.case_id) "
            "WHERE c.erased_time IS NULL AND a.takeover_date < ?");
        expired->bind(1, DateToInt(takeover_before));
        std::vector<std::string> ids;
        while (expired->executeStep()) ids.push_back(expired->getColumn(0).getString());
        const int64_t now = NowMicros();
        for (const std::string& id : ids) {
          auto current = LoadCase(db, id);
          if (!current.ok()) return current.status();
          EraseCaseRows(db, *current, now);
          v1::AccessRecord record;
          record.set_organisation("handoverd");
          record.set_role("system");
          record.set_actor(actor);
          record.set_operation("EraseCase");
          record.add_case_names(CaseName(id));
          record.add_sections("erasure");
          record.set_outcome("OK");
          record.set_purpose("retention-expired");
          AppendAccessRecord(db, std::move(record));
        }
        if (!ids.empty()) truncate_wal_ = true;
        return static_cast<int>(ids.size());
      },
      std::move(done));
}

void SqliteStore::RecordAccess(v1::AccessRecord record, Done<int64_t> done) {
  Write<int64_t>(
      [record = std::move(record)](SQLite::Database& db) -> absl::StatusOr<int64_t> {
        return AppendAccessRecord(db, record).record().sequence();
      },
      std::move(done));
}

void SqliteStore::WriteCheckpoint(Done<bool> done) {
  if (!signer_) {
    done(absl::FailedPreconditionError("no checkpoint signing key configured"));
    return;
  }
  Write<bool>(
      [this](SQLite::Database& db) -> absl::StatusOr<bool> {
        return AppendCheckpoint(db, *signer_, NowMicros()).has_value();
      },
      std::move(done));
}

void SqliteStore::QueryAccessLog(AccessQuery query, Done<std::vector<v1::AccessLogEntry>> done) {
  Read<std::vector<v1::AccessLogEntry>>(
      [query = std::move(query)](SQLite::Database& db) { return QueryAccessRecords(db, query); },
      std::move(done));
}

void SqliteStore::ExportAccessLog(int64_t after_sequence, int limit,
                                  Done<std::vector<v1::ExportAccessLogResponse>> done) {
  Read<std::vector<v1::ExportAccessLogResponse>>(
      [after_sequence, limit](SQLite::Database& db) {
        return ExportAccessRecords(db, after_sequence, limit);
      },
      std::move(done));
}

void SqliteStore::SubjectAccess(std::string person_identifier,
                                Done<v1::SubjectAccessReportResponse> done) {
  Read<v1::SubjectAccessReportResponse>(
      [this, person_identifier = std::move(person_identifier)](
          SQLite::Database& db) -> absl::StatusOr<v1::SubjectAccessReportResponse> {
        const std::vector<std::string> any_key = PersonHashes(*keys(), person_identifier);
        Prepared cases(db, absl::StrCat("SELECT case_id FROM cases WHERE person_hash",
                                        InMarks(any_key.size()), " ORDER BY case_id"));
        BindBlobs(*cases, 1, any_key);
        v1::SubjectAccessReportResponse report;
        std::vector<std::string> ids;
        while (cases->executeStep()) {
          ids.push_back(cases->getColumn(0).getString());
          report.add_case_names(CaseName(ids.back()));
        }
        for (auto& record : RecordsForCases(db, ids)) *report.add_records() = std::move(record);
        return report;
      },
      std::move(done));
}

std::shared_ptr<const KeyRing> SqliteStore::keys() const {
  absl::MutexLock lock(&keys_mu_);
  return keys_;
}

void SqliteStore::KeyUsage(Done<std::map<std::string, int64_t>> done) {
  Read<std::map<std::string, int64_t>>(
      [](SQLite::Database& db) -> absl::StatusOr<std::map<std::string, int64_t>> {
        Prepared select(
            db,
            "SELECT key_id, SUM(n) FROM ("
            "SELECT COALESCE(key_id, '') AS key_id, COUNT(*) AS n FROM case_versions GROUP BY 1 "
            "UNION ALL SELECT key_id, COUNT(*) FROM document_versions GROUP BY 1 "
            "UNION ALL SELECT key_id, COUNT(*) FROM document_chunks GROUP BY 1) GROUP BY key_id");
        std::map<std::string, int64_t> usage;
        while (select->executeStep()) {
          usage[select->getColumn(0).getString()] = select->getColumn(1).getInt64();
        }
        return usage;
      },
      std::move(done));
}

void SqliteStore::ReplaceKeys(std::shared_ptr<const KeyRing> ring, Done<bool> done) {
  // Checked and swapped on the writer thread, so no write seals with a key
  // that is about to go, and no key still in use can be dropped.
  Write<bool>(
      [this, ring = std::move(ring)](SQLite::Database& db) -> absl::StatusOr<bool> {
        Prepared used(db,
                      "SELECT COALESCE(key_id, '') FROM case_versions UNION "
                      "SELECT key_id FROM document_versions UNION "
                      "SELECT key_id FROM document_chunks");
        while (used->executeStep()) {
          const std::string id = used->getColumn(0).getString();
          if (id.empty() || !ring->HasKey(id)) {
            return absl::FailedPreconditionError(absl::StrCat(
                "key file: a key still in use is missing (", id.empty() ? "unlabelled" : id,
                "); keep it until re-encryption is done"));
          }
        }
        absl::MutexLock lock(&keys_mu_);
        keys_ = ring;
        return true;
      },
      std::move(done));
}

void SqliteStore::Reencrypt(int limit, Done<int> done) {
  Write<int>(
      [this, limit](SQLite::Database& db) -> absl::StatusOr<int> {
        const std::shared_ptr<const KeyRing> ring = keys();
        Prepared stale(db,
                       "SELECT v.case_id, v.version, v.form, c.current_version "
                       "FROM case_versions v JOIN cases c ON c.case_id = v.case_id "
                       "WHERE v.key_id IS NULL OR v.key_id != ? LIMIT ?");
        stale->bind(1, ring->current_key_id());
        stale->bind(2, limit);
        struct Stale {
          std::string case_id;
          int64_t version;
          std::string form;
          bool current;
        };
        std::vector<Stale> rows;  // read all first: no updates while stepping
        while (stale->executeStep()) {
          rows.push_back({stale->getColumn(0).getString(), stale->getColumn(1).getInt64(),
                          Blob(stale->getColumn(2)),
                          stale->getColumn(1).getInt64() == stale->getColumn(3).getInt64()});
        }
        for (const Stale& row : rows) {
          const std::string aad = FormAssociatedData(row.case_id, row.version);
          auto plain = ring->Open(row.form, aad);
          if (!plain.ok()) return plain.status();
          const std::string sealed = ring->Seal(*plain, aad);
          Prepared update(
              db,
              "UPDATE case_versions SET form = ?, key_id = ? WHERE case_id = ? AND version = ?");
          update->bind(1, sealed.data(), static_cast<int>(sealed.size()));
          update->bind(2, ring->current_key_id());
          update->bind(3, row.case_id);
          update->bind(4, row.version);
          update->exec();
          if (row.current) {
            // The current version: move the lookup hash to the new key too.
            v1::HandoverForm form;
            form.ParseFromString(*plain);
            const std::string hash = PersonHash(*ring, form.identity().person_identifier());
            Prepared rehash(db, "UPDATE cases SET person_hash = ? WHERE case_id = ?");
            rehash->bind(1, hash.data(), static_cast<int>(hash.size()));
            rehash->bind(2, row.case_id);
            rehash->exec();
          }
        }
        const int forms = static_cast<int>(rows.size());
        if (forms >= limit) return forms;
        auto documents = ReencryptDocuments(db, *ring, limit - forms);
        if (!documents.ok()) return documents.status();
        return forms + *documents;
      },
      std::move(done));
}

}  // namespace handover::store
