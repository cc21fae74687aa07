#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Fault: the database's disk fills up under load (issue 17).  vouchd's SQLite database lives
# on a small tmpfs (mounting one needs root: skipped otherwise); while paced and fast agents
# push, a file takes every free byte, stays FULL_FOR seconds, and is removed.  Checked:
# vouchd answers errors meanwhile (5xx, never a verdict it did not store), keeps running,
# and afterwards every acknowledged result is stored, none twice, no bad agent trusted, the
# chain verifies and every paced agent is trusted again within 2 intervals of the space
# coming back.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/faults-lib.sh"

fleet_defaults
FULL_FOR=4 ROUNDS=1
[ "$LONG" = 1 ] && FULL_FOR=30 ROUNDS=4
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP mounting a small tmpfs for the database needs root"
	exit 0
fi
DISK=$T/disk
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=256m,mode=0700 tmpfs "$DISK" 2>"$T/mount.err"; then
	echo "1..0 # SKIP cannot mount a tmpfs: $(head -1 "$T/mount.err")"
	exit 0
fi
faults_cleanup() { umount "$DISK" 2>/dev/null; }
faults_pki $((AGENTS + FLOOD))
DB=$DISK/vouchd.db
vouchd_runs "$DB" ", its database on a 256 MiB tmpfs"

SECS=$((ROUNDS * (FULL_FOR + 6) + 4))
loads_start "$PORT" "$SECS"
sleep 2
FREES=() alive=1 full=1
for r in $(seq "$ROUNDS"); do
	# every free byte: dd stops at ENOSPC
	dd if=/dev/zero of="$DISK/fill" bs=64k 2>/dev/null
	[ "$(df --output=avail -B1 "$DISK" | tail -1)" -lt 65536 ] || full=0
	diag "round $r: disk full ($(df --output=used,avail -h "$DISK" | tail -1 | tr -s ' '))"
	sleep "$FULL_FOR"
	kill -0 "$VPID" 2>/dev/null || alive=0
	rm -f "$DISK/fill"
	FREES+=("$(now)")
	sleep 6
done
eq "the disk was full $ROUNDS time(s)" "$full" 1
eq "vouchd kept running while its disk was full" "$alive" 1
loads_wait
loads_report
errors=$(load_field '5xx')
check "vouchd answered errors while the disk was full (5xx: $errors)" test "$errors" -gt 0
check "vouchd logged why" grep -qi 'full\|disk\|database' "$T/vouchd.log"
check "vouchd is still running" kill -0 "$VPID"
curl -sS --cacert "$P/ca.crt" "https://127.0.0.1:$PORT/metrics" >"$T/metrics" 2>&1
counted=$(awk '/^vouchd_attestations_total\{/ { s += $2 } END { print s + 0 }' "$T/metrics")
kill "$VPID"
wait "$VPID" 2>/dev/null
# a verdict whose group commit failed (503) was never stored: /metrics must not count it
stored=$(sqlite3 "$DB" "SELECT count(*) FROM results")
eq "/metrics counts the stored verdicts only ($counted counted, $stored stored)" "$counted" "$stored"

results_check "$DB" "$BAD"
recovered_after "once space came back" "$DB" "${FREES[@]}"
diag "database: $(du -ch "$DISK"/vouchd.db* | tail -1 | cut -f1) with its WAL"
diag "disk full: $ROUNDS x $FULL_FOR s; 5xx answers $errors; acknowledged $ACKED, found $FOUND, duplicated $DUPLICATES, stored without an answer $(load_field 'stored without an answer (honest agents)'), worst recovery after space came back $WORST s (interval $PERIOD s)"
faults_done
