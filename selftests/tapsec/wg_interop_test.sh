#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tapsec's WireGuard transport data (TAPSEC_PROTO_WIREGUARD) against the
# kernel's own WireGuard (wireguard.ko), inside a VM with tapsec.ko loaded:
# two network namespaces joined by a veth pair, twg-t (10.97.0.1, fd97::1)
# where wg_peer.py runs WireGuard's Noise_IKpsk2 handshake from UDP port
# 51821 and then moves the data on a tapsec WireGuard socket bound there
# (inner address 10.96.0.1 or fd96::1, inner UDP port 5001), and twg-w
# (10.97.0.2, fd97::2) with a wireguard interface wg0 (listen port 51820,
# 10.96.0.2/24 and fd96::2/64, MTU 8000) whose one peer is wg_peer.py's
# static key, and a plain UDP socket on wg0's address, port 5002, as the
# application.  Each case gives wg0 a fresh peer (wg setconf): no session
# or timer of an earlier case is left.
#
#  - tapsec initiates (wg_peer.py initiate): datagrams of 0 to 3000 bytes
#    (inner padding of 0, 1, 15 bytes for inner IPv4 and IPv6; 3000 in
#    outer IP fragments) tapsec to the application, then back, all intact,
#    from and to the right inner addresses and ports; tapsec's counters
#    (records, bytes, keypair counters, no errors), kernel WireGuard's
#    (latest handshake, transfer: the handshake's messages plus each data
#    message's 32 bytes and padded plaintext) agree; wg_peer.py decrypts
#    tapsec's messages as a packet socket saw them and checks what kernel
#    WireGuard takes on trust: the inner UDP checksum and length, the
#    inner IPv4 header (DF, TTL, checksum), zero padding to 16, counters
#    0, 1, 2...;
#  - kernel WireGuard initiates (the application's first datagram starts
#    its handshake; wg_peer.py respond answers, and its tapsec socket takes
#    the datagrams WireGuard held back), then the same both ways;
#  - inner IPv6 (tapsec initiates), outer IPv6 (tapsec initiates), both
#    IPv6 (WireGuard initiates);
#  - a preshared key on both sides, each side initiating; a different
#    preshared key: wg_peer.py refuses kernel WireGuard's response (its
#    empty payload's tag), or kernel WireGuard refuses wg_peer.py's (no
#    session: its data never comes, and wg_peer.py says so);
#  - the application sends to an inner port that is not the tapsec
#    socket's: tapsec counts each message in rx_misrouted and delivers
#    nothing;
#  - kernel WireGuard's persistent keepalives (every second): tapsec opens
#    and consumes them (its inbound counter moves, nothing is delivered,
#    no error), then delivers the datagram that follows.
#
# With TAP_SLICE=1 (the stock kernels in tools/check) the cases with a
# preshared key on both sides are variants of those without: the key is
# wg_peer.py's business, not the kernel's.
#
#  - tapsec-handshaked initiates (connect() in daemon mode, wg_peer.py
#    connect): its own Noise handshake with kernel WireGuard, then the
#    data both ways, over IPv4 and IPv6, and with a PSK from the kernel's
#    store (tapsecctl psk add); a peer key the daemon's trust store does
#    not list fails with EACCES before anything is sent;
#  - tapsec-handshaked responds (listen() and accept() in daemon mode,
#    wg_peer.py accept): kernel WireGuard's initiation reaches a listening
#    tapsec socket, the daemon answers it, accept() returns a socket keyed
#    with wg0's key, and the data goes both ways, over IPv4 and IPv6 and
#    with a PSK; a listener whose trust store does not list wg0's key
#    fails accept() with ECONNABORTED and wg0 has no session.
#
# wg_peer.py (selftests/tapsec/wg_peer.py) is both tapsec's end and the
# application behind wg0 (app).  Without WireGuard sockets in tapsec (no
# TAPSEC_PROTO_WIREGUARD), python3-cryptography or wireguard.ko every case
# fails, saying why.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"
# shellcheck source=../lib/netns.sh
. "$top/selftests/lib/netns.sh"

. "$top/selftests/lib/pyzygote.sh"

# wg_peer.py, as a module compiled by make into build/pycache, run in a
# Python zygote (selftests/lib/pyzygote.sh) that setup starts: a start of
# python3 costs one to several seconds under TCG, a fork of the zygote a
# fraction (it imports python3-cryptography once).  PEER is the command.
export PYTHONPATH=$top/selftests/tapsec PYTHONPYCACHEPREFIX=$top/build/pycache
PEER=()
DAEMON=$top/build/bin/tapsec-handshaked
CTL=$top/build/bin/tapsecctl

