#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# planted_bug_test.sh - show that the debug test kernel and the VM runner
# catch real bugs: a module with a planted heap overflow must fail its VM run
# with a KASAN report, one with a planted leak with a kmemleak report, while
# clean runs pass.  Also checks tools/vm/failinject (failures limited to one
# module's fault point).  Runs on the host, prints TAP.
#
# Builds the debug kernel first if needed (tools/vm/debug-kernel build: a few
# minutes once per machine, then instant).  The planted module is built in a
# temporary directory against the kernel's build tree and shared with the
# guest by `tools/vm-run --share-rw`.
#
# Environment: TAPSEC_VM_TIMEOUT (per VM run, default 300 here).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
vmrun=$root/tools/vm-run
dk=$root/tools/vm/debug-kernel
timeout=${TAPSEC_VM_TIMEOUT:-300}

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }

echo "TAP version 13"
echo "1..8"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/planted_bug.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

bail() {
	echo "Bail out! $*"
	exit 1
}

# 1: the debug kernel
if dir=$("$dk" build 2> "$tmp/build.err"); then
	ok "debug kernel available: $dir ($(cat "$dir/release"))"
else
	diag < "$tmp/build.err"
	not_ok "debug kernel builds"
	bail "no debug kernel"
fi

# 2: the planted module, built out of the source tree against DIR/build
mkdir "$tmp/mod"
cp "$here/planted/planted_bug.c" "$here/planted/Kbuild" "$tmp/mod/"
if make -C "$dir/build" M="$tmp/mod" modules > "$tmp/mod.log" 2>&1 &&
	[ -f "$tmp/mod/planted_bug.ko" ]; then
	ok "planted_bug.ko builds against $dir/build"
else
	tail -n 30 "$tmp/mod.log" | diag
	not_ok "planted_bug.ko builds against $dir/build"
	bail "no test module"
fi
ko=$tmp/mod/planted_bug.ko

# vm NAME CMD...: run CMD in a debug-kernel VM; sets rc and out (stdout and
# stderr of vm-run, i.e. the command's output and vm-run's reports).
vm() {
	local name=$1
	shift
	rc=0
	"$vmrun" --kernel 6.1-debug --timeout "$timeout" --share-rw "$tmp/mod" \
		-- "$@" > "$tmp/$name.out" 2>&1 || rc=$?
	out=$(cat "$tmp/$name.out")
}

# 3, 4, 7, 8: one clean boot (boots of the debug kernel cost half a minute
# each under TCG) that loads planted_bug mode=none, finds kmemleak's
# scanning thread stopped (guest-init), then checks that
# failinject limits failures to one module's fault points (planted_bug's
# fail_alloc): the first allocation through it fails, the next succeeds
# (times=1), and unrelated allocations never fail.  Each step prints its
# verdict; the run as a whole must pass.
# shellcheck disable=SC2016 # expanded by the guest's bash
vm clean bash -c '
	if insmod "$1" mode=none && rmmod planted_bug; then
		echo "step none: ok"
	fi
	if [ -e /sys/kernel/debug/kmemleak ] && ! pgrep -x kmemleak >/dev/null; then
		echo "step noautoscan: ok"
	fi
	insmod "$1" mode=none || exit 1
	"$2" on planted_bug 100 1
	if echo 1 > /sys/module/planted_bug/parameters/alloc; then
		echo "step failinject: no failure was injected"
	elif echo 1 > /sys/module/planted_bug/parameters/alloc; then
		echo "step failinject: ok"
	fi
	"$2" off
	rmmod planted_bug
	' clean-run "$ko" "$root/tools/vm/failinject"
clean_rc=$rc
clean_out=$out
step() {	# STEP DESCRIPTION
	if [ "$clean_rc" -eq 0 ] && grep -qx "step $1: ok" <<< "$clean_out"; then
		ok "$2 passes"
	else
		echo "$clean_out" | tail -n 40 | diag
		not_ok "$2 passes (vm-run exit $clean_rc)"
	fi
}
if [ "$clean_rc" -eq 0 ]; then
	ok "a clean run passes"
else
	echo "$clean_out" | tail -n 40 | diag
	not_ok "a clean run passes (vm-run exit $clean_rc)"
fi
step none "loading planted_bug mode=none"

# 5, 6: one boot plants both bugs, the heap out-of-bounds write (KASAN,
# while the module loads), then the leak (kmemleak, in the scan after the
# command).  The run must fail and its output hold each report with its
# own details: KASAN's names the module, kmemleak's the 128-byte object.
# One boot rather than one per bug: each costs about a minute.
# shellcheck disable=SC2016 # expanded by the guest's bash
vm bugs bash -c 'insmod "$1" mode=oob && rmmod planted_bug &&
	insmod "$1" mode=leak' bugs-run "$ko"
caught() {	# DESCRIPTION ERE
	if [ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] && grep -qE -- "$2" <<< "$out"; then
		ok "$1 is caught (vm-run exit $rc, report: $(grep -m1 -oE -- "$2" <<< "$out"))"
	else
		echo "$out" | tail -n 40 | diag
		not_ok "$1 is caught (vm-run exit $rc, wanted a failure matching /$2/)"
	fi
}
caught "a heap out-of-bounds write (mode=oob)" \
	'BUG: KASAN: slab-out-of-bounds in [^ ]+ \[planted_bug\]'
caught "a memory leak (mode=leak)" \
	'unreferenced object 0x[0-9a-f]+ \(size 128\)'

step failinject "failinject on one module's fault point"
# guest-init turns kmemleak's thread off (its scans cost CPU the tests
# need); the leak above is still caught, by the scans after the command.
step noautoscan "kmemleak without its automatic scans"

[ "$failed" -eq 0 ]
