#!/usr/bin/env bash
# Regenerates the test-only X.509 fixtures of the OPC UA parser tests and of
# `faro-capgen opcua`. The committed files are the fixtures: keys are random,
# so a rerun gives new certificates (and new thumbprints, which the tests of
# protocols/src/opcua/certificate.rs then need updating with).
# The keys are committed on purpose: they are test-only and protect nothing.
#
#   server.der        (a) RSA-2048, sha256WithRSAEncryption, self-signed,
#                     2024-01-01..2034-01-01, subject CN=Line 1 OPC UA Server,
#                     O=Faro Test Plant, SAN URI urn:faro:plant:line1-server
#   ca.der            (c) test CA, RSA-2048, sha256WithRSAEncryption, self-signed,
#                     2024-01-01..2034-01-01, CN=Faro Test CA,O=Faro Test Plant
#   client.der        (b) RSA-2048, sha256WithRSAEncryption, issued by (c),
#                     2024-01-01..2029-01-01, CN=Gateway OPC UA Client,
#                     SAN URI urn:faro:plant:gateway
#   legacy-client.der (d) weak legacy client: RSA-1024, sha1WithRSAEncryption,
#                     self-signed, expired (2010-01-01..2015-01-01),
#                     CN=Engineering Station, SAN URI urn:faro:plant:engineering
#   historian.der     (e) RSA-2048, sha256WithRSAEncryption, self-signed, not yet
#                     valid (2030-01-01..2040-01-01): a server whose clock or
#                     issuance is wrong, CN=Historian,O=Faro Test Plant
#   *.key             the private keys (PEM, unencrypted)
#
# Needs only openssl (3.0 is enough: `openssl ca -startdate/-enddate` sets
# the validity, where `openssl x509 -not_before` would need 3.4).
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Minimal `openssl ca` set-up: no database history, fixed serials, extensions from one file.
ca_conf() { # serial -> config path
  mkdir -p "$work/db"
  : >"$work/db/index.txt"
  echo "$1" >"$work/db/serial"
  cat >"$work/ca.cnf" <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $work/db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = $work/db
policy = anything
unique_subject = no
email_in_dn = no
copy_extensions = none
[ anything ]
commonName = supplied
organizationName = optional
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyCertSign
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:urn:faro:plant:line1-server, DNS:line1-server, IP:10.20.1.10
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:urn:faro:plant:gateway, DNS:gateway
[ legacy_ext ]
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:urn:faro:plant:engineering
[ historian_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment, dataEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:urn:faro:plant:historian
CNF
  echo "$work/ca.cnf"
}

# sign NAME SERIAL SUBJECT BITS DIGEST START END EXT [ISSUER]  (no ISSUER: self-signed)
sign() {
  local name=$1 serial=$2 subject=$3 bits=$4 digest=$5 start=$6 end=$7 ext=$8 issuer=${9:-}
  local conf
  conf=$(ca_conf "$serial")
  [ -s "$name.key" ] || openssl genrsa -out "$name.key" "$bits" 2>/dev/null
  openssl req -new -key "$name.key" -subj "$subject" -out "$work/$name.csr"
  if [ -z "$issuer" ]; then
    openssl ca -batch -config "$conf" -selfsign -keyfile "$name.key" -md "$digest" -extensions "$ext" \
      -startdate "$start" -enddate "$end" -notext -in "$work/$name.csr" -out "$work/$name.pem" 2>/dev/null
  else
    openssl x509 -in "$issuer.der" -inform DER -out "$work/$issuer.pem"
    openssl ca -batch -config "$conf" -cert "$work/$issuer.pem" -keyfile "$issuer.key" -md "$digest" \
      -extensions "$ext" -startdate "$start" -enddate "$end" -notext \
      -in "$work/$name.csr" -out "$work/$name.pem" 2>/dev/null
  fi
  openssl x509 -in "$work/$name.pem" -outform DER -out "$name.der"
}

sign server 1001 "/O=Faro Test Plant/CN=Line 1 OPC UA Server" 2048 sha256 \
  20240101000000Z 20340101000000Z server_ext
sign ca 2001 "/O=Faro Test Plant/CN=Faro Test CA" 2048 sha256 \
  20240101000000Z 20340101000000Z ca_ext
sign client 2002 "/O=Faro Test Plant/CN=Gateway OPC UA Client" 2048 sha256 \
  20240101000000Z 20290101000000Z client_ext ca
sign legacy-client 3001 "/O=Faro Test Plant/CN=Engineering Station" 1024 sha1 \
  20100101000000Z 20150101000000Z legacy_ext
sign historian 1002 "/O=Faro Test Plant/CN=Historian" 2048 sha256 \
  20300101000000Z 20400101000000Z historian_ext

for cert in server ca client legacy-client historian; do
  echo "$cert.der"
  openssl x509 -in "$cert.der" -inform DER -noout -subject -issuer -dates -fingerprint -sha1
  openssl x509 -in "$cert.der" -inform DER -noout -fingerprint -sha256
done
