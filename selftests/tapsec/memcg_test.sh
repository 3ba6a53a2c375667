#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A tapsec socket's memory is charged to the memory cgroup of the process
# that makes it, as the kernel's own sockets are: an unprivileged user
# cannot pin kernel memory beyond its cgroup's limit by opening sockets
# with keys (each ESP socket with both SAs holds two 64 KiB buffers; DTLS
# and TLS sockets hold their record buffers).  Inside a VM with tapsec.ko
# loaded, on a cgroup v2 hierarchy (mounted here if the guest has none):
#
#  - 200 ESP sockets with both SAs raise their cgroup's memory.current by
#    at least their buffers (200 x 128 KiB); so do 200 whose SAs a process
#    in another cgroup installs (as the handshake daemon does): the memory
#    is the sockets', not the installer's;
#  - in a cgroup whose memory.max is 32 MiB, making 400 of them fails with
#    ENOMEM (or the cgroup's OOM killer ends the process) before the last,
#    and memory.events counts the cgroup hitting its limit; the cgroup's
#    name starts with tapsec-oom-ok, so that the VM's log scanner accepts
#    the kill's report (tools/vm/scan-log);
#  - in the root cgroup the same 400 are made.
#
# A kernel without the memory controller (the debug kernel has no
# CONFIG_MEMCG) skips every case, saying so.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"

py=/usr/bin/python3
cg=/sys/fs/cgroup
SKIP=""			# why no case can run

# The program: make N ESP sockets with both SAs and keep them; print
# "at=K" every 10 sockets (what a process the OOM killer ends got to),
# "made=K" and, when one failed, "errno=E"; "ready" once done; then wait
# for stdin to close.  With a second argument, a cgroup.procs file, it
# makes the N sockets first, moves itself there, and then installs the
# SAs: as the handshake daemon does in other users' sockets.
read -r -d '' MAKER <<'EOF'
import os, socket, struct, sys
n = int(sys.argv[1])
sa = struct.pack("=IHHHHI32s4s", 0x1001, 51, 0, 5001, 5002, 0, bytes(32),
                 b"salt")
socks = []
def keys(s):
    s.setsockopt(290, 3, sa)		# TAPSEC_TX
    s.setsockopt(290, 4, sa)		# TAPSEC_RX
try:
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 258)
        socks.append(s)
        s.setsockopt(290, 1, 3)		# TAPSEC_PROTOCOL: ESP
        s.bind(("127.0.0.1", 0))
        s.connect(("127.0.0.1", 9))
        if len(sys.argv) < 3:
            keys(s)
        if len(socks) % 10 == 0:
            print(f"at={len(socks)}", flush=True)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write(str(os.getpid()))
        for s in socks:
            keys(s)
    print(f"made={len(socks)}", flush=True)
except OSError as e:
    print(f"made={len(socks) - 1}\nerrno={e.errno}", flush=True)
print("ready", flush=True)
sys.stdin.read()
EOF

# rm_cg NAME: the child cgroup NAME goes, with whatever is left in it.
rm_cg() {
	local d=$cg/$1
	[ -d "$d" ] || return 0
	xargs -r kill -9 <"$d/cgroup.procs" 2>/dev/null
	for _ in $(seq 50); do rmdir "$d" 2>/dev/null && return 0; tap_sleep 0.1; done
}
trap 'rm_cg tapsec-charged; rm_cg tapsec-oom-ok-limited' EXIT

setup() {
	if [ "$(stat -f -c %T "$cg" 2>/dev/null)" != cgroup2fs ]; then
		mount -t cgroup2 none "$cg" 2>/dev/null ||
			{ SKIP="no cgroup v2 hierarchy"; return; }
	fi
	grep -qw memory "$cg/cgroup.controllers" 2>/dev/null ||
		{ SKIP="no memory controller in this kernel (CONFIG_MEMCG)"; return; }
	echo +memory >"$cg/cgroup.subtree_control" 2>/dev/null ||
		SKIP="cannot enable the memory controller"
}

# new_cg NAME [MAX]: a child cgroup, memory.max MAX if given.
new_cg() {
	local d=$cg/$1
	mkdir -p "$d" || return 1
	[ -z "${2:-}" ] || echo "$2" >"$d/memory.max"
}

