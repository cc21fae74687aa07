#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerate the ABI baselines tests/abi/*.abi from a build (default: build/) with abidw
# (Debian's abigail-tools).  Run it only to change the ABI on purpose, and commit the new
# baselines with the change that needs them: the suite's 'abi' test (tests/abi.sh) fails on
# any difference between the built libraries and these files.
#   scripts/abi-baseline.sh [BUILDDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
command -v abidw >/dev/null || { echo "abi-baseline: abidw not found (apt-get install abigail-tools)" >&2; exit 1; }
for lib in libvouch libvouch-audit; do
	so=$build/lib/$lib.so
	[ -e "$so" ] || { echo "abi-baseline: $so not built (ninja -C $build)" >&2; exit 1; }
	sections=$(readelf -S "$so")
	grep -q '\.debug_info' <<<"$sections" ||
		{ echo "abi-baseline: $so has no debug info: build with -g (buildtype debugoptimized)" >&2; exit 1; }
	# only the types of the public headers; no paths or line numbers, so that the file
	# changes only when the ABI does
	abidw --headers-dir include/vouch --drop-private-types --no-corpus-path --no-comp-dir-path \
		--no-show-locs --type-id-style hash --out-file "tests/abi/$lib.abi" "$so"
	echo "abi-baseline: wrote tests/abi/$lib.abi from $so"
done
