#!/usr/bin/env bash
# Runs every benchmark against its baselines, in one go, and writes the tables
# with the machine they ran on to bench/results/all.txt. Takes two to five
# minutes on 2 cores with the defaults. Build first (./test.sh or cmake).
#
#   bench/run-all.sh [BUILD_DIR [perf_bench flags, e.g. --large-cases 500000]]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
[ $# -gt 0 ] && shift
out="$root/bench/results/all.txt"
mkdir -p "$root/bench/results"
{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
  echo "  $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r); $(date -u +%F)"
  echo
  "$build/bench/perf_bench" "$@" 2>/dev/null
  echo
  "$build/bench/read_bench" 2>/dev/null
  echo
  "$build/bench/feed_bench" --watchers 200 --seconds 4 2>/dev/null
  echo
  "$build/bench/document_bench" 2>/dev/null
} | tee "$out"
echo "written to $out"
