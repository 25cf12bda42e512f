#include "tests/testing/log_capture.h"

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace handover::testing {
namespace {

constexpr size_t kKeptLines = 1000;

}  // namespace

LogCapture::LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(kKeptLines)) {
  spdlog::default_logger()->sinks().push_back(sink_);
}

LogCapture::~LogCapture() {
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
}

std::vector<std::string> LogCapture::Lines() const {
  std::vector<std::string> lines =
      static_cast<spdlog::sinks::ringbuffer_sink_mt&>(*sink_).last_formatted();
  for (std::string& line : lines) line = std::string(absl::StripTrailingAsciiWhitespace(line));
  return lines;
}

std::vector<std::string> LogCapture::LinesWith(const std::vector<std::string>& parts) const {
  std::vector<std::string> found;
  for (const std::string& line : Lines()) {
    if (std::all_of(parts.begin(), parts.end(),
                    [&](const std::string& part) { return absl::StrContains(line, part); })) {
      found.push_back(line);
    }
  }
  return found;
}

}  // namespace handover::testing
