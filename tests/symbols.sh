#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libvouch exports only vouch_* symbols, all of them versioned.
set -u
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ {print $3}')
bad=$(printf '%s\n' "$syms" | grep -v '^vouch_' | grep -v '^VOUCH_[0-9.]*$' || true)
count=$(printf '%s\n' "$syms" | grep -c '^vouch_')
if [ -z "$bad" ]; then echo "ok 1 - only vouch_ symbols exported ($count)"; else
	echo "not ok 1 - non-vouch_ symbols exported"; printf '# %s\n' $bad; fi
unver=$(objdump -T "$lib" | awk '/ vouch_/ && $0 !~ /VOUCH_[0-9]/' || true)
if [ -z "$unver" ]; then echo "ok 2 - every export carries a VOUCH_ version"; else
	echo "not ok 2 - unversioned exports"; printf '# %s\n' "$unver"; fi
if [ "$count" -gt 0 ]; then echo "ok 3 - the library exports its API"; else echo "not ok 3 - nothing exported"; fi
echo "1..3"
[ -z "$bad" ] && [ -z "$unver" ] && [ "$count" -gt 0 ]
