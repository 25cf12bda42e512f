#include "server/store/postgres/pg_key_store.h"

#include <spdlog/spdlog.h>

#include "server/store/postgres/pg_statements.h"
#include "server/store/storage_errors.h"

#include <openssl/crypto.h>

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
static_assert(std::size(kMigrations) == PgKeyStore::kSchemaVersion);

// Brings handover_keys to kSchemaVersion in one transaction, under the
// migration lock; FAILED_PRECONDITION if it is newer. Throws on errors.
absl::Status Migrate(pqxx::connection& conn) {
  pqxx::work txn(conn);
  txn.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
  int version = 0;
  if (txn.exec1("SELECT to_regclass('handover_keys.schema_version') IS NOT NULL")[0].as<bool>()) {
    version = txn.exec1("SELECT version FROM handover_keys.schema_version")[0].as<int>();
  }
  if (version > PgKeyStore::kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat("key store: schema version ", version,
                                                      " is newer than this binary's ",
                                                      PgKeyStore::kSchemaVersion));
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= version) continue;
    txn.exec(migration.sql);
    txn.exec_params("UPDATE handover_keys.schema_version SET version = $1", migration.version);
  }
  txn.commit();
  return absl::OkStatus();
}

// The case's wrapped key, if it has one.
std::optional<std::string> ReadWrapped(pqxx::transaction_base& txn, const std::string& case_id) {
  const pqxx::result rows =
      txn.exec_params("SELECT wrapped FROM handover_keys.case_keys WHERE case_id = $1", case_id);
  if (rows.empty()) return std::nullopt;
  return pqxx::binarystring(rows[0][0]).str();
}

// Inserts the case's key unless it has one; whether it did.
bool Insert(pqxx::transaction_base& txn, const std::string& case_id, const std::string& key_id,
            const std::string& wrapped) {
  const pqxx::result inserted = txn.exec_params(
      "INSERT INTO handover_keys.case_keys (case_id, key_id, wrapped) VALUES ($1, $2, $3) "
      "ON CONFLICT (case_id) DO NOTHING",
      case_id, key_id, pqxx::binarystring(wrapped));
  return inserted.affected_rows() == 1;
}

absl::Status NoKey(const std::string& case_id) {
  return absl::NotFoundError(absl::StrCat("case ", case_id, " has no data key"));
}

}  // namespace

struct PgKeyStore::Connection {
  // Terse errors, as PgConnection's: no DETAIL lines quoting row values.
  explicit Connection(const std::string& url) : conn(WithApplicationName(url, "handoverd-keys")) {
    conn.set_verbosity(pqxx::connection_base::terse);
  }
  pqxx::connection conn;
};

template <typename Fn>
std::invoke_result_t<Fn, pqxx::connection&> PgKeyStore::OnceMoreIfBroken(Fn attempt) {
  try {
    return attempt(Connected().conn);
  } catch (const std::exception& e) {
    if (!ConnectionBroke(e, db_->conn)) throw;
    spdlog::info("key store: the connection broke ({}); connecting again",
                 std::string(absl::StripTrailingAsciiWhitespace(e.what())));
  }
  db_ = std::make_unique<Connection>(url_);
  return attempt(db_->conn);
}

PgKeyStore::Connection& PgKeyStore::Connected() {
  // libpqxx 6 leaves a broken connection broken: the call that found it
  // failed, this one connects again (and throws if it cannot).
  if (!db_->conn.is_open()) db_ = std::make_unique<Connection>(url_);
  return *db_;
}

absl::StatusOr<std::unique_ptr<PgKeyStore>> PgKeyStore::Open(std::string url,
                                                             std::shared_ptr<const KeyRing> ring,
                                                             KeyStoreOptions options) {
  if (ring == nullptr) return absl::InvalidArgumentError("key store: no key ring");
  try {
    auto db = std::make_unique<Connection>(url);
    if (absl::Status s = Migrate(db->conn); !s.ok()) return s;
    auto store = std::unique_ptr<PgKeyStore>(
        new PgKeyStore(std::move(url), std::move(db), std::move(ring), options));
    store->WarmCache(options.max_cached_keys);
    return store;
  } catch (const std::exception& e) {
    return KeyStoreError("open", e.what());
  }
}

