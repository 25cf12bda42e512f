#include "server/store/sqlite/checkpointer.h"

#include <sqlite3.h>

namespace handover::store {

Checkpointer::Checkpointer(const std::string& path, SQLite::Database& writer, int threshold_pages)
    : threshold_pages_(threshold_pages),
      db_(std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX)),
      thread_([this] { Run(); }) {
  db_->exec("PRAGMA synchronous = FULL");
  sqlite3_wal_hook(writer.getHandle(), &Checkpointer::OnCommit, this);
}

Checkpointer::~Checkpointer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

int Checkpointer::OnCommit(void* self, sqlite3*, const char*, int wal_pages) {
  auto* checkpointer = static_cast<Checkpointer*>(self);
  if (wal_pages >= checkpointer->threshold_pages_) {
    absl::MutexLock lock(&checkpointer->mu_);
    checkpointer->pending_ = true;
  }
  return SQLITE_OK;
}

void Checkpointer::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || pending_; };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      pending_ = false;
    }
    // PASSIVE: copies what no reader still needs, never waits for anyone.
    // A failure (e.g. busy) is retried at the next commit past the threshold.
    int wal_pages = 0, copied = 0;
    sqlite3_wal_checkpoint_v2(db_->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages,
                              &copied);
  }
}

}  // namespace handover::store
