#include "server/store/domain_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/dates.h"
#include "common/errors.h"
#include "common/resource_names.h"
#include "common/serialize.h"
#include "server/store/case_reads.h"
#include "server/store/disk_space.h"
#include "server/store/domain_store_tasks.h"
#include "server/store/form_update.h"

namespace handover::store {
namespace {

// The event every change to a live case emits: to its operator and, if
// assigned, its municipality.
EventRow CaseEvent(const CaseSnapshot& current, v1::EventKind kind) {
  return {.case_id = current.meta.name().substr(6),
          .kind = kind,
          .version = current.meta.version(),
          .operator_id = current.facts.operator_id,
          .municipality_code = current.facts.municipality_code};
}

// Erases a case: its key first (durably, so every copy of its data can no
// longer be opened, whatever happens next), then its personal data's rows,
// leaving the skeleton, in the caller's transaction; tells the feed (the
// assigned municipality deletes its copy).
absl::Status EraseKeyThenData(WriteTxn& txn, CaseKeys& keys, const CaseSnapshot& current,
                              int64_t now) {
  const std::string case_id = current.meta.name().substr(6);
  if (absl::Status deleted = keys.Delete(case_id); !deleted.ok()) return deleted;
  txn.EraseCaseData(case_id, now);
  txn.AppendEvent(CaseEvent(current, v1::EVENT_KIND_CASE_ERASED), now);
  txn.ScrubAfterCommit();
  return absl::OkStatus();
}

// An erasure handoverd does by itself (no client asked), recorded in the
// access log as done by `actor` for `purpose`.
absl::Status EraseBySystem(WriteTxn& txn, CaseKeys& keys, const CaseSnapshot& current, int64_t now,
                           const std::string& actor, const std::string& purpose) {
  if (absl::Status erased = EraseKeyThenData(txn, keys, current, now); !erased.ok()) return erased;
  v1::AccessRecord record;
  record.set_organisation("handoverd");
  record.set_role("system");
  record.set_actor(actor);
  record.set_operation("EraseCase");
  record.add_case_names(current.meta.name());
  record.add_sections("erasure");
  record.set_outcome("OK");
  record.set_purpose(purpose);
  AppendAccessRecord(txn, std::move(record));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DomainStore>> DomainStore::Open(std::unique_ptr<Backend> backend,
                                                               std::unique_ptr<CaseKeys> case_keys,
                                                               std::shared_ptr<const KeyRing> keys,
                                                               DomainStoreOptions options) {
  // The mark first: it is only ever raised to revisions already committed, so
  // a replica committing meanwhile cannot put the head read after it below it.
  absl::StatusOr<std::optional<FeedMark>> mark = case_keys->FeedHighWater();
  if (!mark.ok()) return mark.status();
  std::promise<absl::StatusOr<FeedMark>> head;
  if (!backend->Read(
          [&head](ReadTxn& txn) {
            try {
              head.set_value(FeedMark{txn.FeedEpoch(), txn.HeadRevision()});
            } catch (const std::exception& e) {
              head.set_value(absl::UnavailableError(absl::StrCat("feed epoch: ", e.what())));
            }
          },
          [&head](absl::Status status) { head.set_value(std::move(status)); })) {
    return absl::UnavailableError("the backend refused the first read");
  }
  absl::StatusOr<FeedMark> feed = head.get_future().get();
  if (!feed.ok()) return feed.status();
  // A database put back by hand ends below the mark the key store keeps.
  if (*mark && (*mark)->epoch == feed->epoch && feed->revision < (*mark)->revision) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database: its feed ends at revision ", feed->revision, ", but revisions up to ",
        (*mark)->revision,
        " were handed out in its feed epoch (the key store keeps that mark): it was put back "
        "from an older copy without `handoverd restore`, and starting would hand those "
        "revisions out again, so synced copies would silently miss events. Put the newer "
        "database back, or restore the copy with `handoverd restore --from <copy>`, which "
        "moves the feed past them"));
  }
  if (absl::Status raised = case_keys->RaiseFeedHighWater(*feed); !raised.ok()) return raised;
  return std::unique_ptr<DomainStore>(new DomainStore(std::move(backend), std::move(case_keys),
                                                      std::move(keys), std::move(options),
                                                      feed->epoch, feed->revision));
}

