#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Shared by tests/service/test-faults-*.sh (source it after tests/integration/lib.sh): the
# test PKI, vouchd on a free loopback port, the fault proxy, the load generator in fault
# mode (bench/service-load.c with SERVICE_LOAD_FAULTS=1) and the checks every fault test
# makes on the results it acknowledged.  FAULTS_LONG=1 makes each test run for minutes.
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
LOAD=${SERVICE_LOAD:?SERVICE_LOAD must point at the service-load generator}
PROXY=${FAULT_PROXY:?FAULT_PROXY must point at tests/fault-proxy}
require_peers curl openssl sqlite3
PIDS=()
# stop what the test started (only those: swtpm and others are the test's own cleanup)
faults_exit() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	faults_cleanup
	[ -n "${FAULTS_KEEP:-}" ] || rm -rf "$T"
}
trap faults_exit EXIT
[ -n "${FAULTS_KEEP:-}" ] && diag "keeping $T"
faults_cleanup() { :; }
LONG=${FAULTS_LONG:-0}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# faults_pki AGENTS: a CA, the server, one client certificate naming agent0..agentN-1, the
# operator who provisions the generator's software AKs
faults_pki() {
	make_ca ca ca
	make_ca opca opca
	issue ca server localhost "IP:127.0.0.1,DNS:localhost"
	issue ca client fault-agents "$(seq -f 'URI:agent%g' 0 $(($1 - 1)) | paste -sd,)"
	issue opca op operator "URI:operator"
	export SERVICE_LOAD_OPERATOR_CERT=$P/op.crt SERVICE_LOAD_OPERATOR_KEY=$P/op.key
	[ -s "$P/op.crt" ] && [ -s "$P/client.crt" ] && ok "test PKI for $1 agents" ||
		{ not_ok "test PKI"; done_testing; }
}

wait_port() { for _ in $(seq 200); do port_free "$1" || return 0; sleep 0.05; done; return 1; }
now() { date +%s.%N; }

