// The sync agent names a case's file only from a well-formed case name, so a
// server (or a man in the middle that got past TLS) cannot make it write
// outside its directory.
#include <gtest/gtest.h>

#include "client/sync_agent.h"

namespace handover::client {
namespace {

TEST(CaseFileNameTest, AWellFormedNameGivesItsIdAsTheFile) {
  EXPECT_EQ(CaseFileName("cases/0123456789abcdef").value_or(""), "0123456789abcdef.json");
}

TEST(CaseFileNameTest, AnythingElseIsRefusedAsDataLoss) {
  for (const char* name : {"cases/../../etc/passwd", "cases/0123456789abcdef/../x", "../x",
                           "cases/", "", "cases/0123456789ABCDEF", "notcases/0123456789abcdef"}) {
    auto file = CaseFileName(name);
    EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss) << name;
  }
}

}  // namespace
}  // namespace handover::client
