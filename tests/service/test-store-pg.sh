#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# test-store's whole contract on PostgreSQL: a throwaway cluster (scripts/pg-cluster.sh) in a
# temporary directory, test-store run on it (VOUCH_TEST_PG_DSN: every case from an empty
# schema, plus two and more nodes on one database), the cluster stopped whatever happens.
# Skipped, with the reason, when PostgreSQL 15 is not installed.
set -u
TEST_STORE=${TEST_STORE:?TEST_STORE must point at the test-store binary}
HERE=$(cd "$(dirname "$0")" && pwd)
CLUSTER=$HERE/../../scripts/pg-cluster.sh
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
	echo "1..0 # SKIP PostgreSQL 15 is not installed ($PG_BIN/initdb): apt-get install postgresql-15"
	exit 0
fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
	echo "1..0 # SKIP running as root and there is no user 'postgres' to run the server"
	exit 0
fi
T=$(mktemp -d /tmp/vouch-store-pg.XXXXXX)
chmod 755 "$T" # as root, the server runs as 'postgres' and needs to reach $T/pg
cleanup() {
	"$CLUSTER" stop "$T/pg" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
if ! "$CLUSTER" start "$T/pg"; then
	echo "1..0 # SKIP the test cluster did not start (see above)"
	exit 0
fi
VOUCH_TEST_PG_DSN=$("$CLUSTER" dsn "$T/pg") "$TEST_STORE"
