# SPDX-License-Identifier: GPL-2.0
#
# bash completion for tapsecctl(8).  make install puts it where
# bash-completion loads it on first use
# ($(PREFIX)/share/bash-completion/completions/tapsecctl).
#
# Commands and options come from this file; the names of stored PSKs (psk
# del) and the inodes of live sockets (key-update) from tapsecctl itself,
# when tapsec.ko is there to ask.

_tapsecctl_words() {	# PREFIX WORD...: the WORDs that start with PREFIX
	local cur=$1 w
	shift
	for w; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
}

_tapsecctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local words=() i w cmd='' sub='' line
	COMPREPLY=()
	# The words before the cursor, without the global options.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-j|--json) ;;
		*) words+=("$w") ;;
		esac
	done
	cmd=${words[0]:-}
	sub=${words[1]:-}

	case $prev in
	--hash)
		_tapsecctl_words "$cur" sha256 sha384
		return
		;;
	--key-file)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--owner)
		if [[ $cur == @* ]]; then
			mapfile -t COMPREPLY < <(compgen -g -P @ -- "${cur#@}")
		else
			mapfile -t COMPREPLY < <(compgen -u -- "$cur")
		fi
		return
		;;
	--count)
		return
		;;
	esac

	case $cmd in
	'')
		if [[ $cur == -* ]]; then
			_tapsecctl_words "$cur" -j --json --version
		else
			_tapsecctl_words "$cur" info stats sock monitor psk key-update help
		fi
		;;
	sock)
		[ ${#words[@]} -eq 1 ] && _tapsecctl_words "$cur" list
		;;
	monitor)
		_tapsecctl_words "$cur" --count
		;;
	psk)
		case ${#words[@]}:$sub in
		1:*)
			_tapsecctl_words "$cur" add del load list
			;;
		2:del)
			while read -r line; do
				_tapsecctl_words "$cur" "${line%% *}"
			done < <(tapsecctl psk list 2>/dev/null)
			;;
		2:load)
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			;;
		*:add)
			[ ${#words[@]} -gt 2 ] &&
				_tapsecctl_words "$cur" --hash --key-file --owner
			;;
		esac
		;;
	key-update)
		if [ ${#words[@]} -eq 1 ]; then
			while read -r line; do
				[[ $line =~ ^inode\ ([0-9]+) ]] &&
					_tapsecctl_words "$cur" "${BASH_REMATCH[1]}"
			done < <(tapsecctl sock list 2>/dev/null)
		else
			_tapsecctl_words "$cur" --request
		fi
		;;
	esac
}

complete -F _tapsecctl tapsecctl
