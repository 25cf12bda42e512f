// The in-memory reference engine's tables: one plain struct of ordered maps,
// copied whole for a read snapshot's publication and for each write task's
// savepoint. FOR TESTS AND DEVELOPMENT ONLY (mem_backend.h says why).
//
// Thread-compatible: a published MemTables is only read; the writer thread
// owns the copy it works on.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "handover/v1/audit.pb.h"
#include "server/store/backend.h"
#include "server/store/case_key_rows.h"
#include "server/store/case_state.h"

namespace handover::store {

struct MemCase {
  CaseHeadRow head;
  std::optional<std::string> municipality_code;  // the newest assignment's, until erased
  std::string person_hash;
  std::string hash_key_id;
  std::optional<int64_t> erased_time;
};

struct MemConsent {
  std::string case_id;
  ConsentReadRow row;
};

struct MemEvent {
  EventRow row;
  int64_t commit_time = 0;
};

struct MemDocument {
  v1::DocumentType type = v1::DOCUMENT_TYPE_UNSPECIFIED;
  int64_t current_version = 0;
};

struct MemChunk {
  std::string key_id;
  std::string sealed;
};

struct MemAccessEntry {
  v1::AccessLogEntry entry;
  std::set<std::string> case_ids;  // from its case names
};

struct MemTables {
  std::map<std::string, MemCase> cases;
  std::map<std::pair<std::string, int64_t>, VersionRow> versions;
  std::map<std::string, std::vector<AssignmentRow>> assignments;  // oldest first
  std::map<std::string, MemConsent> consents;                     // by consent id
  std::map<std::pair<std::string, std::string>, RequestRow> requests;

  std::map<int64_t, MemEvent> events;  // by revision
  int64_t head_revision = 0;
  int64_t compacted_through = 0;
  std::string feed_epoch;

  std::map<int64_t, MemAccessEntry> access_log;  // by sequence
  std::map<int64_t, v1::Checkpoint> checkpoints;

  std::map<std::pair<std::string, std::string>, MemDocument> documents;
  std::map<std::tuple<std::string, std::string, int64_t>, DocumentVersionRow> document_versions;
  std::map<std::pair<std::string, int64_t>, MemChunk> chunks;  // by blob id and seq
};

// The key store's rows (case_key_rows.h).
struct MemKeyTables {
  std::map<std::string, WrappedKey> keys;  // by case id
  std::optional<FeedMark> feed_mark;
};

}  // namespace handover::store
