#!/usr/bin/env bash
# Runs every fuzz target of a build configured with -DHANDOVER_FUZZ=ON (the
# address pass of tests/sanitizers.sh builds them) for a bounded time each,
# starting from its committed corpus (tests/fuzz/corpus/<target>/, only
# read: what the run finds goes to a scratch directory). Any crash, leak,
# timeout or sanitizer report fails the script and leaves the input that
# caused it in <build>/fuzz-artifacts/.
#
#   tests/fuzz.sh <build directory> [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
build="$1"
seconds="${2:-60}"
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for corpus in tests/fuzz/corpus/*/; do
  target="$(basename "$corpus")"
  binary="$build/tests/fuzz_$target"
  [ -x "$binary" ] || { echo "fuzz: $binary is not built" >&2; exit 1; }
  mkdir -p "$scratch/$target"
  echo "== fuzz_$target for ${seconds} s"
  ASAN_OPTIONS="detect_leaks=1:halt_on_error=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" \
    "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/$target-" "$scratch/$target" "$corpus" 2>"$scratch/$target.log" \
    || { tail -n 60 "$scratch/$target.log" >&2; echo "fuzz_$target failed" >&2; exit 1; }
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov:" "$scratch/$target.log" \
    | tail -n 3
done
echo "== fuzz: every target ran ${seconds} s without a finding"
