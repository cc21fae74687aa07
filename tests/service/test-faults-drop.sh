#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Fault: agent connections cut mid-request (issue 17).  Simulated agents push through
# tests/fault-proxy to vouchd on SQLite; the proxy throws away every Nth answer coming back
# (the push was committed, its answer lost), then cuts requests half way (the push never
# arrived whole).  The agents resend with X-Vouch-Retry: 1 and, on 409, go on with a fresh
# nonce.  Checked: every acknowledged result stored, none duplicated, the bad agents never
# trusted, the chain verifies, vouchd alive, and a plain replay still judged as before.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/faults-lib.sh"

# 12 agents over 3 connections, each connection pausing 0.25 s between rounds: every agent
# attests about once a second (its interval), 2 of them with a wrong PCR digest
AGENTS=${AGENTS:-12} THREADS=${THREADS:-3} INTERVAL=${INTERVAL:-0.25} BAD=2
BAD_FROM=$((AGENTS - BAD))
PHASE=5 # seconds per fault phase
[ "$LONG" = 1 ] && PHASE=60
faults_pki "$AGENTS"
DB=$T/vouchd.db
vouchd_runs "$DB"
proxy_start proxy "$T/proxy.ctl" "127.0.0.1:$PORT" && ok "fault-proxy in front on $PROXY_PORT" ||
	{ not_ok "fault-proxy starts"; cat "$T/proxy.log"; done_testing; }

# no fault while the agents enroll, then three phases
export SERVICE_LOAD_LAST=$T/last.json
load_start "$PROXY_PORT" "$AGENTS" "$THREADS" $((4 * PHASE)) "$INTERVAL" "$BAD"
wait_acks "$AGENTS" 60 || diag "the agents did not enroll and attest in 60 s"
faults "$PROXY_PID" "$T/proxy.ctl" "drop-every 5"
sleep "$PHASE"
faults "$PROXY_PID" "$T/proxy.ctl" "drop-every 0" "drop-after 2000" "cut-every 2"
sleep "$PHASE"
faults "$PROXY_PID" "$T/proxy.ctl" "drop-every 4" "drop-after 3000" "cut-every 3"
sleep "$PHASE"
faults "$PROXY_PID" "$T/proxy.ctl" "drop-every 0" "drop-after 0" "cut-every 0"
T_CLEAR=$(now)
wait "$LPID"
rc=$?
sed 's/^/# /' "$T/load.out"
eq "the generator saw no wrong verdict and every agent recovered" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/load.err" | head -10
check "vouchd is still running" kill -0 "$VPID"
proxy_stop_check
lost=$(load_field '409 to a resend')
check "a push was stored with its answer lost and recovered by a resend (409: ${lost:-0})" \
	test "${lost:-0}" -gt 0

results_check "$DB" "$BAD"
read -r REC N < <(recovery_time "$T_CLEAR")
PERIOD=$(agent_period)
check "every honest agent trusted again after the faults ($N of $BAD_FROM)" test "$N" = "$BAD_FROM"
check "... within 2 intervals ($REC s; an agent's interval: $PERIOD s)" \
	awk -v r="$REC" -v p="$PERIOD" 'BEGIN { exit !(p > 0 && r <= 2 * p) }'
expect_rc 0 "the result chain verifies" "$VOUCHD" --db "$DB" --verify-chain

# replay protection unchanged: the same pushed document twice, without the header
URL=https://127.0.0.1:$PORT
C=(--cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key")
rows() { sqlite3 "$DB" "SELECT count(*) FROM results WHERE agent='agent0'"; }
push() { curl -sS "${C[@]}" -o "$T/replay.out" -w '%{http_code}' -H 'Content-Type: application/json' \
	"$@" --data-binary "@$T/last.json" "$URL/v1/agents/agent0/attest"; }
n0=$(rows)
eq "a replay marked as a resend (X-Vouch-Retry: 1) is refused with 409" "$(push -H 'X-Vouch-Retry: 1')" 409
eq "... and stores nothing" "$(rows)" "$n0"
eq "a replay without the header is judged as before: 200" "$(push)" 200
check "... verdict untrusted" grep -q '"verdict": *"untrusted"' "$T/replay.out"
eq "... one result row" "$(rows)" $((n0 + 1))
eq "X-Vouch-Retry with another value is no resend: judged (200)" "$(push -H 'X-Vouch-Retry: yes')" 200
check "... verdict untrusted" grep -q '"verdict": *"untrusted"' "$T/replay.out"
diag "faults: acknowledged $ACKED, found $FOUND, duplicated $DUPLICATES, answers dropped ${dropped:-0}, requests cut ${cut:-0}, 409 to a resend ${lost:-0}, honest agents trusted again within $REC s"
grep -q 'stored without an answer' "$T/load.out" || not_ok "the generator's report has its fault line"
faults_done