PgKeyStore::PgKeyStore(std::string url, std::unique_ptr<Connection> db,
                       std::shared_ptr<const KeyRing> ring, KeyStoreOptions options)
    : url_(std::move(url)),
      db_(std::move(db)),
      ring_(std::move(ring)),
      cache_(options.max_cached_keys) {}

PgKeyStore::~PgKeyStore() = default;

void PgKeyStore::WarmCache(size_t limit) {
  if (limit == 0) return;
  absl::MutexLock db_lock(&db_mu_);
  pqxx::read_transaction txn(Connected().conn);
  const pqxx::result rows = txn.exec_params(
      "SELECT case_id, wrapped FROM handover_keys.case_keys LIMIT $1", static_cast<int64_t>(limit));
  absl::MutexLock cache_lock(&cache_mu_);
  for (const pqxx::row& row : rows) {
    const std::string case_id = row[0].as<std::string>();
    absl::StatusOr<DataKey> key = Unwrap(case_id, pqxx::binarystring(row[1]).str());
    if (key.ok()) cache_.Put(case_id, *key);  // else Get reports it, if ever asked
  }
}

std::string PgKeyStore::Wrap(const std::string& case_id, const DataKey& key) const {
  std::string raw = key.Bytes();
  std::string wrapped = ring_->Seal(raw, CaseKeyAssociatedData(case_id));
  OPENSSL_cleanse(raw.data(), raw.size());
  return wrapped;
}

absl::StatusOr<DataKey> PgKeyStore::Unwrap(const std::string& case_id,
                                           const std::string& wrapped) const {
  absl::StatusOr<std::string> raw = ring_->Open(wrapped, CaseKeyAssociatedData(case_id));
  if (!raw.ok()) {
    return absl::DataLossError(
        absl::StrCat("key store: the key of case ", case_id, ": ", raw.status().message()));
  }
  return DataKey::FromBytes(*std::move(raw));
}

absl::Status PgKeyStore::Put(const std::map<std::string, DataKey>& keys) {
  if (keys.empty()) return absl::OkStatus();
  absl::MutexLock db_lock(&db_mu_);
  try {
    absl::Status put = OnceMoreIfBroken([&](pqxx::connection& conn) -> absl::Status {
      db_mu_.AssertHeld();  // the lambda runs inside OnceMoreIfBroken, under db_mu_
      pqxx::work txn(conn);
      for (const auto& [case_id, key] : keys) {
        if (Insert(txn, case_id, ring_->current_key_id(), Wrap(case_id, key))) continue;
        // As KeyStore::Put, which refuses any existing row: the key stays.
        std::optional<std::string> wrapped = ReadWrapped(txn, case_id);
        if (!wrapped) return NoKey(case_id);  // deleted meanwhile: nothing is stored
        absl::StatusOr<DataKey> existing = Unwrap(case_id, *wrapped);
        if (!existing.ok()) return existing.status();
        if (*existing != key) {
          return absl::InternalError(
              absl::StrCat("key store: case ", case_id, " already has another data key"));
        }
      }
      txn.commit();
      return absl::OkStatus();
    });
    if (!put.ok()) return put;
  } catch (const std::exception& e) {
    return KeyStoreError("put", e.what());
  }
  absl::MutexLock cache_lock(&cache_mu_);
  for (const auto& [case_id, key] : keys) cache_.Put(case_id, key);
  return absl::OkStatus();
}

