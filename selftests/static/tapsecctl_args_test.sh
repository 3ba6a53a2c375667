#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tapsecctl checks its arguments before it opens netlink, as ip and wg do:
# on the build host, where tapsec.ko is never loaded, every mistake gets
# exit status 2 and a message of its own, and only well-formed commands
# get as far as the netlink family (exit 1, "is tapsec.ko loaded?").
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"
ctl=$top/build/bin/tapsecctl

# run ARGS...: tapsecctl's exit status in RC, its stderr in ERR.
run() {
	ERR=$("$ctl" "$@" 2>&1 >/dev/null)
	RC=$?
}

# refused WANT ARGS...: exit 2 and a stderr line matching the ERE WANT.
refused() {
	local want=$1
	shift
	run "$@"
	[ "$RC" = 2 ] && [[ $ERR =~ $want ]] && return 0
	echo "tapsecctl $*: exit $RC, said: $ERR (expected exit 2 and /$want/)"
	return 1
}

# reaches_netlink ARGS...: well-formed: it got to opening the family.
reaches_netlink() {
	run "$@"
	[ "$RC" = 1 ] && [[ $ERR == *"is tapsec.ko loaded?"* ]] && return 0
	echo "tapsecctl $*: exit $RC, said: $ERR (expected the netlink error)"
	return 1
}

extra_words() {
	refused "info takes no arguments \\('x'\\)" info x &&
	refused "stats takes no arguments" stats --json 1 &&
	refused "usage: monitor" monitor now
}

wrong_shapes() {
	refused "usage: sock list" sock &&
	refused "usage: sock list" sock lst &&
	refused "usage: sock list" sock list all &&
	refused "usage: psk add IDENTITY" psk &&
	refused "usage: psk add IDENTITY" psk add &&
	refused "usage: psk add IDENTITY" psk del &&
	refused "usage: psk add IDENTITY" psk list extra &&
	refused "usage: key-update" key-update
}

misplaced_options() {
	refused "unknown command 'frobnicate'" frobnicate &&
	refused "--count goes with monitor" info --count 3 &&
	refused "--count takes a positive number" monitor --count 0 &&
	refused "--hash, --key-file and --owner go with psk add" sock list --hash sha256 &&
	refused "--hash, --key-file and --owner go with psk add" psk del x --hash sha256 &&
	refused "--hash, --key-file and --owner go with psk add" psk list --owner 0 &&
	refused "--hash, --key-file and --owner go with psk add" psk --key-file k del x &&
	refused "--hash takes sha256 or sha384" psk add x --hash md5 &&
	refused "--request goes with key-update" info --request
}

well_formed() {
	local c
	for c in "info" "stats" "-j info" "sock list" "psk list" "psk del x"; do
		# shellcheck disable=SC2086 # the words of c
		reaches_netlink $c || return 1
	done
}

# psk load FILE: the whole file is checked before netlink is opened, and
# a file others may read is refused.
psk_file() {
	local d f key
	d=$(mktemp -d) || return 1
	f=$d/psks
	key=00112233445566778899aabbccddeeff
	load() {	# WANT-RC ERE FILE-TEXT
		printf '%s\n' "$3" >"$f"
		chmod 600 "$f"
		run psk load "$f"
		[ "$RC" = "$1" ] && [[ $ERR =~ $2 ]] && return 0
		echo "psk load of <$3>: exit $RC, said: $ERR (expected $1 and /$2/)"
		return 1
	}
	load 1 "psks:1: the key must be 16 to 64 bytes in hex" "a 0011" &&
	load 1 "psks:1: the key must be" "a 0011223344556677889900aabbccddeeffx" &&
	load 1 "psks:2: expected IDENTITY HEX-KEY" "# c
lonely" &&
	load 1 'psks:1: unexpected "hash=md5"' "a $key hash=md5" &&
	load 1 'psks:1: unexpected "hash=sha384"' "a $key hash=sha256 hash=sha384" &&
	load 1 "psks:1: owner=tapsec-no-such-user: no such user" \
		"a $key owner=tapsec-no-such-user" &&
	load 1 'psks:2: identity "a" given twice' "a $key
a $key" &&
	load 1 "is tapsec.ko loaded" "# two PSKs
a $key hash=sha384 owner=root owner=@0

b ${key}${key}" || { rm -rf "$d"; return 1; }
	chmod 644 "$f"
	run psk load "$f"
	[ "$RC" = 1 ] && [[ $ERR == *"keys open to others (mode 0644)"* ]] ||
		{ echo "mode 0644: exit $RC: $ERR"; rm -rf "$d"; return 1; }
	ln -s "$f" "$d/link"
	chmod 600 "$f"
	run psk load "$d/link"
	rm -rf "$d"
	[ "$RC" = 1 ] && [[ $ERR == *"link: Too many levels of symbolic links"* ]] ||
		{ echo "a symlink: exit $RC: $ERR"; return 1; }
}

