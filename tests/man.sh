#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every manual page renders as users read it: man -l at 80 columns and groff -ww -z -man
# without a single warning; each command page has SYNOPSIS, OPTIONS, EXIT STATUS and
# EXAMPLES, and no rendered synopsis line ends in the middle of an option ("[--bits" / "N]").
set -u
mandir=${1:-${VOUCH_SRCDIR:?}/man}
n=0; fail=0
t() { n=$((n+1)); if [ -z "$2" ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; printf '%s\n' "$2" | head -20 | sed 's/^/#   /'; fail=1; fi; }
if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
	echo "1..0 # SKIP man-db and groff are not installed"; exit 0
fi
pages=$(ls "$mandir"/*.[1-8])
[ -n "$pages" ] || { echo "Bail out! no pages in $mandir"; exit 1; }
for p in $pages; do
	name=$(basename "$p")
	w=$( { MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings=w -l "$p" >/dev/null; groff -ww -z -man "$p"; } 2>&1)
	t "$name renders without warnings (man -l, groff -ww -z)" "$w"
	for s in SYNOPSIS 'EXIT STATUS' EXAMPLES 'SEE ALSO'; do
		grep -q "^\.SH $s\$" "$p" || t "$name has $s" "missing"
	done
	if [ "$name" != vouch.1 ]; then
		grep -q '^\.SH OPTIONS$' "$p" || t "$name has OPTIONS" "missing"
	fi
	# a rendered synopsis or command line may not end inside an option ("[--bits" / "N]")
	syn=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$p" 2>/dev/null | col -b |
		grep -E '\[--?[A-Za-z0-9-]+$|\[$' || true)
	t "$name: no line breaks mid-option" "$syn"
done
# the overview names every family page
missing=$(for p in $pages; do case $p in *.1) ;; *) continue ;; esac; b=$(basename "$p" .1); [ "$b" = vouch ] && continue
	grep -q "^\.BR ${b//-/\\\\-} (1)" "$mandir/vouch.1" || echo "vouch(1) does not list $b(1)"; done)
t "vouch(1) lists every family page" "$missing"
echo "1..$n"
exit $fail
