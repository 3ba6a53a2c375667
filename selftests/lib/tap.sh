# SPDX-License-Identifier: GPL-2.0
#
# Minimal TAP producer for tapsec's shell selftests (source it).
#
#   tap_plan N             print the header and plan
#   tap_case NAME CMD...   run CMD; ok when it exits 0
#   tap_skip NAME REASON   a skipped case
#   tap_variant NAME FUNC  with TAP_SLICE=1: report NAME skipped and return
#                          0 when an earlier case ran FUNC (see below)
#   tap_done               exit non-zero when any case failed
#   tap_sleep SECS         sleep without a process: a fork and exec cost
#                          a third of a second on the debug kernel, and
#                          the suites' polling loops sleep thousands of
#                          times (read times out on a pipe nobody writes)
#
# TAP_ONLY=ERE in the environment runs only the cases whose name matches
# (the others are reported skipped): for working on a few cases.
# TAP_TIMES=1 adds a "# time S cpu C forks F" line after each case: its
# wall seconds, the guest's busy CPU seconds (all CPUs, from /proc/stat)
# and the processes started meanwhile: where a slow case spends its time.
# TAP_SLICE=1 runs each test function of a matrix once: a suite whose
# cases are FUNC with different arguments (peers, ciphers, families)
# asks tap_variant before each, and only the first case of each FUNC
# runs; tools/check sets it on the stock kernels, the debug kernel runs
# every case (Documentation/testing.rst).

TAP_N=0
TAP_FAILED=0
exec {TAP_SLEEP_FD}<> <(:)

tap_sleep() {
	read -r -t "$1" -u "$TAP_SLEEP_FD" _
	return 0
}

# tap_stat: "BUSY FORKS", the busy jiffies of all CPUs and the processes
# started since boot, read with builtins only (it measures forks).
tap_stat() {
	local l busy=0 forks=0 f
	while read -r -a f; do
		case "${f[0]}" in
		cpu) busy=$((f[1] + f[2] + f[3] + f[6] + f[7] + f[8])) ;;
		processes) forks=${f[1]} ;;
		esac
	done </proc/stat
	echo "$busy $forks"
}

tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

tap_case() {
	local name=$1 out t0=${EPOCHREALTIME/[.,]/} us s0 s1
	shift
	if [ -n "${TAP_ONLY:-}" ] && ! [[ $name =~ $TAP_ONLY ]]; then
		tap_skip "$name" "not in TAP_ONLY"
		return
	fi
	TAP_N=$((TAP_N + 1))
	[ -z "${TAP_TIMES:-}" ] || read -r -a s0 <<<"$(tap_stat)"
	if out=$("$@" 2>&1); then
		echo "ok $TAP_N $name"
	else
		echo "not ok $TAP_N $name"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
	[ -z "${TAP_TIMES:-}" ] || {
		us=$((${EPOCHREALTIME/[.,]/} - t0))
		read -r -a s1 <<<"$(tap_stat)"
		printf '# time %d.%02d cpu %d.%02d forks %d\n' \
			$((us / 1000000)) $((us % 1000000 / 10000)) \
			$(((s1[0] - s0[0]) / 100)) $(((s1[0] - s0[0]) % 100)) \
			$((s1[1] - s0[1] - 1))
	}
}

tap_skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1 # SKIP $2"
}

declare -A TAP_FUNCS

tap_variant() {
	[ -n "${TAP_SLICE:-}" ] || return 1
	if [ -n "${TAP_FUNCS[$2]:-}" ]; then
		tap_skip "$1" "TAP_SLICE: a variant of ${TAP_FUNCS[$2]}"
		return 0
	fi
	TAP_FUNCS[$2]=$1
	return 1
}

tap_done() {
	[ "$TAP_FAILED" -eq 0 ]
}
