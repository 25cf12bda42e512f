// handoverd as a child process, for benchmarks that measure the server's own
// memory (apart from the load generator's).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace handover::bench {

class ServerProcess {
 public:
  // Starts `handoverd` with the dev PKI in `pki` on `database` (a path or a
  // URL), listening on a free port, plus `extra` flags, its output appended
  // to `log_file` (default `database`.log); returns once it answers. Exits
  // the process if it does not start within 20 s.
  ServerProcess(const std::string& handoverd, const std::string& pki, const std::string& database,
                const std::vector<std::string>& extra = {}, const std::string& log_file = "");
  // SIGTERM, then waits for it.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Resident memory now, its peak since ResetPeak, in bytes.
  int64_t ResidentBytes() const;
  int64_t PeakResidentBytes() const;
  void ResetPeak() const;

 private:
  int64_t Status(const char* field) const;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace handover::bench
