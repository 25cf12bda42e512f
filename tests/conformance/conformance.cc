#include "tests/conformance/conformance.h"

#include "common/dates.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/handover_service.pb.h"
#include "server/service/views.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {

using testing::Await;

policy::EventFilter SeesEverything() { return {.with_municipality_only = true}; }

absl::Status AllowAll(const policy::CaseFacts&) { return absl::OkStatus(); }

std::string FactoryName(const ::testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

void PrintTo(const BackendFactory& factory, std::ostream* os) { *os << factory.name; }

void StoreConformance::SetUp() {
  keys_ =
      std::make_shared<const KeyRing>(*KeyRing::Parse(KeyRing::GenerateKeyLine("conformance-key")));
  signer_ = std::make_shared<const Signer>(Signer::Generate());
  options_.signer = signer_;
  options_.document_chunk_bytes = 1024;  // documents of a few KiB span chunks
  opener_ = GetParam().new_database();
  Open();
}

void StoreConformance::TearDown() { store_.reset(); }

void StoreConformance::Open() { Open(options_); }

void StoreConformance::Open(store::DomainStoreOptions options) {
  store_.reset();
  auto parts = opener_(keys_);
  ASSERT_TRUE(parts.ok()) << parts.status();
  if (decorate_) decorate_(*parts);
  auto opened = store::DomainStore::Open(std::move(parts->backend), std::move(parts->case_keys),
                                         keys_, std::move(options));
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = *std::move(opened);
}

void StoreConformance::Reopen() {
  store_.reset();
  Open();
}

store::WriteContext StoreConformance::Context(const Principal& by, const std::string& request_id,
                                              const google::protobuf::Message& request,
                                              std::optional<v1::AccessRecord> audit) {
  return store::WriteContext{by, "conformance-actor", request_id, &request, std::move(audit)};
}

v1::AccessRecord StoreConformance::Record(const Principal& by, const std::string& operation,
                                          const std::string& case_name) {
  v1::AccessRecord record;
  record.set_organisation(by.organisation_id);
  record.set_role(by.role == Role::kOperator ? "operator" : "immigration-service");
  record.set_actor("conformance-actor");
  record.set_operation(operation);
  if (!case_name.empty()) record.add_case_names(case_name);
  return record;
}

v1::Date StoreConformance::DefaultDecisionDate() { return MakeDate(2026, 1, 5); }

absl::StatusOr<store::CaseSnapshot> StoreConformance::Create(
    const std::string& request_id, const v1::HandoverForm& form, const Principal& by,
    std::optional<v1::AccessRecord> audit) {
  v1::CreateCaseRequest request;
  request.set_request_id(request_id);
  *request.mutable_form() = form;
  return Await<store::CaseSnapshot>([&](auto done) {
    store_->CreateCase(Context(by, request_id, request, std::move(audit)), form, done);
  });
}

absl::StatusOr<store::CaseSnapshot> StoreConformance::Update(
    const std::string& case_id, const v1::HandoverForm& form, const std::string& etag,
    const std::string& request_id, const google::protobuf::FieldMask& mask, const Principal& by,
    std::optional<v1::AccessRecord> audit) {
  v1::UpdateFormRequest request;
  request.set_name(CaseName(case_id));
  *request.mutable_form() = form;
  *request.mutable_update_mask() = mask;
  request.set_etag(etag);
  request.set_request_id(request_id);
  store::UpdateFormCommand command{case_id, form, mask, etag,
                                   [](const v1::HandoverForm&) { return absl::OkStatus(); }};
  return Await<store::CaseSnapshot>([&](auto done) {
    store_->UpdateForm(Context(by, request_id, request, std::move(audit)), command, AllowAll, done);
  });
}

absl::StatusOr<store::CaseSnapshot> StoreConformance::Assign(
    const std::string& case_id, const std::string& municipality_code, const std::string& request_id,
    v1::Date decision_date, std::optional<v1::AccessRecord> audit) {
  v1::AssignCaseRequest request;
  request.set_name(CaseName(case_id));
  request.set_municipality_code(municipality_code);
  *request.mutable_decision_date() = decision_date;
  request.set_request_id(request_id);
  return Await<store::CaseSnapshot>([&](auto done) {
    store_->AssignCase(Context(kImmigration, request_id, request, std::move(audit)),
                       {case_id, municipality_code, decision_date}, AllowAll, done);
  });
}

absl::StatusOr<v1::Consent> StoreConformance::GiveConsent(const std::string& case_id,
                                                          v1::ConsentPurpose purpose,
                                                          const std::string& request_id,
                                                          std::optional<v1::AccessRecord> audit) {
  v1::RecordConsentRequest request;
  request.set_parent(CaseName(case_id));
  request.mutable_consent()->set_purpose(purpose);
  *request.mutable_consent()->mutable_given_date() = MakeDate(2026, 1, 2);
  request.set_request_id(request_id);
  return Await<v1::Consent>([&](auto done) {
    store_->RecordConsent(Context(kRedCross, request_id, request, std::move(audit)), case_id,
                          request.consent(), AllowAll, done);
  });
}

absl::StatusOr<v1::Consent> StoreConformance::Withdraw(const std::string& case_id,
                                                       const std::string& consent_id,
                                                       const std::string& request_id,
                                                       std::optional<v1::AccessRecord> audit) {
  v1::WithdrawConsentRequest request;
  request.set_name(CaseName(case_id) + "/consents/" + consent_id);
  request.set_request_id(request_id);
  return Await<v1::Consent>([&](auto done) {
    store_->WithdrawConsent(Context(kRedCross, request_id, request, std::move(audit)), case_id,
                            consent_id, AllowAll, done);
  });
}

absl::StatusOr<std::string> StoreConformance::Erase(const std::string& case_id,
                                                    const std::string& request_id,
                                                    std::optional<v1::AccessRecord> audit) {
  v1::EraseCaseRequest request;
  request.set_name(CaseName(case_id));
  request.set_reason("conformance test");
  request.set_request_id(request_id);
  return Await<std::string>([&](auto done) {
    store_->EraseCase(Context(kRedCross, request_id, request, std::move(audit)), case_id, AllowAll,
                      done);
  });
}

absl::StatusOr<store::CaseSnapshot> StoreConformance::Get(const std::string& case_id,
                                                          int64_t version) {
  return Await<store::CaseSnapshot>(
      [&](auto done) { store_->GetCase(case_id, version, true, AllowAll, done); });
}

absl::StatusOr<store::VersionPage> StoreConformance::Versions(const std::string& case_id,
                                                              int64_t before_version,
                                                              int page_size) {
  return Await<store::VersionPage>(
      [&](auto done) { store_->ListVersions(case_id, before_version, page_size, AllowAll, done); });
}

std::vector<int64_t> StoreConformance::VersionsOf(const std::string& case_id) {
  auto page = Versions(case_id);
  EXPECT_TRUE(page.ok()) << page.status();
  std::vector<int64_t> numbers;
  if (page.ok()) {
    for (const v1::CaseVersion& version : page->versions) numbers.push_back(version.version());
  }
  return numbers;
}

absl::StatusOr<store::CasePage> StoreConformance::List(int page_size, const std::string& after) {
  store::CaseQuery query;
  query.page_size = page_size;
  query.after_case_id = after;
  return Await<store::CasePage>([&](auto done) { store_->ListCases(query, done); });
}

absl::StatusOr<store::FeedPage> StoreConformance::Feed(int64_t after_revision, int page_size,
                                                       policy::EventFilter filter) {
  store::FeedQuery query;
  query.filter = std::move(filter);
  query.after_revision = after_revision;
  query.page_size = page_size;
  return Await<store::FeedPage>([&](auto done) { store_->ReadFeed(std::move(query), done); });
}

std::vector<v1::ChangeEvent> StoreConformance::AllEvents(policy::EventFilter filter,
                                                         int page_size) {
  std::vector<v1::ChangeEvent> events;
  int64_t after = 0;
  for (int pages = 0; pages < 100000; ++pages) {
    auto page = Feed(after, page_size, filter);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    for (store::FeedEvent& item : page->events) events.push_back(std::move(item.event));
    after = page->scanned_through;
    if (page->caught_up) break;
  }
  return events;
}

int64_t StoreConformance::Head() {
  auto page = List(1);
  EXPECT_TRUE(page.ok()) << page.status();
  return page.ok() ? page->revision : -1;
}

std::vector<v1::ExportAccessLogResponse> StoreConformance::Export() {
  auto items = Await<std::vector<store::AccessExportItem>>(
      [&](auto done) { store_->ExportAccessLog(0, 100000, done); });
  EXPECT_TRUE(items.ok()) << items.status();
  std::vector<v1::ExportAccessLogResponse> exported;
  if (items.ok()) {
    for (store::AccessExportItem& item : *items) exported.push_back(service::ExportItemView(item));
  }
  return exported;
}

}  // namespace handover::conformance
