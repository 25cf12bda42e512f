// SqliteStore's internals shared by its source files (sqlite_store.cc,
// sqlite_documents.cc): how a write or read task runs, what a write's access
// record names, request fingerprints. Not for use outside the store.
#pragma once

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <exception>

#include "absl/strings/str_cat.h"
#include "common/serialize.h"
#include "server/store/access_log_rows.h"
#include "server/store/access_sections.h"
#include "server/store/sqlite_store.h"

namespace handover::store {

inline absl::Status AllowAll(const policy::CaseFacts&) { return absl::OkStatus(); }

// Binds a request to its id: the method (message type) and its exact content,
// under every key in the ring (the current one first), so a retry across a key
// rotation still matches.
inline std::vector<std::string> Fingerprint(const KeyRing& keys,
                                            const google::protobuf::Message& request) {
  return keys.KeyedHashes(
      absl::StrCat("request:", request.GetTypeName(), "\n", SerializeDeterministic(request)));
}

// What a successful write touched, for its access record.
inline void DescribeWrite(const CaseSnapshot& snapshot, v1::AccessRecord* record) {
  record->clear_case_names();
  record->add_case_names(snapshot.meta.name());
  record->set_version(snapshot.meta.version());
  // The response carries the case back to the writer: count its sections too.
  if (snapshot.form) AddFormSections(*snapshot.form, record);
}
inline void DescribeWrite(const v1::Consent& consent, v1::AccessRecord* record) {
  record->clear_case_names();
  record->add_case_names(consent.name().substr(0, consent.name().find("/consents/")));
}
inline void DescribeWrite(const std::string& case_name, v1::AccessRecord* record) {
  record->clear_case_names();
  record->add_case_names(case_name);
}
// A document write's access record names the case and the document version
// (the service has named the section).
inline void DescribeWrite(const DocumentRecord& record, v1::AccessRecord* audit) {
  const std::string& name = record.document.name();
  audit->clear_case_names();
  audit->add_case_names(name.substr(0, name.find("/documents/")));
  audit->set_version(record.document.version());
}
// Writes that touch no case (maintenance) carry no audit record.
template <typename T>
inline void DescribeWrite(const T&, v1::AccessRecord*) {}

template <typename T, typename Fn>
void SqliteStore::Write(Fn apply, Done<T> done, std::optional<v1::AccessRecord> audit) {
  if (!writer_) {  // the store is closing
    done(absl::UnavailableError("the store is closing"));
    return;
  }
  auto result = std::make_shared<absl::StatusOr<T>>(absl::UnknownError("not run"));
  GroupCommitWriter::Apply record_failure;
  if (audit) {
    record_failure = [audit, result](SQLite::Database& db) {
      v1::AccessRecord record = *audit;
      record.set_outcome(std::string(absl::StatusCodeToString(result->status().code())));
      AppendAccessRecord(db, std::move(record));
      return absl::OkStatus();
    };
  }
  writer_->Submit(
      [this, apply = std::move(apply), result, audit](SQLite::Database& db) -> absl::Status {
        try {
          // A client write (it carries a record) waits for disk space.
          if (absl::Status room = audit ? AdmitWrite() : absl::OkStatus(); !room.ok()) {
            *result = room;
            return room;
          }
          *result = apply(db);
          if (result->ok() && audit) {
            v1::AccessRecord record = *audit;
            DescribeWrite(**result, &record);
            record.set_outcome("OK");
            AppendAccessRecord(db, std::move(record));
          }
        } catch (const std::exception& e) {
          // Rolled back; the failure record (if any) says INTERNAL.
          *result = absl::InternalError(absl::StrCat("storage error: ", e.what()));
        }
        return result->status();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) {
          done(status);
        } else {
          done(std::move(*result));
        }
      },
      std::move(record_failure));
}

// Runs `read(db) -> StatusOr<T>` on a reader connection.
template <typename T, typename Fn>
void SqliteStore::Read(Fn read, Done<T> done) {
  auto task = [read = std::move(read), done](SQLite::Database& db) {
    absl::StatusOr<T> result;
    try {
      result = read(db);
    } catch (const std::exception& e) {
      result = absl::InternalError(absl::StrCat("storage error: ", e.what()));
    }
    done(std::move(result));
  };
  if (!readers_ || !readers_->Submit(std::move(task))) {
    done(absl::ResourceExhaustedError("read queue is full; retry later"));
  }
}

}  // namespace handover::store
