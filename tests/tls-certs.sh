#!/usr/bin/env bash
# Throwaway PKI for the TLS tests, made with the openssl CLI at test time:
#   ca.pem                    the CA the tests trust
#   server.pem/.key           signed by it, for IP 127.0.0.1 and DNS localhost
#   wrongname.pem/.key        signed by it, but only for receiver.invalid
#   untrusted-ca.pem          a second CA nobody trusts
#   untrusted.pem/.key        signed by that one, for 127.0.0.1
# Keys are P-256 (fast to make) and mode 0600. Usage: tls-certs.sh DIR
set -euo pipefail
dir=${1:?usage: tls-certs.sh DIR}
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
umask 077

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() { # name subject
    newkey "$1.key"
    openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
}

leaf() { # name ca san
    newkey "$1.key"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=gradcover test $1"
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
        "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
        -out "$1.pem" -days 30 -extfile "$1.ext" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

ca ca "gradcover test CA"
ca untrusted-ca "gradcover untrusted test CA"
leaf server ca "IP:127.0.0.1,DNS:localhost"
leaf wrongname ca "DNS:receiver.invalid"
leaf untrusted untrusted-ca "IP:127.0.0.1"
chmod 0644 ./*.pem
openssl verify -CAfile ca.pem server.pem wrongname.pem >/dev/null
