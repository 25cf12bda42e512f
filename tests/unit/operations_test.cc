// The pipeline's operation table (server/service/operations.h): one row per
// method of the three services, each naming an access-table row some role may
// call.
#include "server/service/operations.h"

#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>

#include <map>
#include <string>

#include "handover/v1/document_service.grpc.pb.h"
#include "handover/v1/handover_service.grpc.pb.h"

namespace handover::service {
namespace {

TEST(OperationsTest, EveryMethodOfTheThreeServicesHasExactlyOneRow) {
  std::map<std::string, int> rows;
  for (const Operation* operation : kAllRpcs) ++rows[operation->name];
  int methods = 0;
  for (const char* name :
       {"handover.v1.HandoverService", "handover.v1.AuditService", "handover.v1.DocumentService"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i, ++methods) {
      EXPECT_EQ(rows[service->method(i)->name()], 1) << service->method(i)->full_name();
    }
  }
  EXPECT_EQ(std::size(kAllRpcs), static_cast<size_t>(methods)) << "a row for no method";
}

TEST(OperationsTest, EveryRowIsCallableBySomeRole) {
  for (const Operation* operation : kAllRpcs) {
    bool callable = false;
    for (Role role : policy::kAllRoles) {
      callable = callable || policy::ScopeOf(operation->access, role) != policy::Scope::kNone;
    }
    EXPECT_TRUE(callable) << operation->name;
  }
}

TEST(OperationsTest, OnlyTheFeedAuthorisesCasesWithAnotherRow) {
  for (const Operation* operation : kAllRpcs) {
    const std::string name = operation->name;
    if (name == "Sync" || name == "Watch") {
      EXPECT_EQ(operation->case_access, policy::Operation::kGetCase) << name;
    } else {
      EXPECT_EQ(operation->case_access, operation->access) << name;
    }
  }
}

}  // namespace
}  // namespace handover::service
