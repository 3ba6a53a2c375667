#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tapsec.ko as DKMS builds it on a user's machine (Documentation/install.rst):
#  - make dkms_install puts the module's sources and a dkms.conf naming the
#    version of the file VERSION under DESTDIR/usr/src/tapsec-VERSION;
#  - Debian's dkms adds, builds and installs it from there (`dkms install`)
#    for the 6.1 test kernel, then for 6.12 as on a kernel upgrade (`dkms
#    autoinstall -k`, what the kernel's postinst hook runs), in trees
#    of this test's own (--sourcetree, --dkmstree, --installtree), so the
#    host's /var/lib/dkms and /lib/modules are not touched;
#  - the installed module, once depmod knows it, is what a 6.12 guest loads
#    when an application opens a tapsec socket (autoload), with the version
#    and srcversion of the one DKMS built;
#  - dkms remove takes it away again.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"
cd "$top" || exit 1

version=$(cat VERSION)
# A fixed directory outside the clone, so that ccache finds the objects of
# the last run (the build paths are part of what it hashes); one run at a
# time uses it.  Debian's kernel headers compile through ccache when asked
# (their .kernelvariables, which dkms reads): each of the two builds costs
# seconds instead of half a minute once the objects are in the cache.
cache=${TAPSEC_CACHE:-$HOME/.cache/tapsec}
mkdir -p "$cache"
exec {lock}>"$cache/dkms_test.lock"
flock "$lock"
work=$cache/dkms_test
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
export DEBIAN_KERNEL_USE_CCACHE=1
export CCACHE_DIR=$cache/ccache-dkms
export CCACHE_MAXSIZE=200M CCACHE_NOHASHDIR=true
src=$work/root/usr/src
tree=$work/dkms
inst=$work/modules
mkdir -p "$tree" "$inst"

# Signing would make (and keep) a key in /var/lib/dkms: sign nothing.
export sign_file=$work/no-sign-file

# dkms_do ARGS...: dkms on this test's trees; output in $work/dkms.log.
# No depmod: it would rewrite the host's own /lib/modules/RELEASE indexes
# (the guest runs depmod on its copy).
dkms_do() {
	dkms "$@" --sourcetree "$src" --dkmstree "$tree" \
		--installtree "$inst" --no-depmod >"$work/dkms.log" 2>&1 ||
		{ tail -n 30 "$work/dkms.log"; return 1; }
}

sources() {
	local d=$src/tapsec-$version out
	out=$(make -s dkms_install DESTDIR="$work/root" 2>&1) ||
		{ echo "make dkms_install failed: $out"; return 1; }
	[ -f "$d/dkms.conf" ] && [ -f "$d/Kbuild" ] &&
		[ -f "$d/uapi/linux/tapsec.h" ] && [ -f "$d/kernel/tapsec_main.c" ] ||
		{ echo "missing files under $d"; return 1; }
	grep -qx "PACKAGE_VERSION=\"$version\"" "$d/dkms.conf" ||
		{ echo "dkms.conf does not name version $version"; return 1; }
	! grep -q '@' "$d/dkms.conf" ||
		{ echo "dkms.conf keeps a placeholder"; return 1; }
}

# installed REL: tapsec.ko of this version is installed for REL.
installed() {
	local rel=$1 ko
	ko=$(find "$inst/$rel/updates/dkms" -name 'tapsec.ko*' 2>/dev/null)
	[ -n "$ko" ] || { echo "no tapsec.ko under $inst/$rel"; cat "$work/dkms.log"; return 1; }
	modinfo -F version "$ko" | grep -qx "$version" ||
		{ echo "$ko: version $(modinfo -F version "$ko"), not $version"; return 1; }
	modinfo -F vermagic "$ko" | grep -q "^$rel " ||
		{ echo "$ko: vermagic $(modinfo -F vermagic "$ko"), not $rel"; return 1; }
}

# What a user runs once: dkms install, here for REL.
install_for() {
	mkdir -p "$inst/$1"
	dkms_do add tapsec/"$version" && dkms_do install tapsec/"$version" -k "$1" &&
		installed "$1"
}

# What a kernel upgrade to REL runs (dkms's kernel postinst hook): every
# module added with AUTOINSTALL built and installed for it.
autoinstall() {
	mkdir -p "$inst/$1"
	dkms_do autoinstall -k "$1" && installed "$1"
}

# The guest copies the installed tree into a module tree of its own (as
# module_test.sh does: depmod over the kernel's whole tree on 9p takes
# minutes under TCG), points the kernel's modprobe helper at it, and opens
# a tapsec socket.
guest_autoload() {
	local rel=$1 ko srcver out rc=0
	ko=$(find "$inst/$rel/updates/dkms" -name 'tapsec.ko*')
	srcver=$(modinfo -F srcversion "$ko")
	# shellcheck disable=SC2016 # expanded by the guest's bash
	out=$(tools/vm-run --kernel 6.12 --timeout 300 --share-rw "$work" -- \
		bash -c '
		set -e
		rel=$(uname -r); t=$1/guest
		mkdir -p "$t/lib/modules/$rel"
		cp -r "$1/modules/$rel/updates" "$t/lib/modules/$rel/"
		cp /lib/modules/"$rel"/modules.builtin* "$t/lib/modules/$rel/"
		depmod -b "$t" "$rel"
		printf "#!/bin/sh\n/sbin/modprobe -d %s \"\$@\" 2>/dev/null || exec /sbin/modprobe \"\$@\"\n" \
			"$t" >"$t/modprobe"
		chmod +x "$t/modprobe"
		echo "$t/modprobe" >/proc/sys/kernel/modprobe
		[ ! -e /sys/module/tapsec ]
		python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 258).close()"
		echo "loaded version $(cat /sys/module/tapsec/version) srcversion $(cat /sys/module/tapsec/srcversion)"
		' dkms-guest "$work" 2>&1) || rc=$?
	grep -qx "loaded version $version srcversion $srcver" <<<"$out" && [ "$rc" -eq 0 ] ||
		{ echo "vm-run exit $rc, wanted version $version srcversion $srcver:"; tail -n 30 <<<"$out"; return 1; }
}

# Both kernels' modules installed, as dkms status says.
status_installed() {
	dkms_do status tapsec || return 1
	[ "$(grep -c ': installed' "$work/dkms.log")" -eq 2 ] ||
		{ cat "$work/dkms.log"; return 1; }
}

remove() {
	local rel
	dkms_do remove tapsec/"$version" --all || return 1
	for rel in "$@"; do
		[ -z "$(find "$inst/$rel" -name 'tapsec.ko*')" ] ||
			{ echo "tapsec.ko left under $inst/$rel"; return 1; }
	done
}

mapfile -t kernels < <(tools/kernels 6.1 6.12 | awk '{ print $2 }')
tap_plan 6
if ! command -v dkms >/dev/null; then
	for c in sources install autoinstall guest_autoload status remove; do
		tap_skip "$c" "no dkms (scripts/install-deps installs it)"
	done
	exit 0
fi
tap_case "make_dkms_install_sources" sources
tap_case "dkms_install_6.1" install_for "${kernels[0]}"
tap_case "autoinstall_on_upgrade_6.12" autoinstall "${kernels[1]}"
tap_case "guest_autoloads_it_6.12" guest_autoload "${kernels[1]}"
tap_case "dkms_status_installed_for_both" status_installed
tap_case "dkms_remove_all" remove "${kernels[@]}"
tap_done
