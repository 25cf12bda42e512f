// Restoring a PostgreSQL database from a pg_dump archive so that no feed
// revision is handed out twice (backend.h, contract 2): the archive is
// restored with Debian's pg_restore, then the revision counter moves past
// every revision the replaced database handed out (plus a bump, for what
// cannot be read) and the feed gets a new epoch; the restored events count
// as compacted, so older cursors get OUT_OF_RANGE and re-sync. The case
// keys (schema handover_keys) are not touched: restore a data archive made
// with --exclude-schema=handover_keys against the current keys, and the
// next start finishes the erasures the archive undid (DomainStore::
// EraseKeyless). Every replica must be stopped.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "server/store/restore_result.h"

namespace handover::store {

// NOT_FOUND for a missing archive; UNAVAILABLE when pg_restore fails (its
// messages are on stderr) or the database cannot be reached.
absl::StatusOr<RestoreResult> RestorePgDatabase(const std::string& url,
                                                const std::string& archive_path,
                                                int64_t bump_revisions);

}  // namespace handover::store
