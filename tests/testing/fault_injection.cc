#include "tests/testing/fault_injection.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"

namespace handover::testing {
namespace {

using store::AccessHead;
using store::AccessQuery;
using store::AssignmentRow;
using store::CaseRows;
using store::CaseSelection;
using store::CaseSnapshot;
using store::CommittedEvent;
using store::ConsentRow;
using store::DocumentVersionRow;
using store::EventRow;
using store::RequestRow;
using store::SealedItem;
using store::VersionRow;

// The armed task's key-store calls happen on the writer thread while it
// runs: this says which task they belong to.
thread_local FaultPlan::Armed* running_armed = nullptr;

// A write transaction that counts its row operations (reads included) and
// throws InjectedFault after the armed one has run.
class FaultyTxn final : public store::WriteTxn {
 public:
  FaultyTxn(store::WriteTxn& inner, FaultPlan& plan, FaultPlan::Armed& armed)
      : inner_(inner), plan_(plan), armed_(armed) {}

  // clang-format off
  std::optional<CaseSnapshot> LoadCase(const std::string& case_id) override {
    return Stepped("LoadCase", inner_.LoadCase(case_id));
  }
  std::optional<VersionRow> LoadVersion(const std::string& case_id, int64_t version, bool with_form) override {
    return Stepped("LoadVersion", inner_.LoadVersion(case_id, version, with_form));
  }
  std::map<std::string, CaseRows> LoadCurrentCases(const std::vector<std::string>& case_ids, bool with_form) override {
    return Stepped("LoadCurrentCases", inner_.LoadCurrentCases(case_ids, with_form));
  }
  std::vector<std::string> SelectCases(const CaseSelection& selection) override {
    return Stepped("SelectCases", inner_.SelectCases(selection));
  }
  std::vector<VersionRow> ListVersions(const std::string& case_id, int64_t before_version, int limit) override {
    return Stepped("ListVersions", inner_.ListVersions(case_id, before_version, limit));
  }
  std::optional<v1::Consent> LoadConsent(const std::string& case_id, const std::string& consent_id) override {
    return Stepped("LoadConsent", inner_.LoadConsent(case_id, consent_id));
  }
  bool HasLiveCaseForPerson(const std::string& operator_id, const std::vector<std::string>& person_hashes) override {
    return Stepped("HasLiveCaseForPerson", inner_.HasLiveCaseForPerson(operator_id, person_hashes));
  }
  std::vector<std::string> CasesOfPerson(const std::vector<std::string>& person_hashes) override {
    return Stepped("CasesOfPerson", inner_.CasesOfPerson(person_hashes));
  }
  int64_t HeadRevision() override {
    return Stepped("HeadRevision", inner_.HeadRevision());
  }
  int64_t CompactedThrough() override {
    return Stepped("CompactedThrough", inner_.CompactedThrough());
  }
  std::string FeedEpoch() override {
    return Stepped("FeedEpoch", inner_.FeedEpoch());
  }
  std::vector<v1::ChangeEvent> ReadEvents(int64_t after, const policy::EventFilter& filter, int limit) override {
    return Stepped("ReadEvents", inner_.ReadEvents(after, filter, limit));
  }
  std::vector<CommittedEvent> EventsAfter(int64_t after) override {
    return Stepped("EventsAfter", inner_.EventsAfter(after));
  }
  std::optional<RequestRow> FindRequest(const std::string& organisation, const std::string& request_id) override {
    return Stepped("FindRequest", inner_.FindRequest(organisation, request_id));
  }
  std::optional<AccessHead> LastAccessEntry() override {
    return Stepped("LastAccessEntry", inner_.LastAccessEntry());
  }
  int64_t SignedThrough() override {
    return Stepped("SignedThrough", inner_.SignedThrough());
  }
  std::vector<v1::AccessLogEntry> QueryAccessRecords(const AccessQuery& query) override {
    return Stepped("QueryAccessRecords", inner_.QueryAccessRecords(query));
  }
  std::vector<store::AccessExportItem> ExportAccessRecords(int64_t after_sequence, int limit) override {
    return Stepped("ExportAccessRecords", inner_.ExportAccessRecords(after_sequence, limit));
  }
  std::vector<v1::AccessRecord> RecordsForCases(const std::vector<std::string>& case_ids) override {
    return Stepped("RecordsForCases", inner_.RecordsForCases(case_ids));
  }
  std::optional<DocumentVersionRow> LoadDocumentVersion(const std::string& case_id, const std::string& document_id, int64_t version) override {
    return Stepped("LoadDocumentVersion", inner_.LoadDocumentVersion(case_id, document_id, version));
  }
  std::vector<DocumentVersionRow> LoadDocumentVersions(const std::string& case_id, bool include_history) override {
    return Stepped("LoadDocumentVersions", inner_.LoadDocumentVersions(case_id, include_history));
  }
  std::optional<v1::DocumentType> BlobDocumentType(const std::string& case_id, const std::string& blob_id) override {
    return Stepped("BlobDocumentType", inner_.BlobDocumentType(case_id, blob_id));
  }
  std::optional<std::string> LoadSealedChunk(const std::string& blob_id, int64_t seq) override {
    return Stepped("LoadSealedChunk", inner_.LoadSealedChunk(blob_id, seq));
  }
  std::map<std::string, int64_t> KeyUsage() override {
    return Stepped("KeyUsage", inner_.KeyUsage());
  }
  void InsertCase(const std::string& case_id, const std::string& operator_id, const std::string& person_hash, const std::string& hash_key_id, int64_t now) override {
    inner_.InsertCase(case_id, operator_id, person_hash, hash_key_id, now);
    Step("InsertCase");
  }
  void InsertVersion(const VersionRow& row) override {
    inner_.InsertVersion(row);
    Step("InsertVersion");
  }
  void SetCurrentVersion(const std::string& case_id, int64_t version, int64_t now) override {
    inner_.SetCurrentVersion(case_id, version, now);
    Step("SetCurrentVersion");
  }
  void SetPersonHash(const std::string& case_id, const std::string& person_hash, const std::string& hash_key_id) override {
    inner_.SetPersonHash(case_id, person_hash, hash_key_id);
    Step("SetPersonHash");
  }
  void TouchCase(const std::string& case_id, int64_t now) override {
    inner_.TouchCase(case_id, now);
    Step("TouchCase");
  }
  void InsertAssignment(const AssignmentRow& row) override {
    inner_.InsertAssignment(row);
    Step("InsertAssignment");
  }
  void InsertConsent(const ConsentRow& row) override {
    inner_.InsertConsent(row);
    Step("InsertConsent");
  }
  void SetConsentWithdrawn(const std::string& consent_id, int64_t now) override {
    inner_.SetConsentWithdrawn(consent_id, now);
    Step("SetConsentWithdrawn");
  }
  int64_t AppendEvent(const EventRow& event, int64_t now) override {
    return Stepped("AppendEvent", inner_.AppendEvent(event, now));
  }
  void RecordRequest(const std::string& organisation, const std::string& request_id, const RequestRow& row) override {
    inner_.RecordRequest(organisation, request_id, row);
    Step("RecordRequest");
  }
  void AppendAccessEntry(const v1::AccessLogEntry& entry) override {
    inner_.AppendAccessEntry(entry);
    Step("AppendAccessEntry");
  }
  void InsertCheckpoint(const v1::Checkpoint& checkpoint) override {
    inner_.InsertCheckpoint(checkpoint);
    Step("InsertCheckpoint");
  }
  void EraseCaseData(const std::string& case_id, int64_t now) override {
    inner_.EraseCaseData(case_id, now);
    Step("EraseCaseData");
  }
  std::vector<std::string> ExpiredCases(const v1::Date& takeover_before) override {
    return Stepped("ExpiredCases", inner_.ExpiredCases(takeover_before));
  }
  int64_t CompactEvents(int64_t before_micros) override {
    return Stepped("CompactEvents", inner_.CompactEvents(before_micros));
  }
  void ScrubAfterCommit() override {
    inner_.ScrubAfterCommit();
    Step("ScrubAfterCommit");
  }
  void InsertDocument(const std::string& case_id, const std::string& document_id, v1::DocumentType type) override {
    inner_.InsertDocument(case_id, document_id, type);
    Step("InsertDocument");
  }
  void SetDocumentVersion(const std::string& case_id, const std::string& document_id, int64_t version) override {
    inner_.SetDocumentVersion(case_id, document_id, version);
    Step("SetDocumentVersion");
  }
  void InsertDocumentVersion(const DocumentVersionRow& row) override {
    inner_.InsertDocumentVersion(row);
    Step("InsertDocumentVersion");
  }
  void InsertChunk(const std::string& blob_id, int64_t seq, const std::string& key_id, const std::string& sealed) override {
    inner_.InsertChunk(blob_id, seq, key_id, sealed);
    Step("InsertChunk");
  }
  std::vector<SealedItem> StaleItems(SealedItem::Kind kind, const std::string& key_id, int limit) override {
    return Stepped("StaleItems", inner_.StaleItems(kind, key_id, limit));
  }
  void Reseal(const SealedItem& item, const std::string& key_id) override {
    inner_.Reseal(item, key_id);
    Step("Reseal");
  }
  // clang-format on

