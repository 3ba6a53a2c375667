#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a user installing tapsec on their own machine gets (on the host,
# into a DESTDIR; Documentation/install.rst):
#  - make install puts the daemon, tapsecctl, the uapi header, tapsec.pc,
#    the systemd unit, the man pages and the documentation under PREFIX,
#    the unit and the configuration directory following PREFIX, and a
#    configuration the unit starts with, never over the admin's;
#  - one version (the file VERSION) in the module, both programs' --version
#    and tapsec.pc;
#  - a program builds against the installed header through pkg-config;
#  - the user's CFLAGS, CPPFLAGS and LDFLAGS reach the compiler and the
#    linker, and warnings are not errors unless WERROR=1;
#  - make modules / modules_install build tapsec.ko for a given KDIR and
#    install it under lib/modules/RELEASE/updates;
#  - scripts/install-deps refuses a system that is not Debian 12 (an
#    os-release of Ubuntu's) unless TAPSEC_DEPS_ANY_OS=1.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"
cd "$top" || exit 1

work=$(mktemp -d /tmp/install_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
version=$(cat VERSION)

# has_files ROOT PATH...: every PATH exists under ROOT.
has_files() {
	local root=$1 f
	shift
	for f; do
		[ -e "$root$f" ] || { echo "missing: $f"; return 1; }
	done
}

install_usr() {
	local d=$work/usr out
	out=$(make -s install PREFIX=/usr DESTDIR="$d" 2>&1) ||
		{ echo "make install failed: $out"; return 1; }
	has_files "$d" /usr/bin/tapsecctl /usr/sbin/tapsec-handshaked \
		/usr/include/linux/tapsec.h /usr/lib/pkgconfig/tapsec.pc \
		/usr/lib/systemd/system/tapsec-handshaked.service /etc/tapsec \
		/usr/share/doc/tapsec/LICENSE /usr/share/doc/tapsec/README.md \
		/usr/share/doc/tapsec/tapsec-handshaked.conf.example \
		/usr/share/bash-completion/completions/tapsecctl || return 1
	grep -qx 'ExecStart=/usr/sbin/tapsec-handshaked -c /etc/tapsec/handshaked.conf' \
		"$d/usr/lib/systemd/system/tapsec-handshaked.service" ||
		{ echo "the unit does not start /usr/sbin/tapsec-handshaked"; return 1; }
	cmp -s uapi/linux/tapsec.h "$d/usr/include/linux/tapsec.h" ||
		{ echo "the installed header differs from uapi/linux/tapsec.h"; return 1; }
}

# The unit can start after a fresh install: a configuration that passes
# --check-config is there, and a second install keeps the admin's; the
# unit is Type=notify and reloads with SIGHUP.  man finds every page.
install_config_unit_man() {
	local d=$work/usr conf unit page out
	conf=$d/etc/tapsec/handshaked.conf
	unit=$d/usr/lib/systemd/system/tapsec-handshaked.service
	out=$("$d/usr/sbin/tapsec-handshaked" -c "$conf" --check-config 2>&1) ||
		{ echo "the installed configuration: $out"; return 1; }
	echo "workers = 3 # the admin's" >>"$conf"
	out=$(make -s install PREFIX=/usr DESTDIR="$d" 2>&1) ||
		{ echo "make install failed: $out"; return 1; }
	grep -q "^workers = 3 # the admin's$" "$conf" ||
		{ echo "a second make install replaced the configuration"; return 1; }
	grep -qxF "ExecStartPre=/bin/sh -c 'if [ -e /etc/tapsec/psks ]; then exec /usr/bin/tapsecctl psk load /etc/tapsec/psks; fi'" \
		"$unit" || { echo "the unit loads no PSKs:"; cat "$unit"; return 1; }
	grep -qx 'Type=notify' "$unit" && grep -qx 'NotifyAccess=main' "$unit" &&
		grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit" ||
		{ echo "the unit is not Type=notify with ExecReload:"; cat "$unit"; return 1; }
	for page in tapsec.7 tapsecctl.8 tapsec-handshaked.8 tapsec-handshaked.conf.5; do
		out=$(MANPATH=$d/usr/share/man man -w "${page%.*}" 2>&1) &&
			[ "$out" = "$d/usr/share/man/man${page##*.}/$page" ] ||
			{ echo "man -w ${page%.*}: $out"; return 1; }
	done
}

install_local() {
	local d=$work/local unit out
	out=$(make -s install DESTDIR="$d" 2>&1) ||
		{ echo "make install failed: $out"; return 1; }
	has_files "$d" /usr/local/bin/tapsecctl /usr/local/sbin/tapsec-handshaked \
		/usr/local/lib/pkgconfig/tapsec.pc /usr/local/etc/tapsec || return 1
	unit=$d/usr/local/lib/systemd/system/tapsec-handshaked.service
	grep -qx 'ExecStart=/usr/local/sbin/tapsec-handshaked -c /usr/local/etc/tapsec/handshaked.conf' \
		"$unit" || { echo "the unit ignores PREFIX:"; grep Exec "$unit"; return 1; }
	grep -q 'exec /usr/local/bin/tapsecctl psk load /usr/local/etc/tapsec/psks' \
		"$unit" || { echo "the unit's psk load ignores PREFIX:"; grep Exec "$unit"; return 1; }
}

one_version() {
	local d=$work/usr out ko
	out=$("$d/usr/bin/tapsecctl" --version) &&
		[ "$out" = "tapsecctl $version" ] ||
		{ echo "tapsecctl --version: $out"; return 1; }
	out=$("$d/usr/sbin/tapsec-handshaked" --version) &&
		[ "$out" = "tapsec-handshaked $version" ] ||
		{ echo "tapsec-handshaked --version: $out"; return 1; }
	out=$(PKG_CONFIG_PATH=$d/usr/lib/pkgconfig pkg-config --modversion tapsec) &&
		[ "$out" = "$version" ] ||
		{ echo "tapsec.pc says $out"; return 1; }
	for ko in build/kmod/*/tapsec.ko; do
		[ -e "$ko" ] || { echo "no tapsec.ko built (make kmod)"; return 1; }
		out=$(modinfo -F version "$ko") && [ "$out" = "$version" ] ||
			{ echo "$ko is version $out"; return 1; }
	done
}

pkg_config_build() {
	local d=$work/usr cflags out
	cat >"$work/app.c" <<-'EOF'
		#include <sys/socket.h>
		#include <linux/tapsec.h>
		int main(void) { return SOL_TAPSEC == 290 ? 0 : 1; }
	EOF
	cflags=$(PKG_CONFIG_PATH=$d/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$d \
		pkg-config --cflags tapsec) || return 1
	[[ $cflags == *"-I$d/usr/include"* ]] ||
		{ echo "pkg-config --cflags tapsec: $cflags"; return 1; }
	out=$(cc $cflags -o "$work/app" "$work/app.c" 2>&1) ||
		{ echo "cannot build against the installed header: $out"; return 1; }
	"$work/app" || { echo "SOL_TAPSEC is not 290"; return 1; }
}

# The section GCC writes with -frecord-gcc-switches: the options it ran with.
switches() {
	readelf -p .GCC.command.line "$1" 2>/dev/null
}

user_flags() {
	local b=$work/b out sw
	# CPPFLAGS: a header forced in, whose string lands in the binary.
	echo 'static const char seen[] __attribute__((used)) = "TEST_CPPFLAGS_SEEN";' \
		>"$work/mark.h"
	out=$(make -s B="$b" "$b/bin/tapsecctl" \
		CFLAGS="-O1 -frecord-gcc-switches -fno-plt" \
		CPPFLAGS="-include $work/mark.h" LDFLAGS=-Wl,-z,norelro 2>&1) ||
		{ echo "make with the user's flags failed: $out"; return 1; }
	sw=$(switches "$b/bin/tapsecctl")
	[[ $sw == *-fno-plt* ]] ||
		{ echo "CFLAGS did not reach gcc: $sw"; return 1; }
	grep -aq TEST_CPPFLAGS_SEEN "$b/bin/tapsecctl" ||
		{ echo "CPPFLAGS did not reach gcc"; return 1; }
	! readelf -lW "$b/bin/tapsecctl" | grep -q GNU_RELRO ||
		{ echo "LDFLAGS (-z norelro) did not reach the linker"; return 1; }
	# GCC does not record warning options: read the commands make runs.
	rm -rf "$b"
	out=$(make -n B="$b" "$b/bin/tapsecctl" "$b/bin/tapsec-handshaked")
	[[ $out == *" -Wall "* && $out != *-Werror* ]] ||
		{ echo "-Werror without WERROR=1:"; echo "$out"; return 1; }
	out=$(make -n B="$b" "$b/bin/tapsecctl" WERROR=1)
	[[ $out == *-Werror* ]] ||
		{ echo "WERROR=1 did not add -Werror:"; echo "$out"; return 1; }
}

modules_install() {
	local kdir rel d=$work/mods out ko
	read -r _ rel kdir < <(tools/kernels 6.12) ||
		{ echo "no 6.12 kernel build tree"; return 1; }
	out=$(make -s modules_install KDIR="$kdir" DESTDIR="$d" 2>&1) ||
		{ echo "make modules_install failed: $out"; return 1; }
	# Compressed as the kernel's own modules are (6.12: xz).
	for ko in "$d/lib/modules/$rel/updates/tapsec.ko"{,.xz,.zst,.gz}; do
		[ -e "$ko" ] && break
	done
	[ -e "$ko" ] || {
		echo "no tapsec.ko in lib/modules/$rel/updates"
		find "$d" -name 'tapsec.ko*' | sed 's/^/  found: /'
		return 1
	}
	[ "$(modinfo -F version "$ko")" = "$version" ] ||
		{ echo "the installed module is not version $version"; return 1; }
	[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$rel" ] ||
		{ echo "the installed module is not built for $rel"; return 1; }
}

deps_other_os() {
	local out rc=0
	printf 'ID=ubuntu\nVERSION_ID="24.04"\n' >"$work/os-release"
	out=$(TAPSEC_OS_RELEASE=$work/os-release scripts/install-deps 2>&1) || rc=$?
	[ "$rc" = 2 ] && [[ $out == *'"ubuntu 24.04"'*'not Debian 12'* ]] ||
		{ echo "install-deps on Ubuntu: exit $rc, $out"; return 1; }
	# Asked to, it goes on: here everything is present, so it is done.
	out=$(TAPSEC_DEPS_ANY_OS=1 TAPSEC_OS_RELEASE=$work/os-release \
		scripts/install-deps 2>&1) ||
		{ echo "install-deps with TAPSEC_DEPS_ANY_OS=1: $out"; return 1; }
}

tap_plan 8
tap_case make_install_prefix_usr install_usr
tap_case install_config_unit_and_man_pages install_config_unit_man
tap_case make_install_prefix_follows install_local
tap_case one_version_everywhere one_version
tap_case builds_against_installed_header pkg_config_build
tap_case user_flags_honoured_werror_optional user_flags
tap_case modules_install_for_kdir modules_install
tap_case install_deps_refuses_other_systems deps_other_os
tap_done
