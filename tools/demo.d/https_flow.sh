# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154
#
# The HTTPS flow of `make demo` (tools/demo-guest), shared with the test
# that runs it many times in one boot (selftests/tapsec/demo_flow_test.sh).
# Source it with $top set to the repository; needs root in a VM with
# tapsec.ko loaded.
#
#   demo_two_hosts        netns "server" (10.0.0.1, fd00::1) and "client"
#                         (10.0.0.2, fd00::2) joined by a veth pair
#   demo_daemon PKI       tapsec-handshaked in "server" with PKI's config
#                         (selftests/tapsec/mkpki.sh); sets demo_daemon_pid
#   demo_https N [PSK]    the demo HTTPS server (tools/demo.d/demo_https.py)
#                         in "server" for N connections; sets demo_https_pid
#   demo_curl PKI ARGS..  curl https://server.test:8443/ from "client";
#                         prints the page, then "curl: HTTP CODE, N bytes"
#   demo_teardown         kill what is left, delete the namespaces

export PYTHONPATH="$top/tools/demo.d" PYTHONUNBUFFERED=1

# Wait up to 10 s for FILE to exist.
demo_wait_file() {
	local _
	for _ in $(seq 100); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "$1 did not appear" >&2
	return 1
}

demo_two_hosts() {
	ip netns add server
	ip netns add client
	ip link add veth-s netns server type veth peer name veth-c netns client
	ip -n server addr add 10.0.0.1/24 dev veth-s
	ip -n server addr add fd00::1/64 dev veth-s nodad
	ip -n client addr add 10.0.0.2/24 dev veth-c
	ip -n client addr add fd00::2/64 dev veth-c nodad
	local ns
	for ns in server client; do
		ip -n "$ns" link set lo up
		ip -n "$ns" link set "veth-${ns:0:1}" up
	done
}

demo_daemon() {
	rm -f /tmp/demo-handshaked.pid
	ip netns exec server "$top/build/bin/tapsec-handshaked" -v -c "$1/server.conf" \
		--ready-file /tmp/demo-handshaked.pid 2> >(sed 's/^/  /' >&2) &
	demo_daemon_pid=$!
	demo_wait_file /tmp/demo-handshaked.pid
}

demo_https() {
	rm -f /tmp/demo-https-ready
	ip netns exec server /usr/bin/python3 -m demo_https 8443 server "$@" &
	demo_https_pid=$!
	demo_wait_file /tmp/demo-https-ready
}

demo_curl() {
	local pki=$1
	shift
	ip netns exec client curl -sS --cacert "$pki/ca.pem" "$@" \
		--resolve server.test:8443:10.0.0.1 \
		-w '  curl: HTTP %{http_code}, %{size_download} bytes\n' \
		https://server.test:8443/
}

demo_teardown() {
	[ -z "${demo_https_pid:-}" ] || kill "$demo_https_pid" 2>/dev/null
	[ -z "${demo_daemon_pid:-}" ] || kill "$demo_daemon_pid" 2>/dev/null
	wait 2>/dev/null
	ip netns del client 2>/dev/null
	ip netns del server 2>/dev/null
	return 0
}
