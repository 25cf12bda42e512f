#include "server/store/mem/mem_txn.h"

#include <algorithm>
#include <climits>
#include <set>
#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/resource_names.h"
#include "server/policy/policy.h"
#include "server/store/event_view.h"
#include "server/store/row_values.h"
#include "server/store/sealing.h"

namespace handover::store {
namespace {

// A key already taken: what a PRIMARY KEY or UNIQUE constraint would say.
[[noreturn]] void Duplicate(const char* table) {
  throw std::runtime_error(absl::StrCat("mem: duplicate key in ", table));
}

template <typename Map, typename Key, typename Value>
void InsertNew(Map& map, Key key, Value value, const char* table) {
  if (!map.emplace(std::move(key), std::move(value)).second) Duplicate(table);
}

bool Contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// The case id of "cases/<id>" (the access log's index by case).
std::string CaseIdOf(const std::string& case_name) {
  return case_name.substr(case_name.find('/') + 1);
}

}  // namespace

MemCase& MemTxn::CaseRow(const std::string& case_id) {
  auto it = t_.cases.find(case_id);
  if (it == t_.cases.end()) throw std::runtime_error("mem: no such case row");
  return it->second;
}

CaseSnapshot MemTxn::Snapshot(const std::string& case_id, const MemCase& row) const {
  std::vector<AssignmentReadRow> assignments;
  if (auto it = t_.assignments.find(case_id); it != t_.assignments.end()) {
    for (auto a = it->second.rbegin(); a != it->second.rend() && assignments.size() < 2; ++a) {
      assignments.push_back({.municipality_code = a->municipality_code,
                             .decision_date = DateToInt(a->decision_date),
                             .takeover_date = DateToInt(a->takeover_date),
                             .assign_time = a->assign_time});
    }
  }
  std::vector<ConsentReadRow> consents;
  for (const auto& [id, consent] : t_.consents) {
    if (consent.case_id == case_id) consents.push_back(consent.row);
  }
  std::sort(consents.begin(), consents.end(), [](const ConsentReadRow& a, const ConsentReadRow& b) {
    return std::tie(a.record_time, a.consent_id) < std::tie(b.record_time, b.consent_id);
  });
  return CaseFromRows(case_id, row.head, assignments, consents);
}

std::optional<CaseSnapshot> MemTxn::LoadCase(const std::string& case_id) {
  auto it = t_.cases.find(case_id);
  if (it == t_.cases.end() || it->second.erased_time) return std::nullopt;
  return Snapshot(case_id, it->second);
}

std::optional<VersionRow> MemTxn::LoadVersion(const std::string& case_id, int64_t version,
                                              bool with_form) {
  auto it = t_.versions.find({case_id, version});
  if (it == t_.versions.end()) return std::nullopt;
  VersionRow row = it->second;
  if (!with_form) row.sealed_form.clear();
  return row;
}

std::map<std::string, CaseRows> MemTxn::LoadCurrentCases(const std::vector<std::string>& case_ids,
                                                         bool with_form) {
  std::map<std::string, CaseRows> reads;
  for (const std::string& id : case_ids) {
    auto it = t_.cases.find(id);
    if (it == t_.cases.end() || it->second.erased_time || reads.contains(id)) continue;
    std::optional<VersionRow> current = LoadVersion(id, it->second.head.current_version, with_form);
    if (!current) continue;
    reads.emplace(id, CaseRows{.head = Snapshot(id, it->second), .current = *std::move(current)});
  }
  return reads;
}

std::vector<std::string> MemTxn::SelectCases(const CaseSelection& selection) {
  std::vector<std::string> ids;
  for (auto it = t_.cases.upper_bound(selection.after_case_id);
       it != t_.cases.end() && static_cast<int>(ids.size()) < selection.limit; ++it) {
    const MemCase& row = it->second;
    if (row.erased_time) continue;
    if (selection.scope == CaseQuery::Scope::kOperator &&
        row.head.operator_id != selection.organisation_id) {
      continue;
    }
    if (selection.scope == CaseQuery::Scope::kMunicipality &&
        row.municipality_code != selection.organisation_id) {
      continue;
    }
    if (!selection.person_hashes.empty() && !Contains(selection.person_hashes, row.person_hash)) {
      continue;
    }
    ids.push_back(it->first);
  }
  return ids;
}

std::vector<VersionRow> MemTxn::ListVersions(const std::string& case_id, int64_t before_version,
                                             int limit) {
  std::vector<VersionRow> rows;
  const int64_t before = before_version > 0 ? before_version : INT64_MAX;
  auto it = t_.versions.lower_bound({case_id, before});
  while (it != t_.versions.begin() && static_cast<int>(rows.size()) < limit) {
    --it;
    if (it->first.first != case_id) break;
    rows.push_back({.case_id = case_id,
                    .version = it->second.version,
                    .create_time = it->second.create_time,
                    .author_organisation = it->second.author_organisation,
                    .author_actor = it->second.author_actor});
  }
  return rows;
}

std::optional<v1::Consent> MemTxn::LoadConsent(const std::string& case_id,
                                               const std::string& consent_id) {
  auto it = t_.consents.find(consent_id);
  if (it == t_.consents.end() || it->second.case_id != case_id) return std::nullopt;
  return ConsentFromRow(case_id, it->second.row);
}

bool MemTxn::HasLiveCaseForPerson(const std::string& operator_id,
                                  const std::vector<std::string>& person_hashes) {
  return std::any_of(t_.cases.begin(), t_.cases.end(), [&](const auto& entry) {
    const MemCase& row = entry.second;
    return !row.erased_time && row.head.operator_id == operator_id &&
           Contains(person_hashes, row.person_hash);
  });
}

std::vector<std::string> MemTxn::CasesOfPerson(const std::vector<std::string>& person_hashes) {
  std::vector<std::string> ids;
  for (const auto& [id, row] : t_.cases) {
    if (Contains(person_hashes, row.person_hash)) ids.push_back(id);
  }
  return ids;
}

std::vector<v1::ChangeEvent> MemTxn::ReadEvents(int64_t after, const policy::EventFilter& filter,
                                                int limit) {
  std::vector<v1::ChangeEvent> events;
  for (auto it = t_.events.upper_bound(after);
       it != t_.events.end() && static_cast<int>(events.size()) < limit; ++it) {
    if (policy::MatchesEvent(filter, AudienceOf(it->second.row))) {
      events.push_back(ChangeEventFromRow(it->first, it->second.row, it->second.commit_time));
    }
  }
  return events;
}

std::vector<CommittedEvent> MemTxn::EventsAfter(int64_t after) {
  std::vector<CommittedEvent> events;
  for (auto it = t_.events.upper_bound(after); it != t_.events.end(); ++it) {
    events.push_back(
        {.event = ChangeEventFromRow(it->first, it->second.row, it->second.commit_time),
         .audience = AudienceOf(it->second.row)});
  }
  return events;
}

std::optional<RequestRow> MemTxn::FindRequest(const std::string& organisation,
                                              const std::string& request_id) {
  auto it = t_.requests.find({organisation, request_id});
  if (it == t_.requests.end()) return std::nullopt;
  return it->second;
}

std::optional<AccessHead> MemTxn::LastAccessEntry() {
  if (t_.access_log.empty()) return std::nullopt;
  const auto& [sequence, last] = *t_.access_log.rbegin();
  return AccessHead{.sequence = sequence, .hash = last.entry.hash()};
}

int64_t MemTxn::SignedThrough() {
  return t_.checkpoints.empty() ? 0 : t_.checkpoints.rbegin()->first;
}

std::vector<v1::AccessLogEntry> MemTxn::QueryAccessRecords(const AccessQuery& query) {
  std::vector<v1::AccessLogEntry> entries;
  for (auto it = t_.access_log.upper_bound(query.after_sequence);
       it != t_.access_log.end() && static_cast<int>(entries.size()) < query.page_size; ++it) {
    const MemAccessEntry& stored = it->second;
    const v1::AccessRecord& record = stored.entry.record();
    const int64_t time = ToMicros(record.time());
    if (!query.case_id.empty() && !stored.case_ids.contains(query.case_id)) continue;
    if (!query.organisation.empty() && record.organisation() != query.organisation) continue;
    if (!query.actor.empty() && record.actor() != query.actor) continue;
    if (query.start_micros > 0 && time < query.start_micros) continue;
    if (query.end_micros > 0 && time >= query.end_micros) continue;
    entries.push_back(stored.entry);
  }
  return entries;
}

std::vector<AccessExportItem> MemTxn::ExportAccessRecords(int64_t after_sequence, int limit) {
  std::vector<AccessExportItem> items;
  int entries = 0;
  for (auto it = t_.access_log.upper_bound(after_sequence);
       it != t_.access_log.end() && entries < limit; ++it, ++entries) {
    items.push_back({it->second.entry});
    if (auto checkpoint = t_.checkpoints.find(it->first); checkpoint != t_.checkpoints.end()) {
      items.push_back({checkpoint->second});
    }
  }
  return items;
}

std::vector<v1::AccessRecord> MemTxn::RecordsForCases(const std::vector<std::string>& case_ids) {
  std::vector<v1::AccessRecord> records;
  for (const auto& entry : t_.access_log) {
    const MemAccessEntry& stored = entry.second;
    if (std::any_of(case_ids.begin(), case_ids.end(),
                    [&](const std::string& id) { return stored.case_ids.contains(id); })) {
      records.push_back(stored.entry.record());
    }
  }
  return records;
}

std::optional<DocumentVersionRow> MemTxn::LoadDocumentVersion(const std::string& case_id,
                                                              const std::string& document_id,
                                                              int64_t version) {
  auto document = t_.documents.find({case_id, document_id});
  if (document == t_.documents.end()) return std::nullopt;
  auto it = t_.document_versions.find(
      {case_id, document_id, version == 0 ? document->second.current_version : version});
  if (it == t_.document_versions.end()) return std::nullopt;
  DocumentVersionRow row = it->second;
  row.type = document->second.type;
  return row;
}

std::vector<DocumentVersionRow> MemTxn::LoadDocumentVersions(const std::string& case_id,
                                                             bool include_history) {
  std::vector<DocumentVersionRow> rows;
  for (auto document = t_.documents.lower_bound({case_id, ""});
       document != t_.documents.end() && document->first.first == case_id; ++document) {
    const std::string& document_id = document->first.second;
    for (int64_t version = document->second.current_version; version >= 1; --version) {
      if (include_history || version == document->second.current_version) {
        if (auto row = LoadDocumentVersion(case_id, document_id, version)) {
          rows.push_back(*std::move(row));
        }
      }
    }
  }
  return rows;
}

std::optional<v1::DocumentType> MemTxn::BlobDocumentType(const std::string& case_id,
                                                         const std::string& blob_id) {
  for (const auto& [key, row] : t_.document_versions) {
    if (std::get<0>(key) != case_id || row.blob_id != blob_id) continue;
    auto document = t_.documents.find({case_id, std::get<1>(key)});
    if (document != t_.documents.end()) return document->second.type;
  }
  return std::nullopt;
}

std::optional<std::string> MemTxn::LoadSealedChunk(const std::string& blob_id, int64_t seq) {
  auto it = t_.chunks.find({blob_id, seq});
  if (it == t_.chunks.end()) return std::nullopt;
  return it->second.sealed;
}

std::map<std::string, int64_t> MemTxn::KeyUsage() {
  std::map<std::string, int64_t> usage;
  for (const auto& [key, row] : t_.versions) ++usage[row.key_id];
  for (const auto& [key, row] : t_.document_versions) ++usage[row.key_id];
  for (const auto& [key, chunk] : t_.chunks) ++usage[chunk.key_id];
  for (const auto& [id, row] : t_.cases) {
    if (!row.erased_time && !row.hash_key_id.empty()) ++usage[row.hash_key_id];
  }
  return usage;
}

void MemTxn::InsertCase(const std::string& case_id, const std::string& operator_id,
                        const std::string& person_hash, const std::string& hash_key_id,
                        int64_t now) {
  InsertNew(t_.cases, case_id,
            MemCase{.head = {.operator_id = operator_id,
                             .current_version = 1,
                             .create_time = now,
                             .update_time = now},
                    .person_hash = person_hash,
                    .hash_key_id = hash_key_id},
            "cases");
}

void MemTxn::InsertVersion(const VersionRow& row) {
  InsertNew(t_.versions, std::make_pair(row.case_id, row.version), row, "case_versions");
}

void MemTxn::SetCurrentVersion(const std::string& case_id, int64_t version, int64_t now) {
  MemCase& row = CaseRow(case_id);
  row.head.current_version = version;
  row.head.update_time = now;
}

void MemTxn::SetPersonHash(const std::string& case_id, const std::string& person_hash,
                           const std::string& hash_key_id) {
  MemCase& row = CaseRow(case_id);
  row.person_hash = person_hash;
  row.hash_key_id = hash_key_id;
}

void MemTxn::TouchCase(const std::string& case_id, int64_t now) {
  CaseRow(case_id).head.update_time = now;
}

void MemTxn::InsertAssignment(const AssignmentRow& row) {
  MemCase& case_row = CaseRow(row.case_id);
  t_.assignments[row.case_id].push_back(row);
  case_row.municipality_code = row.municipality_code;
  case_row.head.update_time = row.assign_time;
}

void MemTxn::InsertConsent(const ConsentRow& row) {
  InsertNew(
      t_.consents, row.consent_id,
      MemConsent{.case_id = row.case_id,
                 .row = {.consent_id = row.consent_id,
                         .purpose = static_cast<int>(row.consent.purpose()),
                         .recipient_municipality_code = row.consent.recipient_municipality_code(),
                         .given_date = DateToInt(row.consent.given_date()),
                         .record_time = row.record_time}},
      "consents");
}

void MemTxn::SetConsentWithdrawn(const std::string& consent_id, int64_t now) {
  if (auto it = t_.consents.find(consent_id); it != t_.consents.end()) {
    it->second.row.withdraw_time = now;
  }
}

int64_t MemTxn::AppendEvent(const EventRow& event, int64_t now) {
  const int64_t revision = ++t_.head_revision;
  t_.events.emplace(revision, MemEvent{.row = event, .commit_time = now});
  return revision;
}

void MemTxn::RecordRequest(const std::string& organisation, const std::string& request_id,
                           const RequestRow& row) {
  InsertNew(t_.requests, std::make_pair(organisation, request_id), row, "requests");
}

void MemTxn::AppendAccessEntry(const v1::AccessLogEntry& entry) {
  MemAccessEntry stored{.entry = entry};
  for (const std::string& name : entry.record().case_names()) {
    stored.case_ids.insert(CaseIdOf(name));
  }
  InsertNew(t_.access_log, entry.record().sequence(), std::move(stored), "access_log");
}

void MemTxn::InsertCheckpoint(const v1::Checkpoint& checkpoint) {
  InsertNew(t_.checkpoints, checkpoint.sequence(), checkpoint, "checkpoints");
}

void MemTxn::EraseCaseData(const std::string& case_id, int64_t now) {
  for (auto it = t_.document_versions.begin(); it != t_.document_versions.end();) {
    if (std::get<0>(it->first) != case_id) {
      ++it;
      continue;
    }
    const std::string& blob_id = it->second.blob_id;
    for (auto chunk = t_.chunks.lower_bound({blob_id, INT64_MIN});
         chunk != t_.chunks.end() && chunk->first.first == blob_id;) {
      chunk = t_.chunks.erase(chunk);
    }
    it = t_.document_versions.erase(it);
  }
  std::erase_if(t_.documents, [&](const auto& entry) { return entry.first.first == case_id; });
  std::erase_if(t_.versions, [&](const auto& entry) { return entry.first.first == case_id; });
  std::erase_if(t_.consents, [&](const auto& entry) { return entry.second.case_id == case_id; });
  t_.assignments.erase(case_id);
  std::erase_if(t_.requests,
                [&](const auto& entry) { return entry.second.result.case_id == case_id; });
  MemCase& row = CaseRow(case_id);
  row.erased_time = now;
  row.head.update_time = now;
  row.municipality_code.reset();
}

std::vector<std::string> MemTxn::ExpiredCases(const v1::Date& takeover_before) {
  std::vector<std::string> ids;
  const int64_t before = DateToInt(takeover_before);
  for (const auto& [id, row] : t_.cases) {
    if (row.erased_time) continue;
    auto assignments = t_.assignments.find(id);
    if (assignments == t_.assignments.end() || assignments->second.empty()) continue;
    if (DateToInt(assignments->second.back().takeover_date) < before) ids.push_back(id);
  }
  return ids;
}

int64_t MemTxn::CompactEvents(int64_t before_micros) {
  int64_t through = 0;
  for (const auto& [revision, event] : t_.events) {
    if (event.commit_time < before_micros) through = revision;
  }
  if (through <= t_.compacted_through) return t_.compacted_through;
  t_.events.erase(t_.events.begin(), t_.events.upper_bound(through));
  t_.compacted_through = through;
  return through;
}

void MemTxn::InsertDocument(const std::string& case_id, const std::string& document_id,
                            v1::DocumentType type) {
  InsertNew(t_.documents, std::make_pair(case_id, document_id),
            MemDocument{.type = type, .current_version = 1}, "documents");
}

void MemTxn::SetDocumentVersion(const std::string& case_id, const std::string& document_id,
                                int64_t version) {
  if (auto it = t_.documents.find({case_id, document_id}); it != t_.documents.end()) {
    it->second.current_version = version;
  }
}

void MemTxn::InsertDocumentVersion(const DocumentVersionRow& row) {
  InsertNew(t_.document_versions, std::make_tuple(row.case_id, row.document_id, row.version), row,
            "document_versions");
}

void MemTxn::InsertChunk(const std::string& blob_id, int64_t seq, const std::string& key_id,
                         const std::string& sealed) {
  InsertNew(t_.chunks, std::make_pair(blob_id, seq), MemChunk{key_id, sealed}, "document_chunks");
}

std::vector<SealedItem> MemTxn::StaleItems(SealedItem::Kind kind, const std::string& key_id,
                                           int limit) {
  std::vector<SealedItem> items;
  auto full = [&] { return static_cast<int>(items.size()) >= limit; };
  switch (kind) {
    case SealedItem::Kind::kForm:
      for (const auto& [key, row] : t_.versions) {
        if (full()) break;
        if (row.key_id == key_id) continue;
        items.push_back({.kind = kind,
                         .case_id = row.case_id,
                         .version = row.version,
                         .sealed = row.sealed_form});
      }
      break;
    case SealedItem::Kind::kPersonHash:
      for (const auto& [id, row] : t_.cases) {
        if (full()) break;
        if (row.erased_time || row.hash_key_id == key_id) continue;
        auto current = t_.versions.find({id, row.head.current_version});
        if (current == t_.versions.end()) continue;
        items.push_back({.kind = kind,
                         .case_id = id,
                         .version = row.head.current_version,
                         .sealed = current->second.sealed_form});
      }
      break;
    case SealedItem::Kind::kTitle:
      for (const auto& [key, row] : t_.document_versions) {
        if (full()) break;
        if (row.key_id == key_id) continue;
        items.push_back({.kind = kind,
                         .case_id = row.case_id,
                         .document_id = row.document_id,
                         .version = row.version,
                         .sealed = row.sealed_title});
      }
      break;
    case SealedItem::Kind::kChunk:
      for (const auto& [key, row] : t_.document_versions) {
        for (auto chunk = t_.chunks.lower_bound({row.blob_id, INT64_MIN});
             chunk != t_.chunks.end() && chunk->first.first == row.blob_id && !full(); ++chunk) {
          if (chunk->second.key_id == key_id) continue;
          items.push_back({.kind = kind,
                           .case_id = row.case_id,
                           .blob_id = row.blob_id,
                           .seq = chunk->first.second,
                           .sealed = chunk->second.sealed});
        }
      }
      break;
  }
  return items;
}

void MemTxn::Reseal(const SealedItem& item, const std::string& key_id) {
  switch (item.kind) {
    case SealedItem::Kind::kPersonHash:
      return;  // not sealed: SetPersonHash re-makes it
    case SealedItem::Kind::kForm:
      if (auto it = t_.versions.find({item.case_id, item.version}); it != t_.versions.end()) {
        it->second.sealed_form = item.sealed;
        it->second.key_id = key_id;
      }
      return;
    case SealedItem::Kind::kTitle:
      if (auto it = t_.document_versions.find({item.case_id, item.document_id, item.version});
          it != t_.document_versions.end()) {
        it->second.sealed_title = item.sealed;
        it->second.key_id = key_id;
      }
      return;
    case SealedItem::Kind::kChunk:
      if (auto it = t_.chunks.find({item.blob_id, item.seq}); it != t_.chunks.end()) {
        it->second.sealed = item.sealed;
        it->second.key_id = key_id;
      }
      return;
  }
}

}  // namespace handover::store
