#!/usr/bin/env bash
# Stops a handoverd started by run-server.sh (or demo.sh): SIGTERM, then waits
# up to 15 s for it to drain and exit.
#
#   deploy/stop-server.sh RUN_DIR
set -u
run="${1:?usage: stop-server.sh RUN_DIR}"
pid=$(cat "$run/handoverd.pid" 2>/dev/null) || exit 0
rm -f "$run/handoverd.pid"
kill -TERM "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 150); do
  kill -0 "$pid" 2>/dev/null || exit 0
  sleep 0.1
done
echo "handoverd (pid $pid) did not stop within 15 s" >&2
exit 1
