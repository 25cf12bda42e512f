#!/usr/bin/env bash
# Every test: install what is missing, build from scratch in build/, run
# unit, store (real SQLite file and real PostgreSQL), integration (real
# server, real mutual TLS), end-to-end and proto lint tests. PostgreSQL runs
# on a throw-away cluster that pg_virtualenv starts for the run and drops
# after it (it exports PGHOST, PGPORT, PGUSER and PGPASSWORD to the tests).
set -euo pipefail
cd "$(dirname "$0")"
deploy/install-deps.sh
# Clang, so that every build checks the lock annotations (-Werror=thread-safety).
CC=clang CXX=clang++ cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHANDOVER_BUILD_TESTS=ON
cmake --build build
pg_virtualenv -t ctest --test-dir build --output-on-failure -j 2
