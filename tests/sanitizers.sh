#!/usr/bin/env bash
# The sanitizer pass CI runs after ./test.sh: the unit, conformance and
# integration tests built with Clang's AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/), each run on a throw-away
# PostgreSQL cluster. Any sanitizer report fails its test and so this script.
# The address build also holds the libFuzzer targets (tests/fuzz/), which
# tests/fuzz.sh then runs for FUZZ_SECONDS each (default 60).
#
# The ThreadSanitizer pass (build-tsan/) builds and runs, but is not yet
# part of CI: Debian's Abseil is not built with ThreadSanitizer, so TSan
# cannot see absl::Mutex hand data from thread to thread and reports every
# condition a Mutex evaluates for a waiter as a race (206 of 411 tests on
# its first run, each first report inside absl::Mutex::UnlockSlow).
#
#   tests/sanitizers.sh [address|thread ...]     (default: address)
set -euo pipefail
cd "$(dirname "$0")/.."
passes=("$@")
[ ${#passes[@]} -eq 0 ] && passes=(address)
binaries=(unit_tests conformance_tests integration_tests)
labels="^($(IFS='|'; echo "${binaries[*]}"))\$"

for pass in "${passes[@]}"; do
  fuzz=OFF
  targets=("${binaries[@]}")
  case "$pass" in
    address)
      sanitize="address,undefined"; dir=build-asan; fuzz=ON
      targets+=(fuzz_request fuzz_form_file fuzz_access_log_export fuzz_organisation_register
        fuzz_certificate) ;;
    thread) sanitize="thread"; dir=build-tsan ;;
    *) echo "tests/sanitizers.sh: unknown pass '$pass' (address or thread)" >&2; exit 2 ;;
  esac
  echo "== sanitizer pass: $sanitize ($dir)"
  start=$SECONDS
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHANDOVER_BUILD_TESTS=ON -DHANDOVER_SANITIZE="$sanitize" -DHANDOVER_FUZZ="$fuzz" >/dev/null
  cmake --build "$dir" --target "${targets[@]}"
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp" \
  LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" \
    pg_virtualenv -t ctest --test-dir "$dir" -L "$labels" --output-on-failure -j 2
  if [ "$fuzz" = ON ]; then tests/fuzz.sh "$dir" "${FUZZ_SECONDS:-60}"; fi
  echo "== $sanitize: green in $((SECONDS - start)) s"
done
