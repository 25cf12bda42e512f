#include "bench/baseline/sqlite_baselines.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "handover/v1/case.pb.h"
#include "server/store/sealing.h"
#include "server/store/sqlite/case_rows.h"
#include "server/store/sqlite/key_store.h"

namespace handover::bench {

using Clock = std::chrono::steady_clock;

// Where R's output goes, so the compiler cannot drop the serialising.
volatile size_t serialised_bytes_sink = 0;

double NaiveWritesPerSecond(const std::string& path, int writers, double seconds,
                            size_t form_bytes) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA secure_delete = ON");
  db.exec(
      "CREATE TABLE cases (case_id INTEGER PRIMARY KEY, current_version INTEGER NOT NULL);"
      // The store's layout since its migration 6: a rowid table, the key an index.
      "CREATE TABLE case_versions (case_id INTEGER, version INTEGER, form BLOB NOT NULL,"
      " PRIMARY KEY (case_id, version));");
  for (int w = 0; w < writers; ++w) {
    db.exec("INSERT INTO cases VALUES (" + std::to_string(w) + ", 0)");
  }
  const std::string form(form_bytes, 'f');
  std::mutex mu;  // SQLite takes one writer at a time; a naive server queues on it
  std::atomic<int64_t> writes{0};
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int version = 1; Clock::now() < end; ++version) {
        std::lock_guard lock(mu);
        db.exec("BEGIN IMMEDIATE");
        SQLite::Statement insert(db, "INSERT INTO case_versions VALUES (?, ?, ?)");
        insert.bind(1, w);
        insert.bind(2, version);
        insert.bind(3, form.data(), static_cast<int>(form.size()));
        insert.exec();
        SQLite::Statement update(db, "UPDATE cases SET current_version = ? WHERE case_id = ?");
        update.bind(1, version);
        update.bind(2, w);
        update.exec();
        db.exec("COMMIT");
        ++writes;
      }
    });
  }
  const auto start = Clock::now();
  for (auto& t : threads) t.join();
  return writes / std::chrono::duration<double>(Clock::now() - start).count();
}

double ReadDecryptSerialiseCasesPerSecond(const std::string& path, const KeyRing& keys,
                                          const std::string& municipality, int64_t* cases) {
  // The case keys, unwrapped before the clock starts (handoverd unwraps them
  // once, when it opens the key store).
  std::map<std::string, DataKey> case_keys;
  {
    SQLite::Database key_store(path + ".keys", SQLite::OPEN_READONLY);
    SQLite::Statement wrapped(key_store, "SELECT case_id, wrapped_key FROM case_keys");
    while (wrapped.executeStep()) {
      const std::string case_id = wrapped.getColumn(0).getString();
      auto raw =
          keys.Open(store::Blob(wrapped.getColumn(1)), store::CaseKeyAssociatedData(case_id));
      if (raw.ok()) case_keys.emplace(case_id, *DataKey::FromBytes(*std::move(raw)));
    }
  }
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  const auto start = Clock::now();
  SQLite::Statement rows(db,
                         "SELECT v.case_id, v.version, v.form FROM cases c JOIN case_versions v "
                         "ON v.case_id = c.case_id AND v.version = c.current_version "
                         "WHERE c.municipality_code = ? ORDER BY c.case_id");
  rows.bind(1, municipality);
  int64_t count = 0;
  size_t bytes = 0;
  while (rows.executeStep()) {
    const std::string case_id = rows.getColumn(0).getString();
    auto key = case_keys.find(case_id);
    if (key == case_keys.end()) continue;
    auto plain = key->second.Open(store::Blob(rows.getColumn(2)),
                                  store::FormAssociatedData(case_id, rows.getColumn(1).getInt64()));
    if (!plain.ok()) continue;
    v1::Case view;
    view.set_name("cases/" + case_id);
    view.mutable_form()->ParseFromString(*plain);
    bytes += view.SerializeAsString().size();
    ++count;
  }
  *cases = count;
  serialised_bytes_sink = bytes;
  return count / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace handover::bench
