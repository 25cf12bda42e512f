#include "server/store/sqlite/migrations.h"

#include <SQLiteCpp/Transaction.h>

#include <stdexcept>
#include <string>

namespace handover::store {
namespace {

// Index i holds migration i + 1.
constexpr const char* kMigrations[] = {
    // 1: cases, immutable form versions, assignments, consents, request ids.
    R"sql(
CREATE TABLE cases (
  case_id TEXT PRIMARY KEY,
  operator_id TEXT NOT NULL,
  municipality_code TEXT,
  current_version INTEGER NOT NULL,
  person_hash BLOB NOT NULL,
  create_time INTEGER NOT NULL,  -- microseconds since the epoch, as all *_time
  update_time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX cases_by_operator ON cases (operator_id, case_id);
CREATE INDEX cases_by_municipality ON cases (municipality_code, case_id);
CREATE INDEX cases_by_person ON cases (person_hash);

CREATE TABLE case_versions (
  case_id TEXT NOT NULL REFERENCES cases (case_id),
  version INTEGER NOT NULL,
  form BLOB NOT NULL,
  create_time INTEGER NOT NULL,
  author_organisation TEXT NOT NULL,
  author_actor TEXT NOT NULL,
  PRIMARY KEY (case_id, version)
) WITHOUT ROWID;
CREATE TRIGGER case_versions_are_immutable BEFORE UPDATE ON case_versions
BEGIN
  SELECT RAISE(ABORT, 'case versions are immutable');
END;

CREATE TABLE assignments (
  case_id TEXT NOT NULL REFERENCES cases (case_id),
  seq INTEGER NOT NULL,
  municipality_code TEXT NOT NULL,
  decision_date INTEGER NOT NULL,  -- YYYYMMDD
  takeover_date INTEGER NOT NULL,  -- YYYYMMDD
  assign_time INTEGER NOT NULL,
  author_organisation TEXT NOT NULL,
  author_actor TEXT NOT NULL,
  PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;

CREATE TABLE consents (
  consent_id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases (case_id),
  purpose INTEGER NOT NULL,
  recipient_municipality_code TEXT NOT NULL,
  given_date INTEGER NOT NULL,  -- YYYYMMDD
  record_time INTEGER NOT NULL,
  withdraw_time INTEGER,
  author_organisation TEXT NOT NULL,
  author_actor TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX consents_by_case ON consents (case_id);

CREATE TABLE requests (
  organisation TEXT NOT NULL,
  request_id TEXT NOT NULL,
  fingerprint BLOB NOT NULL,
  case_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  consent_id TEXT NOT NULL,
  PRIMARY KEY (organisation, request_id)
) WITHOUT ROWID;
)sql",
    // 2: the change feed. AUTOINCREMENT: a revision is never reused, even
    // after compaction deletes the newest events.
    R"sql(
CREATE TABLE events (
  revision INTEGER PRIMARY KEY AUTOINCREMENT,
  case_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  version INTEGER NOT NULL,
  commit_time INTEGER NOT NULL,
  operator_id TEXT NOT NULL,
  -- The municipality the event is addressed to, if any.
  municipality_code TEXT,
  -- 1: only that municipality sees it (a revocation).
  municipality_only INTEGER NOT NULL,
  -- Comma-separated form paths to delete (consent withdrawn).
  withdrawn_fields TEXT NOT NULL
);
CREATE INDEX events_by_operator ON events (operator_id, revision);
CREATE INDEX events_by_municipality ON events (municipality_code, revision);
CREATE INDEX events_by_time ON events (commit_time);

CREATE TABLE feed_state (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  -- Events up to this revision have been compacted away.
  compacted_through INTEGER NOT NULL
);
INSERT INTO feed_state (singleton, compacted_through) VALUES (1, 0);
)sql",
    // 3: the access log (append-only, hash-chained), signed checkpoints, and
    // erasure of cases.
    R"sql(
CREATE TABLE access_log (
  sequence INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  organisation TEXT NOT NULL,
  actor TEXT NOT NULL,
  record BLOB NOT NULL,  -- handover.v1.AccessRecord, deterministic serialisation
  hash BLOB NOT NULL     -- SHA-256(previous hash || record)
);
CREATE INDEX access_log_by_time ON access_log (time);
CREATE INDEX access_log_by_organisation ON access_log (organisation, sequence);
CREATE INDEX access_log_by_actor ON access_log (actor, sequence);
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN
  SELECT RAISE(ABORT, 'the access log is append-only');
END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN
  SELECT RAISE(ABORT, 'the access log is append-only');
END;
CREATE TABLE access_log_cases (
  case_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  PRIMARY KEY (case_id, sequence)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
  sequence INTEGER PRIMARY KEY,
  head_hash BLOB NOT NULL,
  time INTEGER NOT NULL,
  signature BLOB NOT NULL
);

ALTER TABLE cases ADD COLUMN erased_time INTEGER;
)sql",
    // 4: key rotation. A version's content stays immutable, but its sealed
    // form may be re-encrypted under a newer key; key_id says which (NULL:
    // written before this migration; labelled from the sealed header at open).
    R"sql(
DROP TRIGGER case_versions_are_immutable;
CREATE TRIGGER case_versions_are_immutable
BEFORE UPDATE OF case_id, version, create_time, author_organisation, author_actor
ON case_versions
BEGIN
  SELECT RAISE(ABORT, 'case versions are immutable');
END;
ALTER TABLE case_versions ADD COLUMN key_id TEXT;
CREATE INDEX case_versions_by_key ON case_versions (key_id);
)sql",
    // 5: documents. A document has immutable versions; each version's content
    // is a blob of sealed chunks (bound to blob id and chunk number), its
    // title sealed too. Feed events may name a document.
    R"sql(
CREATE TABLE documents (
  case_id TEXT NOT NULL REFERENCES cases (case_id),
  document_id TEXT NOT NULL,
  type INTEGER NOT NULL,
  current_version INTEGER NOT NULL,
  PRIMARY KEY (case_id, document_id)
) WITHOUT ROWID;

CREATE TABLE document_versions (
  case_id TEXT NOT NULL,
  document_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  blob_id TEXT NOT NULL UNIQUE,
  title BLOB NOT NULL,  -- sealed
  media_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  chunk_bytes INTEGER NOT NULL,  -- every chunk but the last holds this many
  create_time INTEGER NOT NULL,
  author_organisation TEXT NOT NULL,
  author_actor TEXT NOT NULL,
  key_id TEXT NOT NULL,  -- the title's key
  PRIMARY KEY (case_id, document_id, version)
) WITHOUT ROWID;

CREATE TABLE document_chunks (
  blob_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  data BLOB NOT NULL,  -- sealed
  PRIMARY KEY (blob_id, seq)
);
CREATE INDEX document_chunks_by_key ON document_chunks (key_id);

ALTER TABLE events ADD COLUMN document_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN document_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN document_type INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN document_id TEXT NOT NULL DEFAULT '';
)sql",
    // 6: case_versions as a rowid table. As a WITHOUT ROWID table its rows
    // (a 2.3 KiB sealed form each) were the b-tree's keys, copied into its
    // interior pages and spilling to overflow pages there, so finding one
    // version read some 14 overflow pages on the way down; now the key
    // (case_id, version) is a small unique index and the row is reached by
    // rowid. Same columns; the rows are copied, the old pages zeroed
    // (secure_delete) and left free in the file.
    R"sql(
CREATE TABLE case_versions_by_rowid (
  case_id TEXT NOT NULL REFERENCES cases (case_id),
  version INTEGER NOT NULL,
  form BLOB NOT NULL,
  create_time INTEGER NOT NULL,
  author_organisation TEXT NOT NULL,
  author_actor TEXT NOT NULL,
  key_id TEXT,
  PRIMARY KEY (case_id, version)
);
INSERT INTO case_versions_by_rowid
  (case_id, version, form, create_time, author_organisation, author_actor, key_id)
  SELECT case_id, version, form, create_time, author_organisation, author_actor, key_id
  FROM case_versions ORDER BY case_id, version;
DROP TABLE case_versions;
ALTER TABLE case_versions_by_rowid RENAME TO case_versions;
CREATE TRIGGER case_versions_are_immutable
BEFORE UPDATE OF case_id, version, create_time, author_organisation, author_actor
ON case_versions
BEGIN
  SELECT RAISE(ABORT, 'case versions are immutable');
END;
CREATE INDEX case_versions_by_key ON case_versions (key_id);
)sql",
    // 7: the feed epoch, naming the history the revisions belong to (16
    // random bytes, hex). A restore from a backup (RestoreDatabase) gives the
    // database a new one, so clients can tell a restored history from the
    // one their cursor came from.
    R"sql(
