# SPDX-License-Identifier: GPL-2.0
#
# A zygote for a shell suite's Python peers (source it; needs $top and
# tap.sh): selftests/lib/pyzygote.py imports the peer modules once, and
# each run of a peer is a fork of it instead of a new python3, which
# costs one to two seconds under TCG and more on the debug kernel.
#
#   pyzygote_start DIR MODULE...   start it, its socket and log in DIR;
#                                  on failure say why and return 1
#   pyzygote_cmd MODULE            the command that runs MODULE ARGS...
#                                  (append the ARGS), in PYZYGOTE_CMD
#   pyzygote_stop                  stop it (the suite's cleanup)
#
# PYTHONPATH (and PYTHONPYCACHEPREFIX) must be exported first: the
# zygote imports the modules from there.

PYZYGOTE_PID=""
PYZYGOTE_SOCK=""

pyzygote_start() {
	local dir=$1 i log
	shift
	PYZYGOTE_SOCK=$dir/pyzygote.sock
	log=$dir/pyzygote.log
	: >"$log"
	/usr/bin/python3 -S "$top/selftests/lib/pyzygote.py" \
		"$PYZYGOTE_SOCK" "$@" </dev/null >"$log" 2>&1 &
	PYZYGOTE_PID=$!
	# Up to a minute: a debug kernel under load.
	for ((i = 0; i < 1200; i++)); do
		[[ $(<"$log") == ready* ]] && return 0
		kill -0 "$PYZYGOTE_PID" 2>/dev/null || break
		tap_sleep 0.05
	done
	echo "the Python zygote did not start: $(tail -n 3 "$log")"
	pyzygote_stop
	return 1
}

pyzygote_cmd() {
	PYZYGOTE_CMD=("$top/build/selftests/lib/pyzygote-run" "$PYZYGOTE_SOCK" "$1")
}

pyzygote_stop() {
	[ -n "$PYZYGOTE_PID" ] || return 0
	kill "$PYZYGOTE_PID" 2>/dev/null
	wait "$PYZYGOTE_PID" 2>/dev/null
	PYZYGOTE_PID=""
}
