#!/usr/bin/env bash
# Shutdown on time: with idle client connections open (TLS done, no call) and
# one in the middle of its handshake, SIGTERM stops handoverd within the
# drain time plus a second, on SQLite and on PostgreSQL.
#
#   tests/e2e/shutdown_test.sh HANDOVERD WORK_DIR   (PKI from HANDOVER_TEST_PKI or
#   WORK_DIR/../pki; PostgreSQL from the environment pg_virtualenv exports)
set -euo pipefail
handoverd="$1" work="$2"
pki="${HANDOVER_TEST_PKI:-$(dirname "$work")/pki}"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -n "${PGHOST:-}${PGPORT:-}" ] ||
  fail "no PostgreSQL in the environment (PGHOST/PGPORT unset): run under pg_virtualenv -t"
rm -rf "$work"
mkdir -p "$work"
db="handover_shutdown_$$"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done
  dropdb --if-exists "$db" 2>/dev/null || true
}
trap cleanup EXIT
createdb "$db"
drain_ms=300

for database in "$work/handover.db" "postgresql:///$db"; do
  run="$work/run-$(basename "${database%%:*}")"
  mkdir -p "$run"
  "$handoverd" --listen 127.0.0.1:0 --cert "$pki/server.pem" --key "$pki/server.key" \
    --client-ca "$pki/ca.pem" --key-file "$pki/handover.key" \
    --audit-signing-key "$pki/audit-signing.key" --database "$database" \
    --staging-dir "$run/staging" --drain-ms "$drain_ms" > "$run/handoverd.log" 2>&1 &
  server=$!
  pids+=("$server")
  port=""
  for _ in $(seq 1 150); do
    port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$run/handoverd.log")
    [ -z "$port" ] || break
    sleep 0.1
  done
  [ -n "$port" ] || fail "handoverd on $database did not start: $(cat "$run/handoverd.log")"
  # Two idle TLS connections, and a TCP connection that never starts TLS.
  for _ in 1 2; do
    # Held open by a sleep, without the test's output (so CTest does not wait on it).
    (sleep 60 | openssl s_client -quiet -connect "127.0.0.1:$port" -CAfile "$pki/ca.pem" \
      -cert "$pki/operator-redcross.pem" -key "$pki/operator-redcross.key" -alpn h2) \
      > /dev/null 2>&1 &
    pids+=($!)
  done
  (exec 3<> "/dev/tcp/127.0.0.1/$port"; sleep 60) > /dev/null 2>&1 &
  pids+=($!)
  sleep 1
  started=$(date +%s%N)
  kill -TERM "$server"
  wait "$server" || fail "handoverd on $database exited $? on SIGTERM"
  took_ms=$((($(date +%s%N) - started) / 1000000))
  echo "$database: stopped ${took_ms} ms after SIGTERM (drain ${drain_ms} ms)"
  [ "$took_ms" -le $((drain_ms + 1000)) ] ||
    fail "$database: SIGTERM took ${took_ms} ms, more than the drain time plus a second"
done
echo "1 passed, 0 failed"
