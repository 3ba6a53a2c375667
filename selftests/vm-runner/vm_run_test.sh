#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of tools/vm-run.  Boots a few VMs with the kernel named by
# $TAPSEC_TEST_KERNEL (default 6.12; a name or a kernel directory, as
# vm-run --kernel takes) and checks exit status propagation, output
# streaming, argument passing, the shared file systems, failure on a kernel
# warning, the tapsec unload and kmemleak checks and the timeout.  Prints
# TAP; exits non-zero if any case fails.  Takes about a minute under TCG
# with a Debian kernel, a few minutes with the debug kernel.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
vmrun=$top/tools/vm-run
kernel=${TAPSEC_TEST_KERNEL:-6.12}

# Every run directory of ours lives under $tmp (TMPDIR), so leftover QEMU
# processes of these tests can be told from other people's.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
diag() { sed 's/^/# /'; }
expect() {	# NAME COMMAND...: a case passes when COMMAND succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# vm OUT ERR ARGS...: run vm-run, stdout and stderr to files; sets RC.
# VM_OUT is $tmp/out, the way to hand files to the guest.
vm() {
	local out=$1 err=$2
	shift 2
	RC=0
	VM_OUT=$tmp/out "$vmrun" --kernel "$kernel" "$@" >"$out" 2>"$err" || RC=$?
}

no_qemu_left() { ! pgrep -f "qemu-system.*$tmp" >/dev/null; }

echo "TAP version 13"
echo "1..17"
echo "# kernel: $kernel"

mkdir "$tmp/out"

# 1: true -> 0
vm "$tmp/o1" "$tmp/e1" -- true
expect "true exits 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || diag <"$tmp/e1"

# 2-7: one boot checks most of the plumbing.  The guest script prints its
# arguments one per line, writes to stderr, pauses between two lines (the
# host stamps their arrival), looks for the repository, writes VM_OUT and
# exits 7.  It is handed over through VM_OUT: the host's /tmp, where $tmp
# is, is not visible in the guest.
cat >"$tmp/out/guest.sh" <<'EOF'
#!/bin/bash
printf '<%s>\n' "$@"
echo "to stderr" >&2
echo first
sleep 3
echo second
echo "pwd=$PWD kernel=$TAPSEC_VM_KERNEL"
[ -f selftests/vm-runner/vm_run_test.sh ] && echo "repo visible"
echo "round trip" >"$VM_OUT/result"
exit 7
EOF
chmod +x "$tmp/out/guest.sh"
# shellcheck disable=SC2016 # a literal $HOME must arrive unexpanded
args=('a b' '' '  lead' 'x"y' '$HOME' '*')
(
	cd "$top"
	rc=0
	VM_OUT=$tmp/out "$vmrun" --kernel "$kernel" -- "$tmp/out/guest.sh" "${args[@]}" \
		2>"$tmp/e2" || rc=$?
	echo "$rc" >"$tmp/rc2"
) | while IFS= read -r line; do echo "$EPOCHREALTIME $line"; done >"$tmp/o2"

streamed() {	# "second" arrived at least 2 s after "first"
	awk '/ first$/ { f = $1 } / second$/ { s = $1 }
	     END { exit !(f && s && s - f >= 2) }' "$tmp/o2"
}
args_intact() {
	diff <(sed -n 's/^[0-9.]* <\(.*\)>$/\1/p' "$tmp/o2") <(printf '%s\n' "${args[@]}")
}
streams_apart() {
	grep -qx "to stderr" "$tmp/e2" && ! grep -q "to stderr" "$tmp/o2"
}
repo_visible() {
	local name=$kernel
	[ ! -d "$kernel" ] || name='[0-9]*\.[0-9]*-custom'	# --kernel DIR
	grep -q " pwd=$top kernel=$name\$" "$tmp/o2" && grep -q " repo visible\$" "$tmp/o2"
}
out_round_trip() {
	[ "$(cat "$tmp/out/result" 2>/dev/null)" = "round trip" ] &&
		[ -s "$tmp/out/vm-console.log" ] && [ -s "$tmp/out/vm-dmesg.log" ]
}
expect "exit 7 exits 7" [ "$(cat "$tmp/rc2")" = 7 ]
expect "output streamed: a 3 s pause in the guest shows between two lines" streamed
expect "arguments with spaces, empty and special ones arrive intact" args_intact
expect "stderr goes to stderr, stdout to stdout" streams_apart
expect "the repository is visible at the same path, cwd and TAPSEC_VM_KERNEL right" repo_visible
expect "VM_OUT round trip (and the kernel logs saved there)" out_round_trip
[ "$failed" -eq 0 ] || { diag <"$tmp/o2"; diag <"$tmp/e2"; }

# 8: a kernel warning fails the run, and is shown.
vm "$tmp/o4" "$tmp/e4" -- sh -c \
	"echo 'WARNING: CPU: 0 PID: 1 at fake.c:1 fake+0x0/0x0' >/dev/kmsg"
if [ "$RC" -ne 0 ] && grep -q '^vm-run: kernel: >> .*WARNING: CPU: 0 PID: 1 at fake.c:1' "$tmp/e4"; then
	ok "an injected kernel warning fails the run (exit $RC) and is printed"
else
	not_ok "an injected kernel warning fails the run (exit $RC) and is printed"
	diag <"$tmp/e4"
fi

# 9-11: the checks after the command, with a stand-in module named tapsec
# (fake-tapsec/): it unloads fine; it holds a reference and cannot unload;
# it leaks memory (for kernels with kmemleak).
kdir=
if [ -d "$kernel" ]; then
	kdir=$kernel/build
elif [ -x "$top/tools/kernels" ]; then
	read -r _ _ kdir < <("$top/tools/kernels" "$kernel" 2>/dev/null) || true
fi
fake_ko() {
	[ -n "$kdir" ] && [ -f "$kdir/Makefile" ] || return 1
	mkdir -p "$tmp/out/ko"
	cp "$here/fake-tapsec/tapsec.c" "$here/fake-tapsec/Kbuild" "$tmp/out/ko/"
	make -s -C "$kdir" M="$tmp/out/ko" modules >"$tmp/out/ko/build.log" 2>&1
}
if fake_ko; then
	vm "$tmp/o5" "$tmp/e5" -- sh -c "insmod $tmp/out/ko/tapsec.ko && grep -q '^tapsec ' /proc/modules"
	expect "a loaded tapsec module is unloaded after the command" [ "$RC" -eq 0 ]
	[ "$RC" -eq 0 ] || diag <"$tmp/e5"
	vm "$tmp/o6" "$tmp/e6" -- insmod "$tmp/out/ko/tapsec.ko" pin=1
	if [ "$RC" -ne 0 ] && grep -q '^vm-run: tapsec did not unload: ' "$tmp/e6"; then
		ok "tapsec that cannot unload fails the run (exit $RC)"
	else
		not_ok "tapsec that cannot unload fails the run (exit $RC)"
		diag <"$tmp/e6"
	fi
	if grep -q '^CONFIG_DEBUG_KMEMLEAK=y' "$kdir/.config" 2>/dev/null; then
		vm "$tmp/o8" "$tmp/e8" -- insmod "$tmp/out/ko/tapsec.ko" leak=1
		if [ "$RC" -ne 0 ] && grep -q '^vm-run: kernel: >> unreferenced object ' "$tmp/e8"; then
			ok "a kmemleak report fails the run (exit $RC)"
		else
			not_ok "a kmemleak report fails the run (exit $RC)"
			diag <"$tmp/e8"
		fi
	else
		skip "a kmemleak report fails the run" "no kmemleak in $kernel"
	fi
else
	for c in "a loaded tapsec module is unloaded after the command" \
		 "tapsec that cannot unload fails the run" "a kmemleak report fails the run"; do
		skip "$c" "cannot build the stand-in module for $kernel"
	done
fi

# 12: a checkout under the host's /tmp (a CI clone) boots and sees itself,
# though the guest mounts a fresh tmpfs on /tmp.
mkdir -p "$tmp/clone/tools"
cp -a "$top/tools/vm-run" "$top/tools/vm" "$top/tools/kernels" "$tmp/clone/tools/"
echo marker >"$tmp/clone/marker"
case "$tmp/" in
/tmp/*|/run/*)
	RC=0
	(cd "$tmp/clone" && VM_OUT=$tmp/out TAPSEC_CACHE=$tmp/cache tools/vm-run \
		--kernel "$kernel" -- \
		sh -c 'test "$(cat marker)" = marker && test -x tools/vm/guest-init') \
		>"$tmp/o9" 2>"$tmp/e9" || RC=$?
	expect "a checkout under /tmp runs and is visible at its path (exit $RC)" [ "$RC" -eq 0 ]
	[ "$RC" -eq 0 ] || diag <"$tmp/e9"
	;;
*)
	skip "a checkout under /tmp runs and is visible at its path" "TMPDIR $tmp is not under /tmp"
	;;
esac

# 13: that run started from an empty cache: it probed KVM (where /dev/kvm
# exists) and extracted the kernel for a PVH boot.  A failed probe must
# not be taken for a kernel without a PVH entry, which turned PVH boots
# off for good on every new machine of a PVM host.
pvh_kept() {
	[ "$RC" -eq 0 ] && ls "$tmp/cache/vmlinux/"*-* >/dev/null 2>&1 &&
		! ls "$tmp/cache/vmlinux/"*.none >/dev/null 2>&1
}
if [ -e "$tmp/cache/vmlinux" ]; then
	expect "a fresh cache's KVM probe leaves the PVH image in place" pvh_kept
	pvh_kept || { ls -la "$tmp/cache/vmlinux"; diag <"$tmp/e9"; }
else
	skip "a fresh cache's KVM probe leaves the PVH image in place" \
		"$kernel does not boot through PVH (KASAN, no CONFIG_PVH or no clone run)"
fi

# 14: a kernel that crashes while booting, before /init (rdinit= names
# nothing: no root to mount, panic) is booted once more, not twice, and
# the command never runs; the run fails.
early_once() {
	[ "$RC" -ne 0 ] && [ ! -e "$tmp/out/ran" ] &&
	[ "$(grep -c 'booting once more' "$tmp/e10")" -eq 1 ] &&
	grep -q 'reported a bug while booting' "$tmp/e10"
}
export TAPSEC_VM_CMDLINE="rdinit=/tapsec-no-such-init"
vm "$tmp/o10" "$tmp/e10" -- touch "$tmp/out/ran"
unset TAPSEC_VM_CMDLINE
expect "a crash of the kernel's boot: booted once more, command never run (exit $RC)" early_once
early_once || diag <"$tmp/e10" | tail -n 30

# 15: a boot that does not reach /init within TAPSEC_VM_BOOT_LIMIT seconds
# is stopped and booted once more, not twice; the command never runs and
# the run fails soon, not at its timeout.  A limit of 1 s stops a normal
# boot under TCG, which takes a few seconds to /init.
hang_once() {
	[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && [ ! -e "$tmp/out/ran" ] &&
	[ "$took" -lt 60 ] &&
	[ "$(grep -c 'booting once more' "$tmp/e11")" -eq 1 ] &&
	grep -q 'did not reach /init within 1 s' "$tmp/e11"
}
start=$SECONDS
TAPSEC_VM_BOOT_LIMIT=1 vm "$tmp/o11" "$tmp/e11" --timeout 120 -- touch "$tmp/out/ran"
took=$((SECONDS - start))
expect "a boot stuck before /init: stopped, booted once more (exit $RC, $took s)" hang_once
hang_once || diag <"$tmp/e11" | tail -n 30

# 16-17: the timeout kills the VM: exit 124, no QEMU left.
start=$SECONDS
vm "$tmp/o7" "$tmp/e7" --timeout 20 -- sleep 1000
took=$((SECONDS - start))
timed_out() { [ "$RC" -eq 124 ] && [ "$took" -lt 40 ]; }
expect "--timeout 20 -- sleep 1000 exits 124 after ~20 s (exit $RC, took $took s)" timed_out
[ "$RC" -eq 124 ] || diag <"$tmp/e7"
sleep 0.5
expect "no QEMU process left behind" no_qemu_left

[ "$failed" -eq 0 ]
