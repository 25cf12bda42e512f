#!/usr/bin/env bash
# Two handoverd replicas on one PostgreSQL database, checked from outside
# over mutual TLS with handoverctl and psql:
#  1. operators write through both replicas at once (creates and updates,
#     two operators, two writers per replica) while the Immigration Service
#     assigns and re-assigns through both; the operator's watch on A and on B
#     and a municipality's watch on B (started after the first assignments)
#     each receive exactly the committed events addressed to them: no gap, no
#     duplicate, in revision order;
#  2. that municipality's watch on B sees an assignment and a revocation made
#     through A within 3 s, and an assignment whose notification was lost
#     (every feed watcher's connection dropped just before) within 3 s too;
#  3. replica A is killed (SIGKILL) while both take writes: every
#     acknowledged write is in the database, B goes on serving, the feed from
#     B is the whole committed history without a gap, and the access log
#     exported through B verifies;
#  4. two updates with the same etag, one through A (restarted) and one
#     through B, at once: exactly one wins, the other gets ABORTED; a request
#     id retried on the other replica returns the first result;
#  5. PostgreSQL itself restarts (pg_ctlcluster, the cluster pg_virtualenv
#     made) while both replicas take writes: every acknowledged write is in
#     the database, no case is half-written, every refused push succeeds
#     when retried with its request id, and both replicas write again
#     without a restart of their own. (So CTest runs it alone: RUN_SERIAL.)
# Person identifiers are fictional (99070000 onwards).
#
#   tests/e2e/replicas_test.sh HANDOVERD HANDOVERCTL WORK_DIR   (PKI from HANDOVER_TEST_PKI
#   or WORK_DIR/../pki; PostgreSQL from PGHOST/PGPORT/PGUSER/PGPASSWORD, as
#   pg_virtualenv exports them)
set -euo pipefail
handoverd="$1" ctl="$2" work="$3"
here="$(cd "$(dirname "$0")/../.." && pwd)"
pki="${HANDOVER_TEST_PKI:-$(dirname "$work")/pki}"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -n "${PGHOST:-}${PGPORT:-}" ] ||
  fail "no PostgreSQL in the environment (PGHOST/PGPORT unset): run under pg_virtualenv -t"
rm -rf "$work"
mkdir -p "$work/forms"
db="handover_replicas_$$"
db_url="postgresql:///$db"
started=$SECONDS