 private:
  void Step(const char* name) {
    if (plan_.Step(armed_, name)) {
      throw InjectedFault(
          absl::StrCat("injected fault after step ", armed_.steps.size(), " (", name, ")"));
    }
  }
  template <typename T>
  T Stepped(const char* name, T value) {
    Step(name);
    return value;
  }

  store::WriteTxn& inner_;
  FaultPlan& plan_;
  FaultPlan::Armed& armed_;
};

// A key store whose calls made by the armed task count as its steps: the
// call runs, then reports UNAVAILABLE if it is the failing step.
class FaultyCaseKeys final : public store::CaseKeys {
 public:
  FaultyCaseKeys(std::unique_ptr<store::CaseKeys> inner, FaultPlan& plan)
      : inner_(std::move(inner)), plan_(plan) {}

  absl::Status Put(const std::map<std::string, DataKey>& keys) override {
    return Stepped("CaseKeys::Put", inner_->Put(keys));
  }
  absl::Status CreateMany(const std::vector<std::string>& case_ids,
                          std::map<std::string, DataKey>* out) override {
    return Stepped("CaseKeys::CreateMany", inner_->CreateMany(case_ids, out));
  }
  absl::StatusOr<DataKey> Get(const std::string& case_id) override {
    return Stepped("CaseKeys::Get", inner_->Get(case_id));
  }
  absl::Status Delete(const std::string& case_id) override {
    return Stepped("CaseKeys::Delete", inner_->Delete(case_id));
  }
  absl::Status Scrub() override { return inner_->Scrub(); }
  absl::StatusOr<std::optional<store::FeedMark>> FeedHighWater() override {
    return inner_->FeedHighWater();
  }
  absl::Status RaiseFeedHighWater(const store::FeedMark& mark) override {
    return inner_->RaiseFeedHighWater(mark);
  }
  absl::StatusOr<int> Rewrap(int limit) override { return inner_->Rewrap(limit); }
  absl::StatusOr<std::map<std::string, int64_t>> Usage() override { return inner_->Usage(); }
  absl::Status ReplaceKeys(std::shared_ptr<const KeyRing> ring) override {
    return inner_->ReplaceKeys(std::move(ring));
  }
  absl::Status Backup(const std::string& backup_path) override {
    return inner_->Backup(backup_path);
  }

