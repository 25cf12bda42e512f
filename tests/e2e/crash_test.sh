#!/usr/bin/env bash
# Crash in the middle of writes: operators push forms concurrently, handoverd
# is killed with SIGKILL while they do, and restarted on the same database,
# twice. Every push that was acknowledged is there; the feed is gapless from
# revision 1, names every acknowledged case, and goes on after the crash
# without reusing a revision.
#
#   tests/e2e/crash_test.sh HANDOVERD HANDOVERCTL WORK_DIR
set -euo pipefail
handoverd="$1" ctl="$2" work="$3"
here="$(cd "$(dirname "$0")/../.." && pwd)"
pki="${HANDOVER_TEST_PKI:-$(dirname "$work")/pki}"
rm -rf "$work"
mkdir -p "$work/forms"
trap '"$here/deploy/stop-server.sh" "$work" || true' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

as() {  # identity handoverctl-args...
  local who="$1"; shift
  "$ctl" --server "$server" --ca "$pki/ca.pem" --cert "$pki/$who.pem" --key "$pki/$who.key" \
    --actor crash-test --timeout 3 "$@"
}
# Fictional person identifiers 99080000 onwards, one form each.
/usr/bin/python3 -c '
import json, sys
form = json.load(open(sys.argv[1]))
for i in range(400):
    form["identity"]["person_identifier"] = str(99080000 + i)
    json.dump(form, open(f"{sys.argv[2]}/{i}.json", "w"))
' "$here/deploy/demo/form.json" "$work/forms"

writer() {  # writer FIRST LAST: pushes forms FIRST..LAST, logs the acknowledged
  for i in $(seq "$1" "$2"); do
    if name=$(as operator-redcross push "$work/forms/$i.json" --request-id "crash-$i" -o json \
        2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])' \
        2>/dev/null); then
      echo "$name" >> "$work/acknowledged.$1"
    fi
  done
}

feed_check() {  # the operator's feed from 0: gapless, every acknowledged case created
  timeout 5 "$ctl" --server "$server" --ca "$pki/ca.pem" --cert "$pki/operator-redcross.pem" \
    --key "$pki/operator-redcross.key" --actor crash-test watch -o json > "$work/feed.jsonl" \
    2>/dev/null || true
  cat "$work"/acknowledged.* 2>/dev/null | sort -u > "$work/acknowledged"
  /usr/bin/python3 - "$work/feed.jsonl" "$work/acknowledged" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
events = [e.get("event", e) for e in events if "progress_revision" not in e]
revisions = [int(e["revision"]) for e in events]
assert revisions == list(range(1, len(revisions) + 1)), f"feed not gapless from 1: {revisions[:5]}..."
created = {e["case_name"] for e in events if e["kind"] == "EVENT_KIND_CASE_CREATED"}
acked = {l.strip() for l in open(sys.argv[2]) if l.strip()}
missing = acked - created
assert not missing, f"{len(missing)} acknowledged cases without a created event"
print(f"feed: {len(revisions)} events, gapless; {len(acked)} acknowledged cases all in it")
PY
}

server=$("$here/deploy/run-server.sh" "$handoverd" "$pki" "$work")
for round in 0 1; do
  base=$((round * 200))
  for w in 0 1 2 3; do writer $((base + w * 50)) $((base + w * 50 + 49)) & done
  sleep 3
  kill -KILL "$(cat "$work/handoverd.pid")"
  wait
  echo "round $round: killed while writing; $(cat "$work"/acknowledged.* | wc -l) pushes acknowledged so far"
  server=$("$here/deploy/run-server.sh" "$handoverd" "$pki" "$work")
  cat "$work"/acknowledged.* | sort -u > "$work/acknowledged"
  as operator-redcross list -o json > "$work/list.json"
  /usr/bin/python3 - "$work/list.json" "$work/acknowledged" <<'PY'
import json, sys
listed = {c["name"] for c in json.load(open(sys.argv[1])).get("cases", [])}
acked = {l.strip() for l in open(sys.argv[2]) if l.strip()}
missing = acked - listed
assert not missing, f"{len(missing)} acknowledged cases lost"
PY
  feed_check
done
# After the crashes, a new write takes the next revision, none reused.
as operator-redcross push "$work/forms/399.json" --request-id crash-after > /dev/null
feed_check
echo "1 passed, 0 failed"
