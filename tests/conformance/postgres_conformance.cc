// The conformance suite run against the PostgreSQL backend: a new database
// per test on the cluster ./test.sh starts with pg_virtualenv.
#include "server/store/database.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/postgres.h"
#include "tests/testing/test_server.h"

namespace handover::conformance {
namespace {

BackendFactory PostgresFactory() {
  return {.name = "postgresql", .new_database = [] {
            const std::string url = testing::NewPostgresDatabase();
            const std::string staging = testing::NewTempDir() + "/staging";
            return [url, staging](std::shared_ptr<const KeyRing> keys) {
              store::OpenOptions open;
              open.readers.threads = 2;
              open.staging_directory = staging;
              return store::OpenStoreParts(
                  {.engine = store::DatabaseUrl::Engine::kPostgres, .path = url}, open,
                  std::move(keys));
            };
          }};
}

INSTANTIATE_STORE_CONFORMANCE(Postgres, PostgresFactory());

}  // namespace
}  // namespace handover::conformance
