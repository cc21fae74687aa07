# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for vouch.  Every name comes from the binary itself ('vouch __complete
# WORD...'): the command tables and each command's getopt_long table, so a new command or
# option completes without editing this file.
_vouch() {
	local cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]} i w path=() words
	# the command path: the words before the cursor up to the first option
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		[[ $w == -* ]] && break
		path+=("$w")
	done
	words=$("$prog" __complete "${path[@]}" 2>/dev/null)
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(grep -- '^-' <<<"$words")" -- "$cur"))
		return 0
	fi
	# a subcommand while the path is still all commands, else files
	if ((i == COMP_CWORD)) && grep -q '^[^-]' <<<"$words"; then
		COMPREPLY=($(compgen -W "$(grep -v -- '^-' <<<"$words")" -- "$cur"))
		((${#COMPREPLY[@]})) && return 0
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
	compopt -o filenames 2>/dev/null
	return 0
}
complete -F _vouch vouch
