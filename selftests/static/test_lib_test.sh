#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suites' own machinery, on the build host:
#  - selftests/lib/pyzygote.py and pyzygote-run: a run's argv, working
#    directory, stdin/stdout/stderr, exit status (sys.exit, return,
#    traceback, signal) and network namespace arrive as with python3 -m;
#    a signal sent to pyzygote-run reaches the peer; a pyzygote-run killed
#    with SIGKILL takes its peer along; stopping the zygote stops the rest;
#  - selftests/lib/nsrun (netns.sh's ns): the command runs in the named
#    namespace (by name or path) under its own pid, keeps its status,
#    ends with SIGALRM at the time limit, and errors have their statuses;
#  - selftests/lib/tapsec_harness.h: TAP_SLICE_VARIANTS=1 keeps a covering
#    slice of a fixture's variants, every test function still runs, and
#    without it every variant runs.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"
. "$top/selftests/lib/pyzygote.sh"
. "$top/selftests/lib/netns.sh"

work=$(mktemp -d)
NS=tsl-test$$
cleanup() {
	pyzygote_stop
	ip netns del "$NS" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# A peer module: "echo" prints argv, cwd, stdin, network namespace; exits
# with argv's status; "boom" raises; "wait" prints "ready" and waits for
# SIGUSR1 (prints "usr1") or dies of SIGTERM.
cat >"$work/zpeer.py" <<'PY'
import os, signal, sys, time

def main():
    mode = sys.argv[1]
    if mode == "echo":
        print("argv=" + "|".join(sys.argv[2:]))
        print("cwd=" + os.getcwd())
        print("stdin=" + sys.stdin.read().strip())
        print("netns=" + os.readlink("/proc/self/ns/net"))
        print("to-stderr", file=sys.stderr)
        sys.exit(int(sys.argv[2]))
    if mode == "ret":
        return 5
    if mode == "boom":
        raise RuntimeError("boom")
    if mode == "wait":
        signal.signal(signal.SIGUSR1,
                      lambda s, f: (print("usr1", flush=True), sys.exit(3)))
        print("pid=%d" % os.getpid(), flush=True)
        while True:
            time.sleep(1)
PY

export PYTHONPATH=$work
run=("$top/build/selftests/lib/pyzygote-run")

# wait_line FILE ERE: FILE gets a line matching ERE within 10 s.
wait_line() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ $(<"$1") =~ $2 ]] && return 0
		tap_sleep 0.05
	done
	echo "no /$2/ in $1: $(<"$1")"
	return 1
}

zygote_echo() {
	local out rc
	mkdir -p "$work/cwd"
	out=$(cd "$work/cwd" && echo hello |
		"${PYZYGOTE_CMD[@]}" echo 7 "a b" "" 2>"$work/err")
	rc=$?
	[ "$rc" -eq 7 ] || { echo "status $rc, not 7"; return 1; }
	[[ $out == *"argv=7|a b|"$'\n'* ]] || { echo "argv: $out"; return 1; }
	[[ $out == *"cwd=$work/cwd"* ]] || { echo "cwd: $out"; return 1; }
	[[ $out == *"stdin=hello"* ]] || { echo "stdin: $out"; return 1; }
	[ "$(<"$work/err")" = to-stderr ] || { echo "stderr: $(<"$work/err")"; return 1; }
}

zygote_status() {
	local rc
	"${PYZYGOTE_CMD[@]}" ret; rc=$?
	[ "$rc" -eq 5 ] || { echo "main() returning 5: status $rc"; return 1; }
	"${PYZYGOTE_CMD[@]}" boom 2>"$work/err"; rc=$?
	[ "$rc" -eq 1 ] || { echo "an exception: status $rc"; return 1; }
	grep -q 'RuntimeError: boom' "$work/err" ||
		{ echo "no traceback: $(<"$work/err")"; return 1; }
	"$top/build/selftests/lib/pyzygote-run" "$PYZYGOTE_SOCK" nosuch \
		2>"$work/err"; rc=$?
	[ "$rc" -eq 127 ] || { echo "unknown module: status $rc"; return 1; }
	"$top/build/selftests/lib/pyzygote-run" "$work/nosock" zpeer ret \
		2>/dev/null; rc=$?
	[ "$rc" -eq 125 ] || { echo "no zygote: status $rc"; return 1; }
}

zygote_netns() {
	local out want
	ip netns add "$NS" || { echo "ip netns add failed"; return 1; }
	want=$(nsenter --net="/run/netns/$NS" readlink /proc/self/ns/net)
	out=$(nsenter --net="/run/netns/$NS" "${PYZYGOTE_CMD[@]}" echo 0 \
		</dev/null 2>/dev/null)
	[[ $out == *"netns=$want"* ]] ||
		{ echo "netns: want $want in: $out"; return 1; }
}

