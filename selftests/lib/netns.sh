# SPDX-License-Identifier: GPL-2.0
#
# Network namespaces for tapsec's shell suites (source it).
#
#   ns NETNS [timeout SECS] CMD...   CMD in /run/netns/NETNS, ended by
#                                    SIGALRM after SECS seconds if given
#   "$NSRUN" NETNS SECS CMD...       the same without the function, for
#                                    the background: $! is CMD's pid
#
# Through nsrun (selftests/lib/nsrun.c, built by make selftests): one
# process start where `nsenter --net=... timeout SECS CMD` took three
# (nsenter, not ip netns exec, which also remounts /sys).  Each start
# costs a fraction of a second on the debug kernel under TCG.

NSRUN=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/selftests/lib/nsrun

ns() {
	local n=$1
	shift
	if [ "$1" = timeout ]; then
		"$NSRUN" "$n" "$2" "${@:3}"
	else
		"$NSRUN" "$n" 0 "$@"
	fi
}
