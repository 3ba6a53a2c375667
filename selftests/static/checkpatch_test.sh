#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every kernel source file and the uapi header pass checkpatch.pl --strict
# (extracted from Debian's linux-source-6.1) with no error, warning or check.
#
# Ignored everywhere: CONST_STRUCT, because tapsec's struct proto_ops are
# copies of the kernel's built at module init (marked __ro_after_init), which
# cannot be const.  Ignored in kernel/tapsec_compat.h only:
# LINUX_VERSION_CODE and CONSTANT_COMPARISON, because bridging kernel
# versions in one place is that file's purpose.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"
cd "$top"

ksrc=$(tools/ksrc-extract) || exit 1
files=(kernel/*.c kernel/*.h uapi/linux/tapsec.h)

checkpatch() {	# file
	local ignore=CONST_STRUCT
	[ "$1" = kernel/tapsec_compat.h ] &&
		ignore+=,LINUX_VERSION_CODE,CONSTANT_COMPARISON
	perl "$ksrc/scripts/checkpatch.pl" --no-tree --strict --terse \
		--show-types --quiet --ignore "$ignore" -f "$1"
}

tap_plan ${#files[@]}
for f in "${files[@]}"; do
	tap_case "checkpatch_$(basename "$f")" checkpatch "$f"
done
tap_done
