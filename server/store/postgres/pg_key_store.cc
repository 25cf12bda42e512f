#include "server/store/postgres/pg_key_store.h"

#include <spdlog/spdlog.h>

#include "server/store/postgres/pg_statements.h"
#include "server/store/storage_errors.h"

#include <iterator>
#include <optional>
#include <pqxx/pqxx>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace handover::store {
namespace {

// The advisory lock every replica's Open holds while it migrates, so
// replicas starting together migrate once ("handkeys" in ASCII). Any other
// advisory lock in this database must use another number.
constexpr int64_t kMigrationLock = 0x68616e646b657973;

struct Migration {
  int version;
  const char* sql;
};

// Numbered, append only: never edit an applied one.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE SCHEMA IF NOT EXISTS handover_keys;
CREATE TABLE handover_keys.schema_version (version int NOT NULL);
INSERT INTO handover_keys.schema_version VALUES (0);
CREATE TABLE handover_keys.case_keys (
  case_id text PRIMARY KEY,
  key_id text NOT NULL,
  wrapped bytea NOT NULL
);
CREATE INDEX case_keys_by_key_id ON handover_keys.case_keys (key_id);
)sql"},
    // The feed's high-water mark (case_keys.h), one row.
    {2, R"sql(
CREATE TABLE handover_keys.feed_mark (
  one int PRIMARY KEY CHECK (one = 1),
  epoch text NOT NULL,
  revision bigint NOT NULL
);
)sql"},
};
static_assert(std::size(kMigrations) == kPgKeySchemaVersion);

// Brings handover_keys to kSchemaVersion in one transaction, under the
// migration lock; FAILED_PRECONDITION if it is newer. Throws on errors.
absl::Status Migrate(pqxx::connection& conn) {
  pqxx::work txn(conn);
  txn.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
  int version = 0;
  if (txn.exec1("SELECT to_regclass('handover_keys.schema_version') IS NOT NULL")[0].as<bool>()) {
    version = txn.exec1("SELECT version FROM handover_keys.schema_version")[0].as<int>();
  }
  if (version > kPgKeySchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat("key store: schema version ", version,
                                                      " is newer than this binary's ",
                                                      kPgKeySchemaVersion));
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= version) continue;
    txn.exec(migration.sql);
    txn.exec_params("UPDATE handover_keys.schema_version SET version = $1", migration.version);
  }
  txn.commit();
  return absl::OkStatus();
}

std::vector<WrappedKey> KeysOf(const pqxx::result& rows) {
  std::vector<WrappedKey> keys;
  keys.reserve(rows.size());
  for (const pqxx::row& row : rows) {
    keys.push_back(
        {row[0].as<std::string>(), row[1].as<std::string>(), pqxx::binarystring(row[2]).str()});
  }
  return keys;
}

class PgKeyTxn final : public CaseKeyTxn {
 public:
  explicit PgKeyTxn(pqxx::work& txn) : txn_(txn) {}

  bool InsertKey(const WrappedKey& key) override {
    return txn_.exec_params(
                   "INSERT INTO handover_keys.case_keys (case_id, key_id, wrapped) "
                   "VALUES ($1, $2, $3) ON CONFLICT (case_id) DO NOTHING",
                   key.case_id, key.key_id, pqxx::binarystring(key.wrapped))
               .affected_rows() == 1;
  }
  std::optional<WrappedKey> FindKey(const std::string& case_id) override {
    std::vector<WrappedKey> keys = KeysOf(txn_.exec_params(
        "SELECT case_id, key_id, wrapped FROM handover_keys.case_keys WHERE case_id = $1",
        case_id));
    if (keys.empty()) return std::nullopt;
    return std::move(keys.front());
  }
  void DeleteKey(const std::string& case_id) override {
    txn_.exec_params0("DELETE FROM handover_keys.case_keys WHERE case_id = $1", case_id);
  }
  void ReplaceKey(const WrappedKey& key) override {
    txn_.exec_params0(
        "UPDATE handover_keys.case_keys SET key_id = $1, wrapped = $2 WHERE case_id = $3",
        key.key_id, pqxx::binarystring(key.wrapped), key.case_id);
  }
  // FOR UPDATE: another replica's Delete of one of these keys waits for this
  // commit, so a re-wrap cannot write an old key over a deleted one.
  std::vector<WrappedKey> KeysNotSealedBy(const std::string& key_id, int limit) override {
    return KeysOf(txn_.exec_params(
        "SELECT case_id, key_id, wrapped FROM handover_keys.case_keys WHERE key_id <> $1 "
        "LIMIT $2 FOR UPDATE",
        key_id, limit));
  }
  std::vector<WrappedKey> SomeKeys(size_t limit) override {
    return KeysOf(
        txn_.exec_params("SELECT case_id, key_id, wrapped FROM handover_keys.case_keys LIMIT $1",
                         static_cast<int64_t>(limit)));
  }
  std::map<std::string, int64_t> CountBySealingKey() override {
    std::map<std::string, int64_t> usage;
    for (const pqxx::row& row :
         txn_.exec("SELECT key_id, count(*) FROM handover_keys.case_keys GROUP BY key_id")) {
      usage[row[0].as<std::string>()] = row[1].as<int64_t>();
    }
    return usage;
  }
  // `for_update`: the table's lock in a mode that conflicts with itself
  // (readers are not held), so replicas raising the mark at once take turns
  // even while the row does not exist yet.
  std::optional<FeedMark> ReadFeedMark(bool for_update) override {
    if (for_update) txn_.exec0("LOCK TABLE handover_keys.feed_mark IN SHARE ROW EXCLUSIVE MODE");
    const pqxx::result rows =
        txn_.exec("SELECT epoch, revision FROM handover_keys.feed_mark WHERE one = 1");
    if (rows.empty()) return std::nullopt;
    return FeedMark{rows[0][0].as<std::string>(), rows[0][1].as<int64_t>()};
  }
  void WriteFeedMark(const FeedMark& mark) override {
    txn_.exec_params0(
        "INSERT INTO handover_keys.feed_mark (one, epoch, revision) VALUES (1, $1, $2) "
        "ON CONFLICT (one) DO UPDATE SET epoch = excluded.epoch, revision = excluded.revision",
        mark.epoch, mark.revision);
  }

