#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TAP helpers for the integration tests.  Source it; call done_testing at the end.
set -u
VOUCH=${VOUCH:?VOUCH must point at the vouch binary}
VEC=${VOUCH_VECTORS:?}
TVEC=${VOUCH_TEST_VECTORS:-}
_n=0
_fail=0
T=$(mktemp -d /tmp/vouch-it.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok() { _n=$((_n+1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n+1)); _fail=1; echo "not ok $_n - $*"; }
skip() { _n=$((_n+1)); echo "ok $_n # SKIP $*"; }
diag() { printf '# %s\n' "$@"; }

# check DESCRIPTION CMD...: passes when CMD succeeds
check() { local d=$1; shift; if "$@" >"$T/.out" 2>&1; then ok "$d"; else not_ok "$d"; sed 's/^/#   /' "$T/.out" | head -20; fi; }
# expect_rc RC DESCRIPTION CMD...: passes when CMD exits with RC; stderr kept in $T/.err
expect_rc() {
	local want=$1 d=$2 rc; shift 2
	"$@" >"$T/.out" 2>"$T/.err"; rc=$?
	if [ "$rc" = "$want" ]; then ok "$d (exit $rc)"; else
		not_ok "$d (exit $rc, expected $want)"; sed 's/^/#   /' "$T/.err" | head -10; fi
}
# eq DESCRIPTION GOT WANT
eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got:  $2" "want: $3"; fi; }
# guard_mount DIR: DIR bind-mounted on itself (in the test's private mount namespace: the
# guard's marks never reach the host) and able to carry security.ima; else the test skips
guard_mount() {
	mkdir -p "$1"
	mount --bind "$1" "$1" || { echo "1..0 # SKIP cannot bind-mount in a private namespace"; exit 0; }
	if ! { : >"$1/probe" && setfattr -n security.ima -v 0x0401 "$1/probe" 2>/dev/null; }; then
		echo "1..0 # SKIP cannot write security.ima on $1"; exit 0
	fi
	rm -f "$1/probe"
}
# guard_up PID TRIES: 0 once vouch guard (PID, stderr in $T/guard.err) says it is guarding;
# 1 when it exited first or said nothing in TRIES times 50 ms
guard_up() {
	local i
	for i in $(seq "$2"); do
		grep -q '^vouch guard: guarding' "$T/guard.err" && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# stderr names the subject, among other lines (warnings, a summary, a usage hint)
err_has() {
	if grep -q -- "$2" "$T/.err" && ! grep -qi 'AddressSanitizer\|runtime error' "$T/.err"; then
		ok "$1"; else not_ok "$1"; sed 's/^/#   /' "$T/.err" | head -10; fi
}
# exactly one line on stderr, and it names the subject
one_line_err() {
	local d=$1 needle=$2 lines
	lines=$(wc -l <"$T/.err")
	if [ "$lines" -eq 1 ] && grep -q -- "$needle" "$T/.err" && ! grep -qi 'AddressSanitizer\|runtime error' "$T/.err"; then
		ok "$d"; else not_ok "$d"; sed 's/^/#   /' "$T/.err" | head -10; fi
}
# require_peer CMD PACKAGE: peers are installed by scripts/setup.sh; in CI a missing peer fails
require_peer() {
	if command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; then return 0; fi
	if [ "${CI:-}" = true ]; then not_ok "peer $1 (package $2) is missing in CI"; done_testing; fi
	echo "1..0 # SKIP $1 not installed (run scripts/setup.sh; package $2)"; exit 0
}
# require_peers CMD[:PACKAGE]...: require_peer for each (PACKAGE defaults to CMD)
require_peers() {
	local a
	for a in "$@"; do require_peer "${a%%:*}" "${a#*:}"; done
}
done_testing() { echo "1..$_n"; exit $_fail; }

# private copies of the shared test keys (the shared tree is read-only, keys must be 0600)
keys_copy() {
	mkdir -p "$T/keys"
	cp "$VEC"/keys/* "$T/keys/"; chmod 600 "$T/keys/"*.key
}
