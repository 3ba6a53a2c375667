#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tapsecctl monitor, inside a VM with tapsec.ko loaded: events of the
# "events" group arrive as JSON lines naming the socket, the errno and the
# reason, and --count ends the monitor.  The handshake here fails for lack
# of a daemon, which needs no peer but a local TCP listener.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"

ctl="$top/build/bin/tapsecctl"
py=/usr/bin/python3
evlog=$(mktemp)
inode=$(mktemp)
trap 'rm -f "$evlog" "$inode"; kill "$mon" 2>/dev/null' EXIT

# A delegated connect() with no daemon: ESRCH; prints the socket's inode.
fail_once() {
	$py - "$inode" <<'PY'
import errno, os, socket, sys
IPPROTO_TAPSEC, SOL_TAPSEC, TAPSEC_HANDSHAKE = 258, 290, 7
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(1)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_TAPSEC)
s.setsockopt(SOL_TAPSEC, TAPSEC_HANDSHAKE, 1)
open(sys.argv[1], "a").write("%d\n" % os.fstat(s.fileno()).st_ino)
try:
    s.connect(lsock.getsockname())
    sys.exit("connect succeeded without a daemon")
except OSError as e:
    sys.exit(0 if e.errno == errno.ESRCH else "connect: %s" % e)
PY
}

tap_plan 4

timeout 60 "$ctl" monitor --count 2 >"$evlog" 2>&1 &
mon=$!
# Nothing says when the monitor has joined the group: fail handshakes until
# it has seen two events (the failure and the close of one socket).
attempts_ok() {
	for _ in $(seq 20); do
		fail_once || return 1
		tap_sleep 0.5
		kill -0 "$mon" 2>/dev/null || return 0
	done
	return 1
}
tap_case "delegated connects without a daemon fail with ESRCH" attempts_ok
wait "$mon"
rc=$?
ino=$(sed -n 's/^{"event":"handshake-failed","inode":\([0-9]*\).*/\1/p' "$evlog" | head -1)
grep -qx "${ino:-none}" "$inode" || ino=none

failed_event() {
	grep -qx "{\"event\":\"handshake-failed\",\"inode\":$ino,\"error\":\"ESRCH\",\"errno\":3,\"reason\":\"no handshake daemon is running\"}" "$evlog" ||
		{ cat "$evlog"; return 1; }
}
closed_event() {
	grep -qx "{\"event\":\"closed\",\"inode\":$ino}" "$evlog" || { cat "$evlog"; return 1; }
}
tap_case "monitor prints the failure as JSON: inode, errno name, reason" failed_event
tap_case "monitor prints the socket's close" closed_event
tap_case "monitor --count 2 exits 0 after two events (exit $rc)" [ "$rc" -eq 0 ]
tap_done
