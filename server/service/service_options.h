// The options the three services share (HandoverService, AuditService,
// DocumentService), each documented with its default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/media_types.h"
#include "common/validation.h"
#include "server/identity/caller_naming.h"
#include "server/service/upload_limiter.h"
#include "server/service/watcher.h"

namespace handover::service {

struct DocumentLimits {
  // Largest document accepted. Default 25 MiB.
  int64_t max_bytes = 25 * 1024 * 1024;
  // Media types accepted, each checked against the content. Default PDF, PNG,
  // JPEG and plain text.
  std::vector<std::string> media_types = DefaultAllowedMediaTypes();
  // Uploads open at once and how long one may stall (upload_limiter.h).
  UploadLimits uploads;
};

struct ServiceOptions {
  // SPIFFE trust domain of client certificates. Default "handover.test".
  std::string trust_domain = "handover.test";
  // How certificates name organisations (identity/caller_naming.h); null:
  // SPIFFE URI SANs in `trust_domain` only. Shared, immutable.
  std::shared_ptr<const identity::CallerNaming> caller_naming;
  // Page size when the request gives none. Default 50.
  int default_page_size = 50;
  // Larger page sizes are reduced to this. Default 500.
  int max_page_size = 500;
  // Largest request message accepted: larger ones are refused with
  // RESOURCE_EXHAUSTED and recorded (ServerOptions::max_receive_message_bytes).
  size_t max_request_bytes = 4 * 1024 * 1024;
  FormLimits form_limits;
  DocumentLimits documents;
  // Sync page size when the request gives none. Default 100.
  int default_sync_page_size = 100;
  WatchOptions watch;
  // Record reads, and reads refused, in the access log. Always true in
  // service; false only to measure what the records cost (bench/read_bench).
  // Default true.
  bool record_reads = true;
};

}  // namespace handover::service
