#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tapsec's ESP in UDP (TAPSEC_PROTO_ESP, RFC 4303 and RFC 3948) against the
# kernel's own IPsec (xfrm), inside a VM with tapsec.ko loaded: two network
# namespaces joined by a veth pair, tesp-t (10.98.0.1, fd98::1) with a
# tapsec ESP socket on UDP port 4500 (esp_peer.py), and tesp-x (10.98.0.2,
# fd98::2) with transport-mode xfrm SAs and policies for one UDP flow
# (inner ports 5001 on the tapsec side, 5002 on the xfrm side), an
# ESP-in-UDP socket on 4500 (UDP_ENCAP_ESPINUDP) and a plain UDP socket on
# 5002 as the application.
#
#  - each cipher (AES-GCM-128, AES-GCM-256, ChaCha20-Poly1305), IPv4:
#    datagrams of 1 to 3000 bytes (ESP padding of 0 to 3 bytes, the last
#    one IP-fragmented) tapsec to xfrm and xfrm to tapsec, all intact
#    (in any order: UDP keeps none, and a fragmented datagram may come
#    after the next); tapsec's counters (records, bytes, sequence numbers, no
#    errors) and the xfrm SA's (packets, sequence numbers, no integrity or
#    replay failures) agree;
#  - an echo on one tapsec socket, both SAs in use, over IPv4 and IPv6;
#    the largest datagram (TAPSEC_ESP_MAX_PAYLOAD) echoed;
#  - IPv6 outer addresses, AES-GCM-128, both directions;
#  - extended sequence numbers (AES-GCM-128, ChaCha20-Poly1305): an echo
#    whose numbers cross 2^32 both ways, xfrm's SAs (flag esn) starting
#    where tapsec's do; every packet verifies on both sides and both
#    sides' SAs end in the next 2^32;
#  - a wrong key at either end: the receiver drops every packet (tapsec
#    counts rx_bad_tag, xfrm an integrity failure) and delivers nothing;
#  - a wrong SPI at either end: tapsec counts rx_bad_spi, xfrm finds no
#    state; nothing is delivered;
#  - inner UDP ports other than the inbound SA's: tapsec delivers nothing
#    and counts rx_bad_record;
#  - every packet duplicated (netem): each receiver takes each datagram
#    once and counts the copies as replays (rx_replayed, xfrm's replay);
#  - on the wire, AES-GCM-128 and ChaCha20-Poly1305: tapsec's packets,
#    opened with the key by the kernel's AEAD (AF_ALG), have what xfrm
#    does not check: padding 1, 2, 3..., the inner UDP header's length and
#    checksum; xfrm's own packets, decoded the same way, are the control.
#
# esp_peer.py (selftests/tapsec/esp_peer.py) is both tapsec's end and the
# application behind xfrm (--plain).  Without ESP in the kernel (no
# TAPSEC_PROTO_ESP, or no esp4/esp6) every case fails, saying why.  A
# kernel without CONFIG_NETFILTER (the debug kernel's config) fails the
# cases where xfrm receives over IPv6: its xfrm6_transport_finish() then
# leaves decrypted ESP-in-UDP packets on the UDP_ENCAP socket, and the
# case says so.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"
# shellcheck source=../lib/netns.sh
. "$top/selftests/lib/netns.sh"

. "$top/selftests/lib/pyzygote.sh"

# esp_peer.py, as a module compiled by make into build/pycache, run in a
# Python zygote (selftests/lib/pyzygote.sh) that setup starts: a start of
# python3 costs one to several seconds under TCG, a fork of the zygote a
# fraction.  PEER is the command.
export PYTHONPATH=$top/selftests/tapsec PYTHONPYCACHEPREFIX=$top/build/pycache
PEER=()

T=tesp-t		# network namespaces: tapsec's
X=tesp-x		# and xfrm's
T4=10.98.0.1
X4=10.98.0.2
T6=fd98::1
X6=fd98::2
T_PORT=5001		# inner UDP ports: the tapsec side's application
X_PORT=5002		# and the xfrm side's
SPI_TX=0x1001		# tapsec to xfrm
SPI_RX=0x2002		# xfrm to tapsec
# Keys and salts, tapsec to xfrm (1) and xfrm to tapsec (2); 128-bit
# ciphers take the first 16 bytes.
KEY1=4a6f8c1d2e3b5a7980f1e2d3c4b5a69788796a5b4c3d2e1f0f1e2d3c4b5a6978
SALT1=a1b2c3d4
KEY2=9e8d7c6b5a49382716f5e4d3c2b1a0918273645546372819a0b1c2d3e4f50617
SALT2=5e6f7a8b
# Payload sizes: ESP padding of 1, 0 and 3 bytes (ESP's 2-byte trailer,
# 8-byte inner UDP header), 2, 2, then one IP-fragmented, and one after.
SIZES=1,2,3,100,1400,3000,1
# The largest payload of one ESP packet in IPv4 (TAPSEC_ESP_MAX_PAYLOAD):
# 65507 bytes of UDP payload less ESP's 45.
ESP_MAX=65462
# With netem duplicating every packet: no fragments, whose copies make
# IP reassembly, not ESP, the subject.
DUP_SIZES=1,2,3,100,1400

