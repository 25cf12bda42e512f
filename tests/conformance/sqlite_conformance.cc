// The conformance suite run against the SQLite backend: a new file per test.
#include "server/store/database.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {
namespace {

BackendFactory SqliteFactory() {
  return {.name = "sqlite", .new_database = [] {
            const std::string path = testing::NewTempDir() + "/conformance.db";
            return [path](std::shared_ptr<const KeyRing> keys) {
              store::OpenOptions open;
              open.readers.threads = 2;
              return store::OpenStoreParts({.path = path}, open, std::move(keys));
            };
          }};
}

INSTANTIATE_STORE_CONFORMANCE(Sqlite, SqliteFactory());

}  // namespace
}  // namespace handover::conformance
