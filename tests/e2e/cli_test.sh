#!/usr/bin/env bash
# End to end: the real handoverd binary and the real handoverctl, over mutual
# TLS with the run's test certificates, play the whole exchange; then the
# server restarts and the case is still there.
#
#   tests/e2e/cli_test.sh HANDOVERD HANDOVERCTL WORK_DIR   (PKI from HANDOVER_TEST_PKI
#   or WORK_DIR/../pki)
set -euo pipefail
handoverd="$1" ctl="$2" work="$3"
here="$(cd "$(dirname "$0")/../.." && pwd)"
pki="${HANDOVER_TEST_PKI:-$(dirname "$work")/pki}"
rm -rf "$work"
mkdir -p "$work"
stop() { "$here/deploy/stop-server.sh" "$work"; }
trap stop EXIT

server=$("$here/deploy/run-server.sh" "$handoverd" "$pki" "$work" --log-format json)
"$here/deploy/play-exchange.sh" "$ctl" "$pki" "$server" > "$work/exchange.log"
echo "exchange played; $(grep -c '^== ' "$work/exchange.log" | tr -d '\n') steps"

# The readable view a caseworker sees names the sections and withholds what lacks consent.
grep -q '^Identity$' "$work/exchange.log"
grep -q 'Withheld from this view' "$work/exchange.log"

# TLS: 1.2 with an AEAD suite and 1.3 are accepted; 1.1 and non-AEAD suites are not.
tls() {
  echo | timeout 10 openssl s_client -connect "127.0.0.1:${server#localhost:}" "$@" \
    -cert "$pki/municipality-760.pem" -key "$pki/municipality-760.key" -CAfile "$pki/ca.pem" \
    2>/dev/null | grep -c '^New, TLSv1\.[23],' || true
}
[ "$(tls -tls1_3)" = 1 ] || { echo "TLS 1.3 refused" >&2; exit 1; }
[ "$(tls -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)" = 1 ] || { echo "TLS 1.2 AEAD refused" >&2; exit 1; }
[ "$(tls -tls1_1)" = 0 ] || { echo "TLS 1.1 accepted" >&2; exit 1; }
[ "$(tls -tls1_2 -cipher AES128-SHA)" = 0 ] || { echo "non-AEAD suite accepted" >&2; exit 1; }

# An online backup while the server runs: written and checked. A restore is
# refused while the server holds the database.
"$handoverd" --database "$work/handover.db" backup --out "$work/backup.db"
[ -s "$work/backup.db" ]
if "$handoverd" --database "$work/handover.db" restore --from "$work/backup.db" \
    > "$work/restore-busy.err" 2>&1; then
  echo "a restore ran beside the server" >&2
  exit 1
fi
grep -q 'stop it first' "$work/restore-busy.err"

# The access log: an export verifies offline; a changed record is found.
"$ctl" --server "$server" --ca "$pki/ca.pem" --cert "$pki/auditor-dpo.pem" \
  --key "$pki/auditor-dpo.key" --actor e2e-test audit export --out "$work/log.jsonl"
"$ctl" audit verify "$work/log.jsonl" --public-key "$pki/audit-signing.pub.pem"
sed '3s/"actor":"[^"]*"/"actor":"someone-else"/' "$work/log.jsonl" > "$work/tampered.jsonl"
if "$ctl" audit verify "$work/tampered.jsonl" --public-key "$pki/audit-signing.pub.pem" \
    2> "$work/verify.err"; then
  echo "a tampered export verified" >&2
  exit 1
fi
grep -q 'line 3: record 2 does not match its hash (changed)' "$work/verify.err"
# Two lines swapped: every record is there, out of order.
awk 'NR == 3 { held = $0; next } { print } NR == 4 { print held }' "$work/log.jsonl" \
  > "$work/swapped.jsonl"
if "$ctl" audit verify "$work/swapped.jsonl" --public-key "$pki/audit-signing.pub.pem" \
    2> "$work/verify.err"; then
  echo "a reordered export verified" >&2
  exit 1
fi
grep -q 'line 3: records 2 and 3 are swapped (reordered)' "$work/verify.err"

# Graceful stop, then a restore of the backup and a restart: the case is
# still there, and the replaced database is kept beside it. This time
# requests are limited to the smallest size handoverd allows.
stop
cp "$work/handoverd.log" "$work/handoverd.json.log"
grep -q 'stopped' "$work/handoverd.log"
"$handoverd" --database "$work/handover.db" restore --from "$work/backup.db" \
  > "$work/restore.log" 2>&1
grep -q 'older cursors get OUT_OF_RANGE' "$work/restore.log"
ls "$work"/handover.db.replaced-* > /dev/null
server=$("$here/deploy/run-server.sh" "$handoverd" "$pki" "$work" --max-message-bytes 65536)
as() {  # identity handoverctl-args...
  local who="$1"
  shift
  "$ctl" --server "$server" --ca "$pki/ca.pem" --cert "$pki/$who.pem" --key "$pki/$who.key" \
    --actor e2e-test "$@"
}
as760() { as municipality-760 "$@"; }
as760 list | grep -q 'assigned'

