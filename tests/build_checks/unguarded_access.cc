// Proves that the build checks the lock annotations (ABSL_GUARDED_BY and the
// rest, absl/base/thread_annotations.h): compiled as is, the counter's access
// holds its mutex and the file builds with the project's flags (target
// thread_safety_guarded, part of every build); compiled with
// HANDOVER_UNGUARDED the lock is left out, and the test
// thread_safety_is_checked requires that build to fail with Clang's
// "requires holding mutex" error (tests/CMakeLists.txt).
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace {

class Counter {
 public:
  void Add() {
#ifndef HANDOVER_UNGUARDED
    absl::MutexLock lock(&mu_);
#endif
    ++count_;
  }

 private:
  absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

void AddOnceForTheBuildCheck() {
  Counter counter;
  counter.Add();
}
