#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bash completion and 'vouch help' come from the CLI's own tables: every command and
# subcommand completes, every long option of every getopt_long table in programs/ completes
# for some command, a few options complete for exactly their command, 'vouch help CMD' is
# 'vouch CMD --help', and every command refuses an unknown option with exit 2 (the
# completion relies on that to stop a command before it reads anything).
set -u
src=${VOUCH_SRCDIR:?} VOUCH=${VOUCH:?}
n=0; fail=0
t() { n=$((n+1)); if [ -z "$2" ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; printf '%s\n' "$2" | head -20 | sed 's/^/#   /'; fail=1; fi; }
comp=$src/completion/vouch.bash
[ -f "$comp" ] || { t "completion/vouch.bash exists" "missing"; echo "1..$n"; exit 1; }
# shellcheck source=/dev/null
. "$comp"
complete_words() { # WORD... (the last one is being completed) -> COMPREPLY, one per line
	COMP_WORDS=("$VOUCH" "$@"); COMP_CWORD=$#; COMPREPLY=()
	_vouch; printf '%s\n' "${COMPREPLY[@]}"
}

# every command path, walked through the completion itself
paths=(); queue=("")
while [ ${#queue[@]} -gt 0 ]; do
	p=${queue[0]}; queue=("${queue[@]:1}")
	# shellcheck disable=SC2086
	subs=$(complete_words $p "" | grep -v '^-' | grep -vx 'help' || true)
	if [ -n "$p" ] && ! "$VOUCH" __complete $p | grep -q '^[^-]'; then
		paths+=("$p"); continue
	fi
	for s in $subs; do
		queue+=("${p:+$p }$s")
	done
done
t "the walk finds the commands (${#paths[@]}: ${paths[*]:0:6} ...)" "$([ ${#paths[@]} -ge 35 ] || echo "only ${#paths[@]} command paths")"

# shellcheck disable=SC2086
all=$(for p in "${paths[@]}"; do complete_words $p -; done | sort -u)
tables=$(grep -ohE '\{ *"[a-z0-9][a-z0-9-]*" *, *(no|required|optional)_argument' "$src"/programs/*.c |
	sed -E 's/^\{ *"([^"]*)".*/--\1/' | sort -u)
t "every long option of the CLI's getopt tables completes ($(wc -l <<<"$tables") options)" \
	"$(comm -23 <(echo "$tables") <(echo "$all"))"

has() { # DESC WORDS... -- OPTION
	local d=$1 want=${*: -1} got; shift
	got=$(complete_words "${@:1:$#-2}")
	t "$d" "$(grep -qx -- "$want" <<<"$got" || echo "'$want' not offered; got: $(echo $got)")"
}
has "vouch sign --det completes --detached" sign --det -- --detached
has "vouch attest verify --ref completes --reference" attest verify --ref -- --reference
has "vouch initramfs extract --dev completes --devices" initramfs extract --dev -- --devices
has "vouch tpm ak create --hier completes --hierarchy" tpm ak create --hier -- --hierarchy
has "vouch i completes ima" i -- ima
has "vouch tpm ak s completes show" tpm ak s -- show
t "options complete for their own command only (vouch digest -- has no --detached)" \
	"$(complete_words digest -- | grep -x -- --detached)"
t "after the command, arguments complete as files" \
	"$(cd "$src" && complete_words sign -k README | grep -qx README.md || echo "README.md not offered")"

# vouch help CMD [SUB] prints what CMD [SUB] --help prints
bad=$(for p in "${paths[@]}" ima tpm; do
	# shellcheck disable=SC2086
	a=$("$VOUCH" help $p 2>&1); ra=$?; b=$("$VOUCH" $p --help 2>&1); rb=$?
	{ [ "$ra" = 0 ] && [ "$rb" = 0 ] && [ "$a" = "$b" ] && grep -q '^Usage: vouch' <<<"$a"; } ||
		echo "vouch help $p (exit $ra) vs vouch $p --help (exit $rb): ${a%%$'\n'*}"
done)
t "vouch help COMMAND is COMMAND --help, for every command" "$bad"
v=$("$VOUCH" --version); t "vouch --version: $v" "$(grep -qE '^vouch [0-9]+\.[0-9]+\.[0-9]+ ' <<<"$v" || echo "$v")"

bad=$(for p in "${paths[@]}"; do
	# shellcheck disable=SC2086
	"$VOUCH" $p --no-such-option </dev/null >/dev/null 2>&1; r=$?
	[ "$r" = 2 ] || echo "vouch $p --no-such-option: exit $r"
done)
t "every command refuses an unknown option with exit 2" "$bad"
echo "1..$n"
exit $fail
