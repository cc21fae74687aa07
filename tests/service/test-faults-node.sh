#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Fault: one of two vouchd nodes on one PostgreSQL database killed with SIGKILL under load
# (issue 17).  The agents reach the nodes through tests/fault-proxy, which hands connections
# to both in turn and skips a node that refuses them; the killed node comes back GAP seconds
# later.  Checked: every acknowledged result stored, none duplicated, the bad agents never
# trusted, the chain verifies, both nodes judged attestations, and after each kill every
# paced agent is trusted again (on the other node) within 2 intervals.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/faults-lib.sh"

fleet_defaults
KILLS=2 GAP=5
[ "$LONG" = 1 ] && KILLS=20 GAP=8
pg_start
two_nodes_run "$DSN"

SECS=$((KILLS * (2 * GAP + 1) + 4))
loads_start "$FRONT_PORT" "$SECS"
sleep 2
KILLED=() started=0
for k in $(seq "$KILLS"); do
	# node-a, then node-b, ...
	name=node-a port=$PORT_A
	[ $((k % 2)) = 0 ] && name=node-b port=$PORT_B
	kill -9 "${NPID[$name]}"
	wait "${NPID[$name]}" 2>/dev/null
	KILLED+=("$(now)")
	sleep "$GAP"
	node_start "$name" "$port" "$DSN" && started=$((started + 1)) ||
		{ diag "$name did not start again"; tail -3 "$T/$name.log" | sed 's/^/#   /'; }
	sleep "$GAP"
done
eq "a node killed with SIGKILL and started again $KILLS times" "$started" "$KILLS"
loads_wait
loads_report
nodes_judged
nodes_stop

results_check "$DSN" "$BAD" pg_sql
recovered_after "after every kill" "$DSN" "${KILLED[@]}"
diag "kill -9 one of two nodes: $KILLS kills; acknowledged $ACKED, found $FOUND, duplicated $DUPLICATES, stored without an answer $(load_field 'stored without an answer (honest agents)'), 409 to a resend $(load_field '409 to a resend'), worst recovery after a kill $WORST s (interval $PERIOD s)"
faults_done
