#include "server/store/form_update.h"

#include <google/protobuf/util/field_mask_util.h>

#include "absl/strings/str_cat.h"
#include "common/resource_names.h"
#include "common/serialize.h"
#include "server/store/case_reads.h"
#include "server/store/case_state.h"
#include "server/store/sealing.h"

namespace handover::store {

using google::protobuf::util::FieldMaskUtil;

absl::StatusOr<PreparedUpdate> PrepareUpdate(ReadTxn& txn, const CaseCipher& cipher,
                                             const UpdateFormCommand& command,
                                             const Authorizer& authorize) {
  auto current = ReadSnapshot(txn, cipher, command.case_id, 0, true, authorize);
  if (!current.ok()) return current.status();
  if (!command.etag.empty() && command.etag != current->meta.etag()) {
    return absl::AbortedError(absl::StrCat(
        "etag: the case has changed since it was read; it is now at ", current->meta.etag()));
  }
  PreparedUpdate prepared;
  if (command.update_mask.paths().empty()) {
    prepared.merged = command.form;
  } else {
    prepared.merged = *current->form;
    FieldMaskUtil::MergeOptions options;
    options.set_replace_message_fields(true);
    options.set_replace_repeated_fields(true);
    FieldMaskUtil::MergeMessageTo(command.form, command.update_mask, options, &prepared.merged);
  }
  if (absl::Status valid = command.validate(prepared.merged); !valid.ok()) return valid;

  const std::string plain = SerializeDeterministic(prepared.merged);
  prepared.unchanged = plain == SerializeDeterministic(*current->form);
  if (!prepared.unchanged) {
    const int64_t version = current->meta.version() + 1;
    auto sealed = cipher.Seal(command.case_id, plain, FormAssociatedData(command.case_id, version));
    if (!sealed.ok()) return sealed.status();
    prepared.sealed = *std::move(sealed);
    prepared.person_hash =
        PersonHash(cipher.ring(), prepared.merged.identity().person_identifier());
    prepared.hash_key_id = cipher.ring().current_key_id();
  }
  prepared.current = *std::move(current);
  return prepared;
}

namespace {

// Whether `prepared` still applies: the case is at the version it was worked
// out on and its person hash is under the current key.
bool StillApplies(const PreparedUpdate& prepared, const CaseSnapshot& now, const KeyRing& ring) {
  return now.meta.version() == prepared.current.meta.version() &&
         (prepared.unchanged || prepared.hash_key_id == ring.current_key_id());
}

}  // namespace

absl::StatusOr<CaseSnapshot> CommitUpdate(WriteTxn& txn, const CaseCipher& cipher,
                                          const WriteContext& context,
                                          const UpdateFormCommand& command,
                                          const Authorizer& authorize,
                                          std::optional<PreparedUpdate> prepared) {
  // The case as it is in this transaction (metadata and facts only).
  absl::StatusOr<CaseSnapshot> now = LoadCase(txn, command.case_id);
  if (!now.ok()) return now.status();
  if (absl::Status allowed = authorize(now->facts); !allowed.ok()) return allowed;
  if (!prepared || !StillApplies(*prepared, *now, cipher.ring())) {
    auto again = PrepareUpdate(txn, cipher, command, authorize);
    if (!again.ok()) return again.status();
    prepared = *std::move(again);
  }

  // The result: today's metadata and facts, with the version shown.
  CaseSnapshot result = *std::move(now);
  if (prepared->unchanged) {
    result.version = std::move(prepared->current.version);
    result.meta.set_etag(prepared->current.meta.etag());
    result.form = std::move(prepared->merged);
    return result;
  }
  const int64_t version = prepared->current.meta.version() + 1;
  const int64_t timestamp = NowMicros();
  txn.InsertVersion({.case_id = command.case_id,
                     .version = version,
                     .sealed_form = prepared->sealed,
                     .key_id = kCaseKeyId,
                     .create_time = timestamp,
                     .author_organisation = context.principal.organisation_id,
                     .author_actor = context.actor});
  txn.SetCurrentVersion(command.case_id, version, timestamp);
  // The person hash (new identifier, or a key rotated since it was written).
  txn.SetPersonHash(command.case_id, prepared->person_hash, prepared->hash_key_id);
  txn.AppendEvent({.case_id = command.case_id,
                   .kind = v1::EVENT_KIND_FORM_UPDATED,
                   .version = version,
                   .operator_id = result.facts.operator_id,
                   .municipality_code = result.facts.municipality_code},
                  timestamp);

  v1::CaseVersion& shown = result.version;
  shown.set_name(VersionName(command.case_id, version));
  shown.set_version(version);
  *shown.mutable_create_time() = ToTimestamp(timestamp);
  shown.set_author_organisation(context.principal.organisation_id);
  shown.set_author_actor(context.actor);
  result.meta.set_version(version);
  result.meta.set_etag(CaseEtag(version));
  *result.meta.mutable_update_time() = ToTimestamp(timestamp);
  result.form = std::move(prepared->merged);
  return result;
}

}  // namespace handover::store
