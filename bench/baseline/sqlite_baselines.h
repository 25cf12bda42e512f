// Baselines W and R: what SQLite alone does on this machine's file system,
// with the store's pragmas (WAL, synchronous=FULL, secure_delete).
#pragma once

#include <cstdint>
#include <string>

#include "common/crypto.h"

namespace handover::bench {

// W: a naive server's durable writes: `writers` threads, each write its own
// transaction (insert a sealed form of `form_bytes` as a new version, update
// the case row), committed durably, in a fresh database at `path`. Writes/s.
double NaiveWritesPerSecond(const std::string& path, int writers, double seconds,
                            size_t form_bytes);

// R: reads the current form of every case assigned to `municipality` from
// the handoverd database at `path` (read-only, while it serves), decrypts,
// parses and serialises each as a case: the ceiling for a full sync. Sets
// `*cases` to how many; returns cases/s.
double ReadDecryptSerialiseCasesPerSecond(const std::string& path, const KeyRing& keys,
                                          const std::string& municipality, int64_t* cases);

}  // namespace handover::bench
