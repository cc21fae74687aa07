#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# The service's end-to-end test, unchanged, on PostgreSQL with two nodes (issue 17, "what
# it must show" 1): a throwaway cluster (scripts/pg-cluster.sh), VOUCHD pointing at
# tests/service/vouchd-2nodes.sh (two vouchd nodes on that database behind tests/fault-proxy,
# which hands connections to both in turn), and a sqlite3 that sends test-e2e.sh's queries
# on its database file to PostgreSQL (tests/service/sqlite3-pg.py).  test-e2e.sh's TAP
# lines pass through; then this test's own: both nodes served agents, neither crashed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${VOUCH_SRCDIR:-$HERE/../..}
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
PROXY=${FAULT_PROXY:?FAULT_PROXY must point at tests/fault-proxy}
CLUSTER=$SRC/scripts/pg-cluster.sh
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$CLUSTER" ]; then
	echo "1..0 # SKIP scripts/pg-cluster.sh is missing (the PostgreSQL backend is not in this tree)"
	exit 0
fi
if [ ! -x "$PG_BIN/initdb" ] || ! command -v psql >/dev/null; then
	echo "1..0 # SKIP PostgreSQL 15 is not installed (run scripts/setup.sh; package postgresql-15)"
	exit 0
fi
W=$(mktemp -d /tmp/vouch-e2e-pg.XXXXXX)
chmod 755 "$W"
trap '"$CLUSTER" stop "$W/pg" >/dev/null 2>&1; rm -rf "$W"' EXIT
if ! "$CLUSTER" start "$W/pg" 2>"$W/cluster.err"; then
	echo "1..0 # SKIP cannot start a PostgreSQL cluster: $(head -1 "$W/cluster.err")"
	exit 0
fi
DSN=$("$CLUSTER" dsn "$W/pg")
# a vouchd built without libpq takes the URI for a file name: say so rather than fail later
if ! "$VOUCHD" --db "$DSN" --verify-chain >"$W/status.out" 2>&1; then
	echo "1..0 # SKIP vouchd cannot open PostgreSQL: $(head -1 "$W/status.out")"
	exit 0
fi
mkdir -p "$W/bin" "$W/2n"
ln -s "$HERE/sqlite3-pg.py" "$W/bin/sqlite3"

n=0 fail=0 rc=
while IFS= read -r line; do
	case $line in
	1..*) ;; # the plan comes at the end, with this test's lines counted
	"# test-e2e.sh exit "*) rc=${line##* }; echo "$line" ;;
	"ok "* | "not ok "*)
		n=$((n + 1))
		[ "${line#not ok}" != "$line" ] && fail=1
		echo "$line"
		;;
	*) echo "$line" ;;
	esac
done < <(PATH=$W/bin:$PATH VOUCHD_REAL=$VOUCHD VOUCHD=$HERE/vouchd-2nodes.sh \
	VOUCHD_2NODES_DSN=$DSN VOUCHD_2NODES_DIR=$W/2n FAULT_PROXY=$PROXY \
	bash "$HERE/test-e2e.sh" 2>&1; echo "# test-e2e.sh exit $?")
tap() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else fail=1; echo "not ok $n - $2"; fi; }
[ "$n" -gt 0 ] && [ "$rc" = 0 ]
tap $? "test-e2e.sh passed ($n checks, exit ${rc:-none}) on PostgreSQL with two nodes"
for node in node-a node-b; do
	c=$(grep -c "agent '.*': \(trusted\|untrusted\)" "$W/2n/$node.log" 2>/dev/null)
	[ "${c:-0}" -gt 0 ]
	tap $? "$node judged attestations ($c)"
	! grep -qi 'AddressSanitizer\|runtime error\|assert' "$W/2n/$node.log"
	tap $? "$node: no sanitizer report or assertion"
done
grep -q 'pulled' "$W/2n/node-a.log" "$W/2n/node-b.log"
tap $? "the pull agent was polled by a node holding its lease"
echo "# $(tail -1 "$W/2n/proxy.log" 2>/dev/null)"
echo "1..$n"
exit $fail
