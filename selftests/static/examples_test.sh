#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The example programs of the developer guide (Documentation/examples/,
# Documentation/guide.rst) build as the guide says, against the uapi
# header and the helpers they share (tapsec_example.h, next to them:
# no -I for it), with every warning an error; and each, run without
# arguments, prints its usage on stderr and exits 2.  On the build host:
# no module is needed.  handshake_test.sh runs them against each other in
# a VM (examples_talk).
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"

src=$top/Documentation/examples
examples=(tls_client tls_server dtls_client dtls_server)
CC=${CC:-cc}

work=$(mktemp -d /tmp/examples_test.XXXXXX)
trap 'rm -rf "$work"' EXIT

# compiles NAME: the guide's command line, warnings as errors; NAME.c
# finds "tapsec_example.h" in its own directory.
compiles() {
	"$CC" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$top/uapi" \
		-o "$work/$1" "$src/$1.c" 2>&1 ||
		{ echo "$1.c does not build with $CC"; return 1; }
	head -n 1 "$src/$1.c" | grep -qx '// SPDX-License-Identifier: GPL-2.0' ||
		{ echo "$1.c: no SPDX line first"; return 1; }
}

# shared_header: tapsec_example.h has its SPDX line first and an include
# guard, and each example includes it.
shared_header() {
	local h=$src/tapsec_example.h name
	head -n 1 "$h" | grep -qx '/\* SPDX-License-Identifier: GPL-2.0 \*/' ||
		{ echo "tapsec_example.h: no SPDX line first"; return 1; }
	grep -qx '#ifndef TAPSEC_EXAMPLE_H' "$h" ||
		{ echo "tapsec_example.h: no include guard"; return 1; }
	for name in "${examples[@]}"; do
		grep -q '^#include "tapsec_example.h"' "$src/$name.c" ||
			{ echo "$name.c does not include tapsec_example.h"; return 1; }
	done
}

# usage NAME: no arguments: "usage: NAME ..." on stderr, nothing on
# stdout, exit status 2.
usage() {
	local out err rc
	[ -x "$work/$1" ] || { echo "$1 was not built"; return 1; }
	out=$("$work/$1" 2>"$work/$1.err" </dev/null)
	rc=$?
	err=$(cat "$work/$1.err")
	[ "$rc" = 2 ] || { echo "$1: exit $rc, not 2"; return 1; }
	[ -z "$out" ] || { echo "$1 wrote to stdout: $out"; return 1; }
	[[ $err == "usage: $1 "* ]] ||
		{ echo "$1: no usage line on stderr: $err"; return 1; }
}

tap_plan $((2 * ${#examples[@]} + 1))
tap_case shared_header_tapsec_example_h shared_header
for name in "${examples[@]}"; do
	tap_case "compiles_$name" compiles "$name"
done
for name in "${examples[@]}"; do
	tap_case "usage_exit_2_$name" usage "$name"
done
tap_done
