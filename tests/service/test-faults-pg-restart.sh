#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Fault: PostgreSQL restarted under load (issue 17).  Two vouchd nodes on one throwaway
# cluster, agents spread over both through tests/fault-proxy; the cluster is stopped (fast:
# every connection cut) and started again ROUNDS times.  The nodes reconnect; meanwhile they
# answer 503.  Checked: every acknowledged result stored, none duplicated, the bad agents
# never trusted, the chain verifies, both nodes alive, and every paced agent trusted again
# within 2 intervals of the database coming back.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/faults-lib.sh"

fleet_defaults
ROUNDS=2 GAP=6
[ "$LONG" = 1 ] && ROUNDS=15 GAP=10
pg_start
two_nodes_run "$DSN"

SECS=$((ROUNDS * (GAP + 2) + 4))
loads_start "$FRONT_PORT" "$SECS"
sleep 2
UPS=() restarted=0 DOWN=0
for r in $(seq "$ROUNDS"); do
	t0=$(now)
	"$CLUSTER" restart "$T/pg" 2>>"$T/pg.err" && restarted=$((restarted + 1))
	UPS+=("$(now)")
	DOWN=$(awk -v a="$DOWN" -v b="$(awk -v s="$t0" -v e="${UPS[-1]}" 'BEGIN { print e - s }')" 'BEGIN { print (b > a ? b : a) }')
	sleep "$GAP"
done
eq "PostgreSQL restarted under load $ROUNDS times (longest restart $(printf '%.2f' "$DOWN") s)" "$restarted" "$ROUNDS"
loads_wait
loads_report
nodes_judged
check "the nodes reconnected to PostgreSQL" grep -q 'reconnected' "$T/node-a.log" "$T/node-b.log"
nodes_stop

results_check "$DSN" "$BAD" pg_sql
recovered_after "after every restart" "$DSN" "${UPS[@]}"
diag "PostgreSQL restart: $ROUNDS restarts (longest $(printf "%.2f" "$DOWN") s); 5xx answers $(load_field '5xx'); acknowledged $ACKED, found $FOUND, duplicated $DUPLICATES, stored without an answer $(load_field 'stored without an answer (honest agents)'), worst recovery after the database came back $WORST s (interval $PERIOD s)"
faults_done
