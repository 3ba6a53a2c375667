#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tapsec.ko builds W=1 with no warning (warnings are errors) and sparse
# (C=2, every file) with no report, on every test kernel.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"

mapfile -t kernels < <("$top/tools/kernels" | awk '{print $1}')
tap_plan ${#kernels[@]}
for k in "${kernels[@]}"; do
	tap_case "kbuild_w1_sparse_clean_$k" "$top/tools/build-kmod" --sparse "$k"
done
tap_done
