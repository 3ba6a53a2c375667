#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The man pages, Documentation/man/*.rst, on the build host (no build
# needed: the lists below come from the sources):
#
#  - each builds with rst2man (Debian's python3-docutils) without a
#    docutils warning, as the section its file name says, from a source
#    of lines under 80 columns;
#  - each renders with man(1) at 80 columns without a groff warning and
#    without a line wider than that;
#  - each says all the code offers: tapsec.7 every option of enum
#    tapsec_sockopt (uapi/linux/tapsec.h), tapsecctl.8 every command of
#    tapsecctl's usage() and every option it parses,
#    tapsec-handshaked.8 every option of the daemon's usage() and
#    option table, tapsec-handshaked.conf.5 every section and key
#    hs_config.c accepts.  A name counts as documented when it has an
#    entry: the term of a definition list item names it in bold
#    (**NAME**), not a mere mention in passing;
#  - installed as MANDIR/manS/NAME.S, man -w finds each by its name.
set -u
# Nothing of the caller's man(1) settings: sections, options, paths.
unset MANOPT MANSECT MANPATH MANROFFOPT MANWIDTH MANPAGER PAGER

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/tap.sh"

src=$top/Documentation/man
pages=(tapsec.7 tapsecctl.8 tapsec-handshaked.8 tapsec-handshaked.conf.5)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rst2man_clean PAGE: docutils builds $tmp/PAGE from PAGE.rst, not a
# warning, with the name and section of PAGE's file name.
rst2man_clean() {
	local page=$1 out err name sect
	name=${page%.*}
	sect=${page##*.}
	out=$(rst2man --halt=warning --exit-status=warning "$src/$page.rst" \
		"$tmp/$page.new" 2>&1)
	err=$?
	[ "$err" = 0 ] && [ -z "$out" ] ||
		{ echo "rst2man exit $err:"; printf '%s\n' "$out"; return 1; }
	if ! grep -q "^\\.TH \"${name^^}\" $sect " "$tmp/$page.new"; then
		echo "not .TH \"${name^^}\" $sect but:"
		grep '^\.TH' "$tmp/$page.new"
		return 1
	fi
	mv "$tmp/$page.new" "$tmp/$page"
}

# built PAGE: $tmp/PAGE is there, built now (warnings or not) when
# rst2man_clean did not build it (it failed, or TAP_ONLY skipped it).
built() {
	[ -f "$tmp/$1" ] && return 0
	rst2man "$src/$1.rst" "$tmp/$1" >/dev/null 2>&1 && return 0
	rm -f "$tmp/$1"
	echo "$1.rst does not build"
	return 1
}

# source_width PAGE: no line of PAGE.rst is 80 columns or wider.
source_width() {
	local long
	long=$(awk 'length($0) >= 80 { print FNR ": " $0 }' "$src/$1.rst")
	[ -z "$long" ] && return 0
	echo "lines of 80 columns or more:"
	printf '%s\n' "$long"
	return 1
}

# man_renders PAGE: man formats the built page at 80 columns, groff
# warns of nothing, no line is wider.
man_renders() {
	local page=$tmp/$1 width
	built "$1" || return 1
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" \
		>"$page.txt" 2>"$page.err" ||
		{ echo "man exit $?"; cat "$page.err"; return 1; }
	[ ! -s "$page.err" ] ||
		{ echo "groff warned:"; cat "$page.err"; return 1; }
	[ -s "$page.txt" ] || { echo "man printed nothing"; return 1; }
	width=$(LC_ALL=C.UTF-8 wc -L <"$page.txt")
	[ "$width" -le 80 ] ||
		{ echo "rendered lines wider than 80 columns:"
		  LC_ALL=C.UTF-8 awk 'length($0) > 80' "$page.txt"; return 1; }
}

# c_function_text FILE NAME: the string literals of C function NAME in FILE,
# joined, with \n and \" unescaped: the text a usage() prints.
c_function_text() {
	perl -0777 -ne '
		/\b'"$2"'\s*\([^)]*\)\s*\{(.*?)\n\}/s or exit 1;
		my ($body, $s) = ($1, "");
		$s .= $1 while $body =~ /"((?:[^"\\]|\\.)*)"/g;
		$s =~ s/\\n/\n/g; $s =~ s/\\"/"/g; $s =~ s/\\t/\t/g;
		print $s' "$1"
}

# options FILE: the long options of FILE, those its usage() text names
# and those of its struct option tables, sorted.
options() {
	{
		c_function_text "$1" usage |
			grep -oE -- '(^|[^a-z-])--[a-z][a-z-]*' |
			grep -oE -- '--[a-z-]+'
		perl -0777 -ne '
			while (/struct\s+option\s+\w+\s*\[\s*\]\s*=\s*
				\{(.*?)\};/sgx) {
				my $t = $1;
				print "--$1\n" while $t =~ /\{\s*"([^"]+)"/g;
			}' "$1"
	} | sort -u
}

# strcmp_names FILE VAR: the NAMEs of strcmp(VAR, "NAME") (or
# strcmp("NAME", VAR)) in FILE, however spaced, sorted.
strcmp_names() {
	V=$2 perl -0777 -ne '
		my $v = $ENV{V};
		print "$1$2\n" while /\bstrcmp\s*\(\s*(?:\Q$v\E\s*,\s*"([^"]+)"
					|"([^"]+)"\s*,\s*\Q$v\E)\s*\)/gx
		' "$1" | sort -u
}