 private:
  pqxx::work& txn_;
};

// One connection, used by one caller at a time (the key store's mutex).
// Terse errors, as PgConnection's: no DETAIL lines quoting row values.
class PgKeyRows final : public CaseKeyRows {
 public:
  PgKeyRows(std::string url, std::unique_ptr<pqxx::connection> conn)
      : url_(std::move(url)), conn_(std::move(conn)) {}

  absl::Status Transact(const std::function<absl::Status(CaseKeyTxn&)>& work) override {
    return OnceMoreIfBroken([&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      PgKeyTxn rows(txn);
      absl::Status status = work(rows);
      if (status.ok()) txn.commit();  // else the destructor rolls back
      return status;
    });
  }

  absl::Status EraseTraces() override { return absl::OkStatus(); }

  // VACUUM FULL cannot run in a transaction block. Never waits long for the
  // table's lock (a running key dump holds it): other replicas' key reads
  // would queue behind this one; the next erasure's scrub tries again.
  absl::Status Scrub() override {
    return OnceMoreIfBroken([](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      txn.exec0("SET lock_timeout = '1s'");
      try {
        txn.exec0("VACUUM FULL handover_keys.case_keys");
      } catch (...) {
        txn.exec0("RESET lock_timeout");
        throw;
      }
      txn.exec0("RESET lock_timeout");
      return absl::OkStatus();
    });
  }

  absl::Status Backup(const std::string& /*backup_path*/) override {
    return absl::FailedPreconditionError(
        "key store: the PostgreSQL key store is backed up with pg_dump --schema=handover_keys "
        "(see the deploy documentation), not by handoverd");
  }

  static std::unique_ptr<pqxx::connection> Connect(const std::string& url) {
    auto conn = std::make_unique<pqxx::connection>(WithApplicationName(url, "handoverd-keys"));
    conn->set_verbosity(pqxx::connection_base::terse);
    return conn;
  }

 private:
  // Runs `attempt(connection)`; if it throws because the connection broke
  // (a database restart, pg_terminate_backend), connects again and runs it
  // once more: every key store transaction is idempotent, so one whose
  // COMMIT the broken link hid is safe to run again. libpqxx 6 leaves a
  // broken connection broken: the call after the one that found it
  // connects again (and throws if it cannot).
  template <typename Fn>
  absl::Status OnceMoreIfBroken(Fn attempt) {
    try {
      if (!conn_->is_open()) conn_ = Connect(url_);
      return attempt(*conn_);
    } catch (const std::exception& e) {
      if (!ConnectionBroke(e, *conn_)) throw;
      spdlog::info("key store: the connection broke ({}); connecting again",
                   std::string(absl::StripTrailingAsciiWhitespace(e.what())));
    }
    conn_ = Connect(url_);
    return attempt(*conn_);
  }

  const std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KeyStore>> OpenPgKeyStore(std::string url,
                                                         std::shared_ptr<const KeyRing> ring,
                                                         KeyStoreOptions options) {
  if (ring == nullptr) return absl::InvalidArgumentError("key store: no key ring");
  try {
    std::unique_ptr<pqxx::connection> conn = PgKeyRows::Connect(url);
    if (absl::Status s = Migrate(*conn); !s.ok()) return s;
    return KeyStore::Open(std::make_unique<PgKeyRows>(std::move(url), std::move(conn)),
                          std::move(ring), options);
  } catch (const std::exception& e) {
    return KeyStoreError("open", e.what());
  }
}

}  // namespace handover::store