# count LIST: how many items the comma-separated LIST has.
count() {
	local -a items
	IFS=, read -r -a items <<<"$1"
	echo "${#items[@]}"
}
SIZES_N=$(count "$SIZES")
SIZES_BYTES=$((${SIZES//,/+}))
DUP_N=$(count "$DUP_SIZES")

work=$(mktemp -d /tmp/esp_xfrm_test.XXXXXX)
SETUP_ERR=""		# why no case can run
MODPROBE_ERR=""		# what modprobe said, if it failed
ENCAP_PID=""		# the ESP-in-UDP sockets of tesp-x

cleanup() {
	local n
	[ -z "$ENCAP_PID" ] || { kill "$ENCAP_PID"; wait "$ENCAP_PID"; } 2>/dev/null
	pyzygote_stop
	for n in "$T" "$X"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

# ----------------------------------------------------------------- setup --

setup_netns() {
	ip netns add "$T" && ip netns add "$X" &&
	ip link add veth-t netns "$T" type veth peer name veth-x netns "$X" &&
	ip -n "$T" addr add "$T4/24" dev veth-t &&
	ip -n "$T" addr add "$T6/64" dev veth-t nodad &&
	ip -n "$X" addr add "$X4/24" dev veth-x &&
	ip -n "$X" addr add "$X6/64" dev veth-x nodad &&
	ip -n "$T" link set veth-t up && ip -n "$X" link set veth-x up &&
	ip -n "$T" link set lo up && ip -n "$X" link set lo up
}

# wait_ready FILE PID: FILE (the output of PID) has its "ready" line, 30 s
# at most (python starts slowly on the debug kernel).
wait_ready() {
	local i line
	for ((i = 0; i < 300; i++)); do
		while IFS= read -r line; do
			[ "$line" = ready ] && return 0
		done <"$1"
		kill -0 "$2" 2>/dev/null || break
		tap_sleep 0.1
	done
	echo "no \"ready\" from ${1##*/}:"
	tail -n 10 "$1" | sed 's/^/  /'
	return 1
}

setup() {
	local out
	# Built in on the debug kernel; modules elsewhere.  A failure here is
	# told by each case whose ip xfrm command then fails.
	out=$(modprobe -a esp4 esp6 xfrm_user sch_netem algif_aead 2>&1) ||
		MODPROBE_ERR="modprobe: $out"
	setup_netns >"$work/setup.log" 2>&1 ||
		{ SETUP_ERR="network namespaces: $(tail -n 1 "$work/setup.log")"; return; }
	pyzygote_start "$work" esp_peer >"$work/pyzygote.err" ||
		{ SETUP_ERR=$(<"$work/pyzygote.err"); return; }
	pyzygote_cmd esp_peer
	PEER=("${PYZYGOTE_CMD[@]}")
	out=$(ns "$T" "${PEER[@]}" probe 2>&1) ||
		{ SETUP_ERR="the kernel has no tapsec ESP socket: $out"; return; }
	# nsrun itself in the background: $! is then the helper's pid,
	# whose /proc/PID/net is tesp-x's.
	: >"$work/encap.out"
	"$NSRUN" "$X" 0 "${PEER[@]}" encap --bind 4500 \
		</dev/null >"$work/encap.out" 2>&1 &
	ENCAP_PID=$!
	wait_ready "$work/encap.out" "$ENCAP_PID" >"$work/encap.err" ||
		SETUP_ERR="tesp-x's ESP-in-UDP sockets: $(cat "$work/encap.err")"
}

# ---------------------------------------------------------------- helpers --

# Files of the current case (a receiver's output and such), shown on failure.
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

# Counters of a tapsec socket that stay 0 when all goes well.
CLEAN=(refused_nokey=0 rx_bad_tag=0 rx_bad_record=0 rx_oversize=0
	rx_replayed=0 rx_bad_spi=0)

# sa_vars CIPHER FAMILY: the variables of a case: addresses (TA, XA, the
# xfrm side's OA and PLEN), the cipher (CIPHER, its TAPSEC_CIPHER_* in
# CNUM, its xfrm name ALG), each end's SPIs and keys (T_*: tapsec's, X_*:
# xfrm's; 1: tapsec to xfrm, 2: xfrm to tapsec), and the inner ports
# tapsec's inbound SA expects (T_RX_SPORT, T_RX_DPORT).  A case changes
# one of them to make the two ends disagree.
sa_vars() {
	local hex=64
	CIPHER=$1
	case $1 in
	aes128gcm) CNUM=51 ALG='rfc4106(gcm(aes))' hex=32 ;;
	aes256gcm) CNUM=52 ALG='rfc4106(gcm(aes))' ;;
	chacha20) CNUM=54 ALG='rfc7539esp(chacha20,poly1305)' ;;
	esac
	if [ "$2" = 6 ]; then
		TA=$T6 XA=$X6 OA=:: PLEN=128
	else
		TA=$T4 XA=$X4 OA=0.0.0.0 PLEN=32
	fi
	T_SPI1=$SPI_TX X_SPI1=$SPI_TX T_SPI2=$SPI_RX X_SPI2=$SPI_RX
	T_KEY1=${KEY1:0:hex} X_KEY1=${KEY1:0:hex}
	T_KEY2=${KEY2:0:hex} X_KEY2=${KEY2:0:hex}
	T_RX_SPORT=$X_PORT T_RX_DPORT=$T_PORT
	# More of each SA: ip xfrm state words (X_OPT1/2), esp_peer.py SA
	# fields (T_OPT1/2, with their comma).
	X_OPT1='' X_OPT2='' T_OPT1='' T_OPT2=''
}

# flip HEX: HEX with its last byte changed.
flip() { printf '%s%02x' "${1:0:-2}" $((0x${1: -2} ^ 0x5a)); }

# xfrm_install: tesp-x's SAs and policies, and nothing else, for the case's
# variables: SA X_SPI1 takes TA:5001 to XA:5002, SA X_SPI2 the way back,
# both transport mode in UDP 4500 to 4500.  One ip -batch: processes cost
# on TCG.
xfrm_install() {
	local log
	log=$(casefile xfrm)
	ns "$X" ip -batch - >"$log" 2>&1 <<-EOF && return 0
		xfrm state flush
		xfrm policy flush
		xfrm state add src $TA dst $XA proto esp spi $X_SPI1 reqid 1 \
			mode transport replay-window 32 $X_OPT1 \
			aead $ALG 0x$X_KEY1$SALT1 128 encap espinudp 4500 4500 $OA
		xfrm state add src $XA dst $TA proto esp spi $X_SPI2 reqid 2 \
			mode transport replay-window 32 $X_OPT2 \
			aead $ALG 0x$X_KEY2$SALT2 128 encap espinudp 4500 4500 $OA
		xfrm policy add src $XA/$PLEN dst $TA/$PLEN \
			proto udp sport $X_PORT dport $T_PORT dir out \
			tmpl src $XA dst $TA proto esp reqid 2 mode transport
		xfrm policy add src $TA/$PLEN dst $XA/$PLEN \
			proto udp sport $T_PORT dport $X_PORT dir in \
			tmpl src $TA dst $XA proto esp reqid 1 mode transport
	EOF
	echo "cannot install the xfrm SAs ($CIPHER): $(tail -n 3 "$log")"
	[ -z "$MODPROBE_ERR" ] || echo "$MODPROBE_ERR"
	return 1
}

# tapsec_args MODE: in TAPSEC, esp_peer.py MODE on a tapsec socket with
# the case's SAs, to spawn in tesp-t; tapsec MODE ARGS... runs it there.
tapsec_args() {
	TAPSEC=("${PEER[@]}" "$1" --peer "$XA"
		--tx "$T_SPI1,$CIPHER,$T_PORT,$X_PORT,$T_KEY1,$SALT1$T_OPT1"
		--rx "$T_SPI2,$CIPHER,$T_RX_SPORT,$T_RX_DPORT,$T_KEY2,$SALT2$T_OPT2")
}

tapsec() {
	tapsec_args "$1"
	shift
	ns "$T" timeout 60 "${TAPSEC[@]}" "$@"
}

# app_args MODE: in APP, esp_peer.py MODE as the xfrm side's application,
# a plain UDP socket on XA:5002 whose peer is TA:5001; app MODE ARGS...
# runs it in tesp-x.
app_args() {
	APP=("${PEER[@]}" "$1" --plain --local "$XA" --bind "$X_PORT"
		--peer "$TA" --port "$T_PORT")
}

app() {
	app_args "$1"
	shift
	ns "$X" timeout 60 "${APP[@]}" "$@"
}

# xfrm_stats SPI: tesp-x's SA SPI as `ip -s xfrm state` shows it: in XS,
# packets (lifetime), replay_window, replay, failed (stats), seq, oseq
# (anti-replay context, decimal); the whole text in XS_TEXT.
declare -A XS
xfrm_stats() {
	local re
	XS=()
	XS_TEXT=$(ns "$X" ip -s xfrm state list spi "$1" 2>&1) || return 1
	re='\(bytes\), ([0-9]+)\(packets\)'
	[[ $XS_TEXT =~ $re ]] && XS[packets]=${BASH_REMATCH[1]}
	re='replay-window ([0-9]+) replay ([0-9]+) failed ([0-9]+)'
	[[ $XS_TEXT =~ $re ]] && XS[replay_window]=${BASH_REMATCH[1]} &&
		XS[replay]=${BASH_REMATCH[2]} XS[failed]=${BASH_REMATCH[3]}
	re='seq 0x([0-9a-f]+), oseq 0x([0-9a-f]+)'
	[[ $XS_TEXT =~ $re ]] && XS[seq]=$((16#${BASH_REMATCH[1]})) &&
		XS[oseq]=$((16#${BASH_REMATCH[2]}))
	return 0
}

# xfrm_check SPI NAME=VALUE...: tesp-x's SA SPI has these (xfrm_stats).
xfrm_check() {
	local spi=$1 kv bad=""
	shift
	xfrm_stats "$spi" || { echo "ip -s xfrm state: $XS_TEXT"; return 1; }
	for kv; do
		[ "${XS[${kv%%=*}]-?}" = "${kv#*=}" ] ||
			bad+=" ${kv%%=*} ${XS[${kv%%=*}]-?} (not ${kv#*=})"
	done
	[ -z "$bad" ] && return 0
	echo "xfrm SA $spi:$bad"
	sed 's/^/  /' <<<"$XS_TEXT"
	return 1
}

# wait_xfrm SPI NAME VALUE: the SA's NAME reaches VALUE (20 s at most).
wait_xfrm() {
	local i
	for ((i = 0; i < 200; i++)); do
		xfrm_stats "$1" && [ "${XS[$2]-}" = "$3" ] && return 0
		tap_sleep 0.1
	done
	echo "xfrm SA $1: $2 is ${XS[$2]-?}, not $3"
	sed 's/^/  /' <<<"$XS_TEXT"
	return 1
}

# udp_in: UDP datagrams tesp-x took in (IPv4; ESP in UDP included).
# Read in the encap helper's /proc/PID/net: no process per poll.
udp_in() {
	local tag in names=""
	while read -r tag in _; do
		[ "$tag" = Udp: ] || continue
		[ -n "$names" ] || { names=1; continue; }	# the names' line
		echo "$in"
		return
	done <"/proc/$ENCAP_PID/net/snmp"
}

# xfrm_mib NAME: tesp-x's /proc/net/xfrm_stat NAME ("" without
# CONFIG_XFRM_STATISTICS, as on the debug kernel).
xfrm_mib() {
	local name val
	[ -e "/proc/$ENCAP_PID/net/xfrm_stat" ] || return 0
	while read -r name val; do
		[ "$name" = "$1" ] && { echo "$val"; return; }
	done <"/proc/$ENCAP_PID/net/xfrm_stat"
}

# encap6_queue: the bytes waiting on tesp-x's IPv6 UDP_ENCAP socket (hex,
# as /proc/net/udp6 shows them).
encap6_queue() {
	local addr queues
	while read -r _ addr _ _ queues _; do
		[ "${addr##*:}" = 1194 ] && { echo "${queues#*:}"; return; }
	done <"/proc/$ENCAP_PID/net/udp6"
}

# encap6_stuck BEFORE: why IPv6 packets to xfrm went nowhere, if the reason
# is the known one: without CONFIG_NETFILTER (the debug kernel's config),
# xfrm6_transport_finish() returns 1 to the ESP-in-UDP receive path,
# which takes it for "not ESP" and queues the decrypted packet on the
# UDP_ENCAP socket: more bytes wait there than BEFORE.
encap6_stuck() {
	local now nf=""
	now=$(encap6_queue)
	[ -n "$now" ] && [ $((16#$now)) -gt $((16#${1:-0})) ] || return 0
	[ -d "/proc/$ENCAP_PID/net/netfilter" ] || nf=", which this kernel lacks"
	echo "xfrm queued IPv6 ESP-in-UDP packets on its UDP_ENCAP socket" \
		"(rx_queue 0x$now) instead of delivering them:" \
		"xfrm6_transport_finish() without CONFIG_NETFILTER$nf;" \
		"IPv6 transport mode in UDP cannot work on this kernel"
}

# netem NETNS DEV ARGS...: a netem qdisc on DEV, taken out by run_case.
NETEM_ON=""
netem() {
	local n=$1 dev=$2
	shift 2
	NETEM_ON=1
	ns "$n" tc qdisc replace dev "$dev" root netem "$@" ||
		{ echo "cannot add netem $* on $dev"; [ -z "$MODPROBE_ERR" ] ||
			echo "$MODPROBE_ERR"; return 1; }
}

# Two tc processes: only after a case that added netem.
netem_off() {
	[ -n "$NETEM_ON" ] || return 0
	NETEM_ON=""
	ns "$T" tc qdisc del dev veth-t root 2>/dev/null
	ns "$X" tc qdisc del dev veth-x root 2>/dev/null
	return 0
}

# run_case FUNC ARGS...: one case; its files printed when it fails.
run_case() {
	local rc=0 f pid queue
	CASE_PIDS=()
	queue=$(encap6_queue)
	"$@" || rc=$?
	for pid in "${CASE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	netem_off
	[ "$rc" -eq 0 ] && return 0
	encap6_stuck "$queue"
	for f in "$work/case$TAP_N".*; do
		[ -s "$f" ] || continue
		echo "${f##*/}:"
		grep -v '=0$' "$f" | tail -n 30 | sed 's/^/  /'
	done
	return "$rc"
}

cannot() { echo "cannot run: $1"; return 1; }

esp_case() {
	local name=$1
	shift
	tap_variant "$name" "$1" && return
	if [ -n "$SETUP_ERR" ]; then
		tap_case "$name" cannot "$SETUP_ERR"
		return
	fi
	tap_case "$name" run_case "$@"
}

# ------------------------------------------------------ both ways, echo --

# to_xfrm CIPHER FAMILY: tapsec sends $SIZES; the application behind xfrm
# gets each datagram, from TA:5001, in any order; tapsec's tx counters and the
# xfrm SA's counters (packets, highest sequence number) say SIZES_N, no
# failures.
to_xfrm() {
	local out rx
	sa_vars "$@" && xfrm_install || return 1
	app_args recv
	spawn "$X" rx "${APP[@]}" --sizes "$SIZES"
	wait_ready "$(casefile rx)" "$BG_PID" || return 1
	out=$(tapsec send --sizes "$SIZES" 2>&1)
	echo "$out" >"$(casefile tx)"
	wait "$BG_PID"
	rx=$(cat "$(casefile rx)")
	has_lines "$rx" "got=$SIZES_N" "ok=$SIZES_N" "src=$TA,$T_PORT" &&
		has_lines "$out" "sent=$SIZES_N" protocol=3 "tx_cipher=$CNUM" \
			"tx_records=$SIZES_N" "tx_bytes=$SIZES_BYTES" \
			"tx_seq=$SIZES_N" "${CLEAN[@]}" &&
		xfrm_check "$X_SPI1" packets="$SIZES_N" seq="$SIZES_N" failed=0 \
			replay=0 replay_window=0
}

# from_xfrm CIPHER FAMILY: the application behind xfrm sends $SIZES;
# tapsec reads each datagram (in any order); its rx counters and the xfrm SA's
# (packets, last sequence number sent) say SIZES_N, no failures.
from_xfrm() {
	local out rx
	sa_vars "$@" && xfrm_install || return 1
	tapsec_args recv
	spawn "$T" rx "${TAPSEC[@]}" --sizes "$SIZES"
	wait_ready "$(casefile rx)" "$BG_PID" || return 1
	out=$(app send --sizes "$SIZES" 2>&1)
	echo "$out" >"$(casefile tx)"
	wait "$BG_PID"
	rx=$(cat "$(casefile rx)")
	has_lines "$out" "sent=$SIZES_N" &&
		has_lines "$rx" "got=$SIZES_N" "ok=$SIZES_N" protocol=3 \
			"rx_cipher=$CNUM" "rx_records=$SIZES_N" \
			"rx_bytes=$SIZES_BYTES" "rx_seq=$SIZES_N" "${CLEAN[@]}" &&
		xfrm_check "$X_SPI2" packets="$SIZES_N" oseq="$SIZES_N" failed=0
}

# echo_xfrm FAMILY [SIZES]: the application behind xfrm sends each of
# SIZES ($SIZES by default) and waits for it to come back from tapsec's
# echo: one tapsec socket receives and sends, both SAs of each end carry
# every packet.
echo_xfrm() {
	local sizes=${2:-$SIZES} n
	n=$(count "$sizes")
	sa_vars aes128gcm "$1" && xfrm_install && echo_run "$sizes" "$n" &&
		xfrm_check "$X_SPI1" packets="$n" seq="$n" failed=0 replay=0 \
			replay_window=0 &&
		xfrm_check "$X_SPI2" packets="$n" oseq="$n"
}

# echo_run SIZES LAST: the echo of echo_xfrm on the installed SAs; both
# of tapsec's SAs end at sequence number LAST.
echo_run() {
	local out srv n
	n=$(count "$1")
	tapsec_args echo
	spawn "$T" srv "${TAPSEC[@]}" --sizes "$1"
	wait_ready "$(casefile srv)" "$BG_PID" || return 1
	out=$(app ping --sizes "$1" 2>&1)
	echo "$out" >"$(casefile ping)"
	wait "$BG_PID"
	srv=$(cat "$(casefile srv)")
	has_lines "$out" "got=$n" "ok=$n" &&
		has_lines "$srv" "echoed=$n" "tx_records=$n" "rx_records=$n" \
			"tx_seq=$2" "rx_seq=$2" "${CLEAN[@]}"
}

# esn_echo CIPHER: echo_xfrm over SAs with extended sequence numbers
# (RFC 4303 2.2.1) whose numbers start 16 below 2^32 on both sides: xfrm's
# outbound SA (replay-oseq) and tapsec's (esn=LAST), xfrm's inbound window
# where tapsec's SA starts (replay-seq).  Forty datagrams each way cross
# into the next 2^32: every one must verify on both sides, whose ICVs
# cover the high half that the packets do not carry, and both SAs of
# xfrm and of tapsec end at 2^32 + 24.
esn_echo() {
	local last=$((0xfffffff0))
	sa_vars "$1" 4
	X_OPT1="replay-seq $(printf '0x%x' $last) flag esn"
	X_OPT2="replay-oseq $(printf '0x%x' $last) flag esn"
	T_OPT1=",esn=$last" T_OPT2=",esn"
	xfrm_install && echo_run "$(seq -s, 1 40)" $((last + 40)) || return 1
	xfrm_stats "$X_SPI1" &&
		[[ $XS_TEXT == *"seq-hi 0x1, seq 0x18,"* ]] &&
		[ "${XS[failed]}" = 0 ] && [ "${XS[replay]}" = 0 ] ||
		{ echo "xfrm's inbound SA:"; echo "$XS_TEXT"; return 1; }
	xfrm_stats "$X_SPI2" && [[ $XS_TEXT == *"oseq-hi 0x1, oseq 0x18"* ]] ||
		{ echo "xfrm's outbound SA:"; echo "$XS_TEXT"; return 1; }
}

# ------------------------------------------------------ what is dropped --

# to_xfrm_dropped WHY: tapsec sends $SIZES with the wrong key (WHY=key) or
# an SPI xfrm has no state for (spi); xfrm drops every one (an integrity
# failure each; for the SPI, every datagram reached UDP and, with
# CONFIG_XFRM_STATISTICS, XfrmInNoStates counts them), the application
# gets nothing.  It waits for esp_peer.py stop, sent once xfrm took
# them all.
to_xfrm_dropped() {
	local out rx in0 in1 nostate0 i
	sa_vars aes128gcm 4
	case $1 in
	key) T_KEY1=$(flip "$T_KEY1") ;;
	spi) T_SPI1=0x1003 ;;
	esac
	xfrm_install || return 1
	in0=$(udp_in)
	nostate0=$(xfrm_mib XfrmInNoStates)
	app_args recv
	spawn "$X" rx "${APP[@]}" --wait-stop --timeout 60
	wait_ready "$(casefile rx)" "$BG_PID" || return 1
	out=$(tapsec send --sizes "$SIZES" 2>&1)
	echo "$out" >"$(casefile tx)"
	has_lines "$out" "sent=$SIZES_N" "tx_records=$SIZES_N" || return 1
	if [ "$1" = key ]; then
		wait_xfrm "$X_SPI1" failed "$SIZES_N" || return 1
	else
		for ((i = 0; i < 200; i++)); do
			in1=$(udp_in)
			[ $((in1 - in0)) -ge "$SIZES_N" ] && break
			tap_sleep 0.1
		done
	fi
	ns "$X" "${PEER[@]}" stop "$XA" "$X_PORT"
	wait "$BG_PID"
	rx=$(cat "$(casefile rx)")
	has_lines "$rx" got=0 || return 1
	if [ "$1" = key ]; then
		xfrm_check "$X_SPI1" packets=0 failed="$SIZES_N" seq=0
		return
	fi
	[ $((in1 - in0)) = "$SIZES_N" ] ||
		{ echo "tesp-x's UDP took $((in1 - in0)) datagrams, not $SIZES_N"
		  return 1; }
	xfrm_check "$X_SPI1" packets=0 failed=0 || return 1
	[ -z "$nostate0" ] && return 0
	i=$(($(xfrm_mib XfrmInNoStates) - nostate0))
	[ "$i" = "$SIZES_N" ] ||
		{ echo "XfrmInNoStates rose by $i, not $SIZES_N"; return 1; }
}

# from_xfrm_dropped WHY COUNTER: xfrm sends $SIZES, but tapsec's inbound
# SA has another key (WHY=key), another SPI (spi) or other inner ports
# (ports); tapsec delivers nothing and counts each packet in COUNTER.
from_xfrm_dropped() {
	local out rx
	sa_vars aes128gcm 4
	case $1 in
	key) T_KEY2=$(flip "$T_KEY2") ;;
	spi) T_SPI2=0x2003 ;;
	ports) T_RX_SPORT=$((X_PORT + 10)) ;;
	esac
	xfrm_install || return 1
	tapsec_args recv
	spawn "$T" rx "${TAPSEC[@]}" --until "$2=$SIZES_N" --timeout 30
	wait_ready "$(casefile rx)" "$BG_PID" || return 1
	out=$(app send --sizes "$SIZES" 2>&1)
	echo "$out" >"$(casefile tx)"
	wait "$BG_PID"
	rx=$(cat "$(casefile rx)")
	has_lines "$out" "sent=$SIZES_N" &&
		has_lines "$rx" got=0 rx_records=0 "$2=$SIZES_N" &&
		xfrm_check "$X_SPI2" packets="$SIZES_N" oseq="$SIZES_N"
}

# dup_to_xfrm: netem sends every packet of tesp-t twice; the application
# gets each datagram once, xfrm counts DUP_N replays.
dup_to_xfrm() {
	local out rx
	sa_vars aes128gcm 4 && xfrm_install || return 1
	netem "$T" veth-t duplicate 100% || return 1
	app_args recv
	spawn "$X" rx "${APP[@]}" --sizes "$DUP_SIZES"
	wait_ready "$(casefile rx)" "$BG_PID" || return 1
	out=$(tapsec send --sizes "$DUP_SIZES" 2>&1)
	echo "$out" >"$(casefile tx)"
	wait "$BG_PID"
	rx=$(cat "$(casefile rx)")
	has_lines "$rx" "got=$DUP_N" "ok=$DUP_N" &&
		has_lines "$out" "tx_records=$DUP_N" &&
		wait_xfrm "$X_SPI1" replay "$DUP_N" &&
		xfrm_check "$X_SPI1" packets="$DUP_N" seq="$DUP_N" failed=0
}

# dup_from_xfrm: netem sends every packet of tesp-x twice; tapsec, with
# the smallest replay window, reads each datagram once and counts DUP_N
# in rx_replayed.
dup_from_xfrm() {
	local out rx
	sa_vars aes128gcm 4 && xfrm_install || return 1
	netem "$X" veth-x duplicate 100% || return 1
	tapsec_args recv
	spawn "$T" rx "${TAPSEC[@]}" --sizes "$DUP_SIZES" --replay-window 32 \
		--until "rx_replayed=$DUP_N"
	wait_ready "$(casefile rx)" "$BG_PID" || return 1
	out=$(app send --sizes "$DUP_SIZES" 2>&1)
	echo "$out" >"$(casefile tx)"
	wait "$BG_PID"
	rx=$(cat "$(casefile rx)")
	has_lines "$rx" "got=$DUP_N" "ok=$DUP_N" "rx_records=$DUP_N" \
		"rx_replayed=$DUP_N" "rx_seq=$DUP_N" rx_bad_tag=0 rx_bad_spi=0
}

# ------------------------------------------------------------ the wire --

# wire CIPHER: the packets of an echo (IPv4), tapsec's and xfrm's, as a raw
# socket of each receiver sees them (it runs from before the first packet
# to after the last: no deadline that a slow start could pass), opened with the SA's key by the
# kernel's AEAD (AF_ALG; esp_peer.py sniff): header, sequence numbers 1
# to SIZES_N, distinct IVs, padding, next header, the inner UDP header
# and its checksum (which xfrm does not check in transport mode), and a
# zero outer UDP checksum.  xfrm's
# packets are the control: if they fail, the decoder is wrong.
wire() {
	local out tx_sniff rx_sniff srv
	sa_vars "$1" 4 && xfrm_install || return 1
	spawn "$X" tapsec-packets "${PEER[@]}" sniff --sizes "$SIZES" \
		--timeout 110 --rx "$T_SPI1,$CIPHER,$T_PORT,$X_PORT,$T_KEY1,$SALT1"
	tx_sniff=$BG_PID
	wait_ready "$(casefile tapsec-packets)" "$BG_PID" || return 1
	spawn "$T" xfrm-packets "${PEER[@]}" sniff --sizes "$SIZES" \
		--timeout 110 --rx "$T_SPI2,$CIPHER,$X_PORT,$T_PORT,$T_KEY2,$SALT2"
	rx_sniff=$BG_PID
	wait_ready "$(casefile xfrm-packets)" "$BG_PID" || return 1
	tapsec_args echo
	spawn "$T" srv "${TAPSEC[@]}" --sizes "$SIZES"
	srv=$BG_PID
	wait_ready "$(casefile srv)" "$BG_PID" || return 1
	out=$(app ping --sizes "$SIZES" 2>&1)
	echo "$out" >"$(casefile ping)"
	# Every packet of the echo is in: ping had its answers.  The
	# sniffers read what is queued and report.
	wait "$srv"
	kill "$tx_sniff" "$rx_sniff" 2>/dev/null
	wait "$tx_sniff" "$rx_sniff"
	has_lines "$out" "got=$SIZES_N" "ok=$SIZES_N" || return 1
	has_lines "$(cat "$(casefile xfrm-packets)")" "packets=$SIZES_N" \
		"ok=$SIZES_N" "seqs=1-$SIZES_N" ||
		{ echo "xfrm's packets do not decode: esp_peer.py sniff is wrong"
		  return 1; }
	has_lines "$(cat "$(casefile tapsec-packets)")" "packets=$SIZES_N" \
		"ok=$SIZES_N" "seqs=1-$SIZES_N" "ivs_distinct=$SIZES_N" || return 1
	# RFC 3948 2.1: a zero outer UDP checksum, as xfrm sends.
	zero_csums xfrm-packets && zero_csums tapsec-packets
}

# zero_csums NAME: every packet line of $(casefile NAME) has outer_csum=0.
zero_csums() {
	local line
	while IFS= read -r line; do
		[[ $line == "packet "*": seq="* ]] || continue
		[[ $line == *" outer_csum=0 "* ]] && continue
		echo "$1: an outer UDP checksum that is not zero: $line"
		return 1
	done <"$(casefile "$1")"
}

setup
tap_plan 22
for c in aes128gcm aes256gcm chacha20; do
	esp_case "ipv4_${c}_tapsec_to_xfrm" to_xfrm "$c" 4
	esp_case "ipv4_${c}_xfrm_to_tapsec" from_xfrm "$c" 4
done
esp_case ipv4_aes128gcm_xfrm_echo_by_tapsec echo_xfrm 4
esp_case ipv4_largest_datagram_xfrm_echo_by_tapsec echo_xfrm 4 "$ESP_MAX,1"
esp_case ipv6_aes128gcm_tapsec_to_xfrm to_xfrm aes128gcm 6
esp_case ipv6_aes128gcm_xfrm_to_tapsec from_xfrm aes128gcm 6
esp_case ipv6_aes128gcm_xfrm_echo_by_tapsec echo_xfrm 6
esp_case esn_aes128gcm_echo_across_2_32 esn_echo aes128gcm
esp_case esn_chacha20_echo_across_2_32 esn_echo chacha20
esp_case wrong_key_tapsec_to_xfrm_integrity_failures to_xfrm_dropped key
esp_case wrong_key_xfrm_to_tapsec_rx_bad_tag from_xfrm_dropped key rx_bad_tag
esp_case wrong_spi_tapsec_to_xfrm_no_state to_xfrm_dropped spi
esp_case wrong_spi_xfrm_to_tapsec_rx_bad_spi from_xfrm_dropped spi rx_bad_spi
esp_case wrong_inner_ports_xfrm_to_tapsec_rx_bad_record from_xfrm_dropped \
	ports rx_bad_record
esp_case duplicates_tapsec_to_xfrm_replays dup_to_xfrm
esp_case duplicates_xfrm_to_tapsec_rx_replayed dup_from_xfrm
esp_case wire_aes128gcm_packets_decoded wire aes128gcm
esp_case wire_chacha20_packets_decoded wire chacha20
tap_done
