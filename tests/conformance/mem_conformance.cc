// The conformance suite run against the in-memory reference engine: a new
// named database per test, dropped with the test's opener.
#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/store/database.h"
#include "server/store/mem/mem_backend.h"
#include "tests/conformance/conformance.h"

namespace handover::conformance {
namespace {

BackendFactory MemFactory() {
  return {
      .name = "mem", .new_database = [] {
        static std::atomic<int> next{0};
        const std::string name = absl::StrCat("conformance-", ++next);
        // Dropped when the last copy of the opener goes.
        auto drop = std::shared_ptr<void>(nullptr, [name](void*) { store::DropMemDatabase(name); });
        return [name, drop](std::shared_ptr<const KeyRing> keys) {
          store::OpenOptions open;
          open.readers.threads = 2;
          return store::OpenStoreParts(
              {.engine = store::DatabaseUrl::Engine::kMemory, .path = name}, open, std::move(keys));
        };
      }};
}

INSTANTIATE_STORE_CONFORMANCE(Mem, MemFactory());

}  // namespace
}  // namespace handover::conformance
