// The backend conformance suite: the store's rules (cases, feed, access log,
// documents, persistence, concurrency) written once against the CaseStore
// interface and run against every backend through a BackendFactory. A backend
// is added with one line (see sqlite_conformance.cc and README.md):
//
//   INSTANTIATE_STORE_CONFORMANCE(Postgres, PostgresFactory());
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/crypto.h"
#include "common/identity.h"
#include "common/signing.h"
#include "handover/v1/form.pb.h"
#include "server/policy/policy.h"
#include "server/store/case_store.h"
#include "server/store/database.h"
#include "server/store/domain_store.h"
#include "tests/testing/fault_injection.h"

namespace handover::conformance {

// Opens one database's backend and key store (store::OpenStoreParts), which
// the fixture joins into a DomainStore. Called again after the store they
// went into is destroyed, it opens the same database: everything committed
// is there.
using StoreOpener =
    std::function<absl::StatusOr<store::StoreParts>(std::shared_ptr<const KeyRing> keys)>;

struct BackendFactory {
  // Lower case, [a-z0-9_]: the suffix of every test name ("sqlite").
  std::string name;
  // A new, empty database for one test, and how to open it. The database
  // lives as long as the opener (capture what drops it in the opener).
  std::function<StoreOpener()> new_database;
};

// The organisations the tests act as (fictional ids of the demo PKI's kind).
inline const Principal kRedCross{Role::kOperator, "redcross"};
inline const Principal kHanstholm{Role::kOperator, "hanstholm"};
inline const Principal kImmigration{Role::kImmigrationService, "uds"};

// A filter that lets every event through, revocations included.
policy::EventFilter SeesEverything();

absl::Status AllowAll(const policy::CaseFacts&);

class StoreConformance : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

 public:  // the suite's helpers outside the fixtures use these too
  // (Re)opens the test's database with `options` (default: options_).
  void Open();
  void Open(store::DomainStoreOptions options);
  // Closes the store (completing queued work) and opens it again.
  void Reopen();

  // A write's context. `request` must outlive the store call it is passed to.
  static store::WriteContext Context(const Principal& by, const std::string& request_id,
                                     const google::protobuf::Message& request,
                                     std::optional<v1::AccessRecord> audit = std::nullopt);
  // The access record the service would attach to a write of `operation`.
  static v1::AccessRecord Record(const Principal& by, const std::string& operation,
                                 const std::string& case_name = "");

  absl::StatusOr<store::CaseSnapshot> Create(const std::string& request_id,
                                             const v1::HandoverForm& form,
                                             const Principal& by = kRedCross,
                                             std::optional<v1::AccessRecord> audit = std::nullopt);
  absl::StatusOr<store::CaseSnapshot> Update(const std::string& case_id,
                                             const v1::HandoverForm& form, const std::string& etag,
                                             const std::string& request_id,
                                             const google::protobuf::FieldMask& mask = {},
                                             const Principal& by = kRedCross,
                                             std::optional<v1::AccessRecord> audit = std::nullopt);
  absl::StatusOr<store::CaseSnapshot> Assign(const std::string& case_id,
                                             const std::string& municipality_code,
                                             const std::string& request_id,
                                             v1::Date decision_date = DefaultDecisionDate(),
                                             std::optional<v1::AccessRecord> audit = std::nullopt);
  absl::StatusOr<v1::Consent> GiveConsent(const std::string& case_id, v1::ConsentPurpose purpose,
                                          const std::string& request_id,
                                          std::optional<v1::AccessRecord> audit = std::nullopt);
  absl::StatusOr<v1::Consent> Withdraw(const std::string& case_id, const std::string& consent_id,
                                       const std::string& request_id,
                                       std::optional<v1::AccessRecord> audit = std::nullopt);
  absl::StatusOr<std::string> Erase(const std::string& case_id, const std::string& request_id,
                                    std::optional<v1::AccessRecord> audit = std::nullopt);

