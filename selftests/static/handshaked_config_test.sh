#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tapsec-handshaked's configuration file, checked on the build host with
# --check-config (no module needed): comments after values, quoted file
# names, settings given twice, private keys open to others, section names
# longer than the socket options take, and a missing file.  Documentation/handshaked.rst, tapsec-handshaked.conf(5).
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"
daemon=$top/build/bin/tapsec-handshaked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check CONF-TEXT: --check-config on it; exit status in RC, output in OUT.
check() {
	printf '%s\n' "$1" >"$work/t.conf"
	OUT=$("$daemon" -c "$work/t.conf" --check-config 2>&1)
	RC=$?
}

# accepted CONF-TEXT / refused ERE CONF-TEXT
accepted() {
	check "$1"
	[ "$RC" = 0 ] && return 0
	echo "refused (exit $RC): $OUT"
	echo "config:"; sed 's/^/  /' "$work/t.conf"
	return 1
}
refused() {
	check "$2"
	[ "$RC" = 2 ] && [[ $OUT =~ $1 ]] && return 0
	echo "exit $RC, said: $OUT (expected exit 2 and /$1/)"
	echo "config:"; sed 's/^/  /' "$work/t.conf"
	return 1
}

setup() {
	"$top/selftests/tapsec/mkpki.sh" "$work/pki" >"$work/pki.log" 2>&1 ||
		{ cat "$work/pki.log"; return 1; }
	mkdir -p "$work/odd dir#1" &&
	cp "$work/pki/server.pem" "$work/pki/server.key" "$work/odd dir#1/" &&
	chmod 600 "$work/pki/server.key" "$work/odd dir#1/server.key"
}

comments_after_values() {
	accepted "workers = 2   # two threads
cache_size = 100 ; sessions
[identity web]   # the web server
cert = $work/pki/server.pem # leaf
key = $work/pki/server.key	; its key
owners = 0 # root
[trust peers] # ours
ca = $work/pki/ca.pem   # the CA
system = no # only ours" &&
	refused "workers: missing value" "workers = # none" &&
	# A '#' not after a blank is part of the value.
	refused "cannot open .*/no#such" "[trust t]
ca = $work/pki/no#such"
}

quoted_values() {
	accepted "[identity odd]
cert = \"$work/odd dir#1/server.pem\"
key = \"$work/odd dir#1/server.key\"   # quoted, then a comment" &&
	refused "lacks its closing" "[identity odd]
cert = \"$work/odd dir#1/server.pem" &&
	refused "text after a quoted value" "[identity odd]
cert = \"$work/odd dir#1/server.pem\" extra" &&
	refused "cannot open .*/with\"quote" "[trust t]
ca = \"$work/with\\\"quote\""
}

given_twice() {
	refused "workers given twice" "workers = 2
workers = 3" &&
	refused "cache_size given twice" "cache_size = 1
cache_size = 2" &&
	refused "cert given twice" "[identity web]
cert = $work/pki/server.pem
cert = $work/pki/server.pem" &&
	refused "owners given twice" "[identity web]
owners = 0
owners = 1" &&
	refused "system given twice" "[trust t]
system = yes
system = no" &&
	refused "\\[identity web\\] defined twice" "[identity web]
cert = $work/pki/server.pem
key = $work/pki/server.key
[identity web]" &&
	# ca and crl are lists.
	accepted "[trust two]
ca = $work/pki/ca.pem
ca = $work/pki/other-ca.pem"
}

private_key_modes() {
	local conf="[identity web]
cert = $work/pki/server.pem
key = $work/pki/server.key" mode
	for mode in 600 640 400 440; do
		chmod "$mode" "$work/pki/server.key"
		accepted "$conf" || return 1
	done
	for mode in 604 644 660 606 620; do
		chmod "$mode" "$work/pki/server.key"
		refused "open to others \\(mode 0$mode\\)" "$conf" || return 1
	done
	chmod 600 "$work/pki/server.key"
	# Not a regular file: a directory, a FIFO.
	refused "not a regular file" "[identity web]
cert = $work/pki
key = $work/pki/server.key" &&
	mkfifo "$work/fifo" &&
	refused "not a regular file" "[identity web]
cert = $work/pki/server.pem
key = $work/fifo"
}

# TAPSEC_IDENTITY and TAPSEC_TRUST take 63 bytes: a longer section name
# could never be used.
name_lengths() {
	local n63 n64
	n63=$(printf 'n%.0s' {1..63})
	n64=${n63}n
	accepted "[trust $n63]
system = yes" &&
	refused "needs a name: 1 to 63" "[trust $n64]
system = yes"
}

# WireGuard: an identity's wireguard-key file (wg genkey's base64, kept
# from others), a trust store's wireguard-peer keys.
wireguard_keys() {
	local pub=CJqdlDyr+bVXmKnOZUJQBNH8PI/vVNzNJO+5NY8wcWk=
	printf 'YOu2oqjpUw2iPXTaaIFUS6xoaOu3ohB52tJKu9yi0kk=\n' >"$work/wg.key"
	chmod 600 "$work/wg.key"
	accepted "[identity wg]
wireguard-key = $work/wg.key
owners = 1000
[trust wgpeers]
wireguard-peer = $pub
wireguard-peer = $pub" &&
	# An identity may hold both kinds of key.
	accepted "[identity both]
cert = $work/pki/server.pem
key = $work/pki/server.key
wireguard-key = $work/wg.key" &&
	refused "needs both cert and key, or wireguard-key" "[identity wg]
owners = 0" &&
	refused "needs both cert and key, or wireguard-key" "[identity wg]
cert = $work/pki/server.pem
wireguard-key = $work/wg.key" &&
	refused "wireguard-key given twice" "[identity wg]
wireguard-key = $work/wg.key
wireguard-key = $work/wg.key" &&
	refused "wireguard-peer: not a WireGuard key" "[trust t]
wireguard-peer = ${pub%=}" &&
	refused "wireguard-peer: not a WireGuard key" "[trust t]
wireguard-peer = AAAA${pub#AAAA}x" &&
	refused "needs ca, system = yes or wireguard-peer" "[trust t]" &&
	printf 'not base64 at all\n' >"$work/bad.key" && chmod 600 "$work/bad.key" &&
	refused "bad.key: not a WireGuard key" "[identity wg]
wireguard-key = $work/bad.key" &&
	chmod 644 "$work/wg.key" &&
	refused "open to others \\(mode 0644\\)" "[identity wg]
wireguard-key = $work/wg.key"
}

missing_file() {
	OUT=$("$daemon" -c "$work/none.conf" --check-config 2>&1)
	[ $? = 2 ] && [[ $OUT == *"none.conf: No such file"* ]] ||
		{ echo "-c missing: $OUT"; return 1; }
	# Without -c: the default file.  Checking it means it must exist.
	[ -e /etc/tapsec/handshaked.conf ] && return 0
	OUT=$("$daemon" --check-config 2>&1)
	[ $? = 2 ] && [[ $OUT == *"handshaked.conf: No such file"* ]] ||
		{ echo "default missing: $OUT"; return 1; }
}

[ -x "$daemon" ] || { echo "$daemon is not built (make user)" >&2; exit 1; }
setup || { echo "mkpki.sh failed" >&2; exit 1; }
tap_plan 7
tap_case comments_after_values comments_after_values
tap_case quoted_values quoted_values
tap_case given_twice given_twice
tap_case private_key_modes private_key_modes
tap_case names_fit_the_socket_options name_lengths
tap_case wireguard_keys wireguard_keys
tap_case missing_file_is_an_error missing_file
tap_done
