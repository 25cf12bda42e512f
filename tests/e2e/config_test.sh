#!/usr/bin/env bash
# handoverd's command line and config file: each bad option is refused at
# start with a message naming it, and a misspelt config key is an error.
#
#   tests/e2e/config_test.sh HANDOVERD WORK_DIR   (PKI from WORK_DIR/../pki)
set -euo pipefail
handoverd="$1" work="$2"
pki="$(dirname "$work")/pki"
rm -rf "$work"
mkdir -p "$work"
good=(--cert "$pki/server.pem" --key "$pki/server.key" --client-ca "$pki/ca.pem"
      --key-file "$pki/handover.key" --audit-signing-key "$pki/audit-signing.key"
      --database "$work/h.db" --listen 127.0.0.1:0)

passed=0
refused() {  # expected-message handoverd-args...
  local want="$1"
  shift
  if timeout 10 "$handoverd" "$@" > "$work/out" 2>&1; then
    echo "accepted, but should refuse: $*" >&2
    exit 1
  fi
  if ! grep -qF -- "$want" "$work/out"; then
    echo "expected '$want', got:" >&2
    cat "$work/out" >&2
    exit 1
  fi
  passed=$((passed + 1))
}

refused "max-page-size: must be from 1 to 10000" "${good[@]}" --max-page-size -5
refused "Could not convert: --max-page-size = abc" "${good[@]}" --max-page-size abc
refused "trust-domain: required" "${good[@]}" --trust-domain ""
refused "listen: cannot listen on" "${good[@]/127.0.0.1:0/256.1.1.1:1}"
refused "max-connections-per-peer: must be from 1 to 1000000" "${good[@]}" --max-connections-per-peer 0
refused "handshake-timeout-ms: must be from 100 to 600000" "${good[@]}" --handshake-timeout-ms 5
refused "disk-reserve-mb: must be from 0 to 1048576" "${good[@]}" --disk-reserve-mb 2000000
refused "crl-refresh-seconds: must be from 1 to 86400" "${good[@]}" --crl-refresh-seconds 0
refused "crl-dir: cannot read $work/no-crls" "${good[@]}" --crl-dir "$work/no-crls"
printf 'not a CRL\n' > "$work/bad.crl" && mkdir -p "$work/crls" && mv "$work/bad.crl" "$work/crls/"
refused "crl-dir: $work/crls/bad.crl: not a CRL (PEM or DER)" "${good[@]}" --crl-dir "$work/crls"
# A connection cap the file limit cannot hold is refused, naming both.
if prlimit --nofile=1024:1024 timeout 10 "$handoverd" "${good[@]}" --max-connections 4096 \
    > "$work/out" 2>&1 || true; ! grep -qF "max-connections: 4096 needs a file limit of at least 4608" "$work/out"; then
  echo "a cap over the file limit was not refused:" >&2; cat "$work/out" >&2; exit 1
fi
passed=$((passed + 1))
refused "cert: no such file" "${good[@]/$pki\/server.pem//nonexistent.pem}"
cp "$pki/handover.key" "$work/open.key"
chmod 644 "$work/open.key"
refused "must not be accessible by group or others" "${good[@]/$pki\/handover.key/$work/open.key}"
printf 'max-page-sise = 10\n' > "$work/typo.ini"
refused "max-page-sise" "${good[@]}" --config "$work/typo.ini"
printf 'watch-progress-ms = 0\n' > "$work/zero.ini"
refused "watch-progress-ms: must be from 10 to 3600000" "${good[@]}" --config "$work/zero.ini"
refused "log-format: must be text or json" "${good[@]}" --log-format xml
refused "metrics-listen: must be host:port" "${good[@]}" --metrics-listen 9464
refused "max-document-bytes: must be from 1 to 1073741824" "${good[@]}" --max-document-bytes 0
refused "document-media-types: application/zip is not a type the server can recognise" "${good[@]}" --document-media-types application/pdf,application/zip
refused "metrics-listen: cannot listen on" "${good[@]}" --metrics-listen 256.1.1.1:9464
refused "database: mysql:// is not a backend this handoverd has" \
  "${good[@]/$work\/h.db/mysql://handover@localhost/handover}"
refused "database: a password in the URL would show in the process list" \
  "${good[@]/$work\/h.db/postgresql://handover:secret@localhost/handover}"
refused "database: the folder $work/missing does not exist; create it" \
  "${good[@]/$work\/h.db/$work/missing/h.db}"
# backup-keys without a key file names the option (it said "key file : cannot be read").
refused "backup-keys: key-file: required" --database "$work/h.db" backup-keys --out "$work/k.db"

# The database by URL: a server on sqlite:///<absolute path> starts on that file,
# and backup takes the same URL.
"$handoverd" "${good[@]/$work\/h.db/sqlite://$work/url.db}" > "$work/url.log" 2>&1 &
url_pid=$!
for _ in $(seq 1 100); do grep -q 'listening on port' "$work/url.log" && break; sleep 0.1; done
grep -q 'listening on port' "$work/url.log" || { cat "$work/url.log" >&2; exit 1; }
[ -f "$work/url.db" ] || { echo "sqlite:// URL did not name the file" >&2; exit 1; }
"$handoverd" --database "sqlite://$work/url.db" backup --out "$work/url-backup.db" > /dev/null 2>&1
[ -s "$work/url-backup.db" ] || { echo "backup by URL failed" >&2; exit 1; }
kill "$url_pid"; wait "$url_pid" || true
passed=$((passed + 1))
echo "$passed passed, 0 failed"
