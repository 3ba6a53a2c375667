#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tapsec-handshaked's WireGuard crypto (userspace-handshaked/hs_blake2s.c,
# hs_noise.c) on the build host: noise_test.c's BLAKE2s, keyed BLAKE2s
# and HMAC-BLAKE2s for inputs of 0 to 300 bytes (block edges) against
# Python's hashlib and hmac, and its in-process handshakes.  The
# interop with kernel WireGuard is wg_interop_test.sh's.  Prints TAP.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-I"$top/userspace-handshaked" -I"$top/uapi" -o "$work/noise_test" \
	"$top/selftests/static/noise_test.c" \
	"$top/userspace-handshaked/hs_blake2s.c" \
	"$top/userspace-handshaked/hs_noise.c" \
	$(pkg-config --cflags --libs hogweed nettle) >"$work/cc.log" 2>&1 ||
	{ echo "1..1"; echo "not ok 1 build"; sed 's/^/# /' "$work/cc.log"; exit 1; }
"$work/noise_test" >"$work/out"
rc=$?
# The C side's cases first, then one for the hashes.
grep -v '^# \(blake2s\|keyed\|hmac\) ' "$work/out" | sed 's/^1\.\.6$/1..7/'
/usr/bin/python3 - "$work/out" <<'PY'
import hashlib, hmac, sys
key = bytes(range(32))
data = bytes((i * 7) & 0xff for i in range(300))
bad = []
n = 0
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) != 4 or f[1] not in ("blake2s", "keyed", "hmac"):
        continue
    kind, size, got = f[1], int(f[2]), f[3]
    m = data[:size]
    if kind == "blake2s":
        want = hashlib.blake2s(m).hexdigest()
    elif kind == "keyed":
        want = hashlib.blake2s(m, key=key, digest_size=16).hexdigest()
    else:
        want = hmac.new(key, m, hashlib.blake2s).hexdigest()
    n += 1
    if got != want:
        bad.append("%s of %d bytes: %s, hashlib %s" % (kind, size, got, want))
ok = n == 27 and not bad
print("%sok 7 blake2s_keyed_hmac_match_hashlib (%d of 27)" % ("" if ok else "not ", n))
for b in bad:
    print("# " + b)
sys.exit(0 if ok else 1)
PY
py=$?
[ "$rc" = 0 ] && [ "$py" = 0 ]