absl::Status PgKeyStore::CreateMany(const std::vector<std::string>& case_ids,
                                    std::map<std::string, DataKey>* out) {
  absl::MutexLock db_lock(&db_mu_);
  std::map<std::string, DataKey> keys;
  try {
    absl::Status created = OnceMoreIfBroken([&](pqxx::connection& conn) -> absl::Status {
      db_mu_.AssertHeld();  // the lambda runs inside OnceMoreIfBroken, under db_mu_
      keys.clear();
      pqxx::work txn(conn);
      for (const std::string& case_id : case_ids) {
        if (keys.contains(case_id)) continue;
        const DataKey key = DataKey::Generate();
        if (Insert(txn, case_id, ring_->current_key_id(), Wrap(case_id, key))) {
          keys.emplace(case_id, key);
          continue;
        }
        std::optional<std::string> wrapped = ReadWrapped(txn, case_id);
        if (!wrapped) return NoKey(case_id);  // deleted meanwhile: call again
        absl::StatusOr<DataKey> existing = Unwrap(case_id, *wrapped);
        if (!existing.ok()) return existing.status();
        keys.emplace(case_id, *existing);
      }
      txn.commit();
      return absl::OkStatus();
    });
    if (!created.ok()) return created;
  } catch (const std::exception& e) {
    return KeyStoreError("create", e.what());
  }
  absl::MutexLock cache_lock(&cache_mu_);
  for (const auto& [case_id, key] : keys) cache_.Put(case_id, key);
  for (auto& [case_id, key] : keys) out->insert_or_assign(case_id, key);
  return absl::OkStatus();
}

absl::StatusOr<DataKey> PgKeyStore::Get(const std::string& case_id) {
  {
    absl::ReaderMutexLock cache_lock(&cache_mu_);
    if (std::optional<DataKey> key = cache_.Get(case_id)) return *std::move(key);
  }
  absl::MutexLock db_lock(&db_mu_);
  std::optional<std::string> wrapped;
  try {
    wrapped = OnceMoreIfBroken([&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      return ReadWrapped(txn, case_id);
    });
  } catch (const std::exception& e) {
    return KeyStoreError("get", e.what());
  }
  if (!wrapped) return NoKey(case_id);
  absl::StatusOr<DataKey> key = Unwrap(case_id, *wrapped);
  if (key.ok()) {
    absl::MutexLock cache_lock(&cache_mu_);
    cache_.Put(case_id, *key);
  }
  return key;
}

absl::Status PgKeyStore::Delete(const std::string& case_id) {
  absl::MutexLock db_lock(&db_mu_);
  {
    absl::MutexLock cache_lock(&cache_mu_);
    cache_.Erase(case_id);
  }
  try {
    OnceMoreIfBroken([&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);  // one statement, committed on return
      txn.exec_params0("DELETE FROM handover_keys.case_keys WHERE case_id = $1", case_id);
    });
  } catch (const std::exception& e) {
    return KeyStoreError("delete", e.what());
  }
  return absl::OkStatus();
}

