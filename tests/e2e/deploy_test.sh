#!/usr/bin/env bash
# docs/deployment.md, followed as written: the shell blocks marked
# "<!-- tested: NAME -->" are taken from docs/deployment.md (not retyped here) and run
# in order, from the source folder, on SQLite and then on PostgreSQL, with
# only these changes: /etc/handover and /var/lib/handover moved under a
# scratch root, the ports 7443 and 9464 moved to free ones, the binaries
# given, and the PostgreSQL URL pointed at a scratch database. The installed
# configuration (deploy/handoverd.example.ini as shipped) gets the same root
# and ports, nothing else: its file names must be the ones the steps make.
#
#   tests/e2e/deploy_test.sh HANDOVERD HANDOVERCTL WORK_DIR   (PostgreSQL from the
#   environment pg_virtualenv exports)
set -euo pipefail
handoverd="$1" ctl="$2" work="$3"
here="$(cd "$(dirname "$0")/../.." && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -n "${PGHOST:-}${PGPORT:-}" ] ||
  fail "no PostgreSQL in the environment (PGHOST/PGPORT unset): run under pg_virtualenv -t"
rm -rf "$work"
root="$work/root"
mkdir -p "$root"
db="handover_deploy_$$"
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port) metrics_port=$(free_port)
config="$root/etc/handover/handoverd.ini"
stop_server() {
  pkill -TERM -f -- "--config $config" 2>/dev/null || true
  for _ in $(seq 1 50); do pgrep -f -- "--config $config" > /dev/null || return 0; sleep 0.1; done
  pkill -KILL -f -- "--config $config" 2>/dev/null || true
}
trap 'stop_server; dropdb --if-exists "$db" 2>/dev/null || true' EXIT

# The block after "<!-- tested: NAME -->", with the test's root, ports and binaries.
block() {
  /usr/bin/python3 - "$here/docs/deployment.md" "$1" <<'PY' |
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"<!-- tested: " + re.escape(sys.argv[2]) + r" -->\n```sh\n(.*?)```", text, re.S)
if not m:
    sys.exit(f"docs/deployment.md has no block marked 'tested: {sys.argv[2]}'")
print(m.group(1), end="")
PY
    sed -e "s|/etc/handover|$root/etc/handover|g" -e "s|/var/lib/handover|$root/var/lib/handover|g" \
        -e "s|7443|$port|g" -e "s|9464|$metrics_port|g" \
        -e "s|build/server/handoverd|$handoverd|g" -e "s|build/client/handoverctl|$ctl|g"
}
run() {  # name [extra sed expression]
  local script
  script=$(block "$1")
  [ -z "${2:-}" ] || script=$(sed -e "$2" <<< "$script")
  (cd "$here" && bash -euo pipefail -c "$script") > "$work/$1.out" 2>&1 ||
    fail "docs/deployment.md's '$1' block failed: $(tail -5 "$work/$1.out")"
}
check() {  # label
  run check
  grep -q "^role: operator$" "$work/check.out" && grep -q "^organisation: redcross$" "$work/check.out" ||
    fail "$1: whoami did not name the operator: $(cat "$work/check.out")"
  echo "$1: the deployment steps give a server that names the operator's certificate"
}

run deploy
[ -f "$config" ] || fail "the deploy block installed no $config"
sed -i -e "s|/etc/handover|$root/etc/handover|g" -e "s|/var/lib/handover|$root/var/lib/handover|g" \
  -e "s|7443|$port|g" -e "s|9464|$metrics_port|g" "$config"

run start
check "SQLite"
stop_server

createdb "$db"
run postgresql "s|postgresql://handover@db.internal/handover|postgresql:///$db|"
check "PostgreSQL"
stop_server
echo "1 passed, 0 failed"
