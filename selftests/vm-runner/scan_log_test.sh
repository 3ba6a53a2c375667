#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of tools/vm/scan-log on canned kernel logs: the clean boot logs of
# both test kernels (and a log of benign lines that merely look alarming)
# must pass, each dirty log must fail and name the right kind of report.
# Prints TAP; exits non-zero if any case fails.  Runs on the host, no VM.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scan=$here/../../tools/vm/scan-log

# file                      expected reason ("" = clean)
cases=(
	"clean-6.1.log            -"
	"clean-6.12.log           -"
	"clean-noise.log          -"
	"clean-oom-expected.log   -"
	"dirty-warn.log           kernel warning (WARN)"
	"dirty-bug.log            kernel BUG()"
	"dirty-oops.log           Oops"
	"dirty-null-deref.log     kernel BUG"
	"dirty-lockdep.log        lockdep/RCU report"
	"dirty-rcu-lockdep.log    lockdep/RCU report"
	"dirty-refcount.log       refcount_t warning"
	"dirty-kasan.log          KASAN report"
	"dirty-kmemleak.log       kmemleak leak"
	"dirty-kmemleak-dmesg.log kmemleak leak"
	"dirty-atomic-sleep.log   sleeping in atomic context"
	"dirty-hung-task.log      hung task"
	"dirty-soft-lockup.log    soft lockup"
	"dirty-rcu-stall.log      RCU stall"
	"dirty-ubsan.log          UBSAN report"
	"dirty-fake-warn.log      kernel warning (WARN)"
	"dirty-early-boot.log     KASAN report"
	"dirty-oom.log            OOM killer"
	"dirty-oom-global.log     OOM killer"
	"dirty-oom-expected-kasan.log KASAN report"
)
extra=7		# the cases after the table

n=0 failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}
diag() { sed 's/^/# /'; }

# check FILE REASON: scan FILE; REASON "-" means it must be clean, else the
# scan must fail and its report headers must mention REASON.
check() {
	local file=$1 want=$2 out rc=0
	out=$("$scan" "$here/$file" 2>&1) || rc=$?
	if [ "$want" = - ]; then
		if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
			ok "$file is clean"
		else
			not_ok "$file is clean (exit $rc)"
			diag <<<"$out"
		fi
		return
	fi
	# Report headers are "FILE:LINE: reason, reason"; the rest is context.
	if [ "$rc" -eq 1 ] && grep -v '^ \|^>>' <<<"$out" | grep -qF -- "$want"; then
		ok "$file: $want"
	else
		not_ok "$file: $want (exit $rc)"
		diag <<<"$out" | head -n 20
	fi
}

echo "TAP version 13"
echo "1..$((${#cases[@]} + extra))"

for c in "${cases[@]}"; do
	read -r file want <<<"$c"
	check "$file" "$want"
done

# -q: status only.
out=$("$scan" -q "$here/dirty-warn.log") && rc=0 || rc=$?
if [ "$rc" -eq 1 ] && [ -z "$out" ]; then ok "-q prints nothing"; else not_ok "-q prints nothing"; fi

# Several files: dirty if any is.
if ! "$scan" -q "$here/clean-6.1.log" "$here/dirty-ubsan.log"; then
	ok "several files, one dirty"
else
	not_ok "several files, one dirty"
fi

# The serial console ends lines with CR LF.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sed 's/$/\r/' "$here/dirty-warn.log" >"$tmp"
if ! "$scan" -q "$tmp" && sed 's/$/\r/' "$here/clean-6.12.log" >"$tmp" && "$scan" -q "$tmp"; then
	ok "CR LF line ends"
else
	not_ok "CR LF line ends"
fi

# TAPSEC_VM_LOG_IGNORE drops accepted lines.
if TAPSEC_VM_LOG_IGNORE='at fake\.c:1 ' "$scan" -q "$here/dirty-fake-warn.log"; then
	ok "TAPSEC_VM_LOG_IGNORE"
else
	not_ok "TAPSEC_VM_LOG_IGNORE"
fi

# The offending line is marked and comes with its context.
out=$("$scan" -p 'X: ' "$here/dirty-warn.log" || true)
if grep -q '^X: >> .*WARNING: CPU: 1 PID: 412 at ' <<<"$out" &&
   grep -q '^X:    .*---\[ end trace' <<<"$out" &&
   ! grep -q 'reboot: Power down' <<<"$out"; then
	ok "report printed with prefix, marker and context up to the end of the trace"
else
	not_ok "report printed with prefix, marker and context up to the end of the trace"
	diag <<<"$out" | head -n 20
fi

# -u: only what comes before the kernel runs /init (vm-run's early crashes).
init='Run /init as init process'
if ! "$scan" -q -u "$init" "$here/dirty-early-boot.log"; then
	ok "-u: a report from the kernel's boot, before /init"
else
	not_ok "-u: a report from the kernel's boot, before /init"
fi
{ echo "[    2.000000] $init"; cat "$here/dirty-warn.log"; } >"$tmp"
if "$scan" -q -u "$init" "$tmp" && ! "$scan" -q "$tmp"; then
	ok "-u: a report after /init is not one"
else
	not_ok "-u: a report after /init is not one"
fi

[ "$failed" -eq 0 ]