DomainStore::DomainStore(std::unique_ptr<Backend> backend, std::unique_ptr<CaseKeys> case_keys,
                         std::shared_ptr<const KeyRing> keys, DomainStoreOptions options,
                         std::string feed_epoch, int64_t marked_revision)
    : keys_(std::move(keys)),
      options_(std::move(options)),
      feed_epoch_(std::move(feed_epoch)),
      marked_revision_(marked_revision),
      case_keys_(std::move(case_keys)),
      backend_(std::move(backend)) {
  backend_->SetCommitHook([this](ReadTxn& txn) { OnCommit(txn); });
  backend_->SetPreCommitHook([this] { return StorePendingKeys(); });
}

DomainStore::~DomainStore() {
  // After every queued write: the feed's head, as the key store's mark.
  int64_t revision = -1;  // set on the writer, read once `finished`
  std::promise<void> finished;
  backend_->Write(
      [&revision](WriteTxn& txn) {
        revision = txn.HeadRevision();
        return absl::OkStatus();
      },
      [&revision, &finished](absl::Status status) {
        if (!status.ok()) revision = -1;
        finished.set_value();
      });
  finished.get_future().wait();
  if (revision > 0) RaiseFeedMark(revision, /*force=*/true);
  backend_.reset();
}

void DomainStore::RaiseFeedMark(int64_t revision, bool force) {
  absl::MutexLock lock(&mark_mu_);  // one raise at a time, in revision order
  if (revision <= marked_revision_ || (!force && revision < marked_revision_ + kFeedMarkEvery)) {
    return;
  }
  if (absl::Status raised = case_keys_->RaiseFeedHighWater({feed_epoch_, revision}); !raised.ok()) {
    spdlog::warn("feed mark not raised (the next commit tries again): {}", raised.ToString());
    return;
  }
  marked_revision_ = revision;
}

absl::Status DomainStore::AdmitWrite() {
  return options_.disk ? options_.disk->AdmitWrite() : absl::OkStatus();
}

std::shared_ptr<const KeyRing> DomainStore::keys() const {
  absl::MutexLock lock(&keys_mu_);
  return keys_;
}

CaseCipher DomainStore::Cipher() const {
  return CaseCipher(keys(), [this](const std::string& case_id) { return CaseKey(case_id); });
}

absl::StatusOr<DataKey> DomainStore::CaseKey(const std::string& case_id) const {
  {
    absl::MutexLock lock(&pending_mu_);
    if (auto it = pending_keys_.find(case_id); it != pending_keys_.end()) return it->second;
  }
  return case_keys_->Get(case_id);
}

DataKey DomainStore::NewCaseKey(const std::string& case_id) {
  DataKey key = DataKey::Generate();
  absl::MutexLock lock(&pending_mu_);
  pending_keys_.insert_or_assign(case_id, key);
  return key;
}

absl::Status DomainStore::StorePendingKeys() {
  std::map<std::string, DataKey> keys;
  {
    absl::MutexLock lock(&pending_mu_);
    keys.swap(pending_keys_);
  }
  // A key whose case's write was rolled back is stored all the same: a key
  // without data is harmless; data without its key would be lost.
  return case_keys_->Put(keys);
}

void DomainStore::OnCommit(ReadTxn& txn) {
  // Under the lock, so once SetCommitListener(nullptr) returns no call is
  // still running into what the listener points at.
  absl::MutexLock lock(&listener_mu_);
  if (!listener_) return;
  std::vector<CommittedEvent> events = txn.EventsAfter(published_revision_);
  const int64_t compacted = txn.CompactedThrough();
  if (events.empty() && compacted == published_compaction_) return;  // e.g. access records
  if (!events.empty()) {
    published_revision_ = events.back().event.revision();
    RaiseFeedMark(published_revision_, /*force=*/false);
  }
  published_compaction_ = compacted;
  listener_(std::move(events), compacted);
}