version() {
	local out
	out=$("$ctl" --version) && [ "$out" = "tapsecctl $(cat "$top/VERSION")" ] ||
		{ echo "tapsecctl --version: $out"; return 1; }
}

[ -x "$ctl" ] || { echo "$ctl is not built (make user)" >&2; exit 1; }
# The bash completion (tools/tapsecctl/tapsecctl.bash), in a bash of its
# own: complete LINE prints, sorted, what it offers for the last word of
# LINE (an empty one when LINE ends with a space).  A stand-in tapsecctl
# first in PATH answers psk list and sock list as the real one does with
# the module loaded.
complete_line() {
	bash -c '
		. "$1"
		read -r -a COMP_WORDS <<<"$2"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_tapsecctl
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
	' complete "$top/tools/tapsecctl/tapsecctl.bash" "$1"
}

# offers LINE WORD...: the completion of LINE is exactly the WORDs.
offers() {
	local line=$1 got want
	shift
	got=$(complete_line "$line")
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ "$got" = "$want" ] && return 0
	echo "completing '$line': got '$got', want '$want'"
	return 1
}

completion() {
	local help cmds psk_subs opts fake rc=0
	help=$("$ctl" help 2>&1)
	# Every command and psk subcommand of the help, and psk add's options.
	mapfile -t cmds < <(sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' <<<"$help" | sort -u)
	mapfile -t psk_subs < <(sed -n 's/^  psk \([a-z]*\).*/\1/p' <<<"$help")
	opts=${help#*psk add}
	mapfile -t opts < <(grep -o -- '--[a-z-]*' <<<"${opts%%psk del*}" | sort -u)
	[ ${#cmds[@]} -ge 6 ] && [ ${#psk_subs[@]} -eq 4 ] && [ ${#opts[@]} -eq 3 ] ||
		{ echo "cannot read the help: ${cmds[*]} / ${psk_subs[*]} / ${opts[*]}"; return 1; }
	offers "tapsecctl " "${cmds[@]}" &&
	offers "tapsecctl -j " "${cmds[@]}" &&
	offers "tapsecctl ps" psk &&
	offers "tapsecctl psk " "${psk_subs[@]}" &&
	offers "tapsecctl psk add id " "${opts[@]}" &&
	offers "tapsecctl psk add id --hash " sha256 sha384 &&
	offers "tapsecctl sock " list &&
	offers "tapsecctl monitor " --count &&
	offers "tapsecctl key-update 7 " --request &&
	offers "tapsecctl --" --json --version || return 1
	fake=$(mktemp -d) || return 1
	printf '%s\n' '#!/bin/sh' 'case "$1 $2" in' \
		"'psk list') echo 'client1 hash sha256 age 3s owners uid 0'; echo 'other hash sha384 age 9s owners uid 0' ;;" \
		"'sock list') echo 'inode 4242 stream tls13 from 1: a -> b'; echo 'inode 77 dgram dtls12 from 2: c -> d' ;;" \
		'esac' >"$fake/tapsecctl"
	chmod +x "$fake/tapsecctl"
	PATH=$fake:$PATH offers "tapsecctl psk del " client1 other &&
	PATH=$fake:$PATH offers "tapsecctl psk del cl" client1 &&
	PATH=$fake:$PATH offers "tapsecctl key-update " 4242 77 &&
	PATH=$fake:$PATH offers "tapsecctl -j key-update 4" 4242 || rc=1
	rm -rf "$fake"
	return $rc
}

tap_plan 7
tap_case extra_words_refused extra_words
tap_case wrong_shapes_refused wrong_shapes
tap_case misplaced_options_refused misplaced_options
tap_case well_formed_reach_netlink well_formed
tap_case psk_load_file_checked_first psk_file
tap_case version_printed version
tap_case bash_completion_follows_help completion
tap_done
