#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Fault: vouchd killed with SIGKILL under load and started again on the same SQLite database
# (issue 17), KILLS times.  Two generators (bench/service-load.c in fault mode) push
# meanwhile: agents on an interval (about one round a second each; recovery is measured on
# them) and a few agents pushing as fast as they can (the load, and pushes cut between the
# commit and the answer); they resend what the kill interrupted.  Checked: every acknowledged result
# stored, none duplicated, the bad agents never trusted, the chain verifies, and after each
# restart every honest agent trusted again within 2 of its intervals.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/faults-lib.sh"

fleet_defaults
KILLS=3 GAP=5 # seconds between a restart and the next kill
[ "$LONG" = 1 ] && KILLS=30 GAP=8
faults_pki $((AGENTS + FLOOD))
DB=$T/vouchd.db
vouchd_runs "$DB"

SECS=$((KILLS * (GAP + 1) + 4))
loads_start "$PORT" "$SECS"
sleep 2
UPS=() started=0
for k in $(seq "$KILLS"); do
	kill -9 "$VPID"
	wait "$VPID" 2>/dev/null
	sleep 0.5
	if vouchd_start "$PORT" "$DB"; then
		started=$((started + 1))
		UPS+=("$(now)")
	else
		diag "vouchd did not start again after kill $k"
		tail -5 "$T/vouchd.log" | sed 's/^/#   /'
		break
	fi
	sleep "$GAP"
done
eq "vouchd killed with SIGKILL and started again on the same database $KILLS times" "$started" "$KILLS"
loads_wait
loads_report
check "vouchd is still running" kill -0 "$VPID"
kill "$VPID"
wait "$VPID" 2>/dev/null

results_check "$DB" "$BAD"
recovered_after "after every restart" "$DB" "${UPS[@]}"
diag "kill -9: $KILLS kills; acknowledged $ACKED, found $FOUND, duplicated $DUPLICATES, stored without an answer $(load_field 'stored without an answer (honest agents)'), 409 to a resend $(load_field '409 to a resend'), worst recovery after a restart $WORST s (interval $PERIOD s)"
faults_done
