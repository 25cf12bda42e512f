#!/usr/bin/env bash
# The main job on the embedded default: install what is missing, build, make
# the development PKI, start handoverd on a fresh SQLite file in var/, and play
# a whole handover through handoverctl. The server keeps running afterwards on
# localhost:7443 so you can try handoverctl by hand (see README); stop it with
#   ./demo.sh --stop
set -euo pipefail
cd "$(dirname "$0")"
root="$(pwd)"
var="$root/var"
port="${HANDOVER_DEMO_PORT:-7443}"

stop_server() { deploy/stop-server.sh "$var"; }

if [ "${1:-}" = "--stop" ]; then
  stop_server && echo "handoverd stopped"
  exit 0
fi

echo "== Installing what is missing"
deploy/install-deps.sh
echo "== Building"
CC=clang CXX=clang++ cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHANDOVER_BUILD_TESTS=OFF >/dev/null
cmake --build build --target handoverd handoverctl
echo "== Development PKI in var/pki"
deploy/dev-pki.sh "$var/pki"

stop_server
rm -rf "$var"/handover.db*  # the database, its key store and staging folder
echo "== Starting handoverd on localhost:$port with a fresh database var/handover.db"
build/server/handoverd --listen "127.0.0.1:$port" --cert "$var/pki/server.pem" \
  --key "$var/pki/server.key" --client-ca "$var/pki/client-cas.pem" \
  --oces-ca "$var/pki/oces-ca.pem" --organisation-register "$var/pki/organisations.toml" \
  --crl-dir "$var/pki/crl" --key-file "$var/pki/handover.key" \
  --audit-signing-key "$var/pki/audit-signing.key" \
  --database "$var/handover.db" >"$var/handoverd.log" 2>&1 &
echo $! > "$var/handoverd.pid"
for _ in $(seq 1 50); do
  grep -q 'listening on port' "$var/handoverd.log" && break
  kill -0 "$(cat "$var/handoverd.pid")" 2>/dev/null || { cat "$var/handoverd.log"; exit 1; }
  sleep 0.1
done

deploy/play-exchange.sh "$root/build/client/handoverctl" "$var/pki" "localhost:$port"

cat <<TXT

handoverd is still running on localhost:$port (log: var/handoverd.log).
Try it by hand, as municipality 760's caseworker:
  export HANDOVER_SERVER=localhost:$port HANDOVER_CA=var/pki/ca.pem \\
         HANDOVER_CERT=var/pki/municipality-760.pem HANDOVER_KEY=var/pki/municipality-760.key \\
         HANDOVER_ACTOR=caseworker-k1
  build/client/handoverctl list
Stop it with: ./demo.sh --stop
TXT