 private:
  template <typename T>
  T Stepped(const char* name, T result) {
    if (running_armed != nullptr && plan_.Step(*running_armed, name)) {
      return absl::UnavailableError(
          absl::StrCat("injected fault after step ", running_armed->steps.size(), " (", name, ")"));
    }
    return result;
  }

  std::unique_ptr<store::CaseKeys> inner_;
  FaultPlan& plan_;
};

}  // namespace

void FaultPlan::ArmNextWrite(int step) {
  absl::MutexLock lock(&mu_);
  next_ = std::make_shared<Armed>(Armed{.fail_at = step});
}

std::vector<std::string> FaultPlan::steps_taken() const {
  absl::MutexLock lock(&mu_);
  return last_ ? last_->steps : std::vector<std::string>{};
}

bool FaultPlan::fired() const {
  absl::MutexLock lock(&mu_);
  return last_ && last_->fired;
}

std::shared_ptr<FaultPlan::Armed> FaultPlan::TakeArm() {
  absl::MutexLock lock(&mu_);
  if (!next_) return nullptr;
  last_ = std::move(next_);
  return last_;
}

bool FaultPlan::TakePreCommitFailure() {
  absl::MutexLock lock(&mu_);
  return std::exchange(fail_pre_commit_, false);
}

void FaultPlan::BeginRun(Armed& armed) {
  absl::MutexLock lock(&mu_);
  armed.steps.clear();
  armed.fired = armed.fail_at == kPreCommit;
  if (armed.fired) fail_pre_commit_ = true;
}

bool FaultPlan::Step(Armed& armed, const char* name) {
  absl::MutexLock lock(&mu_);
  armed.steps.emplace_back(name);
  if (static_cast<int>(armed.steps.size()) != armed.fail_at) return false;
  armed.fired = true;
  return true;
}

void FaultyBackend::Write(WriteTask apply, std::function<void(absl::Status)> done,
                          WriteTask after_rollback) {
  std::shared_ptr<FaultPlan::Armed> armed = plan_.TakeArm();
  if (!armed) {
    inner_->Write(std::move(apply), std::move(done), std::move(after_rollback));
    return;
  }
  inner_->Write(
      [this, armed, apply = std::move(apply)](store::WriteTxn& txn) {
        plan_.BeginRun(*armed);
        FaultyTxn faulty(txn, plan_, *armed);
        running_armed = armed.get();
        absl::Status status;
        try {
          status = apply(faulty);
        } catch (...) {
          running_armed = nullptr;
          throw;
        }
        running_armed = nullptr;
        return status;
      },
      std::move(done), std::move(after_rollback));
}

void FaultyBackend::SetPreCommitHook(std::function<absl::Status()> hook) {
  inner_->SetPreCommitHook([this, hook = std::move(hook)]() -> absl::Status {
    if (plan_.TakePreCommitFailure()) return absl::UnavailableError("injected pre-commit fault");
    return hook ? hook() : absl::OkStatus();
  });
}

FaultyBackend* DecorateWithFaults(store::StoreParts& parts, FaultPlan& plan) {
  auto backend = std::make_unique<FaultyBackend>(std::move(parts.backend), plan);
  FaultyBackend* raw = backend.get();
  parts.backend = std::move(backend);
  parts.case_keys = std::make_unique<FaultyCaseKeys>(std::move(parts.case_keys), plan);
  return raw;
}

WriterHold::WriterHold(FaultyBackend& backend) : backend_(backend) {
  backend_.inner().Write(
      [this](store::WriteTxn&) {
        running_.Notify();
        release_.WaitForNotification();
        return absl::OkStatus();
      },
      [this](absl::Status) { done_.Notify(); });
  running_.WaitForNotification();
}

WriterHold::~WriterHold() {
  Release();
  done_.WaitForNotification();
}

bool WriterHold::AwaitQueued(size_t tasks) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (backend_.write_stats().queue_depth < tasks) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void WriterHold::Release() {
  if (!release_.HasBeenNotified()) release_.Notify();
}

}  // namespace handover::testing
