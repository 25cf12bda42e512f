#include "tests/testing/postgres.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <pqxx/pqxx>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "tests/testing/test_server.h"

namespace handover::testing {

std::string NewPostgresDatabase() {
  if (std::getenv("PGHOST") == nullptr && std::getenv("PGPORT") == nullptr) {
    throw std::runtime_error(
        "no PostgreSQL in the environment (PGHOST/PGPORT unset): run the tests with "
        "./test.sh, which starts one with pg_virtualenv");
  }
  static std::atomic<int> counter{0};
  const std::string name = absl::StrCat("handover_test_", getpid(), "_", counter++);
  pqxx::connection admin("dbname=postgres");
  pqxx::nontransaction run(admin);
  run.exec0("CREATE DATABASE " + name);
  return "postgresql:///" + name;
}

ServerOptions PostgresServerOptions(const std::string& url) {
  const std::string dir = NewTempDir();
  ServerOptions options = TestServerOptions(dir);
  options.database_path = url;
  options.staging_directory = dir + "/staging";
  return options;
}

}  // namespace handover::testing