# waiter FILE: "zpeer wait" in the background, its output in FILE, once it
# runs: pyzygote-run's pid in RUN_PID, the peer's in PEER_PID.
waiter() {
	: >"$1"
	"${PYZYGOTE_CMD[@]}" wait >"$1" 2>&1 &
	RUN_PID=$!
	wait_line "$1" 'pid=[0-9]+' || return 1
	[[ $(<"$1") =~ pid=([0-9]+) ]] && PEER_PID=${BASH_REMATCH[1]}
}

# gone PID WHAT: PID ends within 5 s.
gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		tap_sleep 0.05
	done
	echo "peer $1 outlived $2"
	return 1
}

zygote_signals() {
	local rc
	waiter "$work/w1" || return 1
	kill -USR1 "$RUN_PID"
	wait "$RUN_PID"; rc=$?
	[ "$rc" -eq 3 ] || { echo "after SIGUSR1: status $rc"; return 1; }
	grep -q '^usr1$' "$work/w1" || { echo "no usr1: $(<"$work/w1")"; return 1; }
	waiter "$work/w2" || return 1
	kill -TERM "$RUN_PID"
	wait "$RUN_PID"; rc=$?
	[ "$rc" -eq 143 ] || { echo "after SIGTERM: status $rc, not 143"; return 1; }
	# SIGKILL cannot be passed on: the zygote sees its end close.
	waiter "$work/w3" || return 1
	kill -KILL "$RUN_PID"
	wait "$RUN_PID" 2>/dev/null
	gone "$PEER_PID" "its killed pyzygote-run"
}

zygote_stop_kills_peers() {
	waiter "$work/w4" || return 1
	pyzygote_stop
	gone "$PEER_PID" "the zygote" || return 1
	wait 2>/dev/null
}

# A harness program with a fixture of 8 variants (v x cipher x family)
# and two tests, one whose variant has a word longer than the slice
# stores, and a plain test, none touching tapsec.
cat >"$work/slice.c" <<'C'
#include "tapsec_harness.h"
FIXTURE(f) {};
FIXTURE_VARIANT(f) { int x; };
FIXTURE_VARIANT_ADD(f, tls12_aes128_ipv4) { 0 };
FIXTURE_VARIANT_ADD(f, tls12_aes128_ipv6) { 0 };
FIXTURE_VARIANT_ADD(f, tls12_chacha20_ipv4) { 0 };
FIXTURE_VARIANT_ADD(f, tls12_chacha20_ipv6) { 0 };
FIXTURE_VARIANT_ADD(f, tls13_aes128_ipv4) { 0 };
FIXTURE_VARIANT_ADD(f, tls13_aes128_ipv6) { 0 };
FIXTURE_VARIANT_ADD(f, tls13_chacha20_ipv4) { 0 };
FIXTURE_VARIANT_ADD(f, tls13_chacha20_ipv6) { 0 };
FIXTURE_SETUP(f) {}
FIXTURE_TEARDOWN(f) {}
TEST_F(f, one) {}
TEST_F(f, two) {}
TEST(plain) {}
FIXTURE(g) {};
FIXTURE_VARIANT(g) { int x; };
FIXTURE_VARIANT_ADD(g, c) { 0 };
FIXTURE_VARIANT_ADD(g, x_a_word_longer_than_the_table_keeps_of_it) { 0 };
FIXTURE_SETUP(g) {}
FIXTURE_TEARDOWN(g) {}
TEST_F(g, one) {}
TAPSEC_HARNESS_MAIN
C

slice_build() {
	local ksrc
	ksrc=$("$top/tools/ksrc-extract") || { echo "no kernel source"; return 1; }
	cc -std=gnu11 -Wall -Werror -I"$top/selftests/lib" \
		-I"$ksrc/tools/testing/selftests" -o "$work/slice" "$work/slice.c" \
		>"$work/cc.log" 2>&1 || { cat "$work/cc.log"; return 1; }
}

slice_full() {
	local out
	out=$("$work/slice" 2>&1) || { echo "$out"; return 1; }
	[[ $out == *$'\n1..19\n'* ]] || { echo "not 19 cases: $out"; return 1; }
}

