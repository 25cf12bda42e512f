#include "server/store/postgres/pg_migrations.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace handover::store {
namespace {

// Taken by every migration run: its key is "handover" in ASCII.
constexpr long long kMigrationLock = 0x68616e646f766572;

// Index i holds migration i + 1. Times are microseconds since the epoch,
// dates YYYYMMDD, enums their proto numbers, sealed values bytea.
constexpr const char* kMigrations[] = {
    // 1: everything the SQLite schema reached in its eight migrations.
    R"sql(
-- Ids are compared byte by byte (COLLATE "C"), so pages of cases, documents
-- and consents come in the order they do on SQLite, whatever the database's
-- collation, and their indexes serve that order.
CREATE TABLE cases (
  case_id text COLLATE "C" PRIMARY KEY,
  operator_id text NOT NULL,
  municipality_code text,
  current_version bigint NOT NULL,
  person_hash bytea NOT NULL,
  hash_key_id text,
  create_time bigint NOT NULL,
  update_time bigint NOT NULL,
  erased_time bigint
);
CREATE INDEX cases_by_operator ON cases (operator_id, case_id);
CREATE INDEX cases_by_municipality ON cases (municipality_code, case_id);
CREATE INDEX cases_by_person ON cases (person_hash);

CREATE TABLE case_versions (
  case_id text NOT NULL REFERENCES cases (case_id),
  version bigint NOT NULL,
  form bytea NOT NULL,
  create_time bigint NOT NULL,
  author_organisation text NOT NULL,
  author_actor text NOT NULL,
  key_id text,
  PRIMARY KEY (case_id, version)
);
CREATE INDEX case_versions_by_key ON case_versions (key_id);

-- A version's content is immutable; only its seal (form, key_id) may be
-- re-made by key rotation.
CREATE FUNCTION refuse_version_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'case versions are immutable';
END $$;
CREATE TRIGGER case_versions_are_immutable
  BEFORE UPDATE OF case_id, version, create_time, author_organisation, author_actor
  ON case_versions FOR EACH ROW EXECUTE FUNCTION refuse_version_change();

CREATE TABLE assignments (
  case_id text NOT NULL REFERENCES cases (case_id),
  seq bigint NOT NULL,
  municipality_code text NOT NULL,
  decision_date bigint NOT NULL,
  takeover_date bigint NOT NULL,
  assign_time bigint NOT NULL,
  author_organisation text NOT NULL,
  author_actor text NOT NULL,
  PRIMARY KEY (case_id, seq)
);

CREATE TABLE consents (
  consent_id text COLLATE "C" PRIMARY KEY,
  case_id text NOT NULL REFERENCES cases (case_id),
  purpose integer NOT NULL,
  recipient_municipality_code text NOT NULL,
  given_date bigint NOT NULL,
  record_time bigint NOT NULL,
  withdraw_time bigint,
  author_organisation text NOT NULL,
  author_actor text NOT NULL
);
CREATE INDEX consents_by_case ON consents (case_id);

CREATE TABLE requests (
  organisation text NOT NULL,
  request_id text NOT NULL,
  fingerprint bytea NOT NULL,
  case_id text NOT NULL,
  version bigint NOT NULL,
  consent_id text NOT NULL,
  document_id text NOT NULL DEFAULT '',
  PRIMARY KEY (organisation, request_id)
);
CREATE INDEX requests_by_case ON requests (case_id);

-- The feed. A revision is taken from feed_head.revision by the write
-- transaction that commits the event (pg_event_rows.cc says why that
-- cannot skip), never from a sequence.
CREATE TABLE events (
  revision bigint PRIMARY KEY,
  case_id text NOT NULL,
  kind integer NOT NULL,
  version bigint NOT NULL,
  commit_time bigint NOT NULL,
  operator_id text NOT NULL,
  municipality_code text,
  municipality_only boolean NOT NULL,
  withdrawn_fields text NOT NULL,
  document_id text NOT NULL DEFAULT '',
  document_version bigint NOT NULL DEFAULT 0,
  document_type integer NOT NULL DEFAULT 0
);
CREATE INDEX events_by_operator ON events (operator_id, revision);
CREATE INDEX events_by_municipality ON events (municipality_code, revision);
CREATE INDEX events_by_time ON events (commit_time);

CREATE TABLE feed_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  revision bigint NOT NULL,           -- the newest revision handed out
  compacted_through bigint NOT NULL,  -- events up to it are compacted away
  feed_epoch text NOT NULL            -- names this history (16 random bytes, hex)
);
INSERT INTO feed_head (revision, compacted_through, feed_epoch)
  VALUES (0, 0, replace(gen_random_uuid()::text, '-', ''));

CREATE TABLE access_log (
  sequence bigint PRIMARY KEY,
  time bigint NOT NULL,
  organisation text NOT NULL,
  actor text NOT NULL,
  record bytea NOT NULL,  -- handover.v1.AccessRecord, deterministic serialisation
  hash bytea NOT NULL     -- SHA-256(previous hash || record)
);
CREATE INDEX access_log_by_time ON access_log (time);
CREATE INDEX access_log_by_organisation ON access_log (organisation, sequence);
CREATE INDEX access_log_by_actor ON access_log (actor, sequence);
CREATE FUNCTION refuse_access_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the access log is append-only';
END $$;
CREATE TRIGGER access_log_is_append_only BEFORE UPDATE OR DELETE ON access_log
  FOR EACH ROW EXECUTE FUNCTION refuse_access_log_change();
CREATE TABLE access_log_cases (
  case_id text NOT NULL,
  sequence bigint NOT NULL,
  PRIMARY KEY (case_id, sequence)
);

-- The row every write transaction locks first (pg_backend.cc): it puts the
-- write transactions of all replicas, and so the access log's hash chain,
-- in one order.
CREATE TABLE access_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton)
);
INSERT INTO access_head DEFAULT VALUES;