  absl::StatusOr<store::CaseSnapshot> Get(const std::string& case_id, int64_t version = 0);
  absl::StatusOr<store::VersionPage> Versions(const std::string& case_id,
                                              int64_t before_version = 0, int page_size = 100);
  // The case's version numbers, newest first.
  std::vector<int64_t> VersionsOf(const std::string& case_id);
  absl::StatusOr<store::CasePage> List(int page_size = 100, const std::string& after = "");
  absl::StatusOr<store::FeedPage> Feed(int64_t after_revision, int page_size = 100,
                                       policy::EventFilter filter = SeesEverything());
  // Every event `filter` lets through, paging from revision 0 until caught up.
  std::vector<v1::ChangeEvent> AllEvents(policy::EventFilter filter = SeesEverything(),
                                         int page_size = 7);
  // The feed's head revision.
  int64_t Head();
  // The whole access log export (entries and checkpoints).
  std::vector<v1::ExportAccessLogResponse> Export();

  static std::string CaseId(const store::CaseSnapshot& snapshot) {
    return snapshot.meta.name().substr(6);  // "cases/"
  }
  static std::string CaseName(const std::string& case_id) { return "cases/" + case_id; }
  static v1::Date DefaultDecisionDate();

  std::shared_ptr<const KeyRing> keys_;
  std::shared_ptr<const Signer> signer_;
  store::DomainStoreOptions options_;
  StoreOpener opener_;
  // If set, Open passes the opened parts through it before the domain store
  // takes them (the fault-injection suite puts its decorators there).
  std::function<void(store::StoreParts&)> decorate_;
  std::unique_ptr<store::DomainStore> store_;
};

// One fixture per area, so test names say what they cover; all share
// StoreConformance and are instantiated together.
class CaseConformance : public StoreConformance {};
class FeedConformance : public StoreConformance {};
class AuditConformance : public StoreConformance {};
class DocumentConformance : public StoreConformance {};
class PersistenceConformance : public StoreConformance {};
class ConcurrencyConformance : public StoreConformance {};
// The store on the engine through the fault-injection decorators
// (tests/testing/fault_injection.h): fault_conformance_test.cc.
class FaultConformance : public StoreConformance {
 protected:
  void SetUp() override {
    decorate_ = [this](store::StoreParts& parts) {
      faulty_ = testing::DecorateWithFaults(parts, plan_);
    };
    StoreConformance::SetUp();
  }

 public:
  testing::FaultPlan plan_;
  testing::FaultyBackend* faulty_ = nullptr;  // owned by store_
};

std::string FactoryName(const ::testing::TestParamInfo<BackendFactory>& info);
// How gtest prints a factory: its name.
void PrintTo(const BackendFactory& factory, std::ostream* os);

}  // namespace handover::conformance

// Runs the whole suite against the backend `factory` makes.
#define INSTANTIATE_STORE_CONFORMANCE(prefix, factory)                                            \
  INSTANTIATE_TEST_SUITE_P(prefix, CaseConformance, ::testing::Values(factory), FactoryName);     \
  INSTANTIATE_TEST_SUITE_P(prefix, FeedConformance, ::testing::Values(factory), FactoryName);     \
  INSTANTIATE_TEST_SUITE_P(prefix, AuditConformance, ::testing::Values(factory), FactoryName);    \
  INSTANTIATE_TEST_SUITE_P(prefix, DocumentConformance, ::testing::Values(factory), FactoryName); \
  INSTANTIATE_TEST_SUITE_P(prefix, PersistenceConformance, ::testing::Values(factory),            \
                           FactoryName);                                                          \
  INSTANTIATE_TEST_SUITE_P(prefix, ConcurrencyConformance, ::testing::Values(factory),            \
                           FactoryName);                                                          \
  INSTANTIATE_TEST_SUITE_P(prefix, FaultConformance, ::testing::Values(factory), FactoryName)
