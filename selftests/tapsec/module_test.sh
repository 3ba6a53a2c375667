#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module lifecycle, inside a VM with tapsec.ko NOT loaded: loading, refusal
# to unload while any tapsec socket exists, clean unload, and autoloading
# through socket(), TCP_ULP and the netlink family.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"

ko="$top/build/kmod/${TAPSEC_VM_KERNEL:?run inside tools/vm-run}/tapsec.ko"
ctl="$top/build/bin/tapsecctl"
py=/usr/bin/python3
rel=$(uname -r)
tree=/tmp/tapsec-modtree

loaded() { grep -q '^tapsec ' /proc/modules; }

# rmmod with a short retry: sockets are freed after close() returns.
unload() {
	local i
	for i in $(seq 20); do
		rmmod tapsec 2>/dev/null && return 0
		tap_sleep 0.1
	done
	rmmod tapsec
}

# Start a holder process; prints its pid once the socket exists.
hold() {	# python setup code
	local ready
	ready=$(mktemp)
	$py -c "
import socket, time, sys
$1
open('$ready', 'w').write('ok')
time.sleep(600)
" &
	HOLDER=$!
	for _ in $(seq 100); do
		[ -s "$ready" ] && { rm -f "$ready"; return 0; }
		kill -0 "$HOLDER" 2>/dev/null || break
		tap_sleep 0.05
	done
	rm -f "$ready"
	return 1
}

release() {
	kill "$HOLDER" 2>/dev/null
	wait "$HOLDER" 2>/dev/null
	return 0
}

# rmmod must fail while the socket created by $1 exists, then succeed.
pinned_by() {
	insmod "$ko" || return 1
	hold "$1" || { echo "holder did not start"; unload; return 1; }
	if rmmod tapsec 2>/dev/null; then
		echo "rmmod succeeded while a tapsec socket existed"
		release
		return 1
	fi
	loaded || { echo "module vanished"; release; return 1; }
	release
	unload && ! loaded
}

STREAM='s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 258)'
DGRAM6='s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, 258)'
ULP='
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
s = socket.create_connection(l.getsockname()); a, _ = l.accept()
s.setsockopt(socket.SOL_TCP, 31, b"tapsec")  # TCP_ULP: not in Python 3.11
l.close(); a.close()'
CHILD='
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 258)
l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname()); s, _ = l.accept()
l.close()'

load_unload() {
	insmod "$ko" && loaded && "$ctl" info >/dev/null && unload && ! loaded
}

no_module_errno() {
	loaded && return 1
	$py -c '
import errno, socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM, 258)
except OSError as e:
    raise SystemExit(0 if e.errno == errno.EPROTONOSUPPORT else e.errno)
raise SystemExit("socket() succeeded without the module")'
}

# install_module: tapsec.ko in a module tree of its own, which the
# kernel's modprobe helper searches first.  depmod over the kernel's own
# tree (thousands of modules on 9p under TCG) took minutes; tapsec needs
# no other module, so its tree holds it alone.  The helper is a script
# that falls back to the kernel's tree for every other module.
install_module() {
	local helper=$tree/modprobe
	mkdir -p "$tree/lib/modules/$rel/extra" &&
		cp "$ko" "$tree/lib/modules/$rel/extra/" || return 1
	cp /lib/modules/"$rel"/modules.builtin* "$tree/lib/modules/$rel/" 2>/dev/null
	echo extra/tapsec.ko >"$tree/lib/modules/$rel/modules.order"
	depmod -b "$tree" "$rel" || return 1
	printf '#!/bin/sh\n/sbin/modprobe -d %s "$@" 2>/dev/null || exec /sbin/modprobe "$@"\n' \
		"$tree" >"$helper" && chmod +x "$helper" &&
		read -r old_helper </proc/sys/kernel/modprobe &&
		echo "$helper" >/proc/sys/kernel/modprobe
}

restore_helper() {
	[ -z "${old_helper:-}" ] || echo "$old_helper" >/proc/sys/kernel/modprobe
}
trap restore_helper EXIT

autoload_socket() {
	loaded && return 1
	$py -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, 258).close()' &&
		loaded && unload
}

autoload_ulp() {
	loaded && return 1
	$py -c "
import socket
$ULP
s.close()" && loaded && unload
}

autoload_genl() {
	loaded && return 1
	"$ctl" info && loaded && unload
}

tap_plan 9
tap_case "load_and_unload" load_unload
tap_case "socket_without_module_eprotonosupport" no_module_errno
tap_case "unload_refused_stream_socket" pinned_by "$STREAM"
tap_case "unload_refused_dgram6_socket" pinned_by "$DGRAM6"
tap_case "unload_refused_ulp_socket" pinned_by "$ULP"
tap_case "unload_refused_accepted_child" pinned_by "$CHILD"
if install_module; then
	tap_case "autoload_by_socket" autoload_socket
	tap_case "autoload_by_tcp_ulp" autoload_ulp
	tap_case "autoload_by_genl_family" autoload_genl
else
	tap_case "install_module_for_autoload" false
	tap_skip autoload_by_tcp_ulp "module not installed"
	tap_skip autoload_by_genl_family "module not installed"
fi
tap_done