# whoami: how the server names the caller, by SPIFFE URI and by CVR; JSON too.
as760 whoami > "$work/whoami.out"
grep -qx 'role: municipality' "$work/whoami.out"
grep -qx 'organisation: 760' "$work/whoami.out"
grep -qx 'naming: spiffe' "$work/whoami.out"
grep -q '^certificate expires: .*Z (in [0-9]* days\?)$' "$work/whoami.out"
as oces-municipality-760 whoami > "$work/whoami.out"
grep -qx 'CVR: 99990023' "$work/whoami.out"
grep -qx 'naming: oces' "$work/whoami.out"
as auditor-dpo whoami -o json | grep -q '"organisation_id": *"dpo"'

# Runs handoverctl as an identity; it must exit with the given code, and, if
# it fails, write one line to standard error and nothing to standard output.
# Output in $work/out and $work/err.
expect_exit() {  # code identity handoverctl-args...
  local want="$1" got=0
  shift
  as "$@" > "$work/out" 2> "$work/err" || got=$?
  if [ "$got" != "$want" ]; then
    echo "exit code $got, expected $want: handoverctl ${*:2}" >&2
    cat "$work/err" >&2
    exit 1
  fi
  if [ "$want" != 0 ] && { [ -s "$work/out" ] || [ "$(wc -l < "$work/err")" != 1 ]; }; then
    echo "expected one error line and no output: handoverctl ${*:2}" >&2
    cat "$work/out" "$work/err" >&2
    exit 1
  fi
}

# Personal data must not be in an error line (a `!` would not stop the script).
not_in_error() {  # text
  if grep -q -- "$1" "$work/err"; then
    echo "'$1' in the error line:" >&2
    cat "$work/err" >&2
    exit 1
  fi
}

# find is a lookup by person: without a case you may see it is NOT_FOUND (3),
# the identifier not echoed; an empty list is an answer (0).
expect_exit 0 municipality-760 find 99000001
grep -q 'assigned' "$work/out"
# An expired certificate is reported as such before connecting (exit 4), not
# as the server being unavailable (exit 7).
expect_exit 4 oces-municipality-760-expired list
grep -q "expired on 2024-12-31" "$work/err"
# A revoked certificate handoverctl cannot know: the server refuses the call
# with the reason (exit 4) and logs it with the caller's address.
expect_exit 4 oces-municipality-760-revoked list
grep -q "client certificate refused: revoked on .* by the CRL of CN=Fictional OCES3" "$work/err"
grep -q "refused at the call from ipv4:127.0.0.1:[0-9]*: revoked on .*UI:DK-O:G:a08cb468" \
  "$work/handoverd.log"
# A CA the server does not know gets no connection; handoverctl finds out why
# (the server's list of accepted CAs) and says so: refused, exit 4, not
# "retry later". The server logs the certificate and the reason.
expect_exit 4 operator-rogue list
grep -q "^handoverctl: UNAUTHENTICATED: client certificate refused: the server does not accept certificates issued by CN=rogue-ca" "$work/err"
grep -q "refused at the TLS handshake .*: unknown CA: issued by CN=rogue-ca" "$work/handoverd.log"
# A server that is not there is still an outage: exit 7.
code=0
"$ctl" --server 127.0.0.1:9 --ca "$pki/ca.pem" --cert "$pki/operator-rogue.pem" \
  --key "$pki/operator-rogue.key" --actor cli-test --timeout 3 list > /dev/null 2>&1 || code=$?
[ "$code" = 7 ] || { echo "a call to no server exited $code, not 7" >&2; exit 1; }
expect_exit 3 municipality-760 find 99000077
grep -q '^handoverctl: NOT_FOUND: ' "$work/err"
not_in_error 99000077
expect_exit 3 municipality-147 find 99000001 -o json
grep -q '^handoverctl: NOT_FOUND: ' "$work/err"
not_in_error 99000001
expect_exit 0 municipality-147 list
grep -q '^(no cases)$' "$work/out"

# A request over the server's size limit is invalid input (5): a retry cannot
# succeed. (handoverd refuses it, recorded, before the form's own limits are
# checked.)
/usr/bin/python3 -c '
import json, sys
form = json.load(open(sys.argv[1]))
form["wishes_and_plans"]["expectations"] = "x" * 70000
json.dump(form, open(sys.argv[2], "w"))
' "$here/deploy/demo/form.json" "$work/large-form.json"
expect_exit 5 operator-redcross push "$work/large-form.json"
grep -q "^handoverctl: RESOURCE_EXHAUSTED: the request is over the server's size limit" \
  "$work/err"

# The first run logged JSON lines: each line is one JSON object.
/usr/bin/python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines"
for l in lines: json.loads(l)
' "$work/handoverd.json.log"

# Personal data never reaches the server log.
if grep -q -e 'Eksempelsen' -e '99000001' "$work/handoverd.log" "$work/handoverd.json.log" \
    "$work/restore.log"; then
  echo "personal data found in the server log" >&2
  exit 1
fi
echo "1 passed, 0 failed"