CREATE TABLE checkpoints (
  sequence bigint PRIMARY KEY,
  head_hash bytea NOT NULL,
  time bigint NOT NULL,
  signature bytea NOT NULL
);

CREATE TABLE documents (
  case_id text NOT NULL REFERENCES cases (case_id),
  document_id text COLLATE "C" NOT NULL,
  type integer NOT NULL,
  current_version bigint NOT NULL,
  PRIMARY KEY (case_id, document_id)
);

CREATE TABLE document_versions (
  case_id text NOT NULL,
  document_id text NOT NULL,
  version bigint NOT NULL,
  blob_id text NOT NULL UNIQUE,
  title bytea NOT NULL,
  media_type text NOT NULL,
  size_bytes bigint NOT NULL,
  sha256 text NOT NULL,
  chunk_bytes bigint NOT NULL,
  create_time bigint NOT NULL,
  author_organisation text NOT NULL,
  author_actor text NOT NULL,
  key_id text NOT NULL,
  PRIMARY KEY (case_id, document_id, version)
);
CREATE INDEX document_versions_by_key ON document_versions (key_id);

CREATE TABLE document_chunks (
  blob_id text NOT NULL,
  seq bigint NOT NULL,
  key_id text NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (blob_id, seq)
);
CREATE INDEX document_chunks_by_key ON document_chunks (key_id);
)sql",
};

constexpr int kCount = sizeof(kMigrations) / sizeof(kMigrations[0]);

}  // namespace

int LatestPgSchemaVersion() { return kCount; }

absl::Status MigratePg(pqxx::connection& connection) {
  pqxx::work txn(connection);
  txn.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
  txn.exec0("CREATE TABLE IF NOT EXISTS handover_schema (version integer NOT NULL)");
  pqxx::result row = txn.exec("SELECT version FROM handover_schema");
  int current = 0;
  if (row.empty()) {
    txn.exec0("INSERT INTO handover_schema (version) VALUES (0)");
  } else {
    current = row[0][0].as<int>();
  }
  if (current > kCount) {
    return absl::FailedPreconditionError(absl::StrCat("database: schema version ", current,
                                                      " is newer than this server (", kCount,
                                                      "): upgrade this replica"));
  }
  for (int v = current + 1; v <= kCount; ++v) txn.exec0(kMigrations[v - 1]);
  txn.exec_params0("UPDATE handover_schema SET version = $1", kCount);
  txn.commit();
  return absl::OkStatus();
}

}  // namespace handover::store
