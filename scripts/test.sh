#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite: -Werror build, every suite (unit, integration with real peers,
# fuzz-corpus replay), then the unit, fuzz-replay and bad-input suites again under ASan+UBSan,
# the unit suite built with clang -Werror, and the C unit tests under valgrind memcheck.
# Ends with "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
export CI=${CI:-}

fail_setup() { echo "test: $*" >&2; echo "vouch: 0 passed, 1 failed, 0 skipped"; exit 1; }

[ -f build/build.ninja ] || meson setup build --buildtype=debugoptimized -Dwerror=true >/dev/null ||
	fail_setup "meson setup failed"
ninja -C build >/dev/null || { ninja -C build; fail_setup "build failed"; }

if [ ! -f build-asan/build.ninja ]; then
	CC=${ASAN_CC:-gcc} meson setup build-asan --buildtype=debug -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null ||
		fail_setup "meson setup (sanitizers) failed"
fi
ninja -C build-asan >/dev/null || { ninja -C build-asan; fail_setup "sanitizer build failed"; }

# A clang -Werror leg: a second compiler's warnings, and the unit tests built with it.
if command -v clang >/dev/null; then
	[ -f build-clang/build.ninja ] || CC=clang meson setup build-clang --buildtype=debugoptimized \
		-Dwerror=true >/dev/null || fail_setup "meson setup (clang) failed"
	ninja -C build-clang >/dev/null || { ninja -C build-clang; fail_setup "clang build failed"; }
fi

rc=0
meson test -C build --print-errorlogs --num-processes 2 || rc=1
meson test -C build-asan --print-errorlogs --num-processes 2 --suite unit --suite fuzz-replay --suite bad-input || rc=1
if [ -f build-clang/build.ninja ]; then
	meson test -C build-clang --print-errorlogs --num-processes 2 --suite unit || rc=1
fi
# valgrind memcheck over the C unit tests (uninitialised reads ASan does not see); on the gcc
# build: valgrind 3.19 cannot read clang 14's DWARF 5
if command -v valgrind >/dev/null; then
	meson test -C build --setup valgrind --print-errorlogs --num-processes 2 \
		--suite memcheck || rc=1
fi

# Summary over both runs, from meson's JSON logs.
summary() {
	jq -rs --arg leg "$2" '.[] | [$leg + "/" + .name, .result] | @tsv' "$1/meson-logs/${3:-testlog}.json"
}
results=$( { summary build all; summary build-asan asan; [ -f build-clang/build.ninja ] && summary build-clang clang
	[ -f build/meson-logs/testlog-valgrind.json ] && summary build valgrind testlog-valgrind; } )
passed=$(grep -cP '\t(OK|EXPECTEDFAIL)$' <<<"$results")
failed=$(grep -cP '\t(FAIL|ERROR|TIMEOUT|UNEXPECTEDPASS)$' <<<"$results")
skipped=$(grep -cP '\tSKIP$' <<<"$results")
if [ "$failed" -gt 0 ]; then
	echo "failed tests:"; grep -P '\t(FAIL|ERROR|TIMEOUT|UNEXPECTEDPASS)$' <<<"$results" | sed 's/^/  /'
	rc=1
fi
if [ "$skipped" -gt 0 ]; then
	echo "skipped tests:"; grep -P '\tSKIP$' <<<"$results" | sed 's/^/  /'
fi
# TAP subtests that skipped, with their reasons
subskips=$(jq -rs '.[] | .name as $n | (.stdo // "") | split("\n")[] | select(test("# SKIP")) | $n + ": " + .' \
	build/meson-logs/testlog.json 2>/dev/null | sort -u)
if [ -n "$subskips" ]; then
	echo "skipped subtests:"; sed 's/^/  /' <<<"$subskips"
fi
echo "vouch: $passed passed, $failed failed, $skipped skipped"
exit $rc