# documented PAGE WHAT NAMES...: every NAME has an entry in PAGE.rst, a
# definition list item whose term (a line that starts with "**", the
# next line indented) has it in bold; prints those that have none.  WHAT
# says what they are, for the message.
documented() {
	local name=$1 page=$src/$1.rst what=$2 n terms missing=()
	shift 2
	terms=$(awk 'prev ~ /^[*][*]/ && /^    / { print prev } { prev = $0 }' \
		"$page")
	for n in "$@"; do
		grep -qF -- "**$n**" <<<"$terms" || missing+=("$n")
	done
	[ ${#missing[@]} = 0 ] && return 0
	echo "$what without an entry in $name.rst:"
	printf '  %s\n' "${missing[@]}"
	return 1
}

# at_least N WHAT NAMES...: the extraction found N names or more (a
# parser that finds nothing must not pass).
at_least() {
	local n=$1 what=$2
	shift 2
	[ $# -ge "$n" ] && return 0
	echo "found only $# $what in the source (at least $n expected): the" \
		"extraction no longer matches the code"
	return 1
}

sockopts() {
	local names
	mapfile -t names < <(perl -0777 -ne '
		/enum\s+tapsec_sockopt\s*\{(.*?)\}\s*;/s or exit 1;
		my $b = $1;
		$b =~ s{/\*.*?\*/}{}gs;
		$b =~ s{//[^\n]*}{}g;
		for (split /,/, $b) { print "$1\n" if /^\s*([A-Za-z_]\w*)/ }
		' "$top/uapi/linux/tapsec.h")
	at_least 30 "enum tapsec_sockopt entries" "${names[@]}" &&
		documented tapsec.7 "enum tapsec_sockopt entries" "${names[@]}"
}

tapsecctl_commands() {
	local c=$top/tools/tapsecctl/tapsecctl.c text cmds opts
	text=$(c_function_text "$c" usage) ||
		{ echo "no usage() in $c"; return 1; }
	# "  WORD [WORD]...  description": the command lines of the text.
	mapfile -t cmds < <(printf '%s\n' "$text" |
		sed -nE 's/^  ([a-z][a-z-]*( [a-z][a-z-]*)*).*/\1/p' | sort -u)
	mapfile -t opts < <(options "$c")
	at_least 8 "commands in tapsecctl's usage()" "${cmds[@]}" &&
		at_least 8 "tapsecctl options" "${opts[@]}" &&
		documented tapsecctl.8 "tapsecctl commands" "${cmds[@]}" &&
		documented tapsecctl.8 "tapsecctl options" "${opts[@]}" -j -h
}

handshaked_options() {
	local c=$top/userspace-handshaked/hs_main.c opts
	c_function_text "$c" usage >/dev/null ||
		{ echo "no usage() in $c"; return 1; }
	mapfile -t opts < <(options "$c")
	at_least 6 "tapsec-handshaked options" "${opts[@]}" &&
		documented tapsec-handshaked.8 "tapsec-handshaked options" \
			"${opts[@]}"
}

config_keys() {
	local c=$top/userspace-handshaked/hs_config.c keys kinds k missing=()
	# The keys and section kinds the parser compares its input with.
	mapfile -t keys < <(strcmp_names "$c" key)
	mapfile -t kinds < <(strcmp_names "$c" kind)
	at_least 8 "configuration keys" "${keys[@]}" &&
		at_least 2 "section kinds" "${kinds[@]}" || return 1
	for k in "${kinds[@]}"; do
		grep -qF -- "[$k" "$src/tapsec-handshaked.conf.5.rst" ||
			missing+=("[$k NAME]")
	done
	[ ${#missing[@]} = 0 ] ||
		{ echo "sections missing from tapsec-handshaked.conf.5.rst:"
		  printf '  %s\n' "${missing[@]}"; }
	documented tapsec-handshaked.conf.5 "configuration keys" "${keys[@]}" &&
		[ ${#missing[@]} = 0 ]
}

# man -w NAME finds the page installed under MANPATH as manS/NAME.S.
man_w_finds() {
	local page name sect found bad=0
	for page in "${pages[@]}"; do
		sect=${page##*.}
		built "$page" || { bad=1; continue; }
		mkdir -p "$tmp/man/man$sect"
		cp "$tmp/$page" "$tmp/man/man$sect/$page"
	done
	for page in "${pages[@]}"; do
		name=${page%.*}
		sect=${page##*.}
		[ -f "$tmp/man/man$sect/$page" ] || continue
		found=$(MANPATH=$tmp/man man -w "$name" 2>&1)
		[ "$found" = "$tmp/man/man$sect/$page" ] && continue
		echo "MANPATH=\$tmp/man man -w $name: $found"
		bad=1
	done
	return $bad
}

command -v rst2man >/dev/null ||
	{ echo "rst2man is not installed (python3-docutils)" >&2; exit 1; }
command -v man >/dev/null ||
	{ echo "man is not installed (man-db)" >&2; exit 1; }

tap_plan $((3 * ${#pages[@]} + 5))
for p in "${pages[@]}"; do
	tap_case "rst2man_clean_$p" rst2man_clean "$p"
	tap_case "source_under_80_columns_$p" source_width "$p"
	tap_case "man_renders_$p" man_renders "$p"
done
tap_case sockopts_in_tapsec.7 sockopts
tap_case tapsecctl_commands_in_tapsecctl.8 tapsecctl_commands
tap_case handshaked_options_in_tapsec-handshaked.8 handshaked_options
tap_case config_keys_in_tapsec-handshaked.conf.5 config_keys
tap_case man_w_finds_pages man_w_finds
tap_done