# make_in CGROUP N OUT [MOVE]: run MAKER for N sockets in CGROUP (a
# directory, or "" for the root), its output in OUT, stdin a fifo kept
# open on fd 8, so the sockets live until close_maker; MAKER's MOVE
# argument if given.  Sets MAKER_PID.
make_in() {
	local d=$1 n=$2 out=$3 fifo
	shift 3
	fifo=$(mktemp -u) && mkfifo "$fifo" || return 1
	(
		[ -z "$d" ] || echo "$BASHPID" >"$d/cgroup.procs"
		exec "$py" -c "$MAKER" "$n" "$@" <"$fifo" >"$out" 2>&1
	) &
	MAKER_PID=$!
	exec 8>"$fifo"
	rm -f "$fifo"
}

close_maker() {
	exec 8>&-
	wait "$MAKER_PID" 2>/dev/null
}

# wait_out OUT PID: OUT has "ready", or PID ended; 60 s at most.
wait_out() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -qx ready "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 0
		tap_sleep 0.1
	done
	echo "no answer from the maker:"
	cat "$1"
	return 1
}

value() { sed -n "s/^$2=//p" "$1"; }

# charged [MOVE]: 200 sockets made in a cgroup of their own raise its
# memory.current by their buffers; with MOVE (a cgroup.procs file), their
# SAs are installed after the process left for MOVE.
charged() {
	local out before after
	out=$(mktemp)
	new_cg tapsec-charged || return 1
	before=$(cat "$cg/tapsec-charged/memory.current")
	make_in "$cg/tapsec-charged" 200 "$out" "$@" || return 1
	wait_out "$out" "$MAKER_PID" || { close_maker; return 1; }
	after=$(cat "$cg/tapsec-charged/memory.current")
	close_maker
	rm_cg tapsec-charged
	[ "$(value "$out" made)" = 200 ] ||
		{ echo "maker:"; cat "$out"; return 1; }
	echo "memory.current $before -> $after"
	[ $((after - before)) -ge $((200 * 128 * 1024)) ] ||
		{ echo "grew by less than 200 x 128 KiB"; return 1; }
}

limited() {
	local out made at events
	out=$(mktemp)
	new_cg tapsec-oom-ok-limited 32M || return 1
	make_in "$cg/tapsec-oom-ok-limited" 400 "$out" || return 1
	wait_out "$out" "$MAKER_PID" || { close_maker; return 1; }
	close_maker
	made=$(value "$out" made)
	at=$(value "$out" at | tail -n 1)
	events=$(cat "$cg/tapsec-oom-ok-limited/memory.events")
	rm_cg tapsec-oom-ok-limited
	echo "made=${made:-none (killed at ${at:-0})} errno=$(value "$out" errno)"
	printf '%s\n' "$events"
	if [ -n "$made" ]; then
		# ENOMEM from an allocation, ENOBUFS from socket().
		[ "$made" -lt 400 ] &&
			[[ $(value "$out" errno) =~ ^(12|105)$ ]] ||
			{ echo "expected ENOMEM or ENOBUFS before 400"; return 1; }
	else
		# Killed: only a verdict on the sockets if some were made.
		[ "${at:-0}" -ge 10 ] ||
			{ echo "killed before 10 sockets: python alone hit the limit"; return 1; }
	fi
	[[ $events =~ (^|$'\n')max\ ([1-9][0-9]*) ]] ||
		{ echo "the cgroup never reached memory.max"; return 1; }
}

charged_remote() { charged "$cg/cgroup.procs"; }

unlimited_root() {
	local out
	out=$(mktemp)
	make_in "" 400 "$out" || return 1
	wait_out "$out" "$MAKER_PID" || { close_maker; return 1; }
	close_maker
	[ "$(value "$out" made)" = 400 ] || { cat "$out"; return 1; }
}

setup
tap_plan 4
for c in "charged 200_esp_sockets_charged_to_their_cgroup" \
	"charged_remote 200_sockets_keyed_from_elsewhere_charged_to_theirs" \
	"limited 400_esp_sockets_stop_at_memory_max" \
	"unlimited_root 400_esp_sockets_in_the_root_cgroup"; do
	read -r fn name <<<"$c"
	if [ -n "$SKIP" ]; then
		tap_skip "$name" "$SKIP"
	else
		tap_case "$name" "$fn"
	fi
done
tap_done
