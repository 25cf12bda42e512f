#!/usr/bin/env bash
# Plays one whole handover through handoverctl against a running handoverd,
# printing each step, and fails (non-zero) at the first step that does not do
# what it should. Used by demo.sh and by the end-to-end test.
#
#   deploy/play-exchange.sh HANDOVERCTL PKI_DIR SERVER_ADDRESS
set -euo pipefail

ctl="${1:?usage: play-exchange.sh HANDOVERCTL PKI_DIR SERVER_ADDRESS}"
pki="${2:?}"
server="${3:?}"
demo="$(cd "$(dirname "$0")" && pwd)/demo"

as() {  # identity actor args...
  local who="$1" actor="$2"
  shift 2
  "$ctl" --server "$server" --ca "$pki/ca.pem" --cert "$pki/$who.pem" --key "$pki/$who.key" \
    --actor "$actor" "$@"
}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Runs a command that must fail with the given exit code; shows its error line.
refused() {
  local want="$1"
  shift
  set +e
  "$@"
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "FAILED: expected exit code $want, got $got" >&2
    exit 1
  fi
  echo "(refused as expected, exit code $got)"
}

step "1. Operator redcross pushes a new handover form"
out=$(as operator-redcross staff-anna push "$demo/form.json")
echo "$out"
case_name=$(echo "$out" | awk '/^created /{print $2}')
[ -n "$case_name" ] || { echo "FAILED: no case created" >&2; exit 1; }

step "2. Operator updates languages and the handover conversation (etag v1)"
as operator-redcross staff-anna push "$demo/form-update.json" --case "$case_name" \
  --mask languages,handover_conversation --etag v1

step "3. A second update still based on v1 is refused: the case has moved on"
refused 6 as operator-redcross staff-bo push "$demo/form-update.json" --case "$case_name" \
  --mask languages --etag v1

step "4. Municipality 760 cannot see the case before assignment"
refused 3 as municipality-760 caseworker-k1 show "$case_name"

step "5. The Immigration Service finds the person and assigns them to municipality 760"
as immigration-service-uds visitation-v7 find 99000001
as immigration-service-uds visitation-v7 assign "$case_name" 760

step "6. Municipality 760 lists its cases and reads the form"
as municipality-760 caseworker-k1 list
as municipality-760 caseworker-k1 show "$case_name" --purpose reception-planning

step "6b. Municipality 760's case system, with its OCES3 certificate (CVR 99990023), reads it too"
as oces-municipality-760 case-system-sync show "$case_name" --purpose reception-planning \
  | sed -n '1,3p'

step "7. Municipality 147 is refused: the case is not assigned to it"
refused 3 as municipality-147 caseworker-f2 show "$case_name"

step "8. Operator uploads the residence permit and the medical record (streamed, SHA-256 checked)"
as operator-redcross staff-anna doc upload "$case_name" "$demo/residence-permit.pdf" \
  --type residence-permit --title "Opholdstilladelse (fiktiv)"
as operator-redcross staff-anna doc upload "$case_name" "$demo/medical-record.txt" \
  --type medical-record --title "Lægejournal (fiktiv)"

step "9. Municipality 760 lists the documents: the medical record is withheld without consent"
docs=$(as municipality-760 caseworker-k1 doc list "$case_name")
echo "$docs"
permit=$(echo "$docs" | awk '/residence permit/{print $1}')
[ -n "$permit" ] || { echo "FAILED: the residence permit is not listed" >&2; exit 1; }
downloads="$(mktemp -d)"
as municipality-760 caseworker-k1 doc download "$permit" --out "$downloads/permit.pdf"
cmp "$downloads/permit.pdf" "$demo/residence-permit.pdf"
record=$(as operator-redcross staff-anna doc list "$case_name" | awk '/medical record/{print $1}')
refused 6 as municipality-760 caseworker-k1 doc download "$record" --out "$downloads/record.txt"

step "10. The person consents to sharing the medical record; now it may be read and fetched"
as operator-redcross staff-anna consent record "$case_name" medical-record --given 2026-11-01
as municipality-760 caseworker-k1 show "$case_name" | sed -n '/^Health/,/^$/p'
as municipality-760 caseworker-k1 doc list "$case_name" | grep -q "medical record" ||
  { echo "FAILED: the medical record is not listed under consent" >&2; exit 1; }
as municipality-760 caseworker-k1 doc download "$record" --out "$downloads/record.txt"
cmp "$downloads/record.txt" "$demo/medical-record.txt"
rm -rf "$downloads"

step "11. Municipality 760 reads the history and the first version"
as municipality-760 caseworker-k1 history "$case_name"
as municipality-760 caseworker-k1 show "$case_name" --version 1 | head -n 4

step "12. A system account pulls the case as JSON"
as municipality-760 system-jobcentre show "$case_name" -o json | head -n 12

step "13. The data protection officer: who has seen this person's data, and is the log intact?"
as auditor-dpo dpo-1 audit subject 99000001
export_file="$(mktemp)"
as auditor-dpo dpo-1 audit export --out "$export_file"
"$ctl" audit verify "$export_file" --public-key "$pki/audit-signing.pub.pem"
rm -f "$export_file"

printf '\n\033[1mExchange complete: %s\033[0m\n' "$case_name"