# vouchd_start PORT DB [ARGS...]: vouchd in the background ($VPID), its log in $VLOG
# (default $T/vouchd.log);
# 0 once it listens
vouchd_start() {
	local port=$1 db=$2
	shift 2
	"$VOUCHD" --listen "127.0.0.1:$port" --db "$db" --tls-cert "$P/server.crt" \
		--tls-key "$P/server.key" --client-ca "$P/ca.crt" --operator-ca "$P/opca.crt" \
		--pcrs sha256:10 --agent-rate 0 "$@" 2>>"${VLOG:-$T/vouchd.log}" &
	VPID=$!
	PIDS+=("$VPID")
	wait_port "$port" && kill -0 "$VPID" 2>/dev/null
}
# a free port for vouchd (random, never fixed: the machine is shared)
pick_port() {
	local p
	for _ in $(seq 20); do
		p=$((20001 + (RANDOM % 20000) * 2))
		port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

# proxy_start NAME CONTROL BACKEND...: fault-proxy on a free port ($PROXY_PORT), faults
# read from CONTROL on SIGHUP; its counts go to $T/NAME.log when it ends
proxy_start() {
	local name=$1 ctl=$2 args=()
	shift 2
	for b in "$@"; do args+=(--backend "$b"); done
	: >"$ctl"
	"$PROXY" --listen 127.0.0.1:0 --port-file "$T/$name.port" --control "$ctl" "${args[@]}" \
		2>"$T/$name.log" &
	PROXY_PID=$!
	PIDS+=("$PROXY_PID")
	for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	PROXY_PORT=$(cat "$T/$name.port" 2>/dev/null)
	[ -n "$PROXY_PORT" ]
}
# faults PID CONTROL LINE...: set the proxy's faults now
faults() {
	local pid=$1 ctl=$2
	shift 2
	printf '%s\n' "$@" >"$ctl"
	kill -HUP "$pid"
}

# load_start PORT AGENTS THREADS SECONDS INTERVAL BAD [FIRST NAME]: the generator in fault
# mode in the background ($LPID), its agents agentFIRST..; acknowledged results in
# $T/acks (NAME: $T/NAME.acks, merged into $T/acks by acks_merge), its report in
# $T/NAME.out (default load)
load_start() {
	local name=${8:-load} acks=$T/acks
	[ -n "${8:-}" ] && acks=$T/$8.acks
	SERVICE_LOAD_FAULTS=1 SERVICE_LOAD_ACKS=$acks SERVICE_LOAD_BAD=$6 SERVICE_LOAD_FIRST=${7:-0} \
		"$LOAD" "https://127.0.0.1:$1" "$P/ca.crt" "$P/client.crt" "$P/client.key" \
		"$2" "$3" "$4" "$5" >"$T/$name.out" 2>"$T/$name.err" &
	LPID=$!
	PIDS+=("$LPID")
}
acks_merge() { cat "$T"/*.acks >>"$T/acks"; }
# wait until the generator has acknowledged N results (at most S seconds)
wait_acks() {
	local n=$1 s=${2:-30} i
	for i in $(seq $((s * 10))); do
		[ "$(cat "$T"/acks "$T"/*.acks 2>/dev/null | wc -l)" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}
# a figure of the generators' reports, summed over all of them
load_field() { cat "$T"/*.out | sed -n "s/.*$1 \([0-9.]*\).*/\1/p" | awk '{ s += $1 } END { print s + 0 }'; }

# results_check DB BAD_AGENTS [SQL]: (the bad agents are agentBAD_FROM..agentBAD_TO-1) the assertions every fault test makes once the load has
# ended, reading the results through SQL (default: sqlite3 on DB)
#  - every acknowledged result (200) has its row: same seq, agent and verdict
#  - no duplicate: an honest agent has exactly one row per acknowledged round plus one per
#    round vouchd stored whose answer was lost (the generator tells them by vouchd's offset)
#  - no bad agent ever trusted; the hash chain verifies
results_check() {
	local db=$1 bad=$2 sql=${3:-sqlite3_sql} acked found missing honest_rows honest_acks stored
	BAD_TO=${BAD_TO:-$((BAD_FROM + bad))}
	"$sql" "$db" "SELECT seq || ' ' || agent || ' ' || verdict FROM results" | sort >"$T/rows"
	awk '{print $2, $1, $3}' "$T/acks" | sort >"$T/acked"
	acked=$(wc -l <"$T/acked")
	missing=$(comm -23 "$T/acked" "$T/rows" | wc -l)
	found=$((acked - missing))
	if [ "$acked" -gt 0 ] && [ "$missing" = 0 ]; then
		ok "every acknowledged result is stored ($found of $acked)"
	else
		not_ok "every acknowledged result is stored ($found of $acked)"
		comm -23 "$T/acked" "$T/rows" | head -5 | sed 's/^/#   missing: /'
	fi
	# honest agents: agent0 .. agent(N-BAD-1)
	honest_rows=$(awk -v b="$BAD_FROM" -v e="$BAD_TO" '{sub("agent", "", $2); if ($2 + 0 < b || $2 + 0 >= e) n++} END {print n + 0}' "$T/rows")
	honest_acks=$(awk -v b="$BAD_FROM" -v e="$BAD_TO" '{sub("agent", "", $1); if ($1 + 0 < b || $1 + 0 >= e) n++} END {print n + 0}' "$T/acks")
	stored=$(load_field 'stored without an answer (honest agents)')
	DUPLICATES=$((honest_rows - honest_acks - ${stored:-0}))
	eq "no result duplicated: honest rows = acknowledged + stored without an answer ($honest_rows = $honest_acks + ${stored:-?})" \
		"$DUPLICATES" 0
	eq "no bad agent trusted" "$(awk -v b="$BAD_FROM" -v e="$BAD_TO" '{a=$2; sub("agent", "", a); if (a + 0 >= b && a + 0 < e && $3 == "trusted") n++} END {print n + 0}' "$T/rows")" 0
	ACKED=$acked FOUND=$found
}
sqlite3_sql() { sqlite3 "$1" "$2"; }

# recovery_time T0: the longest time from T0 until each honest agent below agentBAD_FROM (the
# paced generator's) has its first trusted answer; prints it and the number of such agents
recovery_time() {
	awk -v t0="$1" -v b="$BAD_FROM" '$3 == "trusted" && $4 >= t0 {
		a = $1; sub("agent", "", a); if (a + 0 >= b) next
		if (!(a in first) || $4 < first[a]) first[a] = $4 }
		END { m = 0; n = 0; for (a in first) { n++; if (first[a] - t0 > m) m = first[a] - t0 }
		      printf "%.2f %d\n", m, n }' "$T/acks"
}
# the paced generator's per-agent period in steady state (median gap between the answers of
# one agent below agentBAD_FROM)
agent_period() {
	sort -k1,1 -k4,4n "$T/acks" |
		awk -v b="$BAD_FROM" '{ a = $1; sub("agent", "", a) } a + 0 >= b { next }
			$1 == p { print $4 - t } { p = $1; t = $4 }' | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.2f\n", NR ? v[int((NR + 1) / 2)] : 0 }'
}

# recovered_after WHAT DB T...: after each fault that ended at one of T..., every honest agent
# was trusted again, within 2 of its intervals (sets WORST and PERIOD for the summary); then
# the result chain in DB verifies
recovered_after() {
	local what=$1 db=$2 t rec n all=1
	shift 2
	PERIOD=$(agent_period)
	WORST=0
	for t in "$@"; do
		read -r rec n < <(recovery_time "$t")
		[ "$n" = "$BAD_FROM" ] || all=0
		WORST=$(awk -v a="$WORST" -v b="$rec" 'BEGIN { print (b > a ? b : a) }')
	done
	eq "$what every honest agent was trusted again" "$all" 1
	check "... within 2 intervals (worst $WORST s; an agent's interval: $PERIOD s)" \
		awk -v r="$WORST" -v p="$PERIOD" 'BEGIN { exit !(p > 0 && r <= 2 * p) }'
	expect_rc 0 "the result chain verifies" "$VOUCHD" --db "$db" --verify-chain
}

# proxy_stop_check: the proxy stopped, its counts shown, and it both dropped answers and cut
# requests
proxy_stop_check() {
	local dropped cut
	kill "$PROXY_PID"
	wait "$PROXY_PID" 2>/dev/null
	sed 's/^/# /' "$T/proxy.log" | tail -1
	dropped=$(sed -n 's/.* \([0-9]*\) answers dropped.*/\1/p' "$T/proxy.log")
	cut=$(sed -n 's/.* \([0-9]*\) requests cut.*/\1/p' "$T/proxy.log")
	check "the proxy dropped answers (${dropped:-0}) and cut requests (${cut:-0})" \
		test "${dropped:-0}" -gt 0 -a "${cut:-0}" -gt 0
}

# --- PostgreSQL and two nodes ------------------------------------------------------------------
# pg_start: a throwaway cluster in $T/pg (scripts/pg-cluster.sh), $DSN; skips the whole test
# (with the reason) when PostgreSQL, the script or vouchd's libpq backend is missing
CLUSTER=${VOUCH_SRCDIR:-$(dirname "$0")/../..}/scripts/pg-cluster.sh
pg_start() {
	local why=
	[ -x "$CLUSTER" ] || why="scripts/pg-cluster.sh is missing (no PostgreSQL backend in this tree)"
	[ -z "$why" ] && [ ! -x "${PG_BIN:-/usr/lib/postgresql/15/bin}/initdb" ] &&
		why="PostgreSQL 15 is not installed (scripts/setup.sh; package postgresql-15)"
	chmod 755 "$T" # the server runs as postgres and keeps its data in $T/pg
	if [ -z "$why" ] && ! "$CLUSTER" start "$T/pg" 2>"$T/pg.err"; then
		why="cannot start a PostgreSQL cluster: $(head -1 "$T/pg.err")"
	fi
	[ -z "$why" ] && DSN=$("$CLUSTER" dsn "$T/pg")
	if [ -z "$why" ] && ! "$VOUCHD" --db "$DSN" --verify-chain >"$T/pg.err" 2>&1; then
		why="vouchd cannot open PostgreSQL: $(head -1 "$T/pg.err")"
	fi
	if [ -n "$why" ]; then
		"$CLUSTER" stop "$T/pg" >/dev/null 2>&1
		echo "1..0 # SKIP $why"
		exit 0
	fi
	faults_cleanup() { "$CLUSTER" stop "$T/pg" >/dev/null 2>&1; }
}
pg_sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# node_start NAME PORT DSN: one vouchd node ($NPID[NAME]) with --node-id NAME when it has it
declare -A NPID
NODE_ID=false
"$VOUCHD" --help 2>&1 | grep -q -- --node-id && NODE_ID=true
# fleet_defaults: the load of the paced fault tests: AGENTS paced agents, the last BAD of them
# bad (BAD_FROM..BAD_TO-1), FLOOD flooding ones, THREADS, INTERVAL (from the environment if set)
fleet_defaults() {
	AGENTS=${AGENTS:-24} THREADS=${THREADS:-3} INTERVAL=${INTERVAL:-0.12} BAD=2 FLOOD=${FLOOD:-4}
	BAD_FROM=$((AGENTS - BAD)) BAD_TO=$AGENTS
}
# vouchd_runs DB [WHAT]: vouchd on a free port ($PORT) with DB, checked; the test ends if it
# does not start.  WHAT is added to the check's name.
vouchd_runs() {
	PORT=$(pick_port) && vouchd_start "$PORT" "$1" && ok "vouchd runs on 127.0.0.1:$PORT${2:-}" ||
		{ not_ok "vouchd starts"; tail -5 "$T/vouchd.log"; done_testing; }
}
# two_nodes_run DSN: the fleet's PKI, then nodes_start DSN, checked; the test ends if they do
# not start
two_nodes_run() {
	faults_pki $((AGENTS + FLOOD))
	nodes_start "$1" && ok "two vouchd nodes on PostgreSQL (127.0.0.1:$PORT_A, :$PORT_B) behind fault-proxy on :$FRONT_PORT" ||
		{ not_ok "two nodes start"; tail -5 "$T"/node-*.log; done_testing; }
}
node_start() {
	local id=()
	$NODE_ID && id=(--node-id "$1")
	VLOG=$T/$1.log vouchd_start "$2" "$3" "${id[@]}" || return 1
	NPID[$1]=$VPID
}
# nodes_start DSN: node-a and node-b on free ports ($PORT_A, $PORT_B), and fault-proxy
# "front" over both ($FRONT_PORT, $FRONT_PID): the agents' way in
nodes_start() {
	PORT_A=$(pick_port) && node_start node-a "$PORT_A" "$1" || return 1
	PORT_B=$(pick_port) && node_start node-b "$PORT_B" "$1" || return 1
	proxy_start front "$T/front.ctl" "127.0.0.1:$PORT_A" "127.0.0.1:$PORT_B" || return 1
	FRONT_PORT=$PROXY_PORT FRONT_PID=$PROXY_PID
}
# judged NODE: how many attestations NODE judged (its log lines), for "agents on both nodes"
judged() { grep -c "agent '.*': \(trusted\|untrusted\) (result" "$T/$1.log"; }
# nodes_judged: both nodes running, each judged attestations; nodes_stop: front and the nodes
nodes_judged() {
	local n c
	for n in node-a node-b; do
		check "$n is running" kill -0 "${NPID[$n]}"
		c=$(judged "$n")
		check "$n judged attestations ($c)" test "$c" -gt 0
	done
}
nodes_stop() {
	kill "$FRONT_PID" "${NPID[node-a]}" "${NPID[node-b]}"
	wait "${NPID[node-a]}" "${NPID[node-b]}" 2>/dev/null
}

# --- the two generators of every load test ------------------------------------------------------
# loads_start PORT SECS: the paced agents (the last $BAD of them bad) and the flood on PORT for
# SECS seconds ($LPIDS); then waits until every agent was answered once
loads_start() {
	load_start "$1" "$AGENTS" "$THREADS" "$2" "$INTERVAL" "$BAD" 0 paced
	LPIDS=("$LPID")
	load_start "$1" "$FLOOD" 2 "$2" 0 0 "$AGENTS" flood
	LPIDS+=("$LPID")
	wait_acks $((AGENTS + FLOOD)) 60 || diag "the agents did not enroll and attest in 60 s"
}
# loads_wait: the generators' end ($rc: the last failure); loads_report: their answers merged,
# their summaries, and the check that they saw no wrong verdict
loads_wait() {
	local p
	rc=0
	for p in "${LPIDS[@]}"; do wait "$p" || rc=$?; done
}
loads_report() {
	local g
	acks_merge
	for g in paced flood; do sed "s/^/# $g: /" "$T/$g.out"; done
	eq "the generators saw no wrong verdict and every agent recovered" "$rc" 0
	[ "$rc" = 0 ] || cat "$T"/*.err | sed 's/^/#   /' | head -10
}

# the end of every fault test: no sanitizer report in any log it kept (vouchd, the nodes,
# the generators, the proxies, the agent), then the plan
faults_done() {
	if grep -l 'AddressSanitizer\|LeakSanitizer\|runtime error' "$T"/*.log "$T"/*.err 2>/dev/null >"$T/san"; then
		not_ok "no sanitizer report ($(tr '\n' ' ' <"$T/san"))"
	else
		ok "no sanitizer report"
	fi
	done_testing
}