void DomainStore::SetCommitListener(CommitListener listener) {
  // Set inside a write, so the starting point is consistent with commits.
  std::promise<void> set;
  backend_->Write(
      [this, &listener](WriteTxn& txn) {
        absl::MutexLock lock(&listener_mu_);
        published_revision_ = txn.HeadRevision();
        published_compaction_ = txn.CompactedThrough();
        listener_ = std::move(listener);
        return absl::OkStatus();
      },
      [&set](absl::Status) { set.set_value(); });
  set.get_future().wait();
}

void DomainStore::CreateCase(const WriteContext& context, v1::HandoverForm form,
                             Done<CaseSnapshot> done) {
  ClientWrite<CaseSnapshot>(
      context,
      [this](ReadTxn& txn, const PriorRequest& prior) {
        return ReadSnapshot(txn, Cipher(), prior.case_id, prior.version, true, AllowAll);
      },
      [this, context, form = std::move(form)](
          WriteTxn& txn, PriorRequest* produced) -> absl::StatusOr<CaseSnapshot> {
        const CaseCipher cipher = Cipher();
        const KeyRing& ring = cipher.ring();
        const std::vector<std::string> any_key =
            PersonHashes(ring, form.identity().person_identifier());
        if (txn.HasLiveCaseForPerson(context.principal.organisation_id, any_key)) {
          return absl::AlreadyExistsError(
              "form.identity.person_identifier: this operator already has a case for the person");
        }
        const std::string case_id = NewResourceId();
        const int64_t now = NowMicros();
        txn.InsertCase(case_id, context.principal.organisation_id, any_key.front(),
                       ring.current_key_id(), now);
        txn.InsertVersion({.case_id = case_id,
                           .version = 1,
                           .sealed_form = NewCaseKey(case_id).Seal(SerializeDeterministic(form),
                                                                   FormAssociatedData(case_id, 1)),
                           .key_id = kCaseKeyId,
                           .create_time = now,
                           .author_organisation = context.principal.organisation_id,
                           .author_actor = context.actor});
        txn.AppendEvent({.case_id = case_id,
                         .kind = v1::EVENT_KIND_CASE_CREATED,
                         .version = 1,
                         .operator_id = context.principal.organisation_id},
                        now);
        *produced = {.case_id = case_id, .version = 1};
        return ReadSnapshot(txn, cipher, case_id, 1, true, AllowAll);
      },
      std::move(done));
}

void DomainStore::UpdateForm(const WriteContext& context, UpdateFormCommand command,
                             Authorizer authorize, Done<CaseSnapshot> done) {
  // Worked out on a read snapshot, committed by a write (form_update.h).
  auto shared = std::make_shared<const UpdateFormCommand>(std::move(command));
  Read<PreparedUpdate>(
      [this, shared, authorize](ReadTxn& txn) {
        return PrepareUpdate(txn, Cipher(), *shared, authorize);
      },
      [this, context, shared, authorize, done](absl::StatusOr<PreparedUpdate> prepared) {
        // A refusal here is repeated, and recorded, by the write.
        auto ready = std::make_shared<std::optional<PreparedUpdate>>();
        if (prepared.ok()) *ready = *std::move(prepared);
        CommitUpdateForm(context, shared, authorize, ready, done);
      });
}

