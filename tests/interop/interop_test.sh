#!/usr/bin/env bash
# Independent clients against the real handoverd over mutual TLS, using only
# the published proto: Python (Debian's python3-grpcio, stubs generated with
# protoc), Node (@grpc/grpc-js + @grpc/proto-loader), and buf curl listing the
# services through server reflection.
#
#   tests/interop/interop_test.sh HANDOVERD WORK_DIR   (PKI from WORK_DIR/../pki)
set -euo pipefail
handoverd="$1" work="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
pki="$(dirname "$work")/pki"
rm -rf "$work"
mkdir -p "$work/python"
stop() { "$root/deploy/stop-server.sh" "$work"; }
trap stop EXIT
server=$("$root/deploy/run-server.sh" "$handoverd" "$pki" "$work" --drain-ms 0)

protoc -I "$root/proto" --python_out="$work/python" --grpc_python_out="$work/python" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  "$root"/proto/handover/v1/*.proto
/usr/bin/python3 "$root/tests/interop/python_client.py" "$work/python" "$pki" "$server"

NODE_PATH="$root/tools/node_modules" node "$root/tests/interop/node_client.js" \
  "$root/proto" "$pki" "$server"

services=$("$root/tools/node_modules/.bin/buf" curl --protocol grpc \
  --cacert "$pki/ca.pem" --cert "$pki/auditor-dpo.pem" --key "$pki/auditor-dpo.key" \
  --list-services "https://$server")
echo "$services"
grep -qx 'handover.v1.HandoverService' <<<"$services"
grep -qx 'handover.v1.AuditService' <<<"$services"
grep -qx 'handover.v1.DocumentService' <<<"$services"
grep -qx 'grpc.health.v1.Health' <<<"$services"
echo "buf curl: services listed through reflection: 1 passed, 0 failed"
