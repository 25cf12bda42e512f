#!/usr/bin/env bash
# Makes a development PKI: a CA, a server certificate for localhost, and one
# client certificate per demo organisation, each named by a SPIFFE URI SAN
# spiffe://<trust-domain>/<role>/<organisation-id>. Also the server's
# encryption key file and its Ed25519 access-log signing key (mode 0600), with
# that key's public half. For development and tests only.
#
#   deploy/dev-pki.sh OUT_DIR [--trust-domain handover.test] [--test-extras]
#
# --test-extras adds certificates the tests use to prove refusals: a client
# from another CA (rogue-ca) and a client with an unknown role.
set -euo pipefail

out="${1:?usage: dev-pki.sh OUT_DIR [--trust-domain D] [--test-extras]}"
shift
trust_domain="handover.test"
extras=0
while [ $# -gt 0 ]; do
  case "$1" in
    --trust-domain) trust_domain="$2"; shift 2 ;;
    --test-extras) extras=1; shift ;;
    *) echo "dev-pki.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$out"
cd "$out"
umask 077

new_ca() {  # name
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/O=Handover development/CN=$1" -keyout "$1.key" -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
}

issue() {  # ca name subject-alt-names extended-key-usage
  local ca="$1" name="$2" san="$3" eku="$4"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/O=Handover development/CN=$name" -keyout "$name.key" -out "$name.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
    "$eku" "$san" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -days 825 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

client() {  # ca role organisation
  issue "$1" "$2-$3" "URI:spiffe://$trust_domain/$2/$3" clientAuth
}

new_ca ca
issue ca server "DNS:localhost,IP:127.0.0.1,URI:spiffe://$trust_domain/server/handoverd" serverAuth
client ca operator redcross        # an asylum operator: the Red Cross
client ca operator hanstholm       # an asylum operator: a municipal center
client ca immigration-service uds  # Udlændingestyrelsen
client ca municipality 760         # Ringkøbing-Skjern
client ca municipality 147         # Frederiksberg
client ca municipality 330         # Slagelse
client ca auditor dpo              # a data protection officer

if [ "$extras" = 1 ]; then
  new_ca rogue-ca
  client rogue-ca operator rogue   # right shape, wrong CA
  client ca visitor nobody         # right CA, unknown role
fi

if [ ! -f audit-signing.key ]; then  # signs access log checkpoints
  openssl genpkey -algorithm ed25519 -out audit-signing.key 2>/dev/null
  openssl pkey -in audit-signing.key -pubout -out audit-signing.pub.pem
fi
if [ ! -f handover.key ]; then
  printf 'dev-1 %s\n' "$(openssl rand -hex 32)" > handover.key
fi
chmod 600 ./*.key
rm -f ./*.srl
echo "dev PKI in $out (trust domain $trust_domain)"