# First variant, then the one with the most new words (tls13, chacha20,
# ipv6): 2 variants of 8, both tests each, the plain test, and both of g's
# variants.
slice_cover() {
	local out
	out=$(TAP_SLICE_VARIANTS=1 "$work/slice" 2>&1) || { echo "$out"; return 1; }
	[[ $out == *$'\n1..7\n'* ]] || { echo "not 7 cases: $out"; return 1; }
	[[ $out == *"ok "*" f.tls12_aes128_ipv4.one"* &&
	   $out == *"ok "*" f.tls13_chacha20_ipv6.two"* &&
	   $out == *"ok "*" global.plain"* ]] ||
		{ echo "wrong variants: $out"; return 1; }
	[[ $out == *"f runs 2 of 8 variants"* &&
	   $out == *"g runs 2 of 2 variants"* ]] ||
		{ echo "the slice is not reported: $out"; return 1; }
}

nsrun_netns() {
	local want out pid comm
	want=$(nsenter --net="/run/netns/$NS" readlink /proc/self/ns/net)
	out=$(ns "$NS" readlink /proc/self/ns/net) && [ "$out" = "$want" ] ||
		{ echo "by name: $out, not $want"; return 1; }
	out=$("$NSRUN" "/run/netns/$NS" 0 readlink /proc/self/ns/net) &&
		[ "$out" = "$want" ] || { echo "by path: $out, not $want"; return 1; }
	# In the background $! is the command itself, in the namespace.
	"$NSRUN" "$NS" 0 sleep 5 &
	pid=$!
	tap_sleep 0.3
	comm=$(<"/proc/$pid/comm")
	out=$(readlink "/proc/$pid/ns/net")
	kill "$pid"
	wait "$pid" 2>/dev/null
	[ "$comm" = sleep ] && [ "$out" = "$want" ] ||
		{ echo "background: comm $comm netns $out"; return 1; }
}

nsrun_time_limit() {
	local rc=0 t0=$SECONDS
	ns "$NS" timeout 5 sh -c 'exit 3' || rc=$?
	[ "$rc" -eq 3 ] || { echo "in time: status $rc, not 3"; return 1; }
	rc=0
	ns "$NS" timeout 1 sleep 20 || rc=$?
	[ "$rc" -eq 142 ] && [ $((SECONDS - t0)) -lt 10 ] ||
		{ echo "past the limit: status $rc after $((SECONDS - t0)) s"; return 1; }
}

nsrun_errors() {
	local rc c
	for c in "no-such-ns$$ 0 true:125" "$NS x true:125" "$NS 0:125" \
		"$NS 0 /no/such/cmd:127" "$NS 0 $work/zpeer.py:126"; do
		rc=0
		# shellcheck disable=SC2086 # the words of a case
		"$NSRUN" ${c%:*} 2>/dev/null || rc=$?
		[ "$rc" -eq "${c##*:}" ] || { echo "nsrun ${c%:*}: status $rc, not ${c##*:}"; return 1; }
	done
}

# failed_with FILE: FILE says why a case cannot run.
failed_with() { cat "$1"; return 1; }

tap_plan 11
if pyzygote_start "$work" zpeer >"$work/start.err"; then
	pyzygote_cmd zpeer
	tap_case zygote_argv_cwd_stdio_status zygote_echo
	tap_case zygote_statuses zygote_status
	tap_case zygote_enters_callers_netns zygote_netns
	tap_case zygote_signals_passed_on_sigkill_kills zygote_signals
	tap_case zygote_stop_kills_peers zygote_stop_kills_peers
else
	for c in argv_cwd_stdio_status statuses enters_callers_netns \
		signals_passed_on_sigkill_kills stop_kills_peers; do
		tap_case "zygote_$c" failed_with "$work/start.err"
	done
fi
# zygote_netns made $NS when it ran; cleanup deletes it.
if [ -x "$NSRUN" ] && { [ -e "/run/netns/$NS" ] || ip netns add "$NS" 2>"$work/ns.err"; }; then
	tap_case nsrun_enters_netns nsrun_netns
	tap_case nsrun_time_limit nsrun_time_limit
	tap_case nsrun_error_statuses nsrun_errors
else
	[ -x "$NSRUN" ] || echo "no $NSRUN (make selftests)" >"$work/ns.err"
	for c in enters_netns time_limit error_statuses; do
		tap_case "nsrun_$c" failed_with "$work/ns.err"
	done
fi
if slice_build >"$work/build.err"; then
	tap_case harness_builds true
	tap_case harness_full_without_slice slice_full
	tap_case harness_slice_covers_words slice_cover
else
	tap_case harness_builds failed_with "$work/build.err"
	tap_skip harness_full_without_slice "no harness program"
	tap_skip harness_slice_covers_words "no harness program"
fi
tap_done
