#include "server/logging.h"

#include <grpc/support/log.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace handover {
namespace {

// The message, escaped for a JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      switch (c) {
        case '"':
          dest.append(std::string_view("\\\""));
          break;
        case '\\':
          dest.append(std::string_view("\\\\"));
          break;
        case '\n':
          dest.append(std::string_view("\\n"));
          break;
        case '\t':
          dest.append(std::string_view("\\t"));
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            dest.append(std::string_view(escaped));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

// gRPC's own log lines go through the same logger, so they share the format,
// and each kind (the source line that logs it) at most once a minute, with
// the count of the ones left out: a probe's thousand timed-out handshakes
// would otherwise write a thousand lines.
void GrpcLog(gpr_log_func_args* args) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* seen = new absl::flat_hash_map<std::string, std::pair<absl::Time, int64_t>>();
  const absl::Time now = absl::Now();
  int64_t left_out = 0;
  {
    absl::MutexLock lock(&mu);
    if (seen->size() > 1000) seen->clear();
    auto [it, fresh] =
        seen->try_emplace(absl::StrCat(args->file, ":", args->line), std::make_pair(now, 0));
    if (!fresh) {
      if (now - it->second.first < absl::Minutes(1)) {
        ++it->second.second;
        return;
      }
      left_out = it->second.second;
      it->second = {now, 0};
    }
  }
  const std::string also =
      left_out > 0 ? absl::StrCat(" (and ", left_out, " like it in the minute before)") : "";
  switch (args->severity) {
    case GPR_LOG_SEVERITY_ERROR:
      spdlog::error("grpc: {}{}", args->message, also);
      break;
    case GPR_LOG_SEVERITY_INFO:
      spdlog::info("grpc: {}{}", args->message, also);
      break;
    default:
      spdlog::debug("grpc: {}{}", args->message, also);
      break;
  }
}

}  // namespace

absl::Status ConfigureLogging(const std::string& format) {
  if (format != "text" && format != "json") {
    return absl::InvalidArgumentError("log-format: must be text or json");
  }
  gpr_set_log_function(GrpcLog);
  if (format == "text") return absl::OkStatus();
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<JsonEscapedMessage>('*').set_pattern(
      R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","message":"%*"})");
  spdlog::set_formatter(std::move(formatter));
  return absl::OkStatus();
}

}  // namespace handover
