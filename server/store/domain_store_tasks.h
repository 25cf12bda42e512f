// DomainStore's task skeletons, shared by its source files (domain_store.cc,
// domain_documents.cc, domain_keys.cc): how a write, a client write and a
// read run, and what a write's access record names. Not for use outside the
// domain store.
#pragma once

#include <algorithm>
#include <exception>

#include "absl/strings/str_cat.h"
#include "server/store/access_log.h"
#include "server/store/access_sections.h"
#include "server/store/domain_store.h"
#include "server/store/sealing.h"
#include "server/store/storage_errors.h"

namespace handover::store {

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
void DomainStore::Write(Fn apply, Done<T> done, std::optional<v1::AccessRecord> audit) {
  auto result = std::make_shared<absl::StatusOr<T>>(absl::UnknownError("not run"));
  Backend::WriteTask record_failure;
  if (audit) {
    record_failure = [audit, result](WriteTxn& txn) {
      v1::AccessRecord record = *audit;
      record.set_outcome(std::string(absl::StatusCodeToString(result->status().code())));
      AppendAccessRecord(txn, std::move(record));
      return absl::OkStatus();
    };
  }
  backend_->Write(
      [this, apply = std::move(apply), result, audit](WriteTxn& txn) -> absl::Status {
        try {
          // A client write (it carries a record) waits for disk space.
          if (absl::Status room = audit ? AdmitWrite() : absl::OkStatus(); !room.ok()) {
            *result = room;
            return room;
          }
          *result = apply(txn);
          if (result->ok() && audit) {
            v1::AccessRecord record = *audit;
            DescribeWrite(**result, &record);
            record.set_outcome("OK");
            AppendAccessRecord(txn, std::move(record));
          }
        } catch (const std::exception& e) {
          // Rolled back; the failure record (if any) says INTERNAL.
          *result = TaskStorageError(e.what());
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

template <typename T, typename Replay, typename Apply>
void DomainStore::ClientWrite(const WriteContext& context, Replay replay, Apply apply,
                              Done<T> done) {
  // Fingerprinted now: the request need not outlive this call.
  const std::vector<std::string> fingerprints = Fingerprint(*keys(), *context.request);
  const std::string organisation = context.principal.organisation_id;
  const std::string request_id = context.request_id;
  Write<T>(
      [fingerprints, organisation, request_id, replay = std::move(replay),
       apply = std::move(apply)](WriteTxn& txn) -> absl::StatusOr<T> {
        if (std::optional<RequestRow> prior = txn.FindRequest(organisation, request_id)) {
          if (std::find(fingerprints.begin(), fingerprints.end(), prior->fingerprint) ==
              fingerprints.end()) {
            return absl::AlreadyExistsError(
                "request_id: already used by this organisation for a different request");
          }
          return replay(txn, prior->result);
        }
        PriorRequest produced;
        absl::StatusOr<T> result = apply(txn, &produced);
        if (result.ok()) {
          txn.RecordRequest(organisation, request_id,
                            {.fingerprint = fingerprints.front(), .result = produced});
        }
        return result;
      },
      std::move(done), context.audit);
}

template <typename T, typename Fn>
void DomainStore::Read(Fn read, Done<T> done) {
  auto task = [read = std::move(read), done](ReadTxn& txn) {
    absl::StatusOr<T> result;
    try {
      result = read(txn);
    } catch (const std::exception& e) {
      result = ReadStorageError(e.what());
    }
    done(std::move(result));
  };
  if (!backend_->Read(std::move(task), [done](absl::Status status) { done(std::move(status)); })) {
    done(absl::ResourceExhaustedError("read queue is full; retry later"));
  }
}

}  // namespace handover::store
