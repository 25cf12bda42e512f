// Test support: the server log's lines, as the operator would read them.
// While a LogCapture lives, every line the default spdlog logger writes is
// also kept (the last 1000), formatted as in handoverd's own log.
//
// Threads: construct and destroy on the test's thread, with no other
// LogCapture alive; Lines may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace spdlog::sinks {
class sink;
}

namespace handover::testing {

class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // The lines written since construction, oldest first, without newlines.
  std::vector<std::string> Lines() const;
  // The lines containing every one of `parts`.
  std::vector<std::string> LinesWith(const std::vector<std::string>& parts) const;

 private:
  std::shared_ptr<spdlog::sinks::sink> sink_;
};

}  // namespace handover::testing