absl::Status PgKeyStore::Scrub() {
  absl::MutexLock db_lock(&db_mu_);
  try {
    OnceMoreIfBroken([&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);  // VACUUM cannot run in a transaction block
      // Never wait long for the table's lock (a running key dump holds it):
      // other replicas' key reads would queue behind this one. The next
      // erasure's scrub tries again.
      txn.exec0("SET lock_timeout = '1s'");
      try {
        txn.exec0("VACUUM FULL handover_keys.case_keys");
      } catch (...) {
        txn.exec0("RESET lock_timeout");
        throw;
      }
      txn.exec0("RESET lock_timeout");
    });
  } catch (const std::exception& e) {
    return KeyStoreError("scrub", e.what());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<FeedMark>> PgKeyStore::FeedHighWater() {
  absl::MutexLock db_lock(&db_mu_);
  try {
    return OnceMoreIfBroken([&](pqxx::connection& conn) -> std::optional<FeedMark> {
      pqxx::nontransaction txn(conn);
      const pqxx::result rows =
          txn.exec("SELECT epoch, revision FROM handover_keys.feed_mark WHERE one = 1");
      if (rows.empty()) return std::nullopt;
      return FeedMark{rows[0][0].as<std::string>(), rows[0][1].as<int64_t>()};
    });
  } catch (const std::exception& e) {
    return KeyStoreError("feed mark", e.what());
  }
}

absl::Status PgKeyStore::RaiseFeedHighWater(const FeedMark& mark) {
  absl::MutexLock db_lock(&db_mu_);
  try {
    OnceMoreIfBroken([&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);  // one statement, committed on return
      txn.exec_params0(
          "INSERT INTO handover_keys.feed_mark (one, epoch, revision) VALUES (1, $1, $2) "
          "ON CONFLICT (one) DO UPDATE SET revision = CASE WHEN feed_mark.epoch = "
          "excluded.epoch THEN GREATEST(feed_mark.revision, excluded.revision) ELSE "
          "excluded.revision END, epoch = excluded.epoch",
          mark.epoch, mark.revision);
    });
  } catch (const std::exception& e) {
    return KeyStoreError("feed mark", e.what());
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PgKeyStore::Rewrap(int limit) {
  if (limit < 1) return absl::InvalidArgumentError("key store: rewrap limit must be at least 1");
  absl::MutexLock db_lock(&db_mu_);
  int rewrapped = 0;
  try {
    pqxx::work txn(Connected().conn);
    // FOR UPDATE: another replica's Delete of one of these keys waits for
    // this commit, so the UPDATE cannot write an old key over a new one.
    const pqxx::result rows = txn.exec_params(
        "SELECT case_id, wrapped FROM handover_keys.case_keys WHERE key_id <> $1 LIMIT $2 "
        "FOR UPDATE",
        ring_->current_key_id(), limit);
    for (const pqxx::row& row : rows) {
      const std::string case_id = row[0].as<std::string>();
      absl::StatusOr<std::string> raw =
          ring_->Open(pqxx::binarystring(row[1]).str(), CaseKeyAssociatedData(case_id));
      if (!raw.ok()) {
        return absl::DataLossError(
            absl::StrCat("key store: the key of case ", case_id, ": ", raw.status().message()));
      }
      const std::string sealed = ring_->Seal(*raw, CaseKeyAssociatedData(case_id));
      OPENSSL_cleanse(raw->data(), raw->size());
      const pqxx::result updated = txn.exec_params(
          "UPDATE handover_keys.case_keys SET key_id = $1, wrapped = $2 WHERE case_id = $3",
          ring_->current_key_id(), pqxx::binarystring(sealed), case_id);
      rewrapped += static_cast<int>(updated.affected_rows());
    }
    txn.commit();
  } catch (const std::exception& e) {
    return KeyStoreError("rewrap", e.what());
  }
  return rewrapped;
}

absl::StatusOr<std::map<std::string, int64_t>> PgKeyStore::UsageLocked() {
  std::map<std::string, int64_t> usage;
  try {
    pqxx::nontransaction txn(Connected().conn);
    const pqxx::result rows =
        txn.exec("SELECT key_id, count(*) FROM handover_keys.case_keys GROUP BY key_id");
    for (const pqxx::row& row : rows) usage[row[0].as<std::string>()] = row[1].as<int64_t>();
  } catch (const std::exception& e) {
    return KeyStoreError("usage", e.what());
  }
  return usage;
}

absl::StatusOr<std::map<std::string, int64_t>> PgKeyStore::Usage() {
  absl::MutexLock db_lock(&db_mu_);
  return UsageLocked();
}

absl::Status PgKeyStore::ReplaceKeys(std::shared_ptr<const KeyRing> ring) {
  if (ring == nullptr) return absl::InvalidArgumentError("key store: no key ring");
  absl::MutexLock db_lock(&db_mu_);
  absl::StatusOr<std::map<std::string, int64_t>> usage = UsageLocked();
  if (!usage.ok()) return usage.status();
  for (const auto& [key_id, count] : *usage) {
    if (!ring->HasKey(key_id)) {
      return absl::FailedPreconditionError(
          absl::StrCat("key file: key ", key_id, " still wraps ", count,
                       " case keys; keep it until they are re-wrapped"));
    }
  }
  ring_ = std::move(ring);
  return absl::OkStatus();
}

absl::Status PgKeyStore::Backup(const std::string& /*backup_path*/) {
  return absl::FailedPreconditionError(
      "key store: the PostgreSQL key store is backed up with pg_dump --schema=handover_keys "
      "(see the deploy documentation), not by handoverd");
}

}  // namespace handover::store
