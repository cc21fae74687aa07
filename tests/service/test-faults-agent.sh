#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Fault: the real vouch-agent (a TPM: swtpm) with its connection to vouchd cut mid-request
# (issue 17).  The agent enrolls and pushes every second through tests/fault-proxy; then
# the proxy throws away answers (the push was stored, the answer lost) and cuts requests,
# then vouchd is down for a moment.  The agent resends with X-Vouch-Retry: 1, starts a
# round again on 409, and keeps running through the outage.  Checked: the agent is still
# running, every row of it is trusted (never a replay verdict), one row per answer it
# printed plus at most one per push left unanswered, and it is trusted again after the
# faults.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/swtpm.sh"
. "$(dirname "$0")/faults-lib.sh"
VOUCH_AGENT=${VOUCH_AGENT:?VOUCH_AGENT must point at the vouch-agent binary}
require_peer swtpm swtpm
PHASE=6
[ "$LONG" = 1 ] && PHASE=60
swtpm_start "$T/tpm" || { not_ok "swtpm starts"; done_testing; }
TPM_PID=$SWTPM_PID
faults_cleanup() { SWTPM_PID=$TPM_PID; swtpm_stop; }
faults_pki 1
DB=$T/vouchd.db
AGENT_ARGS=(--agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/ca.key" --allow-ek-public)
PORT=$(pick_port) && vouchd_start "$PORT" "$DB" "${AGENT_ARGS[@]}" && ok "vouchd on 127.0.0.1:$PORT" ||
	{ not_ok "vouchd starts"; tail -5 "$T/vouchd.log"; done_testing; }
proxy_start proxy "$T/proxy.ctl" "127.0.0.1:$PORT" && ok "fault-proxy in front on $PROXY_PORT" ||
	{ not_ok "fault-proxy starts"; done_testing; }

# the engine's list, measured into the TPM (the agent reads it under the engine's lock)
echo 'measure func=BPRM_CHECK' >"$T/engine.pol"
mkdir -p "$T/bin"
printf '#!/bin/sh\necho a\n' >"$T/bin/a"
check "the engine measures into the TPM" "$VOUCH" load --state-dir "$T/st" --policy "$T/engine.pol" \
	--mode log --func BPRM_CHECK --tcti "$SWTPM_TCTI" "$T/bin/a"
"$VOUCH_AGENT" --server "https://127.0.0.1:$PROXY_PORT" --id a1 --cert "$T/a1.crt" --key "$T/a1.key" \
	--cacert "$P/ca.crt" --tpm "$SWTPM_TCTI" --ima-list "$T/st/measurements" --pcrs sha256:10 --interval 1 \
	>"$T/agent.out" 2>"$T/agent.log" &
APID=$!
PIDS+=("$APID")
trusted() { sqlite3 "$DB" "SELECT count(*) FROM results WHERE agent='a1' AND verdict='trusted'"; }
for _ in $(seq 150); do [ "$(trusted 2>/dev/null || echo 0)" -ge 2 ] && break; sleep 0.2; done
check "the agent enrolled and is trusted" test "$(trusted)" -ge 2

faults "$PROXY_PID" "$T/proxy.ctl" "drop-every 2"
sleep "$PHASE"
faults "$PROXY_PID" "$T/proxy.ctl" "drop-every 0" "drop-after 1200" "cut-every 2"
sleep "$PHASE"
faults "$PROXY_PID" "$T/proxy.ctl" "drop-after 0" "cut-every 0"
# vouchd down for 3 s (SIGKILL), then again on the same database and port
kill -9 "$VPID"
wait "$VPID" 2>/dev/null
sleep 3
vouchd_start "$PORT" "$DB" "${AGENT_ARGS[@]}" || not_ok "vouchd starts again"
T_UP=$(now)
n=$(trusted)
for _ in $(seq 100); do [ "$(trusted)" -gt "$n" ] && break; sleep 0.1; done
T_OK=$(now)
check "the agent is trusted again after vouchd came back ($(awk -v a="$T_UP" -v b="$T_OK" 'BEGIN { printf "%.2f", b - a }') s)" \
	test "$(trusted)" -gt "$n"
check "the agent kept running through the faults" kill -0 "$APID"
sleep 1.5
kill "$APID"
wait "$APID" 2>/dev/null
proxy_stop_check
resent=$(grep -c 'resent push.s nonce was used' "$T/agent.log")
gave_up=$(grep -c 'no answer after .* resends' "$T/agent.log")
answers=$(grep -c '"verdict"' "$T/agent.out")
rows=$(sqlite3 "$DB" "SELECT count(*) FROM results WHERE agent='a1'")
eq "every row is trusted (no replay verdict for a resend)" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM results WHERE agent='a1' AND verdict != 'trusted'")" 0
# a push is stored at most once: one row per answer, plus at most one per push whose answer
# never came (found by a 409 to a resend, or the round given up after its resends)
check "one row per answer, plus at most one per unanswered push ($rows rows, $answers answers, $resent 409s to a resend, $gave_up rounds given up)" \
	test "$rows" -ge "$answers" -a "$rows" -le $((answers + resent + gave_up))
eq "every answer the agent printed was trusted" "$(grep -c '"verdict":"trusted"' "$T/agent.out")" "$answers"
expect_rc 0 "the result chain verifies" "$VOUCHD" --db "$DB" --verify-chain
diag "vouchd answered $(grep -c "resent quote's nonce was used" "$T/vouchd.log") resend(s) over a used nonce with 409"
diag "vouch-agent through faults: answers $answers, rows $rows, 409 to a resend $resent, rounds given up $gave_up, answers dropped ${dropped:-0}, requests cut ${cut:-0}"
faults_done