T=twg-t			# network namespaces: tapsec's
W=twg-w			# and kernel WireGuard's
T4=10.97.0.1		# outer addresses
W4=10.97.0.2
T6=fd97::1
W6=fd97::2
TI4=10.96.0.1		# inner addresses: tapsec's (TAPSEC_WG_INNER)
WI4=10.96.0.2		# and wg0's
TI6=fd96::1
WI6=fd96::2
T_UDP=51821		# outer UDP ports: wg_peer.py's and tapsec's
W_UDP=51820		# and wg0's
T_PORT=5001		# inner UDP ports: the tapsec socket's
W_PORT=5002		# and the application's
WRONG_PORT=5009		# not the tapsec socket's
# Static keys (wg genkey, wg pubkey) and preshared keys (wg genpsk).
T_PRIV=QP9ZZ/OiXl0wYyDVMRPTlhGNiMRrMNP4ZG6yO4Sbbks=
T_PUB=EGE5RRhWuDeHVO4Db4wqZbaGGn8cJ0UQU/O/Kclzj18=
W_PRIV=UM7Z+CIfr9MSGMNi52ahvNjJo3dJQ8tVp9V8Nx6miWY=
W_PUB=QTcXLy0k5nTQwbwqrFzSA6s+zglOco9eOYR29IJymG8=
PSK1=fwGed+QqX03nx1tB/Y7LzOEKHct7JE0+hhwJMeqx1MA=
PSK2=dxD6uO+UePUis4CItiMFHQvd2VCUEswhmeGfRJuMO3s=
# Payload sizes: an empty datagram among them; with inner IPv4 (20 + 8
# bytes of headers) 0, 1, 3, 4, 5 are padded with 4, 3, 1, 0, 15 bytes,
# with inner IPv6 (40 + 8) 0, 1, 15, 16, 17 with 0, 15, 1, 0, 15; 1400
# fills a 1500-byte outer IPv4 packet (inner IPv4), 3000 goes in outer IP
# fragments.
SIZES=0,1,3,4,5,15,16,17,1000,1400,3000
MTU=8000		# wg0's: no inner fragments
# Messages of WireGuard's handshake: initiation, response; a keepalive.
INIT_LEN=148
RESP_LEN=92
KEEPALIVE_LEN=32

