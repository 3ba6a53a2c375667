#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkpki.sh DIR: a throw-away PKI for the handshake selftests (ECDSA P-256,
# made with certtool; nothing here is ever committed).
#
#   ca.pem                  the test CA
#   other-ca.pem            an unrelated CA
#   server.{pem,key}        CN/SAN DNS server.test, IPs 10.99.0.1 and fd99::1
#   client.{pem,key}        CN client.test, for mutual authentication
#   expired.{pem,key}       as server.pem, signed by ca.pem, expired in 2021
#   other-server.{pem,key}  as server.pem, signed by other-ca.pem
#   client.conf             tapsec-handshaked config of the client side
#   server.conf             tapsec-handshaked config of the server side
#
# Identity owners (handshake_test's users): "client" and "server" are
# root's alone (no "owners"); "client-users" is uid 1000's and group
# 2000's, "client-any" anyone's, "shared-server" root's and uid 1000's.
#
# Certificate files hold the leaf only; every peer is given its CA file.
set -euo pipefail

dir=${1:?usage: mkpki.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$dir"

key() {	# name
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
		--no-text --outfile "$1.key" 2>/dev/null
}

# Template for a leaf: name, extra lines.
leaf_tmpl() {
	printf 'organization = "tapsec-test"\ncn = "%s"\nsigning_key\n' "$1"
	printf 'serial = %d\n' "$((RANDOM * 32768 + RANDOM + 1))"
	printf '%s\n' "${@:2}"
}

ca() {	# name cn
	key "$1"
	# Valid before the expired leaf was, so only the leaf is at fault.
	printf 'organization = "tapsec-test"\ncn = "%s"\nca\ncert_signing_key\nserial = 1\n' \
		"$2" >"$1.tmpl"
	printf 'activation_date = "2019-01-01 00:00:00 UTC"\nexpiration_date = "%s"\n' \
		"$(date -u -d '+30 days' '+%Y-%m-%d %H:%M:%S UTC')" >>"$1.tmpl"
	certtool --generate-self-signed --load-privkey "$1.key" \
		--template "$1.tmpl" --no-text --outfile "$1.pem" 2>/dev/null
}

# leaf name signing-ca template-lines...
leaf() {
	local name=$1 signer=$2
	shift 2
	key "$name"
	leaf_tmpl "$@" >"$name.tmpl"
	certtool --generate-certificate --load-privkey "$name.key" \
		--load-ca-certificate "$signer.pem" \
		--load-ca-privkey "$signer.key" --template "$name.tmpl" \
		--no-text --outfile "$name.pem" 2>/dev/null
}

SERVER=(server.test 'dns_name = "server.test"' 'ip_address = "10.99.0.1"'
	'ip_address = "fd99::1"' tls_www_server)

ca ca "tapsec-test-ca"
ca other-ca "tapsec-other-ca"
leaf server ca "${SERVER[@]}" 'expiration_days = 30'
leaf other-server other-ca "${SERVER[@]}" 'expiration_days = 30'
leaf expired ca "${SERVER[@]}" \
	'activation_date = "2020-01-01 00:00:00 UTC"' \
	'expiration_date = "2021-01-01 00:00:00 UTC"'
leaf client ca client.test 'dns_name = "client.test"' tls_www_client \
	'expiration_days = 30'
rm -f ./*.tmpl

# The daemons' configurations (Documentation/handshaked.rst).
cat >client.conf <<EOF
workers = 4

[identity client]
cert = $dir/client.pem
key = $dir/client.key

[identity client-users]
cert = $dir/client.pem
key = $dir/client.key
owners = 1000 @2000

[identity client-any]
cert = $dir/client.pem
key = $dir/client.key
owners = *

[trust default]
ca = $dir/ca.pem

[trust other]
ca = $dir/other-ca.pem
EOF

cat >server.conf <<EOF
workers = 4

[identity server]
cert = $dir/server.pem
key = $dir/server.key

[identity other-server]
cert = $dir/other-server.pem
key = $dir/other-server.key

[identity shared-server]
cert = $dir/server.pem
key = $dir/server.key
owners = root, 1000

[trust default]
ca = $dir/ca.pem

[trust clients]
ca = $dir/ca.pem
EOF
