#include "server/store/sqlite/statement_cache.h"

#include <map>
#include <utility>

namespace handover::store {
namespace {

struct Entry {
  std::unique_ptr<SQLite::Statement> statement;
  bool in_use = false;
};

// Per thread: connection handle and SQL to the prepared statement.
struct Cache {
  bool enabled = false;
  std::map<std::pair<sqlite3*, std::string>, Entry> entries;
};

thread_local Cache cache;

}  // namespace

void KeepPreparedStatements() { cache.enabled = true; }

Prepared::Prepared(SQLite::Database& db, const std::string& sql) {
  if (cache.enabled) {
    Entry& entry = cache.entries[{db.getHandle(), sql}];
    if (!entry.in_use) {
      if (!entry.statement) entry.statement = std::make_unique<SQLite::Statement>(db, sql);
      entry.in_use = true;
      in_use_ = &entry.in_use;
      statement_ = entry.statement.get();
      return;
    }
  }
  owned_ = std::make_unique<SQLite::Statement>(db, sql);
  statement_ = owned_.get();
}

Prepared::~Prepared() {
  if (in_use_ == nullptr) return;
  // Reset whatever the last step returned; it returns that step's error,
  // which whoever stepped has already seen.
  statement_->tryReset();
  statement_->clearBindings();  // sqlite3_clear_bindings cannot fail
  *in_use_ = false;
}

}  // namespace handover::store