void DomainStore::CommitUpdateForm(const WriteContext& context,
                                   std::shared_ptr<const UpdateFormCommand> command,
                                   Authorizer authorize,
                                   std::shared_ptr<std::optional<PreparedUpdate>> prepared,
                                   Done<CaseSnapshot> done) {
  ClientWrite<CaseSnapshot>(
      context,
      [this, authorize](ReadTxn& txn, const PriorRequest& prior) {
        return ReadSnapshot(txn, Cipher(), prior.case_id, prior.version, true, authorize);
      },
      [this, context, command, authorize, prepared](
          WriteTxn& txn, PriorRequest* produced) -> absl::StatusOr<CaseSnapshot> {
        // Taken, not moved from: a group run again (pg_backend.h) prepares anew.
        auto updated = CommitUpdate(txn, Cipher(), context, *command, authorize,
                                    std::exchange(*prepared, std::nullopt));
        if (updated.ok())
          *produced = {.case_id = command->case_id, .version = updated->meta.version()};
        return updated;
      },
      std::move(done));
}

void DomainStore::AssignCase(const WriteContext& context, AssignCommand command,
                             Authorizer authorize, Done<CaseSnapshot> done) {
  ClientWrite<CaseSnapshot>(
      context,
      [this, authorize](ReadTxn& txn, const PriorRequest& prior) {
        return ReadSnapshot(txn, Cipher(), prior.case_id, 0, true, authorize);
      },
      [this, context, command = std::move(command), authorize](
          WriteTxn& txn, PriorRequest* produced) -> absl::StatusOr<CaseSnapshot> {
        auto current = LoadCase(txn, command.case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        if (current->facts.municipality_code == command.municipality_code) {
          return absl::FailedPreconditionError(
              "municipality_code: the case is already assigned to this municipality");
        }
        const int64_t now = NowMicros();
        txn.InsertAssignment({.case_id = command.case_id,
                              .municipality_code = command.municipality_code,
                              .decision_date = command.decision_date,
                              .takeover_date = TakeoverDate(command.decision_date),
                              .assign_time = now,
                              .author_organisation = context.principal.organisation_id,
                              .author_actor = context.actor});
        if (current->facts.municipality_code) {
          // The municipality the case leaves hears it, and only it.
          EventRow revoked = CaseEvent(*current, v1::EVENT_KIND_ACCESS_REVOKED);
          revoked.municipality_only = true;
          txn.AppendEvent(revoked, now);
        }
        EventRow assigned = CaseEvent(*current, v1::EVENT_KIND_ASSIGNED);
        assigned.municipality_code = command.municipality_code;
        txn.AppendEvent(assigned, now);
        *produced = {.case_id = command.case_id, .version = current->meta.version()};
        return ReadSnapshot(txn, Cipher(), command.case_id, 0, true, authorize);
      },
      std::move(done));
}

void DomainStore::RecordConsent(const WriteContext& context, std::string case_id,
                                v1::Consent consent, Authorizer authorize, Done<v1::Consent> done) {
  ClientWrite<v1::Consent>(
      context,
      [](ReadTxn& txn, const PriorRequest& prior) -> absl::StatusOr<v1::Consent> {
        return LoadConsent(txn, prior.case_id, prior.consent_id);
      },
      [context, case_id = std::move(case_id), consent = std::move(consent), authorize](
          WriteTxn& txn, PriorRequest* produced) -> absl::StatusOr<v1::Consent> {
        auto current = LoadCase(txn, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        const std::string consent_id = NewResourceId();
        const int64_t now = NowMicros();
        txn.InsertConsent({.case_id = case_id,
                           .consent_id = consent_id,
                           .consent = consent,
                           .record_time = now,
                           .author_organisation = context.principal.organisation_id,
                           .author_actor = context.actor});
        txn.TouchCase(case_id, now);
        txn.AppendEvent(CaseEvent(*current, v1::EVENT_KIND_CONSENT_GIVEN), now);
        *produced = {.case_id = case_id, .consent_id = consent_id};
        return LoadConsent(txn, case_id, consent_id);
      },
      std::move(done));
}

void DomainStore::WithdrawConsent(const WriteContext& context, std::string case_id,
                                  std::string consent_id, Authorizer authorize,
                                  Done<v1::Consent> done) {
  ClientWrite<v1::Consent>(
      context,
      [](ReadTxn& txn, const PriorRequest& prior) -> absl::StatusOr<v1::Consent> {
        return LoadConsent(txn, prior.case_id, prior.consent_id);
      },
      [case_id = std::move(case_id), consent_id = std::move(consent_id), authorize](
          WriteTxn& txn, PriorRequest* produced) -> absl::StatusOr<v1::Consent> {
        auto current = LoadCase(txn, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        auto consent = LoadConsent(txn, case_id, consent_id);
        if (!consent.ok()) return consent.status();
        if (consent->has_withdraw_time()) {
          return absl::FailedPreconditionError("name: the consent is already withdrawn");
        }
        const int64_t now = NowMicros();
        txn.SetConsentWithdrawn(consent_id, now);
        txn.TouchCase(case_id, now);
        EventRow event = CaseEvent(*current, v1::EVENT_KIND_CONSENT_WITHDRAWN);
        auto after = LoadCase(txn, case_id);
        if (!after.ok()) return after.status();
        // The municipality must delete what no consent covers any more.
        if (current->facts.municipality_code &&
            !policy::HasActiveConsent(after->facts, consent->purpose(),
                                      *current->facts.municipality_code)) {
          event.withdrawn_fields = policy::FieldsCoveredBy(consent->purpose());
        }
        txn.AppendEvent(event, now);
        *produced = {.case_id = case_id, .consent_id = consent_id};
        return LoadConsent(txn, case_id, consent_id);
      },
      std::move(done));
}

void DomainStore::GetCase(std::string case_id, int64_t version, bool with_form,
                          Authorizer authorize, Done<CaseSnapshot> done) {
  Read<CaseSnapshot>(
      [this, case_id = std::move(case_id), version, with_form,
       authorize = std::move(authorize)](ReadTxn& txn) {
        return ReadSnapshot(txn, Cipher(), case_id, version, with_form, authorize);
      },
      std::move(done));
}

void DomainStore::ListCases(CaseQuery query, Done<CasePage> done) {
  Read<CasePage>(
      [this, query = std::move(query)](ReadTxn& txn) -> absl::StatusOr<CasePage> {
        const std::shared_ptr<const KeyRing> ring = keys();
        CasePage page;
        page.revision = txn.HeadRevision();
        CaseSelection selection{.scope = query.scope,
                                .organisation_id = query.organisation_id,
                                .after_case_id = query.after_case_id,
                                .limit = query.page_size + 1};
        if (query.person_identifier) {
          selection.person_hashes = PersonHashes(*ring, *query.person_identifier);
        }
        std::vector<std::string> ids = txn.SelectCases(selection);
        const bool more = ids.size() > static_cast<size_t>(query.page_size);
        if (more) ids.pop_back();
        auto snapshots = ReadCurrentSnapshots(txn, Cipher(), ids, query.with_form, AllowAll);
        for (const std::string& id : ids) {
          absl::StatusOr<CaseSnapshot>& snapshot = snapshots.at(id);
          // NOT_FOUND: its key is gone, it was erased (after a backup restored since).
          if (snapshot.status().code() == absl::StatusCode::kNotFound) continue;
          if (!snapshot.ok()) return snapshot.status();
          page.cases.push_back(std::move(*snapshot));
        }
        if (more) page.last_case_id = ids.back();
        return page;
      },
      std::move(done));
}

void DomainStore::ListVersions(std::string case_id, int64_t before_version, int page_size,
                               Authorizer authorize, Done<VersionPage> done) {
  Read<VersionPage>(
      [case_id = std::move(case_id), before_version, page_size,
       authorize = std::move(authorize)](ReadTxn& txn) -> absl::StatusOr<VersionPage> {
        auto current = LoadCase(txn, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        VersionPage page;
        for (const VersionRow& row : txn.ListVersions(case_id, before_version, page_size + 1)) {
          page.versions.push_back(VersionMeta(row));
        }
        if (page.versions.size() > static_cast<size_t>(page_size)) {
          page.versions.pop_back();
          page.next_before_version = page.versions.back().version();
        }
        return page;
      },
      std::move(done));
}

void DomainStore::ReadFeed(FeedQuery query, Done<FeedPage> done) {
  Read<FeedPage>(
      [this, query = std::move(query)](ReadTxn& txn) -> absl::StatusOr<FeedPage> {
        const int64_t compacted = txn.CompactedThrough();
        // 0: from the oldest retained revision, whatever was compacted.
        const int64_t after = query.after_revision == 0 ? compacted : query.after_revision;
        if (after < compacted) return FeedCompactedError(compacted);
        const int64_t head = txn.HeadRevision();
        if (after > head) return FeedAheadError(head, compacted);

        FeedPage page;
        std::vector<std::string> with_case;  // the events' cases, read once per page
        for (v1::ChangeEvent& event : txn.ReadEvents(after, query.filter, query.page_size)) {
          if (query.include_cases && event.kind() != v1::EVENT_KIND_ACCESS_REVOKED) {
            with_case.push_back(event.case_name().substr(6));
          }
          page.events.push_back(FeedEvent{.event = std::move(event)});
        }
        if (!with_case.empty()) {
          std::sort(with_case.begin(), with_case.end());
          with_case.erase(std::unique(with_case.begin(), with_case.end()), with_case.end());
          auto snapshots = ReadCurrentSnapshots(txn, Cipher(), with_case, true, query.authorize);
          // The last event of a case takes its snapshot; earlier ones a copy.
          std::map<std::string, const FeedEvent*> holder;
          for (size_t i = page.events.size(); i-- > 0;) {
            FeedEvent& item = page.events[i];
            if (item.event.kind() == v1::EVENT_KIND_ACCESS_REVOKED) continue;
            const std::string case_id = item.event.case_name().substr(6);
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

void DomainStore::CompactFeed(int64_t before_micros, Done<int64_t> done) {
  Write<int64_t>(
      [before_micros](WriteTxn& txn) -> absl::StatusOr<int64_t> {
        return txn.CompactEvents(before_micros);
      },
      std::move(done));
}

namespace {
// Whether an erasing write's result says it erased anything.
bool Erased(const std::string&) { return true; }  // a case's name
bool Erased(int count) { return count > 0; }
}  // namespace

template <typename T>
Done<T> DomainStore::ScrubKeysBefore(Done<T> done) {
  return [this, done = std::move(done)](absl::StatusOr<T> result) {
    if (result.ok() && Erased(*result)) {
      // The erasure is committed; its answer stands whatever this does. A
      // failed scrub leaves the bytes to the next one.
      if (absl::Status scrubbed = case_keys_->Scrub(); !scrubbed.ok()) {
        spdlog::warn("erased keys not yet scrubbed from the key store's pages: {}",
                     scrubbed.ToString());
      }
    }
    done(std::move(result));
  };
}

void DomainStore::EraseCase(const WriteContext& context, std::string case_id, Authorizer authorize,
                            Done<std::string> done) {
  ClientWrite<std::string>(
      context,
      [](ReadTxn&, const PriorRequest& prior) -> absl::StatusOr<std::string> {
        return CaseName(prior.case_id);
      },
      [this, case_id = std::move(case_id), authorize](
          WriteTxn& txn, PriorRequest* produced) -> absl::StatusOr<std::string> {
        auto current = LoadCase(txn, case_id);
        if (!current.ok()) return current.status();
        if (absl::Status allowed = authorize(current->facts); !allowed.ok()) return allowed;
        if (absl::Status erased = EraseKeyThenData(txn, *case_keys_, *current, NowMicros());
            !erased.ok()) {
          return erased;
        }
        *produced = {.case_id = case_id};
        return CaseName(case_id);
      },
      ScrubKeysBefore(std::move(done)));
}

void DomainStore::EraseExpired(v1::Date takeover_before, std::string actor, Done<int> done) {
  Write<int>(
      [this, takeover_before, actor](WriteTxn& txn) -> absl::StatusOr<int> {
        const std::vector<std::string> ids = txn.ExpiredCases(takeover_before);
        const int64_t now = NowMicros();
        for (const std::string& id : ids) {
          auto current = LoadCase(txn, id);
          if (!current.ok()) return current.status();
          if (absl::Status erased =
                  EraseBySystem(txn, *case_keys_, *current, now, actor, "retention-expired");
              !erased.ok()) {
            return erased;
          }
        }
        return static_cast<int>(ids.size());
      },
      ScrubKeysBefore(std::move(done)));
}

void DomainStore::EraseKeyless(std::string actor, Done<int> done) {
  Write<int>(
      [this, actor](WriteTxn& txn) -> absl::StatusOr<int> {
        const int64_t now = NowMicros();
        int erased = 0;
        CaseSelection page{.scope = CaseQuery::Scope::kAll, .limit = 1000};
        for (std::vector<std::string> ids = txn.SelectCases(page); !ids.empty();
             ids = txn.SelectCases(page)) {
          page.after_case_id = ids.back();
          for (auto& [id, rows] : txn.LoadCurrentCases(ids, false)) {
            if (rows.current.key_id != kCaseKeyId) continue;  // from before case keys
            absl::StatusOr<DataKey> key = CaseKey(id);
            if (key.ok() || key.status().code() != absl::StatusCode::kNotFound) continue;
            if (absl::Status s =
                    EraseBySystem(txn, *case_keys_, rows.head, now, actor, "erased-before-restore");
                !s.ok()) {
              return s;
            }
            ++erased;
          }
        }
        return erased;
      },
      ScrubKeysBefore(std::move(done)));
}

void DomainStore::RecordAccess(v1::AccessRecord record, Done<int64_t> done) {
  Write<int64_t>(
      [record = std::move(record)](WriteTxn& txn) -> absl::StatusOr<int64_t> {
        return AppendAccessRecord(txn, record).record().sequence();
      },
      std::move(done));
}

void DomainStore::WriteCheckpoint(Done<bool> done) {
  if (!options_.signer) {
    done(absl::FailedPreconditionError("no checkpoint signing key configured"));
    return;
  }
  Write<bool>(
      [this](WriteTxn& txn) -> absl::StatusOr<bool> {
        return AppendCheckpoint(txn, *options_.signer, NowMicros()).has_value();
      },
      std::move(done));
}

void DomainStore::QueryAccessLog(AccessQuery query, Done<std::vector<v1::AccessLogEntry>> done) {
  Read<std::vector<v1::AccessLogEntry>>(
      [query = std::move(query)](ReadTxn& txn) { return txn.QueryAccessRecords(query); },
      std::move(done));
}

void DomainStore::ExportAccessLog(int64_t after_sequence, int limit,
                                  Done<std::vector<AccessExportItem>> done) {
  Read<std::vector<AccessExportItem>>(
      [after_sequence, limit](ReadTxn& txn) {
        return txn.ExportAccessRecords(after_sequence, limit);
      },
      std::move(done));
}

void DomainStore::SubjectAccess(std::string person_identifier, Done<SubjectAccessFindings> done) {
  Read<SubjectAccessFindings>(
      [this, person_identifier = std::move(person_identifier)](
          ReadTxn& txn) -> absl::StatusOr<SubjectAccessFindings> {
        const std::vector<std::string> ids =
            txn.CasesOfPerson(PersonHashes(*keys(), person_identifier));
        SubjectAccessFindings findings;
        for (const std::string& id : ids) findings.case_names.push_back(CaseName(id));
        findings.records = txn.RecordsForCases(ids);
        return findings;
      },
      std::move(done));
}

}  // namespace handover::store
