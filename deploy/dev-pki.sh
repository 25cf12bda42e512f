#!/usr/bin/env bash
# Makes a development PKI. For development and tests only; every organisation,
# CVR number and uuid in it is fictional.
#
#   deploy/dev-pki.sh OUT_DIR [--trust-domain handover.test] [--test-extras]
#
# The project CA (ca.pem/.key) with a server certificate for localhost
# (server.pem) and one client certificate per demo organisation, each named by
# a SPIFFE URI SAN spiffe://<trust-domain>/<role>/<organisation-id>:
#   operator-redcross operator-hanstholm immigration-service-uds
#   municipality-760 municipality-147 municipality-330 auditor-dpo
#
# A second CA playing the OCES3 issuing CA (oces-ca.pem/.key, "C=DK, O=Handover
# development (not OCES), CN=Fictional OCES3 issuing CA") and OCES3-shaped
# organisation certificates from it, one per role, named oces-<role>-<id>.pem
# after the SPIFFE ones. Subject
#   C=DK, organizationIdentifier=NTRDK-<cvr>, O=<name>,
#   serialNumber=UI:DK-O:G:<uuid>, CN=<system>
# with clientAuth and no URI SAN:
#   oces-operator-redcross             CVR 99990007  e96144f2-0a76-46b6-a027-bed702f3912d
#   oces-immigration-service-uds       CVR 99990015  cb44a290-415a-4b0c-9e33-b47d91c2a73d
#   oces-municipality-760              CVR 99990023  b96dc8a5-91d8-4d04-8a4d-e0474a06f3fb
#   oces-auditor-dpo                   CVR 99990031  1d98306d-8851-4708-be1c-539c18160fed
# oces-auditor-dpo is made as real OCES3 certificates are: its subject is in
# the opposite order (CN first, C last) and it has no extendedKeyUsage, so
# readers of the subject and the server's TLS checks meet both forms.
# organisations.toml registers those four CVRs (deploy/organisations.example.toml
# is a copy); client-cas.pem holds both CAs (ca.pem, then oces-ca.pem).
#
# crl/ is a CRL directory as OpenSSL's hashed-directory lookup reads it (and so
# gRPC's CRL directory): one CRL per CA, named <issuer subject hash>.r0
# (openssl x509 -hash -noout -in oces-ca.pem), for ca.pem and oces-ca.pem.
# Without --test-extras both are empty.
#
# Also the server's encryption key file (handover.key) and its Ed25519
# access-log signing key (audit-signing.key, mode 0600) with that key's public
# half; these two are kept if they exist.
#
# --test-extras adds certificates the tests use to prove refusals: a client
# from another CA (rogue-ca) and a client with an unknown role; and OCES3-shaped
# ones, all but oces-unregistered naming municipality 760's CVR 99990023:
#   oces-municipality-760-revoked       a08cb468-1cfb-4e64-8690-31a4e9e1379d, listed
#       in the register, revoked in crl/ (oces-municipality-760 is not)
#   oces-municipality-760-unlisted      1c13f6ad-cf3b-442b-82ed-14e7f5bbf120, not
#       among the register's certificate_serials for 760
#   oces-municipality-760-expired       052f9c97-372a-4d86-aa01-1c1d5e83c458, listed;
#       valid 2024-01-01 to 2024-12-31 only
#   oces-municipality-760-old-form      the OCES2 form: O=<name> // CVR:99990023,
#       serialNumber=CVR:99990023-FID:..., no organizationIdentifier
#   oces-municipality-760-project-ca    oces-municipality-760's subject, issued by
#       the project CA (ca.pem) instead of the OCES CA
#   oces-rogue-municipality-760         oces-municipality-760's subject, issued by
#       rogue-ca (trusted by nobody)
#   oces-unregistered                   CVR 99990058, not in the register,
#       4afc846a-af5a-4d2a-93be-bb5accd9c3c3
# and crl-empty/: crl/ but with an OCES CA CRL that revokes nothing. It is
# older (lastUpdate 2024-01-01, CRL number 1) than crl/'s (now, number 2), as
# for a server started on crl-empty/ that is then given crl/ while it runs.
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
out="$(pwd)"
umask 077
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

new_ca() {  # name [subject]
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -utf8 \
    -subj "${2:-/O=Handover development/CN=$1}" -keyout "$1.key" -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
  ca_db "$1"
}