# count LIST: how many items the comma-separated LIST has.
count() {
	local -a items
	IFS=, read -r -a items <<<"$1"
	echo "${#items[@]}"
}
N=$(count "$SIZES")
BYTES=$((${SIZES//,/+}))

# wire_len HL LIST: the bytes of the data messages carrying LIST with inner
# headers of HL bytes (IP and UDP): type, index, counter (16), the inner
# packet padded to 16, the tag (16).
wire_len() {
	local -a items
	local s total=0
	IFS=, read -r -a items <<<"$2"
	for s in "${items[@]}"; do
		total=$((total + 32 + ($1 + s + 15) / 16 * 16))
	done
	echo "$total"
}

work=$(mktemp -d /tmp/wg_interop_test.XXXXXX)
SETUP_ERR=""		# why no case can run
HELPER_PID=""		# a process in twg-w: its /proc/PID/net is twg-w's

cleanup() {
	local n
	[ -z "$HELPER_PID" ] || { kill "$HELPER_PID"; wait "$HELPER_PID"; } 2>/dev/null
	pyzygote_stop
	for n in "$T" "$W"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

# ----------------------------------------------------------------- setup --

# Three ip processes: each start counts on the debug kernel.
setup_netns() {
	ip -batch - <<-EOF &&
		netns add $T
		netns add $W
		link add veth-t netns $T type veth peer name veth-w netns $W
	EOF
	ip -n "$T" -batch - <<-EOF &&
		addr add $T4/24 dev veth-t
		addr add $T6/64 dev veth-t nodad
		link set veth-t up
		link set lo up
	EOF
	ip -n "$W" -batch - <<-EOF
		addr add $W4/24 dev veth-w
		addr add $W6/64 dev veth-w nodad
		link set veth-w up
		link set lo up
		link add wg0 type wireguard
		link set wg0 mtu $MTU up
		addr add $WI4/24 dev wg0
		addr add $WI6/64 dev wg0 nodad
	EOF
}

# wait_ready FILE PID: FILE (the output of PID) has its "ready" line, 30 s
# at most (python starts slowly on the debug kernel).
wait_ready() {
	wait_line "$1" "$2" ready 30
}

# wait_line FILE PID LINE SECS: FILE (the output of PID) has LINE.
wait_line() {
	local i line
	for ((i = 0; i < $4 * 10; i++)); do
		while IFS= read -r line; do
			[ "$line" = "$3" ] && return 0
		done <"$1"
		kill -0 "$2" 2>/dev/null || break
		tap_sleep 0.1
	done
	echo "no \"$3\" from ${1##*/}:"
	tail -n 10 "$1" | sed 's/^/  /'
	return 1
}

setup() {
	local out
	# A module on the stock kernels, built in on the debug kernel.
	modprobe wireguard >/dev/null 2>&1
	if ! setup_netns >"$work/setup.log" 2>&1; then
		out=$(<"$work/setup.log")
		SETUP_ERR="network namespaces, wg0 (wireguard.ko?): ${out//$'\n'/; }"
		return
	fi
	pyzygote_start "$work" wg_peer >"$work/pyzygote.err" ||
		{ SETUP_ERR=$(<"$work/pyzygote.err"); return; }
	pyzygote_cmd wg_peer
	PEER=("${PYZYGOTE_CMD[@]}")
	out=$(ns "$T" "${PEER[@]}" probe 2>&1) ||
		{ SETUP_ERR="no tapsec WireGuard socket here: $out"; return; }
	# Its /proc/PID/net/dev has wg0's counters: no process per look.
	"$NSRUN" "$W" 0 sleep 1000000 </dev/null >/dev/null 2>&1 &
	HELPER_PID=$!
	DAEMON_ERR=$(start_daemon 2>&1) || DAEMON_ERR=${DAEMON_ERR:-no daemon}
}

# ---------------------------------------------------------------- helpers --

# Files of the current case (a program's output and such), shown on failure.
casefile() { echo "$work/case$TAP_N.$1"; }

# spawn NETNS NAME CMD...: CMD in NETNS in the background, its output in
# $(casefile NAME), its pid in BG_PID; killed at the end of the case.
spawn() {
	local n=$1 name=$2
	shift 2
	local f
	f=$(casefile "$name")
	"$NSRUN" "$n" 120 "$@" </dev/null >"$f" 2>&1 &
	CASE_PIDS+=("$!")
	BG_PID=$!
}

# has_lines TEXT LINE...: every LINE is a line of TEXT.
has_lines() {
	local text=$1 want line
	shift
	for want; do
		while IFS= read -r line; do
			[ "$line" = "$want" ] && continue 2
		done <<<"$text"
		echo "expected \"$want\" in:"
		sed 's/^/  /' <<<"$text" | grep -v '=0$' | head -n 40
		return 1
	done
}

# value TEXT NAME: the value of the line NAME=... of TEXT ("" if none).
value() {
	local line
	while IFS= read -r line; do
		[ "${line%%=*}" = "$2" ] && { echo "${line#*=}"; return; }
	done <<<"$1"
}

# Counters of a tapsec socket that stay 0 when all goes well.
CLEAN=(refused_nokey=0 rx_bad_tag=0 rx_bad_record=0 rx_oversize=0
	rx_replayed=0 rx_bad_spi=0 rx_misrouted=0 key_exhausted=0)

# case_vars OUTER INNER: the variables of a case: outer addresses (TA:
# tapsec's, WA: wg0's endpoint), inner ones (TI, WI) and their headers'
# length (HL: IP and UDP), no preshared key (PSK_T: wg_peer.py's, PSK_W:
# wg0's), the bytes of SIZES' data messages (WIRE).
case_vars() {
	if [ "$1" = 6 ]; then
		TA=$T6 WA=$W6 EP="[$T6]:$T_UDP"
	else
		TA=$T4 WA=$W4 EP="$T4:$T_UDP"
	fi
	if [ "$2" = 6 ]; then
		TI=$TI6 WI=$WI6 HL=48
	else
		TI=$TI4 WI=$WI4 HL=28
	fi
	PSK_T="" PSK_W=""
	WIRE=$(wire_len "$HL" "$SIZES")
}

# wg_conf: wg0's whole configuration for the case's variables, its peer
# made anew: wg_peer.py's key, its inner addresses, its endpoint; wg0's
# receive errors so far in WG0_ERRORS.
wg_conf() {
	local f=$work/wg0.conf
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n\n' \
			"$W_PRIV" "$W_UDP"
		printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s/32, %s/128\n' \
			"$T_PUB" "$TI4" "$TI6"
		printf 'Endpoint = %s\n' "$EP"
		[ -z "$PSK_W" ] || printf 'PresharedKey = %s\n' "$PSK_W"
	} >"$f"
	ns "$W" wg setconf wg0 "$f" >"$(casefile wg)" 2>&1 ||
		{ echo "wg setconf wg0: $(cat "$(casefile wg)")"; return 1; }
	WG0_ERRORS=$(wg0_errors)
}

# tapsec_args MODE: in TAPSEC, wg_peer.py MODE (initiate, respond) with the
# case's keys and addresses, to run in twg-t.
tapsec_args() {
	TAPSEC=("${PEER[@]}" "$1" --private "$T_PRIV" --peer-key "$W_PUB"
		--peer "$WA" --port "$W_UDP" --bind "$T_UDP"
		--inner "$TI,$T_PORT,$WI,$W_PORT")
	[ -z "$PSK_T" ] || TAPSEC+=(--psk "$PSK_T")
}

# app_args: in APP, the application behind wg0: a UDP socket on WI:5002
# whose datagrams go to TI:5001; to run in twg-w.
app_args() {
	APP=("${PEER[@]}" app --local "$WI" --bind "$W_PORT" --peer "$TI"
		--port "$T_PORT")
}

# wg_dump: wg0's peer as `wg show wg0 dump` has it: WG[handshake] (latest,
# seconds since the epoch, 0 for none), WG[rx], WG[tx] (transfer bytes,
# handshake messages included); the whole text in WG_TEXT.
declare -A WG
wg_dump() {
	WG=()
	WG_TEXT=$(ns "$W" wg show wg0 dump 2>&1) || return 1
	{
		read -r _
		IFS=$'\t' read -r _ _ _ _ 'WG[handshake]' 'WG[rx]' 'WG[tx]' _
	} <<<"$WG_TEXT"
	[ -n "${WG[tx]-}" ]
}

# wg_check RX TX: wg0's peer has a session and received RX bytes, and sent
# TX bytes plus KEEPALIVES keepalives (set: they depend on timing).
wg_check() {
	wg_dump || { echo "wg show wg0 dump: $WG_TEXT"; return 1; }
	KEEPALIVES=$(((WG[tx] - $2) / KEEPALIVE_LEN))
	if [ "${WG[handshake]}" != 0 ] && [ "${WG[rx]}" = "$1" ] &&
	   [ "${WG[tx]}" -ge "$2" ] &&
	   [ $(((WG[tx] - $2) % KEEPALIVE_LEN)) = 0 ]; then
		return 0
	fi
	echo "wg0's peer: latest handshake ${WG[handshake]}, received" \
		"${WG[rx]} bytes (expected $1), sent ${WG[tx]} (expected $2" \
		"and keepalives of $KEEPALIVE_LEN)"
	return 1
}

# wg0_errors: wg0's receive errors and drops, as /proc/net/dev of twg-w has
# them (a packet kernel WireGuard decrypted and refused: an inner source
# address not allowed, a wrong length).
wg0_errors() {
	local dev rest
	while read -r dev rest; do
		[ "$dev" = wg0: ] || continue
		read -r _ _ err drop _ <<<"$rest"
		echo $((err + drop))
		return
	done <"/proc/$HELPER_PID/net/dev"
}

# run_case FUNC ARGS...: one case; its files printed when it fails.
run_case() {
	local rc=0 f pid
	CASE_PIDS=()
	"$@" || rc=$?
	for pid in "${CASE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	[ "$rc" -eq 0 ] && return 0
	for f in "$work/case$TAP_N".*; do
		[ -s "$f" ] || continue
		echo "${f##*/}:"
		grep -v '=0$' "$f" | tail -n 40 | sed 's/^/  /'
	done
	[ -z "${WG_TEXT:-}" ] || { echo "wg show wg0 dump:"; sed 's/^/  /' <<<"$WG_TEXT"; }
	return "$rc"
}

cannot() { echo "cannot run: $1"; return 1; }

# wg_case NAME FUNC ARGS...: one case.  With TAP_SLICE, a case that differs
# from an earlier one only in its preshared key (last argument psk: a path
# of wg_peer.py's, not of the kernel's) is a variant; the families are not.
wg_case() {
	local name=$1 key
	shift
	key="$*"
	tap_variant "$name" "${key% psk}" && return
	if [ -n "$SETUP_ERR" ]; then
		tap_case "$name" cannot "$SETUP_ERR"
		return
	fi
	WG_TEXT=""
	tap_case "$name" run_case "$@"
}

# --------------------------------------------------------- the daemon --

# start_daemon: tapsec-handshaked in twg-t with identity "wg" (tapsec's
# static key) and trust store "wgpeers" (wg0's public key); its log in
# $work/daemon.log.  Started by setup(), in the script's own shell: a
# case's shell waits for its children (run_case), the daemon among them.
# The daemon cases fail with DAEMON_ERR when it did not start.
DAEMON_ERR=""
start_daemon() {
	local i
	[ -x "$DAEMON" ] || { echo "$DAEMON is not built (make)"; return 1; }
	printf '%s\n' "$T_PRIV" >"$work/t.key"
	chmod 600 "$work/t.key"
	printf '[identity wg]\nwireguard-key = %s\n[trust wgpeers]\nwireguard-peer = %s\n[trust others]\nwireguard-peer = %s\n' \
		"$work/t.key" "$W_PUB" "$T_PUB" >"$work/daemon.conf"
	rm -f "$work/daemon.ready"
	ns "$T" "$DAEMON" -c "$work/daemon.conf" -v \
		--ready-file "$work/daemon.ready" </dev/null \
		>>"$work/daemon.log" 2>&1 &
	for ((i = 0; i < 600; i++)); do
		[ -e "$work/daemon.ready" ] && return 0
		kill -0 $! 2>/dev/null || break
		tap_sleep 0.05
	done
	echo "tapsec-handshaked never got ready:"
	tail -n 10 "$work/daemon.log" | sed 's/^/  /'
	return 1
}

# daemon_case OUTER INNER [psk]: the case's variables and wg0's
# configuration for a daemon case; with psk, PSK1 in the kernel's store
# as wgpsk (tapsecctl psk add) and in wg0's, and in EXTRA the option
# that names it.
daemon_case() {
	case_vars "$1" "$2"
	EXTRA=()
	[ -z "$DAEMON_ERR" ] || { echo "$DAEMON_ERR"; return 1; }
	if [ "${3-}" = psk ]; then
		PSK_W=$PSK1
		base64 -d <<<"$PSK1" | od -An -tx1 | tr -d ' \n' |
			ns "$T" "$CTL" psk add wgpsk >"$(casefile psk)" 2>&1 ||
			{ echo "tapsecctl psk add: $(cat "$(casefile psk)")"; return 1; }
		EXTRA=(--psk-identity wgpsk)
	fi
	wg_conf
}

# daemon_initiates OUTER INNER [psk]: connect() in daemon mode: the
# daemon's Noise handshake with kernel WireGuard and its keepalive, then
# SIZES both ways as in tapsec_initiates (no --wire: the keys are the
# daemon's).
daemon_initiates() {
	local out app
	daemon_case "$@" || return 1
	app_args
	spawn "$W" app "${APP[@]}" --order expect --expect "$SIZES" \
		--send "$SIZES"
	wait_ready "$(casefile app)" "$BG_PID" || return 1
	out=$(ns "$T" timeout 60 "${PEER[@]}" connect --identity wg \
		--trust wgpeers --peer "$WA" --port "$W_UDP" --bind "$T_UDP" \
		--inner "$TI,$T_PORT,$WI,$W_PORT" --hs-timeout 20 \
		--send "$SIZES" --expect "$SIZES" "${EXTRA[@]}" 2>&1)
	echo "$out" >"$(casefile tapsec)"
	[ "${3-}" != psk ] || ns "$T" "$CTL" psk del wgpsk
	wait "$BG_PID"
	daemon_initiated_ok "$out" "$(cat "$(casefile app)")"
}

# daemon_initiated_ok TAPSEC_OUT APP_OUT: the data went both ways after
# the daemon's handshake, and its keepalive (one more message on wg0's
# side and tapsec's counter).
daemon_initiated_ok() {
	wg_check $((INIT_LEN + WIRE + KEEPALIVE_LEN)) $((RESP_LEN + WIRE)) &&
		has_lines "$2" "sent=$N" "got=$N" "ok=$N" "src=$TI,$T_PORT" &&
		has_lines "$1" handshake=ok "sent=$N" "got=$N" "ok=$N" \
			protocol=4 tx_cipher=54 rx_cipher=54 hs_done=1 \
			"tx_records=$N" "rx_records=$N" \
			"tx_counter=$((N + 1))" "${CLEAN[@]}"
}

# daemon_wg_first: as daemon_initiates, but wg0's application sends
# first, once the handshake is over: kernel WireGuard, the responder,
# sends under the new keypair only once something came under it, here
# the daemon's keepalive (without it, wg0 would hold the data and start
# a handshake of its own, which the keyed socket drops).
daemon_wg_first() {
	local out app
	daemon_case 4 4 || return 1
	spawn "$T" tapsec "${PEER[@]}" connect --identity wg --trust wgpeers \
		--peer "$WA" --port "$W_UDP" --bind "$T_UDP" \
		--inner "$TI,$T_PORT,$WI,$W_PORT" --hs-timeout 20 \
		--order expect --expect "$SIZES" --send "$SIZES"
	wait_line "$(casefile tapsec)" "$BG_PID" handshake=ok 30 || return 1
	app_args
	app=$(ns "$W" timeout 60 "${APP[@]}" --order send --send "$SIZES" \
		--expect "$SIZES" 2>&1)
	echo "$app" >"$(casefile app)"
	wait "$BG_PID"
	out=$(cat "$(casefile tapsec)")
	daemon_initiated_ok "$out" "$app"
}

# daemon_refuses SERVER_NAME ERRNO WHY: connect() fails with ERRNO before
# anything reaches wg0 (no handshake, nothing received), and the daemon's
# log says WHY.
daemon_refuses() {
	local out n
	daemon_case 4 4 || return 1
	n=$(wc -l <"$work/daemon.log")
	out=$(ns "$T" timeout 60 "${PEER[@]}" connect --identity wg \
		--trust wgpeers --server-name "$1" --peer "$WA" \
		--port "$W_UDP" --bind "$T_UDP" \
		--inner "$TI,$T_PORT,$WI,$W_PORT" --hs-timeout 20 2>&1)
	echo "$out" >"$(casefile tapsec)"
	tail -n +$((n + 1)) "$work/daemon.log" >"$(casefile daemon)"
	has_lines "$out" "error=connect: $2" || return 1
	grep -q -- "$3" "$(casefile daemon)" ||
		{ echo "the daemon's log does not say \"$3\""; return 1; }
	wg_dump || { echo "wg show wg0 dump: $WG_TEXT"; return 1; }
	[ "${WG[rx]}" = 0 ] && [ "${WG[handshake]}" = 0 ] ||
		{ echo "wg0 received ${WG[rx]} bytes"; return 1; }
}

# ------------------------------------------------------------- both ways --

# data_ok TAPSEC_OUT APP_OUT: SIZES went both ways, intact, between the
# right inner addresses and ports; tapsec's counters say so, its messages
# on the wire are right, wg0 refused none; rx_counter is one past the last
# of kernel WireGuard's messages: N, or up to KEEPALIVES more (wg_check),
# as a keepalive tapsec opened or one sent after the socket's last read.
data_ok() {
	local c
	[ "$(wg0_errors)" = "$WG0_ERRORS" ] ||
		{ echo "wg0 counted receive errors: $WG0_ERRORS before," \
			"$(wg0_errors) now"; return 1; }
	has_lines "$2" "sent=$N" "got=$N" "ok=$N" "src=$TI,$T_PORT" &&
		has_lines "$1" handshake=ok "sent=$N" "got=$N" "ok=$N" \
			protocol=4 tx_cipher=54 rx_cipher=54 \
			"tx_records=$N" "tx_bytes=$BYTES" "rx_records=$N" \
			"rx_bytes=$BYTES" "tx_counter=$N" \
			"wire_out=$N" "wire_out_ok=$N" "${CLEAN[@]}" || return 1
	c=$(value "$1" rx_counter)
	[ -n "$c" ] && [ "$c" -ge "$N" ] &&
		[ "$c" -le $((N + KEEPALIVES)) ] && return 0
	echo "rx_counter=$c: not one past kernel WireGuard's $N data" \
		"messages and $KEEPALIVES keepalives"
	return 1
}

# tapsec_initiates OUTER INNER [psk]: wg_peer.py initiates; tapsec sends
# SIZES (its first message confirms the keys to kernel WireGuard), the
# application gets them and sends SIZES back.
tapsec_initiates() {
	local out app
	case_vars "$1" "$2"
	[ "${3-}" != psk ] || PSK_T=$PSK1 PSK_W=$PSK1
	wg_conf || return 1
	app_args
	spawn "$W" app "${APP[@]}" --order expect --expect "$SIZES" \
		--send "$SIZES"
	wait_ready "$(casefile app)" "$BG_PID" || return 1
	tapsec_args initiate
	out=$(ns "$T" timeout 60 "${TAPSEC[@]}" --send "$SIZES" \
		--expect "$SIZES" --wire 2>&1)
	echo "$out" >"$(casefile tapsec)"
	wait "$BG_PID"
	app=$(cat "$(casefile app)")
	wg_check $((INIT_LEN + WIRE)) $((RESP_LEN + WIRE)) &&
		data_ok "$out" "$app"
}

# wg_initiates OUTER INNER [psk]: the application sends SIZES, which
# kernel WireGuard holds while it initiates; wg_peer.py responds, its
# tapsec socket gets them and sends SIZES back.
wg_initiates() {
	local out app
	case_vars "$1" "$2"
	[ "${3-}" != psk ] || PSK_T=$PSK1 PSK_W=$PSK1
	wg_conf || return 1
	tapsec_args respond
	spawn "$T" tapsec "${TAPSEC[@]}" --expect "$SIZES" --send "$SIZES" \
		--wire
	wait_ready "$(casefile tapsec)" "$BG_PID" || return 1
	app_args
	app=$(ns "$W" timeout 60 "${APP[@]}" --send "$SIZES" \
		--expect "$SIZES" 2>&1)
	echo "$app" >"$(casefile app)"
	wait "$BG_PID"
	out=$(cat "$(casefile tapsec)")
	wg_check $((RESP_LEN + WIRE)) $((INIT_LEN + WIRE)) &&
		data_ok "$out" "$app"
}

# daemon_accepts OUTER INNER [psk]: kernel WireGuard initiates to a
# listening tapsec socket (accept() in daemon mode): the daemon answers,
# accept() returns a socket keyed with wg0's key, and SIZES go both ways,
# wg0's application first, as in wg_initiates.
daemon_accepts() {
	local out app
	daemon_case "$@" || return 1
	spawn "$T" tapsec "${PEER[@]}" accept --identity wg --trust wgpeers \
		--local "$TA" --bind "$T_UDP" --inner "$TI,$T_PORT,$WI,$W_PORT" \
		--expect "$SIZES" --send "$SIZES" "${EXTRA[@]}"
	wait_ready "$(casefile tapsec)" "$BG_PID" || return 1
	app_args
	app=$(ns "$W" timeout 60 "${APP[@]}" --send "$SIZES" \
		--expect "$SIZES" 2>&1)
	echo "$app" >"$(casefile app)"
	wait "$BG_PID"
	[ "${3-}" != psk ] || ns "$T" "$CTL" psk del wgpsk
	out=$(cat "$(casefile tapsec)")
	wg_check $((RESP_LEN + WIRE)) $((INIT_LEN + WIRE)) &&
		has_lines "$app" "sent=$N" "got=$N" "ok=$N" "src=$TI,$T_PORT" &&
		has_lines "$out" handshake=ok "accepted=$WA,$W_UDP" \
			"peer_identity=$W_PUB" "sent=$N" "got=$N" "ok=$N" \
			protocol=4 tx_cipher=54 rx_cipher=54 hs_done=1 \
			"tx_records=$N" "rx_records=$N" "tx_counter=$N" \
			"${CLEAN[@]}"
}

# daemon_accept_refuses: the listener's trust store ("others") does not
# list wg0's key: accept() fails with ECONNABORTED, the daemon's log says
# why, and wg0 has no session.
daemon_accept_refuses() {
	local out n
	daemon_case 4 4 || return 1
	n=$(wc -l <"$work/daemon.log")
	spawn "$T" tapsec "${PEER[@]}" accept --identity wg --trust others \
		--local "$TA" --bind "$T_UDP" --inner "$TI,$T_PORT,$WI,$W_PORT"
	wait_ready "$(casefile tapsec)" "$BG_PID" || return 1
	app_args
	ns "$W" timeout 60 "${APP[@]}" --send 1 >"$(casefile app)" 2>&1
	wait "$BG_PID"
	out=$(cat "$(casefile tapsec)")
	tail -n +$((n + 1)) "$work/daemon.log" >"$(casefile daemon)"
	has_lines "$out" "error=accept: ECONNABORTED" || return 1
	grep -q -- "not in trust store" "$(casefile daemon)" ||
		{ echo "the daemon's log does not say why"; return 1; }
	wg_dump || { echo "wg show wg0 dump: $WG_TEXT"; return 1; }
	[ "${WG[handshake]}" = 0 ] ||
		{ echo "wg0 has a session: $WG_TEXT"; return 1; }
}

# ------------------------------------------------------ what is refused --

# psk_mismatch_initiator: wg_peer.py, with another preshared key than wg0,
# initiates: kernel WireGuard answers (the initiation does not depend on
# the key), wg_peer.py finds its response does not authenticate and
# stops; wg0 has no session.
psk_mismatch_initiator() {
	local out
	case_vars 4 4
	PSK_T=$PSK1 PSK_W=$PSK2
	wg_conf || return 1
	tapsec_args initiate
	out=$(ns "$T" timeout 60 "${TAPSEC[@]}" --send 1 2>&1)
	echo "$out" >"$(casefile tapsec)"
	has_lines "$out" "error=the response does not authenticate (its empty payload's tag is wrong: another preshared key, or keys?)" ||
		return 1
	wg_dump || { echo "wg show wg0 dump: $WG_TEXT"; return 1; }
	[ "${WG[handshake]}" = 0 ] && [ "${WG[rx]}" = "$INIT_LEN" ] &&
		[ "${WG[tx]}" = "$RESP_LEN" ] && return 0
	echo "wg0's peer: latest handshake ${WG[handshake]}, received" \
		"${WG[rx]} bytes, sent ${WG[tx]}"
	return 1
}

# psk_mismatch_responder: kernel WireGuard, with another preshared key
# than wg_peer.py, initiates; wg_peer.py responds, but WireGuard refuses
# the response: no data comes (wg_peer.py times out after 2 s and says
# so), wg0 has no session and took in nothing.
psk_mismatch_responder() {
	local out
	case_vars 4 4
	PSK_T=$PSK1 PSK_W=$PSK2
	wg_conf || return 1
	tapsec_args respond
	spawn "$T" tapsec "${TAPSEC[@]}" --expect 1 --send 1 --timeout 2 --wire
	wait_ready "$(casefile tapsec)" "$BG_PID" || return 1
	app_args
	ns "$W" timeout 60 "${APP[@]}" --send 1 >"$(casefile app)" 2>&1
	wait "$BG_PID"
	out=$(cat "$(casefile tapsec)")
	has_lines "$out" handshake=ok "timeout: 0 of 1 datagrams after 2 s" \
		got=0 sent=0 rx_records=0 wire_in=0 "${CLEAN[@]}" || return 1
	wg_dump || { echo "wg show wg0 dump: $WG_TEXT"; return 1; }
	# A retry of the initiation 5 s later may have come too.
	[ "${WG[handshake]}" = 0 ] && [ "${WG[rx]}" = 0 ] &&
		[ $((WG[tx] % INIT_LEN)) = 0 ] && [ "${WG[tx]}" -gt 0 ] &&
		return 0
	echo "wg0's peer: latest handshake ${WG[handshake]}, received" \
		"${WG[rx]} bytes, sent ${WG[tx]}"
	return 1
}

# wrong_port: tapsec sends one datagram; the application gets it and
# sends SIZES to an inner port that is not the socket's: tapsec opens each
# message, counts it in rx_misrouted and delivers nothing.
wrong_port() {
	local out app
	case_vars 4 4
	wg_conf || return 1
	app_args
	spawn "$W" app "${APP[@]}" --order expect --expect 1 --send "$SIZES" \
		--port "$WRONG_PORT"
	wait_ready "$(casefile app)" "$BG_PID" || return 1
	tapsec_args initiate
	out=$(ns "$T" timeout 60 "${TAPSEC[@]}" --send 1 \
		--until "rx_misrouted=$N" 2>&1)
	echo "$out" >"$(casefile tapsec)"
	wait "$BG_PID"
	app=$(cat "$(casefile app)")
	has_lines "$app" got=1 ok=1 "sent=$N" &&
		has_lines "$out" handshake=ok sent=1 got=0 tx_records=1 \
			rx_records=0 rx_bytes=0 "rx_misrouted=$N" \
			"rx_counter=$N" rx_bad_tag=0 rx_bad_record=0 \
			rx_replayed=0 rx_bad_spi=0
}

# keepalives: wg0's peer gets a persistent keepalive of 1 s once
# wg_peer.py waits; its first keepalive starts a handshake, which
# wg_peer.py answers; tapsec opens two keepalives (its inbound counter,
# one past the highest accepted, reaches 2) and delivers nothing, then
# the application's datagram comes, and goes back.
keepalives() {
	local out app n
	case_vars 4 4
	wg_conf || return 1
	tapsec_args respond
	spawn "$T" tapsec "${TAPSEC[@]}" --wait-counter 2 --expect 1 \
		--send 1 --wire
	wait_ready "$(casefile tapsec)" "$BG_PID" || return 1
	ns "$W" wg set wg0 peer "$T_PUB" persistent-keepalive 1 \
		>"$(casefile wg)" 2>&1 ||
		{ echo "wg set: $(cat "$(casefile wg)")"; return 1; }
	wait_line "$(casefile tapsec)" "$BG_PID" rx_counter_reached=2 30 ||
		return 1
	app_args
	app=$(ns "$W" timeout 60 "${APP[@]}" --send 1 --expect 1 2>&1)
	echo "$app" >"$(casefile app)"
	wait "$BG_PID"
	out=$(cat "$(casefile tapsec)")
	has_lines "$app" sent=1 got=1 ok=1 &&
		has_lines "$out" handshake=ok got=1 ok=1 sent=1 rx_records=1 \
			rx_bytes=1 tx_records=1 "${CLEAN[@]}" || return 1
	n=$(value "$out" rx_counter)
	[ "${n:-0}" -ge 3 ] ||
		{ echo "rx_counter $n: the datagram came after fewer than 2" \
			"keepalives"; return 1; }
	n=$(value "$out" wire_keepalives)
	[ "${n:-0}" -ge 2 ] ||
		{ echo "wire_keepalives $n: fewer than 2 keepalives seen"
		  return 1; }
}

setup
tap_plan 20
wg_case ipv4_tapsec_initiates_both_ways tapsec_initiates 4 4
wg_case ipv4_wg_initiates_both_ways wg_initiates 4 4
wg_case inner_ipv6_tapsec_initiates tapsec_initiates 4 6
wg_case outer_ipv6_tapsec_initiates tapsec_initiates 6 4
wg_case outer_ipv6_inner_ipv6_wg_initiates wg_initiates 6 6
wg_case psk_tapsec_initiates tapsec_initiates 4 4 psk
wg_case psk_wg_initiates wg_initiates 4 4 psk
wg_case psk_mismatch_tapsec_initiates_response_refused psk_mismatch_initiator
wg_case psk_mismatch_wg_initiates_no_session psk_mismatch_responder
wg_case wrong_inner_port_rx_misrouted wrong_port
wg_case persistent_keepalives_consumed keepalives
wg_case daemon_ipv4_initiates_both_ways daemon_initiates 4 4
wg_case daemon_ipv6_initiates_both_ways daemon_initiates 6 6
wg_case daemon_psk_initiates daemon_initiates 4 4 psk
wg_case daemon_initiates_wg_sends_first daemon_wg_first
wg_case daemon_peer_not_in_trust_store_eacces daemon_refuses "$T_PUB" \
	EACCES "not in trust store"
wg_case daemon_ipv4_accepts_both_ways daemon_accepts 4 4
wg_case daemon_ipv6_accepts_both_ways daemon_accepts 6 6
wg_case daemon_psk_accepts daemon_accepts 4 4 psk
wg_case daemon_accept_untrusted_initiator_econnaborted daemon_accept_refuses
tap_done
