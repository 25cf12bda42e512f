#!/usr/bin/env bash
# Every test: install what is missing, build from scratch in build/, run
# unit, store, integration (real server, real mutual TLS), end-to-end and
# proto lint tests.
set -euo pipefail
cd "$(dirname "$0")"
deploy/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHANDOVER_BUILD_TESTS=ON
cmake --build build
ctest --test-dir build --output-on-failure -j 2
