#!/usr/bin/env bash
# Starts handoverd in the background on a free loopback port and prints the
# address once it listens. It trusts both of the dev PKI's CAs: the project CA
# (SPIFFE names) and the fictional OCES issuing CA (CVR names, through the
# PKI's organisations.toml), and checks the PKI's CRLs. Its pid goes to RUN_DIR/handoverd.pid, its log to
# RUN_DIR/handoverd.log.
#
#   deploy/run-server.sh HANDOVERD PKI_DIR RUN_DIR [extra handoverd flags...]
set -euo pipefail

handoverd="${1:?usage: run-server.sh HANDOVERD PKI_DIR RUN_DIR [flags...]}"
pki="${2:?}"
run="${3:?}"
shift 3
mkdir -p "$run"
log="$run/handoverd.log"
: > "$log"
"$handoverd" --listen 127.0.0.1:0 --cert "$pki/server.pem" --key "$pki/server.key" \
  --client-ca "$pki/client-cas.pem" --oces-ca "$pki/oces-ca.pem" \
  --organisation-register "$pki/organisations.toml" --crl-dir "$pki/crl" \
  --key-file "$pki/handover.key" \
  --audit-signing-key "$pki/audit-signing.key" --database "$run/handover.db" \
  "$@" >"$log" 2>&1 &
echo $! > "$run/handoverd.pid"
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$log")
  if [ -n "$port" ]; then
    echo "localhost:$port"
    exit 0
  fi
  kill -0 "$(cat "$run/handoverd.pid")" 2>/dev/null || break
  sleep 0.1
done
echo "handoverd did not start:" >&2
cat "$log" >&2
exit 1
