#include "client/progress_bar.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

namespace handover::client {

Progress TerminalProgress(const std::string& label) {
  if (!::isatty(STDERR_FILENO)) return {};
  auto last_percent = std::make_shared<int>(-1);
  return [label, last_percent](int64_t done, int64_t total) {
    const int percent = total > 0 ? static_cast<int>(done * 100 / total) : 100;
    if (percent == *last_percent) return;
    *last_percent = percent;
    constexpr int kWidth = 30;
    const int filled = percent * kWidth / 100;
    std::fprintf(stderr, "\r%s [%s%s] %3d%%  %.1f/%.1f MiB", label.c_str(),
                 std::string(filled, '#').c_str(), std::string(kWidth - filled, ' ').c_str(),
                 percent, done / 1048576.0, total / 1048576.0);
    if (done >= total) std::fputc('\n', stderr);
    std::fflush(stderr);
  };
}

}  // namespace handover::client
