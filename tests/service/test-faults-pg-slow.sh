#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Fault: a slow database (issue 17).  Two vouchd nodes reach PostgreSQL through
# tests/fault-proxy, which delays every chunk either way: first DELAY1 ms, then DELAY2 ms
# (each query's round trip pays it twice), then none; agents spread over both nodes through
# another proxy.  Checked: every acknowledged result stored, none duplicated, the bad agents
# never trusted, the chain verifies, both nodes alive, and every paced agent trusted again
# within 2 intervals of the delay ending.  Prints the answers per second in each phase.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/faults-lib.sh"

fleet_defaults
PHASE=5 DELAY1=5 DELAY2=25
[ "$LONG" = 1 ] && PHASE=60
pg_start
proxy_start db "$T/db.ctl" "127.0.0.1:$(cat "$T/pg/port")" && DB_PID=$PROXY_PID ||
	{ not_ok "the database's fault-proxy starts"; done_testing; }
SLOW=postgresql://postgres@127.0.0.1:$PROXY_PORT/vouchd
faults_pki $((AGENTS + FLOOD))
nodes_start "$SLOW" && ok "two vouchd nodes on PostgreSQL through fault-proxy :$PROXY_PORT, agents through :$FRONT_PORT" ||
	{ not_ok "two nodes start"; tail -5 "$T"/node-*.log; done_testing; }

SECS=$((4 * PHASE))
loads_start "$FRONT_PORT" "$SECS"
T0=$(now)
sleep "$PHASE"
T1=$(now)
faults "$DB_PID" "$T/db.ctl" "delay-ms $DELAY1"
sleep "$PHASE"
T2=$(now)
faults "$DB_PID" "$T/db.ctl" "delay-ms $DELAY2"
sleep "$PHASE"
T3=$(now)
faults "$DB_PID" "$T/db.ctl" "delay-ms 0"
loads_wait
T4=$(now)
loads_report
# answers per second in [A, B)
rate() { awk -v a="$1" -v b="$2" '$4 >= a && $4 < b { n++ } END { printf "%.0f", n / (b - a) }' "$T/acks"; }
R0=$(rate "$T0" "$T1") R1=$(rate "$T1" "$T2") R2=$(rate "$T2" "$T3") R3=$(rate "$T3" "$T4")
diag "answers/s: no delay $R0, ${DELAY1} ms per chunk $R1, ${DELAY2} ms per chunk $R2, after $R3"
check "the delay slowed the service down ($R0/s -> $R2/s)" test "$R2" -lt "$R0"
nodes_judged
nodes_stop

results_check "$DSN" "$BAD" pg_sql
PERIOD=$(agent_period)
read -r REC N < <(recovery_time "$T3")
eq "once the delay ended every honest agent was trusted again" "$N" "$BAD_FROM"
check "... within 2 intervals ($REC s; an agent's interval: $PERIOD s)" \
	awk -v r="$REC" -v p="$PERIOD" 'BEGIN { exit !(p > 0 && r <= 2 * p) }'
expect_rc 0 "the result chain verifies" "$VOUCHD" --db "$DSN" --verify-chain
diag "slow PostgreSQL: ${DELAY1} then ${DELAY2} ms per chunk for $PHASE s each; answers/s $R0 -> $R1 -> $R2 -> $R3; 5xx $(load_field '5xx'), resends $(load_field 'resends'); acknowledged $ACKED, found $FOUND, duplicated $DUPLICATES, stored without an answer $(load_field 'stored without an answer (honest agents)'), recovery $REC s (interval $PERIOD s)"
faults_done
