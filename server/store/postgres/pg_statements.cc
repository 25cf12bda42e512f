#include "server/store/postgres/pg_statements.h"

#include "absl/strings/str_cat.h"

namespace handover::store {

std::string WithApplicationName(const std::string& url, const std::string& name) {
  if (url.find("application_name=") != std::string::npos) return url;
  return absl::StrCat(url, url.find('?') == std::string::npos ? "?" : "&",
                      "application_name=", name);
}

bool ConnectionBroke(const std::exception& error, const pqxx::connection_base& connection) {
  return dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr || !connection.is_open();
}

const std::string& PgStatements::Name(const std::string& sql) {
  auto [it, added] = names_.try_emplace(sql);
  if (added) {
    it->second = absl::StrCat("h", names_.size());
    connection_.prepare(it->second, sql);
  }
  return it->second;
}

}  // namespace handover::store