# A minimal `openssl ca` database for CA $1 in $tmp/$1, so that it can issue
# with any subject and dates, revoke, and sign CRLs.
ca_db() {  # name
  local d="$tmp/$1"
  mkdir -p "$d/new"
  : > "$d/index.txt"
  echo 01 > "$d/crlnumber"
  cat > "$d/ca.cnf" <<CNF
[ca]
default_ca = this
[this]
database = $d/index.txt
new_certs_dir = $d/new
certificate = $out/$1.pem
private_key = $out/$1.key
crlnumber = $d/crlnumber
rand_serial = yes
unique_subject = no
default_md = sha256
default_days = 825
default_crl_days = 825
policy = any
[any]
countryName = optional
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[oces3]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[crl]
authorityKeyIdentifier = keyid
CNF
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

# A client certificate with exactly this subject (UTF-8; escape / as \/) and no
# SAN, through CA $1's openssl ca database, with the extensions of its ca.cnf
# section (client: clientAuth; oces3: no extendedKeyUsage). Further arguments
# go to openssl ca (-startdate, -enddate).
issue_subject() {  # ca name extensions subject [openssl-ca options]
  local ca="$1" name="$2" extensions="$3" subject="$4"
  shift 4
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -utf8 \
    -subj "$subject" -keyout "$name.key" -out "$tmp/$name.csr" 2>/dev/null
  openssl ca -batch -config "$tmp/$ca/ca.cnf" -extensions "$extensions" -preserveDN -notext \
    -in "$tmp/$name.csr" -out "$name.pem" "$@" 2>/dev/null
}

oces_subject() {  # cvr organisation-name serial-uuid system-name
  printf '/C=DK/organizationIdentifier=NTRDK-%s/O=%s/serialNumber=UI:DK-O:G:%s/CN=%s' "$@"
}

oces_subject_cn_first() {  # cvr organisation-name serial-uuid system-name
  printf '/CN=%s/serialNumber=UI:DK-O:G:%s/O=%s/organizationIdentifier=NTRDK-%s/C=DK' \
    "$4" "$3" "$2" "$1"
}

# The fictional OCES3 organisations: file name, CVR, name, uuid, system.
org_redcross=(oces-operator-redcross 99990007 "Fictional Red Cross Asylum Department"
  e96144f2-0a76-46b6-a027-bed702f3912d "Fictional asylum case system")
org_uds=(oces-immigration-service-uds 99990015 "Fictional Immigration Service"
  cb44a290-415a-4b0c-9e33-b47d91c2a73d "Fictional visitation system")
org_760=(oces-municipality-760 99990023 "Fictional Ringkøbing-Skjern Municipality"
  b96dc8a5-91d8-4d04-8a4d-e0474a06f3fb "Fictional municipal case system")
org_dpo=(oces-auditor-dpo 99990031 "Fictional Data Protection Office"
  1d98306d-8851-4708-be1c-539c18160fed "Fictional audit export")
uuid_760_revoked=a08cb468-1cfb-4e64-8690-31a4e9e1379d
uuid_760_unlisted=1c13f6ad-cf3b-442b-82ed-14e7f5bbf120
uuid_760_expired=052f9c97-372a-4d86-aa01-1c1d5e83c458

oces_org() {  # file cvr name uuid system [openssl-ca options]
  local name="$1" cvr="$2" org="$3" uuid="$4" system="$5"
  shift 5
  issue_subject oces-ca "$name" client "$(oces_subject "$cvr" "$org" "$uuid" "$system")" "$@"
}

crl() {  # ca file [openssl-ca options]: CA $1's CRL of what its database revokes
  local ca="$1" file="$2"
  shift 2
  openssl ca -batch -config "$tmp/$ca/ca.cnf" -gencrl -crlexts crl -out "$file" "$@" 2>/dev/null
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

new_ca oces-ca "/C=DK/O=Handover development (not OCES)/CN=Fictional OCES3 issuing CA"
oces_org "${org_redcross[@]}"
oces_org "${org_uds[@]}"
oces_org "${org_760[@]}"
issue_subject oces-ca oces-auditor-dpo oces3 "$(oces_subject_cn_first "${org_dpo[@]:1}")"
cat ca.pem oces-ca.pem > client-cas.pem

rm -rf crl crl-empty
mkdir crl
crl ca "crl/$(openssl x509 -hash -noout -in ca.pem).r0"
oces_crl="$(openssl x509 -hash -noout -in oces-ca.pem).r0"

if [ "$extras" = 1 ]; then
  new_ca rogue-ca
  client rogue-ca operator rogue   # right shape, wrong CA
  client ca visitor nobody         # right CA, unknown role

  cvr_760="${org_760[1]}" name_760="${org_760[2]}" system_760="${org_760[4]}"
  oces_org oces-municipality-760-revoked "$cvr_760" "$name_760" "$uuid_760_revoked" "$system_760"
  oces_org oces-municipality-760-unlisted "$cvr_760" "$name_760" "$uuid_760_unlisted" "$system_760"
  oces_org oces-municipality-760-expired "$cvr_760" "$name_760" "$uuid_760_expired" "$system_760" \
    -startdate 20240101000000Z -enddate 20241231235959Z
  issue_subject oces-ca oces-municipality-760-old-form client \
    "/C=DK/O=$name_760 \/\/ CVR:$cvr_760/serialNumber=CVR:$cvr_760-FID:99990023000760/CN=$system_760"
  subject_760="$(oces_subject "${org_760[@]:1}")"
  issue_subject ca oces-municipality-760-project-ca client "$subject_760"
  issue_subject rogue-ca oces-rogue-municipality-760 client "$subject_760"
  oces_org oces-unregistered 99990058 "Fictional Unregistered Organisation" \
    4afc846a-af5a-4d2a-93be-bb5accd9c3c3 "Fictional unregistered system"

  mkdir crl-empty
  cp crl/* crl-empty/
  crl oces-ca "crl-empty/$oces_crl" -crl_lastupdate 20240101000000Z
  openssl ca -batch -config "$tmp/oces-ca/ca.cnf" -revoke oces-municipality-760-revoked.pem \
    -crl_reason keyCompromise 2>/dev/null
fi
crl oces-ca "crl/$oces_crl"

# The register of OCES3 organisations (docs/certificates.md).
cat > organisations.toml <<TOML
# The organisation register: which OCES3 organisation certificates handoverd
# accepts, and as whom. This one names the fictional organisations of the
# development PKI (deploy/dev-pki.sh writes it; deploy/organisations.example.toml
# is a copy). docs/certificates.md says how to enrol, rotate and revoke.
#
# An OCES3 organisation certificate names its organisation by CVR number, in
# the subject's organizationIdentifier (OID 2.5.4.97) NTRDK-<cvr>, and itself by
# serialNumber UI:DK-O:G:<uuid>:
#   openssl x509 -in cert.pem -noout -subject -nameopt multiline
# A certificate is accepted if it chains to a configured trust anchor, is not
# revoked, and its CVR has an entry here (and, if the entry lists
# certificate_serials, its uuid is one of them). One [[organisation]] each:
#
#   cvr                  the 8-digit CVR number, without NTRDK-
#   role                 operator | immigration-service | municipality | auditor
#   municipality_code    municipalities only: the three-digit municipality code
#   id                   every other role: the organisation id ([a-z0-9-]{1,63}),
#                        the same as in its SPIFFE certificate
#                        (spiffe://<trust-domain>/<role>/<id>), so data made with
#                        either kind of certificate belongs to one organisation
#   name                 the organisation's name, for people
#   certificate_serials  optional: the uuids (after UI:DK-O:G:) accepted for this
#                        CVR; without it, any certificate for the CVR from a
#                        trusted issuer is accepted

[[organisation]]
cvr = "${org_redcross[1]}"
role = "operator"
id = "redcross"
name = "${org_redcross[2]}"
certificate_serials = ["${org_redcross[3]}"]

[[organisation]]
cvr = "${org_uds[1]}"
role = "immigration-service"
id = "uds"
name = "${org_uds[2]}"
certificate_serials = ["${org_uds[3]}"]

[[organisation]]
cvr = "${org_760[1]}"
role = "municipality"
municipality_code = "760"
name = "${org_760[2]}"
# The second and third are the tests' revoked and expired certificates
# (dev-pki.sh --test-extras), listed so that only the CRL and the dates refuse them.
certificate_serials = ["${org_760[3]}", "$uuid_760_revoked", "$uuid_760_expired"]

[[organisation]]
cvr = "${org_dpo[1]}"
role = "auditor"
id = "dpo"
name = "${org_dpo[2]}"
# No certificate_serials: any certificate for this CVR from a trusted issuer.
TOML

# The CRLs do what they say; openssl verify as gRPC checks (the whole chain).
verify() {  # crl-dir certificate
  openssl verify -purpose sslclient -crl_check_all -CRLfile "$1/$oces_crl" -CAfile oces-ca.pem \
    "$2" >/dev/null 2>&1
}
for pem in oces-operator-redcross oces-immigration-service-uds oces-municipality-760 \
    oces-auditor-dpo; do
  verify crl "$pem.pem" || { echo "dev-pki.sh: $pem.pem does not verify" >&2; exit 1; }
done
if [ "$extras" = 1 ]; then
  if verify crl oces-municipality-760-revoked.pem; then
    echo "dev-pki.sh: crl/ does not revoke oces-municipality-760-revoked.pem" >&2; exit 1
  fi
  verify crl-empty oces-municipality-760-revoked.pem ||
    { echo "dev-pki.sh: crl-empty/ revokes oces-municipality-760-revoked.pem" >&2; exit 1; }
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
