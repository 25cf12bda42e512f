// Prepared statements kept per connection, so the hot paths do not parse and
// plan the same SQL on every call (preparing was most of a case read's cost).
//
// Only threads that own a connection for their whole life (the reader pool's
// threads, the writer thread) keep statements: they call
// KeepPreparedStatements() once, and their cache goes when the thread ends,
// before the connection closes. Anywhere else Prepared() prepares afresh, as
// SQLite::Statement would.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <memory>
#include <string>

namespace handover::store {

// Turns the cache on for the calling thread.
void KeepPreparedStatements();

// A statement for `sql` on `db`, ready to bind: from this thread's cache if
// it keeps one and the statement is not in use further up the stack, else
// prepared now. On destruction it is reset (releasing any read snapshot) and
// its bindings cleared.
class Prepared {
 public:
  Prepared(SQLite::Database& db, const std::string& sql);
  ~Prepared();
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;

  SQLite::Statement* operator->() { return statement_; }
  SQLite::Statement& operator*() { return *statement_; }

 private:
  std::unique_ptr<SQLite::Statement> owned_;  // when not from the cache
  SQLite::Statement* statement_ = nullptr;
  bool* in_use_ = nullptr;  // the cache entry's flag
};

}  // namespace handover::store