ALTER TABLE feed_state ADD COLUMN feed_epoch TEXT NOT NULL DEFAULT '';
UPDATE feed_state SET feed_epoch = lower(hex(randomblob(16)));
)sql",
    // 8: which key of the key file made each case's person hash, so key
    // rotation can re-make exactly the stale ones (NULL: made before this
    // label; rotation re-makes those too). Forms, titles and chunks are now
    // sealed under per-case keys kept in a key store of their own
    // ("<database>.keys"); their key_id is then "(case key)".
    R"sql(
ALTER TABLE cases ADD COLUMN hash_key_id TEXT;
)sql",
};

constexpr int kCount = sizeof(kMigrations) / sizeof(kMigrations[0]);

}  // namespace

int LatestSchemaVersion() { return kCount; }

void Migrate(SQLite::Database& db) {
  const int current = db.execAndGet("PRAGMA user_version").getInt();
  if (current > kCount) {
    throw std::runtime_error("database schema version " + std::to_string(current) +
                             " is newer than this server (" + std::to_string(kCount) + ")");
  }
  for (int v = current + 1; v <= kCount; ++v) {
    SQLite::Transaction txn(db);
    db.exec(kMigrations[v - 1]);
    db.exec("PRAGMA user_version = " + std::to_string(v));
    txn.commit();
  }
}

}  // namespace handover::store