cleanup() {
  local pid
  for pid in $(cat "$work"/*.pid 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
  "$here/deploy/stop-server.sh" "$work/a" || true
  "$here/deploy/stop-server.sh" "$work/b" || true
  dropdb --if-exists "$db" 2>/dev/null || true
}
trap cleanup EXIT

q() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" -Atc "$1"; }

# Starts replica NAME (a or b) in WORK_DIR/NAME, on its own port and staging
# directory, and writes its address to WORK_DIR/NAME/address.
start_replica() {  # name
  local run="$work/$1" port=""
  mkdir -p "$run"
  [ ! -s "$run/handoverd.log" ] || mv "$run/handoverd.log" "$run/handoverd.log.$(date +%s%N)"
  : > "$run/handoverd.log"
  "$handoverd" --listen 127.0.0.1:0 --cert "$pki/server.pem" --key "$pki/server.key" \
    --client-ca "$pki/ca.pem" --key-file "$pki/handover.key" \
    --audit-signing-key "$pki/audit-signing.key" --database "$db_url" \
    --staging-dir "$run/staging" --checkpoint-seconds 1 --watch-progress-ms 200 \
    --drain-ms 100 >> "$run/handoverd.log" 2>&1 &
  echo $! > "$run/handoverd.pid"
  for _ in $(seq 1 150); do
    port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$run/handoverd.log")
    if [ -n "$port" ]; then
      echo "localhost:$port" > "$run/address"
      return 0
    fi
    kill -0 "$(cat "$run/handoverd.pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: replica $1 did not start:" >&2
  cat "$run/handoverd.log" >&2
  return 1
}

at() {  # server identity handoverctl-args...
  local server="$1" who="$2"
  shift 2
  "$ctl" --server "$server" --ca "$pki/ca.pem" --cert "$pki/$who.pem" --key "$pki/$who.key" \
    --actor replicas-test --timeout 10 "$@"
}

# A watcher: handoverctl watch from revision 0 in the background, JSON lines
# (progress revisions too) in WORK_DIR/watch.NAME.jsonl, its pid in watch.NAME.pid.
start_watch() {  # name server identity
  "$ctl" --server "$2" --ca "$pki/ca.pem" --cert "$pki/$3.pem" --key "$pki/$3.key" \
    --actor replicas-test -o json watch --progress \
    > "$work/watch.$1.jsonl" 2> "$work/watch.$1.err" &
  echo $! > "$work/watch.$1.pid"
}
stop_watch() {  # name: it must still be running; stopped with SIGTERM it exits 0
  local pid code=0
  pid=$(cat "$work/watch.$1.pid")
  rm -f "$work/watch.$1.pid"
  kill -0 "$pid" 2>/dev/null || {
    wait "$pid" || code=$?
    fail "watch $1 ended by itself (exit $code): $(cat "$work/watch.$1.err")"
  }
  kill -TERM "$pid"
  wait "$pid" || code=$?
  [ "$code" = 0 ] || fail "watch $1 exited $code on SIGTERM: $(cat "$work/watch.$1.err")"
}

# Background jobs report failures here; the main script checks it.
bg_fail() { echo "$*" >> "$work/bg-failures"; }
check_bg() {
  [ ! -s "$work/bg-failures" ] || fail "$(wc -l < "$work/bg-failures") background failures:
$(head -20 "$work/bg-failures")"
}

cat > "$work/feed.py" <<'PY'
# Feed checks on handoverctl watch -o json --progress output.
#   wait FILE HEAD SECONDS          until a progress revision >= HEAD (all delivered)
#   event FILE CASE KIND SECONDS SINCE  until an event KIND for CASE arrives; prints the
#                                   seconds since SINCE (epoch seconds) it took
#   compare LABEL FILE ROWS EPOCH   the events are exactly ROWS (psql -At:
#                                   revision|case_id|kind|version), every feed epoch EPOCH
import json, sys, time
KINDS = {"EVENT_KIND_CASE_CREATED": 1, "EVENT_KIND_FORM_UPDATED": 2, "EVENT_KIND_ASSIGNED": 3,
         "EVENT_KIND_ACCESS_REVOKED": 4, "EVENT_KIND_CONSENT_GIVEN": 5,
         "EVENT_KIND_CONSENT_WITHDRAWN": 6, "EVENT_KIND_CASE_ERASED": 7,
         "EVENT_KIND_DOCUMENT_ADDED": 8}

def items(path):
    with open(path) as f:
        lines = f.read().split("\n")
    out = []
    for l in lines[:-1]:  # the last piece may be a line being written
        if l.strip():
            out.append(json.loads(l))
    return out

def events(path):
    return [i["event"] for i in items(path) if "event" in i]

command = sys.argv[1]
if command == "wait":
    path, head, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    deadline = time.monotonic() + seconds
    while True:
        seen = max([int(i["progress_revision"]) for i in items(path) if "progress_revision" in i]
                   + [0])
        if seen >= head:
            break
        if time.monotonic() > deadline:
            sys.exit(f"FAIL: {path}: no progress revision >= {head} within {seconds} s "
                     f"(newest progress {seen})")
        time.sleep(0.05)
elif command == "event":
    path, case, kind, seconds = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    start = float(sys.argv[6])
    while not any(e.get("case_name") == case and e.get("kind") == kind for e in events(path)):
        if time.time() - start > seconds:
            sys.exit(f"FAIL: {path}: no {kind} for {case} within {seconds} s")
        time.sleep(0.01)
    print(f"{time.time() - start:.3f}")
elif command == "compare":
    label, path, rows, epoch = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    epochs = {i["feed_epoch"] for i in items(path) if "feed_epoch" in i}
    if epochs != {epoch}:
        sys.exit(f"FAIL: {label}: feed epochs {sorted(epochs)}, the database's is {epoch}")
    got = [(int(e["revision"]), e["case_name"], KINDS.get(e.get("kind"), 0),
            int(e.get("version", 0))) for e in events(path)]
    want = []
    for l in open(rows):
        if l.strip():
            r, c, k, v = l.strip().split("|")
            want.append((int(r), "cases/" + c, int(k), int(v)))
    if got == want:
        print(f"{label}: {len(got)} events, exactly the committed ones addressed to it, in order")
        sys.exit(0)
    revs = [g[0] for g in got]
    problems = []
    dups = sorted({r for r in revs if revs.count(r) > 1})
    if dups:
        problems.append(f"duplicated revisions {dups[:10]}")
    disorder = [(a, b) for a, b in zip(revs, revs[1:]) if a >= b]
    if disorder:
        problems.append(f"out of order {disorder[:10]}")
    missing = sorted({w[0] for w in want} - set(revs))
    if missing:
        problems.append(f"{len(missing)} missing revisions {missing[:20]}")
    extra = sorted(set(revs) - {w[0] for w in want})
    if extra:
        problems.append(f"{len(extra)} revisions not addressed to it {extra[:20]}")
    wanted = {w[0]: w for w in want}
    differ = [(g, wanted[g[0]]) for g in got if g[0] in wanted and g != wanted[g[0]]]
    if differ:
        problems.append(f"{len(differ)} events differ from the database, e.g. got "
                        f"{differ[0][0]}, committed {differ[0][1]}")
    sys.exit(f"FAIL: {label}: received {len(got)} events, committed {len(want)}: "
             + "; ".join(problems or ["differ"]))
PY
feed() { /usr/bin/python3 "$work/feed.py" "$@"; }
compare() {  # label watch-file committed-file
  feed compare "$1" "$2" "$3" "$(q "SELECT feed_epoch FROM feed_head")"
}

# The committed events addressed to an audience (policy::EventFilterFor):
# an operator its own cases' events without revocations, a municipality every
# event addressed to it, the Immigration Service all but revocations.
committed() {  # where-clause file
  q "SELECT revision, case_id, kind, version FROM events WHERE $1 ORDER BY revision" > "$2"
}

# The database: revisions 1..N, one event each, N the feed head; the access
# log's sequences 1..M.
check_gapless() {  # label
  local events head log
  events=$(q "SELECT count(*) || ' ' || coalesce(min(revision), 0) || ' ' ||
              coalesce(max(revision), 0) FROM events")
  head=$(q "SELECT revision FROM feed_head")
  read -r n lo hi <<< "$events"
  [ "$n" = "$hi" ] && [ "$lo" = 1 ] && [ "$head" = "$hi" ] ||
    fail "$1: events not gapless: count $n, revisions $lo..$hi, feed head $head"
  log=$(q "SELECT count(*) || ' ' || min(sequence) || ' ' || max(sequence) FROM access_log")
  read -r m first last <<< "$log"
  [ "$m" = "$last" ] && [ "$first" = 1 ] ||
    fail "$1: access log not gapless: count $m, sequences $first..$last"
  echo "$1: events 1..$hi gapless (feed head $head); access log 1..$last gapless"
}

# Every acknowledged write (request id, case, version or -) is in the requests
# table with that case and version.
check_acknowledged() {  # label
  cat "$work"/acked.* > "$work/acknowledged"
  q "SELECT request_id || ' ' || case_id || ' ' || version FROM requests" > "$work/requests"
  q "SELECT case_id FROM cases" > "$work/cases"
  /usr/bin/python3 - "$1" "$work/acknowledged" "$work/requests" "$work/cases" \
    "$(q "SELECT count(*) FROM events")" <<'PY'
import sys
label, acked_path, rows_path, cases_path, events = sys.argv[1:]
cases = {"cases/" + l.strip() for l in open(cases_path) if l.strip()}
rows = {}
for l in open(rows_path):
    if l.strip():
        rid, case, version = l.split()
        rows[rid] = (case, version)
acked = [l.split() for l in open(acked_path) if l.strip()]
found, wrong = 0, []
for rid, name, version in acked:
    row = rows.get(rid)
    if row and "cases/" + row[0] == name and version in ("-", row[1]) and name in cases:
        found += 1
    else:
        wrong.append(f"{rid} {name} v{version}: database has {row}, case row {name in cases}")
print(f"{label}: acknowledged {len(acked)}, in database {found}, events {events}")
if wrong:
    sys.exit(f"FAIL: {label}: {len(wrong)} acknowledged writes not in the database: "
             + "; ".join(wrong[:10]))
PY
}

# Fictional forms: identifiers 99070000 onwards; u<i> changes form i (an
# update); ra<i>/rb<i> are two different updates of form i (the etag race).
/usr/bin/python3 -c '
import copy, json, sys
form = json.load(open(sys.argv[1]))
for i in range(600):
    form["identity"]["person_identifier"] = str(99070000 + i)
    json.dump(form, open(f"{sys.argv[2]}/{i}.json", "w"))
    for variant, text in (("u", "update"), ("ra", "update through A"), ("rb", "update through B")):
        changed = copy.deepcopy(form)
        changed["wishes_and_plans"]["expectations"] = f"Fictional {text} of form {i}"
        json.dump(changed, open(f"{sys.argv[2]}/{variant}{i}.json", "w"))
' "$here/deploy/demo/form.json" "$work/forms"

# Pushes COUNT new cases, forms FIRST onwards, as IDENTITY through SERVER and
# logs the acknowledged to WORK_DIR/acked.*; in phase p1 it also updates,
# after every fourth, the case it created six before. A failed push is
# reported (bg_fail) if MUST is 1.
writer() {  # phase tag server identity first count must
  local phase="$1" tag="$2" server="$3" who="$4" first="$5" count="$6" must="$7"
  local k i j out name version
  local -a names=()
  for k in $(seq 0 $((count - 1))); do
    i=$((first + k))
    if out=$(at "$server" "$who" push "$work/forms/$i.json" --request-id "rep-$i" \
        2>> "$work/err.$tag"); then
      read -r _ name _ version _ <<< "$out"  # created cases/X version 1 (etag v1)
      names[k]=$name
      echo "rep-$i $name $version" >> "$work/acked.$phase.create.$tag"
    elif [ "$must" = 1 ]; then
      bg_fail "$tag: push rep-$i through $server: $(tail -1 "$work/err.$tag")"
    else
      echo "$i" >> "$work/refused.$phase.$tag"
    fi
    if [ "$phase" = p1 ] && [ $((k % 4)) = 3 ] && [ "$k" -ge 6 ] &&
        [ -n "${names[k - 6]:-}" ]; then
      j=$((i - 6))
      if out=$(at "$server" "$who" push "$work/forms/u$j.json" --case "${names[k - 6]}" \
          --request-id "rep-upd-$j" 2>> "$work/err.$tag"); then
        read -r _ name _ version _ <<< "$out"  # updated cases/X version 2 (etag v2)
        echo "rep-upd-$j $name $version" >> "$work/acked.$phase.update.$tag"
      else
        bg_fail "$tag: update rep-upd-$j through $server: $(tail -1 "$work/err.$tag")"
      fi
    fi
  done
  return 0
}

# The Immigration Service, while the writers run: every fourth case created
# is assigned to 760, through A and B in turn; every third of those is then
# re-assigned to 330 through the other replica (a revocation for 760).
assigner() {
  local n=0 last name via other
  local -A seen=()
  while :; do
    last=0
    [ -e "$work/writers.done" ] && last=1
    while read -r _ name _; do
      [ -z "${seen[$name]:-}" ] || continue
      seen[$name]=1
      n=$((n + 1))
      [ $((n % 4)) = 0 ] || continue
      via=$server_a other=$server_b
      [ $((n / 4 % 2)) = 0 ] || { via=$server_b other=$server_a; }
      if at "$via" immigration-service-uds assign "$name" 760 --request-id "rep-assign-$n" \
          > /dev/null 2>> "$work/err.assign"; then
        echo "rep-assign-$n $name -" >> "$work/acked.p1.assign"
      else
        bg_fail "assign $name to 760 through $via: $(tail -1 "$work/err.assign")"
        continue
      fi
      [ $((n % 12)) = 0 ] || continue
      if at "$other" immigration-service-uds assign "$name" 330 --request-id "rep-reassign-$n" \
          > /dev/null 2>> "$work/err.assign"; then
        echo "rep-reassign-$n $name -" >> "$work/acked.p1.assign"
      else
        bg_fail "re-assign $name to 330 through $other: $(tail -1 "$work/err.assign")"
      fi
    done < <(cat "$work"/acked.p1.create.* 2>/dev/null)
    [ "$last" = 0 ] || break
    sleep 0.2
  done
  return 0
}

# ---------------------------------------------------------------------------
createdb "$db" || fail "createdb $db failed (PGHOST=${PGHOST:-} PGPORT=${PGPORT:-})"
start_replica a &
start_a=$!
start_replica b &
start_b=$!
wait "$start_a" || fail "replica A did not start"
wait "$start_b" || fail "replica B did not start"
server_a=$(cat "$work/a/address") server_b=$(cat "$work/b/address")
echo "replicas on $db: A at $server_a, B at $server_b"

# 1. Writes through both replicas; watchers on both.
start_watch a-redcross "$server_a" operator-redcross
start_watch b-redcross "$server_b" operator-redcross
pids=()
writer p1 a-redcross "$server_a" operator-redcross 0 80 1 & pids+=($!)
writer p1 a-hanstholm "$server_a" operator-hanstholm 80 80 1 & pids+=($!)
writer p1 b-redcross "$server_b" operator-redcross 160 80 1 & pids+=($!)
writer p1 b-hanstholm "$server_b" operator-hanstholm 240 80 1 & pids+=($!)
assigner &
assigner_pid=$!
# The municipality's watch on B starts once cases are assigned to it, while
# the writes go on: its backlog, then live.
for _ in $(seq 1 300); do
  [ "$(wc -l 2>/dev/null < "$work/acked.p1.assign" || echo 0)" -lt 5 ] || break
  sleep 0.1
done
[ "$(wc -l 2>/dev/null < "$work/acked.p1.assign" || echo 0)" -ge 5 ] ||
  { check_bg; fail "no assignments within 30 s"; }
start_watch b-760 "$server_b" municipality-760
wait "${pids[@]}"
touch "$work/writers.done"
wait "$assigner_pid"
check_bg
echo "1: $(cat "$work"/acked.p1.create.* | wc -l) creates," \
  "$(cat "$work"/acked.p1.update.* | wc -l) updates and $(wc -l < "$work/acked.p1.assign")" \
  "assignments through both replicas ($((SECONDS - started)) s)"

# 2. An assignment and a revocation through A reach 760's watch on B.
out=$(at "$server_a" operator-redcross push "$work/forms/520.json" --request-id rep-520) ||
  fail "a push through A failed"
read -r _ moved _ <<< "$out"
at "$server_a" immigration-service-uds assign "$moved" 760 --request-id rep-move-760 > /dev/null ||
  fail "assigning $moved to 760 through A failed"
acknowledged=$(date +%s.%N)
echo "rep-move-760 $moved -" >> "$work/acked.p2"
took=$(feed event "$work/watch.b-760.jsonl" "$moved" EVENT_KIND_ASSIGNED 3 "$acknowledged") ||
  exit 1
at "$server_a" immigration-service-uds assign "$moved" 147 --request-id rep-move-147 > /dev/null ||
  fail "re-assigning $moved to 147 through A failed"
acknowledged=$(date +%s.%N)
echo "rep-move-147 $moved -" >> "$work/acked.p2"
took_revoked=$(feed event "$work/watch.b-760.jsonl" "$moved" EVENT_KIND_ACCESS_REVOKED 3 \
  "$acknowledged") || exit 1
echo "2: 760's watch on B saw the assignment through A ${took} s after it was acknowledged," \
  "the revocation ${took_revoked} s after"

# 2 (continued). A lost notification: every replica's feed watcher loses its
# connection (and with it its LISTEN) just before an assignment through A,
# whose NOTIFY then reaches no one; B's watcher reconnects after a second
# and finds the event by polling.
out=$(at "$server_a" operator-redcross push "$work/forms/521.json" --request-id rep-521) ||
  fail "a push through A failed"
read -r _ unheard _ <<< "$out"
[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
        AND application_name = 'handoverd-feed-watcher'")" = 2 ] ||
  fail "expected one feed watcher connection per replica"
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()
   AND application_name = 'handoverd-feed-watcher'" > /dev/null
at "$server_a" immigration-service-uds assign "$unheard" 760 --request-id rep-unheard-760 \
  > /dev/null || fail "assigning $unheard to 760 through A failed"
acknowledged=$(date +%s.%N)
echo "rep-unheard-760 $unheard -" >> "$work/acked.p2"
took_unheard=$(feed event "$work/watch.b-760.jsonl" "$unheard" EVENT_KIND_ASSIGNED 3 \
  "$acknowledged") || exit 1
echo "2: with its notification lost, 760's watch on B saw an assignment through A" \
  "${took_unheard} s after it was acknowledged (reconnect and poll)"

# 1 (continued). Each watcher has everything (a progress revision at the
# head), then exactly what the database holds for its audience.
head=$(q "SELECT revision FROM feed_head")
for w in a-redcross b-redcross b-760; do
  feed wait "$work/watch.$w.jsonl" "$head" 5 || exit 1
  stop_watch "$w"
done
committed "operator_id = 'redcross' AND NOT municipality_only" "$work/committed.redcross"
committed "municipality_code = '760'" "$work/committed.760"
[ "$(grep -c '|4|' "$work/committed.760")" -ge 2 ] ||
  fail "expected revocations for 760 in the database, found $(grep -c '|4|' "$work/committed.760")"
compare "1: redcross's watch on A" "$work/watch.a-redcross.jsonl" "$work/committed.redcross"
compare "1: redcross's watch on B" "$work/watch.b-redcross.jsonl" "$work/committed.redcross"
compare "1: 760's watch on B" "$work/watch.b-760.jsonl" "$work/committed.760"
check_gapless "1"

# 3. A is killed while both replicas take writes.
start_watch b-uds "$server_b" immigration-service-uds
pids=()
writer p3 a-redcross "$server_a" operator-redcross 320 50 0 & pids+=($!)
writer p3 a-hanstholm "$server_a" operator-hanstholm 370 50 0 & pids+=($!)
writer p3 b-redcross "$server_b" operator-redcross 420 50 1 & pids+=($!)
writer p3 b-hanstholm "$server_b" operator-hanstholm 470 50 1 & pids+=($!)
for _ in $(seq 1 200); do
  [ "$(cat "$work"/acked.p3.create.a-* 2>/dev/null | wc -l)" -lt 15 ] || break
  sleep 0.05
done
kill -KILL "$(cat "$work/a/handoverd.pid")"
killed_after=$(cat "$work"/acked.p3.create.a-* 2>/dev/null | wc -l)
b_before=$(cat "$work"/acked.p3.create.b-* 2>/dev/null | wc -l)
wait "${pids[@]}"
b_after=$(cat "$work"/acked.p3.create.b-* 2>/dev/null | wc -l)
check_bg
kill -0 "$(cat "$work/b/handoverd.pid")" ||
  fail "replica B died: $(tail -5 "$work/b/handoverd.log")"
echo "3: A killed with SIGKILL after $killed_after acknowledged pushes through it;" \
  "B acknowledged $b_before before, $b_after by the end"
[ "$b_after" = 100 ] || fail "B acknowledged $b_after of 100 pushes"
# A write through B after the kill takes the next revision.
head=$(q "SELECT revision FROM feed_head")
out=$(at "$server_b" operator-hanstholm push "$work/forms/525.json" --request-id rep-525) ||
  fail "a push through B after A's kill failed"
read -r _ after_kill _ <<< "$out"
echo "rep-525 $after_kill 1" >> "$work/acked.p3.after"
[ "$(q "SELECT revision FROM events WHERE case_id = '${after_kill#cases/}'")" = $((head + 1)) ] ||
  fail "the push through B after the kill did not take revision $((head + 1))"
check_acknowledged "3"
check_gapless "3"
head=$(q "SELECT revision FROM feed_head")
committed "NOT municipality_only" "$work/committed.uds"
feed wait "$work/watch.b-uds.jsonl" "$head" 5 || exit 1
stop_watch b-uds
compare "3: the Immigration Service's watch on B, live through the kill" \
  "$work/watch.b-uds.jsonl" "$work/committed.uds"
start_watch b-uds-after "$server_b" immigration-service-uds
feed wait "$work/watch.b-uds-after.jsonl" "$head" 5 || exit 1
stop_watch b-uds-after
compare "3: the Immigration Service's feed from B from revision 0" \
  "$work/watch.b-uds-after.jsonl" "$work/committed.uds"
at "$server_b" auditor-dpo audit export --out "$work/audit.jsonl" > "$work/export.out" 2>&1 ||
  fail "audit export through B failed: $(cat "$work/export.out")"
"$ctl" audit verify "$work/audit.jsonl" --public-key "$pki/audit-signing.pub.pem" \
  > "$work/verify.out" 2>&1 ||
  fail "the access log exported through B does not verify: $(cat "$work/verify.out")"
echo "3: access log exported through B ($(wc -l < "$work/audit.jsonl") lines) verifies:" \
  "$(tail -1 "$work/verify.out")"

# 4. The etag race: A (restarted) and B update one case with the same etag.
race_through() {  # a|b server: the update ra<i>/rb<i> of case $race_case at $etag
  at "$2" operator-redcross push "$work/forms/r$1$i.json" --case "$race_case" --etag "$etag" \
    --request-id "rep-race-$1-$i" > "$work/race-$1.out" 2> "$work/race-$1.err"
}
start_replica a || fail "replica A did not restart"
server_a=$(cat "$work/a/address")
for i in 530 531 532 533; do
  created=$(at "$server_a" operator-redcross push "$work/forms/$i.json" --request-id "rep-$i") ||
    fail "a push through the restarted A failed"
  read -r _ race_case _ <<< "$created"
  etag=$(at "$server_b" operator-redcross -o json show "$race_case" |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["etag"])') ||
    fail "reading $race_case through B failed"
  [ "$etag" = v1 ] || fail "a new case read through B has etag '$etag', not v1"
  code_a=0 code_b=0
  if [ $((i % 2)) = 0 ]; then  # started in turn: A first, then B first
    race_through a "$server_a" & race_a=$!
    race_through b "$server_b" & race_b=$!
  else
    race_through b "$server_b" & race_b=$!
    race_through a "$server_a" & race_a=$!
  fi
  wait "$race_a" || code_a=$?
  wait "$race_b" || code_b=$?
  case "$code_a $code_b" in
    "0 6") winner=a loser=b other_server=$server_b ;;
    "6 0") winner=b loser=a other_server=$server_a ;;
    *) fail "etag race on $race_case: exit codes A $code_a, B $code_b (want one 0, one 6):
$(cat "$work/race-a.err" "$work/race-b.err")" ;;
  esac
  grep -q '^handoverctl: ABORTED: ' "$work/race-$loser.err" ||
    fail "the losing update through $loser was not ABORTED: $(cat "$work/race-$loser.err")"
  grep -q "^updated $race_case version 2 " "$work/race-$winner.out" ||
    fail "the winning update through $winner: $(cat "$work/race-$winner.out")"
  state=$(q "SELECT current_version FROM cases WHERE case_id = '${race_case#cases/}'")
  updates=$(q "SELECT count(*) FROM events WHERE case_id = '${race_case#cases/}' AND kind = 2")
  [ "$state" = 2 ] && [ "$updates" = 1 ] ||
    fail "after the etag race the case is at version $state with $updates update events"
  # The winner's request id retried through the other replica: its first result.
  again=$(at "$other_server" operator-redcross push "$work/forms/r$winner$i.json" \
    --case "$race_case" --etag "$etag" --request-id "rep-race-$winner-$i") ||
    fail "retrying the winning update's request id through the other replica failed"
  [[ "$again" == "updated $race_case version 2 "* ]] ||
    fail "retrying the winning update's request id returned: $again"
  # The create's request id (through A) retried through B: the same case, version 1.
  again=$(at "$server_b" operator-redcross push "$work/forms/$i.json" --request-id "rep-$i") ||
    fail "retrying a create's request id through B failed"
  [[ "$again" == "created $race_case version 1 "* ]] ||
    fail "retrying the create rep-$i through B returned '$again', first '$created'"
  echo "4: $race_case: the update through $winner won, through $loser ABORTED;" \
    "retries through the other replica return the first results"
done
check_gapless "4"

# 5. PostgreSQL itself restarts while both replicas take writes: every
# acknowledged write is stored, nothing is half-written, every refused push
# succeeds when retried with its request id, and both replicas write again
# without being restarted.
pids=()
writer p5 a-redcross "$server_a" operator-redcross 540 30 0 & pids+=($!)
writer p5 b-hanstholm "$server_b" operator-hanstholm 570 30 0 & pids+=($!)
for _ in $(seq 1 200); do
  [ "$(cat "$work"/acked.p5.create.* 2>/dev/null | wc -l)" -lt 10 ] || break
  sleep 0.05
done
restart_at=$(cat "$work"/acked.p5.create.* 2>/dev/null | wc -l)
pg_ctlcluster "${PGVERSION:?pg_virtualenv sets PGVERSION}" regress restart -m fast ||
  fail "could not restart PostgreSQL"
wait "${pids[@]}"
refused=$(cat "$work"/refused.p5.* 2>/dev/null | wc -l)
echo "5: PostgreSQL restarted after $restart_at acknowledged pushes;" \
  "$(cat "$work"/acked.p5.create.* | wc -l) acknowledged, $refused refused in all"
# Each replica writes again at once, without a restart of its own.
for r in a:522 b:523; do
  server=$server_a
  [ "${r%%:*}" = a ] || server=$server_b
  out=$(at "$server" operator-redcross push "$work/forms/${r#*:}.json" \
    --request-id "rep-${r#*:}" 2>&1) ||
    fail "replica ${r%%:*} does not write after PostgreSQL restarted: $out"
  read -r _ name _ version _ <<< "$out"
  echo "rep-${r#*:} $name $version" >> "$work/acked.p5.after"
done
# Refused pushes, retried with the same request id, are stored once.
for f in "$work"/refused.p5.*; do
  [ -e "$f" ] || continue
  tag=${f##*.}
  who=operator-redcross server=$server_a
  [ "$tag" = a-redcross ] || { who=operator-hanstholm server=$server_b; }
  while read -r i; do
    out=$(at "$server" "$who" push "$work/forms/$i.json" --request-id "rep-$i" 2>&1) ||
      fail "retrying refused push rep-$i failed: $out"
    read -r _ name _ version _ <<< "$out"
    echo "rep-$i $name $version" >> "$work/acked.p5.retried"
  done < "$f"
done
check_acknowledged "5"
check_gapless "5"
half=$(q "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM events e
          WHERE e.case_id = c.case_id AND e.kind = 1)
          OR NOT EXISTS (SELECT 1 FROM case_versions v WHERE v.case_id = c.case_id)
          OR NOT EXISTS (SELECT 1 FROM requests r WHERE r.case_id = c.case_id)")
[ "$half" = 0 ] || fail "5: $half cases half-written (no creation event, version or request)"
echo "5: nothing lost, nothing half-written; both replicas write again"
echo "done in $((SECONDS - started)) s"
echo "1 passed, 0 failed"
