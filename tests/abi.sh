#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The ABI of the built libraries is the stored one: abidiff (Debian's abigail-tools) of
# build/lib/<lib>.so against tests/abi/<lib>.abi, for the types and functions of the public
# headers.  Any difference fails, added functions too, so that an ABI change is deliberate:
# regenerate the baselines with scripts/abi-baseline.sh and commit them with the change.
#   tests/abi.sh SRCDIR LIBRARY...
set -u
src=$1; shift
n=0; fail=0
if ! command -v abidiff >/dev/null; then
	echo "1..0 # SKIP abidiff not installed (apt-get install abigail-tools; scripts/setup.sh does)"
	exit 0
fi
for so in "$@"; do
	n=$((n+1))
	lib=$(basename "$so"); lib=${lib%%.so*}
	base=$src/tests/abi/$lib.abi
	if [ ! -f "$base" ]; then
		echo "not ok $n - $lib: no baseline $base (make it with scripts/abi-baseline.sh)"; fail=1; continue
	fi
	sections=$(readelf -S "$so" 2>/dev/null)
	if ! grep -q '\.debug_info' <<<"$sections"; then
		echo "ok $n # SKIP $lib: $so has no debug info to compare (build with -g)"; continue
	fi
	report=$(abidiff --headers-dir2 "$src/include/vouch" --drop-private-types --fail-no-debug-info \
		"$base" "$so" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - $lib: the ABI is the baseline's (tests/abi/$lib.abi)"
	else
		echo "not ok $n - $lib: the ABI differs from tests/abi/$lib.abi (abidiff exit $rc)"
		printf '%s\n' "$report" | sed 's/^/#   /'
		echo "# if the change is deliberate: scripts/abi-baseline.sh $(dirname "$(dirname "$so")"), then commit tests/abi/"
		fail=1
	fi
done
echo "1..$n"
exit $fail
