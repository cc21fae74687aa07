#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# vouchd's agent states and what they announce: the outbox, webhooks (a python3 receiver on
# 127.0.0.1 that checks every signature and can fail on demand), the event stream over
# GET /v1/events, the overdue watchdog; then 50 rounds of kill -9 at a random moment during
# attestations and deliveries: nothing lost, nothing twice, every event delivered.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/swtpm.sh"
. "$(dirname "$0")/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
require_peers swtpm curl jq sqlite3 python3 openssl
swtpm_start "$T/tpm" || { not_ok "swtpm starts"; done_testing; }
VPID= RPID= SPID=
cleanup() {
	stop_vouchd
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null
	swtpm_stop; [ -n "${KEEP:-}" ] && cp -r "$T" "$KEEP"; rm -rf "$T"
}
trap cleanup EXIT
export VOUCH_TCTI=$SWTPM_TCTI

# --- certificates: agents' CA, operators' CA ----------------------------------------------
make_ca ca
make_ca op-ca
issue ca server localhost "IP:127.0.0.1,DNS:localhost"
issue ca agent1 agent1
issue op-ca op operator
[ -s "$P/op.crt" ] && ok "test PKI" || { not_ok "test PKI"; done_testing; }

# --- the webhook receiver -------------------------------------------------------------------
# one line per POST: "CODE KEY ok|bad TYPE AGENT"; ok = the HMAC verifies and the body's id is
# the Idempotency-Key.  GET /fail/N: answer the next N posts with 500.
SECRET=$T/webhook.secret
webhook_secret "$SECRET"
HOOKLOG=$T/hook.log
webhook_receiver "$SECRET" "$HOOKLOG" && ok "webhook receiver on 127.0.0.1:$RPORT" ||
	{ not_ok "webhook receiver"; done_testing; }

# --- vouchd ----------------------------------------------------------------------------------
DB=$T/vouchd.db
INTERVAL=2 GRACE=2
start_vouchd() {
	vouchd_up "$T/vouchd.log" --db "$DB" --tls-cert "$P/server.crt" \
		--tls-key "$P/server.key" --client-ca "$P/ca.crt" --operator-ca "$P/op-ca.crt" \
		--pcrs sha256:0-10 --interval "$INTERVAL" --grace "$GRACE" \
		--agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/ca.key" --allow-ek-public \
		--webhook "$HOOK" --webhook-secret "$SECRET"
}
expect_rc 2 "plain http to another host is refused" "$VOUCHD" --listen 127.0.0.1:1 --db "$DB" \
	--tls-cert "$P/server.crt" --tls-key "$P/server.key" --client-ca "$P/ca.crt" \
	--webhook http://example.com/hook --webhook-secret "$SECRET"
expect_rc 2 "a webhook without a secret is refused" "$VOUCHD" --listen 127.0.0.1:1 --db "$DB" \
	--tls-cert "$P/server.crt" --tls-key "$P/server.key" --client-ca "$P/ca.crt" --webhook "$HOOK"
cp "$SECRET" "$T/open.secret"; chmod 644 "$T/open.secret"
expect_rc 2 "a webhook secret readable by others is refused" "$VOUCHD" --listen 127.0.0.1:0 \
	--db "$DB" --tls-cert "$P/server.crt" --tls-key "$P/server.key" --client-ca "$P/ca.crt" \
	--webhook "$HOOK" --webhook-secret "$T/open.secret"
check "with the reason" grep -q "readable by group or others" "$T/.err"
start_vouchd && ok "vouchd starts on 127.0.0.1:$PORT" || { not_ok "vouchd starts"; sed 's/^/#   /' "$T/vouchd.log"; done_testing; }

# req WHO METHOD PATH [BODYFILE] -> HTTP code on stdout, body in $T/.out
req() {
	local who=$1 method=$2 path=$3 body=${4:-} a=()
	[ "$who" != none ] && a=(--cert "$P/$who.crt" --key "$P/$who.key")
	[ -n "$body" ] && a+=(-H "Content-Type: application/json" --data-binary "@$body")
	# curl leaves -o alone when no body byte arrives (a kill between the headers' TLS record
	# and the body's): never read the previous answer as this one
	rm -f "$T/.out"
	curl -sS --tlsv1.3 --cacert "$P/ca.crt" "${a[@]}" -X "$method" -o "$T/.out" \
		-w '%{http_code}' "$URL$path" 2>"$T/.curl"
}
events_of() { sql "SELECT count(*) FROM outbox WHERE agent='agent1' AND type='$1'"; }
# wait_for SECONDS CMD...: poll until CMD succeeds
wait_for() { local n=$(($1 * 20)); shift; while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.05; n=$((n - 1)); done; return 1; }
delivered() { grep -q "^200 $1 ok " "$HOOKLOG"; }

# --- AK, list, register ----------------------------------------------------------------------
ST=$T/state
POL=$T/engine.pol
echo 'measure func=BPRM_CHECK' >"$POL"
mkdir -p "$T/bin"
for f in 1 2; do printf '#!/bin/sh\necho %s\n' "$f" >"$T/bin/f$f"; done
load() { "$VOUCH" load --state-dir "$ST" --policy "$POL" --mode log --func BPRM_CHECK "$@" >/dev/null; }
check "AK" "$VOUCH" tpm ak create --out "$T/ak"
check "the engine measures two programs into the TPM" load --tcti "$SWTPM_TCTI" "$T/bin/f1" "$T/bin/f2"
# enrollment (test-enroll.sh has the EK certificates): this swtpm's bare EK is allowed
check "the EK" "$VOUCH" tpm ek --public "$T/ek.pub"
jq -n --arg ek "$(base64 -w0 "$T/ek.pub")" --arg ak "$(base64 -w0 "$T/ak.pub")" \
	--rawfile csr "$P/agent1.csr" '{ek_public: $ek, ak: $ak, csr: $csr}' >"$T/enroll.json"
code 200 "agent1 enrolls" none POST /v1/agents/agent1/enroll "$T/enroll.json"
jq -r .credential "$T/.out" | base64 -d >"$T/e.cred"
check "the TPM activates the credential" "$VOUCH" tpm credential activate --ak-handle 0x81010010 \
	"$T/e.cred" --out "$T/e.secret"
jq -n --arg s "$(od -An -tx1 "$T/e.secret" | tr -d ' \n')" '{secret: $s}' >"$T/act.json"
code 201 "agent1 is enrolled" none POST /v1/agents/agent1/activate "$T/act.json"
cp "$T/.out" "$T/activated.json"
jq -r .certificate "$T/.out" >"$P/agent1.crt"
check "the enrollment carries next_deadline" test "$(jq -r .next_deadline "$T/activated.json")" -gt "$(date +%s)"
eq "state enrolled" "$(sql "SELECT state FROM agent_status WHERE agent='agent1'")" enrolled
eq "one enrolled event" "$(events_of enrolled)" 1

# nonce into $T/n.json; quote OUT [LIST]; attest EVIDENCE -> code
nonce() { req agent1 GET /v1/agents/agent1/nonce >/dev/null && cp "$T/.out" "$T/n.json"; }
quote() {
	"$VOUCH" attest quote --nonce "$(jq -r .nonce "$T/n.json")" --pcrs sha256:0-10 \
		--ima "${2:-$ST/measurements}" --from-entry "$(jq -r .offset "$T/n.json")" \
		--no-eventlog --out "$1" >/dev/null 2>"$T/.qerr"
}
# a trusted round needs entries the server has not seen (evidence cannot carry an empty
# tail): measure a new program first
measure_new() {
	local f
	f=$(mktemp -p "$T/bin" g.XXXXXX) && printf '#!/bin/sh\necho %s\n' "$f" >"$f" && chmod +x "$f" &&
		load --tcti "$SWTPM_TCTI" "$f"
}
good() {
	measure_new && nonce && quote "$T/good.ev" && req agent1 POST /v1/agents/agent1/attest "$T/good.ev"
	cp "$T/.out" "$T/resp"
}
# a cut list (an entry removed): untrusted, ima_list
tampered() {
	list_without "$ST/measurements" "$T/cut.list" 2
	nonce && jq '.offset = 0' "$T/n.json" >"$T/n0.json" && mv "$T/n0.json" "$T/n.json" &&
		quote "$T/bad.ev" "$T/cut.list" && req agent1 POST /v1/agents/agent1/attest "$T/bad.ev"
	cp "$T/.out" "$T/resp"
}
rj() { jq -r "$1" "$T/resp"; }

# --- trusted, untrusted (tampered list), recovered -------------------------------------------
eq "the first attestation (HTTP)" "$(good)" 200
eq "trusted" "$(rj .verdict)" trusted
check "the response carries next_deadline = now + interval + grace" \
	test "$(rj .next_deadline)" -ge $(($(date +%s) + INTERVAL + GRACE - 1))
eq "one trusted event, with its result row" "$(sql "SELECT type || ' ' || from_state || ' ' || result FROM outbox WHERE type='trusted'")" \
	"trusted enrolled $(rj .result)"
eq "a tampered list (HTTP)" "$(tampered)" 200
eq "is untrusted" "$(rj .verdict) $(rj .first_failure.check)" "untrusted ima_list"
UNTRUSTED=$(sql "SELECT seq FROM outbox WHERE type='untrusted'")
eq "exactly one untrusted event" "$(events_of untrusted)" 1
eq "from trusted, to untrusted, for this result" \
	"$(sql "SELECT from_state || ' ' || to_state || ' ' || result FROM outbox WHERE seq=$UNTRUSTED")" \
	"trusted untrusted $(rj .result)"
check "its reason names the failed check" test -n "$(sql "SELECT 1 FROM outbox WHERE seq=$UNTRUSTED AND reason LIKE 'ima_list:%'")"
eq "the same list again (HTTP)" "$(tampered)" 200
eq "still exactly one untrusted event (same state: none)" "$(events_of untrusted)" 1
check "the untrusted event reaches the webhook" wait_for 5 delivered "$UNTRUSTED"
eq "delivered exactly once, with a valid HMAC" "$(grep -c "^200 $UNTRUSTED " "$HOOKLOG") $(grep "^200 $UNTRUSTED " "$HOOKLOG" | cut -d' ' -f3-)" \
	"1 ok untrusted agent1"
eq "a good attestation again (HTTP)" "$(good)" 200
eq "one recovered event" "$(events_of recovered)" 1
check "every event so far reached the webhook" wait_for 5 delivered "$(sql 'SELECT max(seq) FROM outbox')"
check "none with a bad signature" sh -c "! grep -q ' bad ' '$HOOKLOG'"

# --- a receiver failing 3 times: retried with backoff, then delivered ----------------------------
receiver_fail 3
eq "tampered again (HTTP)" "$(tampered)" 200
E=$(sql "SELECT max(seq) FROM outbox")
eq "a second untrusted event" "$(sql "SELECT type FROM outbox WHERE seq=$E")" untrusted
check "refused 3 times (500)" wait_for 6 sh -c "[ \$(grep -c '^500 $E ' '$HOOKLOG') -ge 3 ]"
attempts3() { test "$(sql "SELECT attempts FROM webhooks")" = 3; }
check "the backoff is stored (3 attempts)" wait_for 2 attempts3
metrics() { req none GET /metrics >/dev/null && cp "$T/.out" "$T/metrics"; }
metrics
check "vouchd_webhook_backlog counts it" grep -q '^vouchd_webhook_backlog [1-9]' "$T/metrics"
# kill -9 while the fourth attempt waits: the restarted vouchd keeps the stored backoff
NEXT=$(sql "SELECT next_attempt FROM webhooks")
kill -9 "$VPID"; wait "$VPID" 2>/dev/null; VPID=
start_vouchd || { not_ok "vouchd restarts"; done_testing; }
sleep 0.3
if [ "$(date +%s)" -lt "$NEXT" ]; then
	eq "after kill -9, no attempt before the stored next attempt" "$(grep -c "^... $E " "$HOOKLOG")" 3
else
	skip "the restart took longer than the stored backoff"
fi
check "resumed at event $E" grep -q "delivered up to event $((E - 1)) of" "$T/vouchd.log"
check "then delivered (1 + 2 + 4 s of backoff)" wait_for 8 delivered "$E"
eq "with the same Idempotency-Key and body each time" "$(grep " $E " "$HOOKLOG" | cut -d' ' -f2- | sort -u)" "$E ok untrusted agent1"
check "attempts reset, the cursor past it" \
	test "$(sql "SELECT attempts = 0 AND delivered >= $E FROM webhooks")" = 1
backlog0() { req none GET /metrics >/dev/null && grep -q '^vouchd_webhook_backlog 0$' "$T/.out"; }
check "vouchd_webhook_backlog 0" wait_for 3 backlog0
eq "recovers (HTTP)" "$(good)" 200

# --- the event stream ----------------------------------------------------------------------------
code 403 "GET /v1/events without a certificate" none GET /v1/events
code 403 "GET /v1/events with an agent's certificate" agent1 GET /v1/events
sse() { # [LAST-EVENT-ID] -> the stream for 2 seconds in $T/sse
	curl -sS -N --tlsv1.3 --cacert "$P/ca.crt" --cert "$P/op.crt" --key "$P/op.key" \
		${1:+-H "Last-Event-ID: $1"} --max-time 2 -D "$T/sse.h" "$URL/v1/events" >"$T/sse" 2>/dev/null
}
# ids FILE FROM MIN: the stream's ids are FROM+1, FROM+2, ... up to at least MIN
ids() {
	awk -v from="$2" -v min="$3" '/^id: / { if ($2 != ++from) exit 1; last = $2 }
		END { exit !(last >= min) }' "$1"
}
LAST=$(sql "SELECT max(seq) FROM outbox")
sse 1
check "text/event-stream" grep -qi '^content-type: text/event-stream' "$T/sse.h"
check "Last-Event-ID 1 replays events 2..$LAST, in order" ids "$T/sse" 1 "$LAST"
python3 - "$T/sse" "$DB" >"$T/.sse" 2>&1 <<'PY'
import json, sqlite3, sys
# ": ping" heartbeats are comments
blocks = [b for b in open(sys.argv[1]).read().split("\n\n") if b.strip() and not b.startswith(":")]
db = sqlite3.connect(sys.argv[2])
for b in blocks:
    lines = b.split("\n")
    assert len(lines) == 3, lines
    i, e, d = lines
    assert i.startswith("id: ") and e.startswith("event: ") and d.startswith("data: "), lines
    ev = json.loads(d[6:])
    assert set(ev) == {"id", "type", "agent", "time", "from", "to", "result", "reason"}, ev
    assert str(ev["id"]) == i[4:] and ev["type"] == e[7:], lines
    row = db.execute("SELECT type, agent, time, from_state, to_state, result, reason FROM outbox "
                     "WHERE seq=?", (ev["id"],)).fetchone()
    assert row == (ev["type"], ev["agent"], ev["time"], ev["from"] or "", ev["to"], ev["result"],
                   ev["reason"]), (row, ev)
print("ok" if blocks else "empty")
PY
eq "each event: id, event, data (the outbox row as one line of JSON)" "$(cat "$T/.sse")" ok
LAST=$(sql "SELECT max(seq) FROM outbox")
sse $((LAST - 2))
check "Last-Event-ID $((LAST - 2)): events $((LAST - 1)).. only" ids "$T/sse" $((LAST - 2)) "$LAST"
# live: a stream opened without Last-Event-ID gets the events from now on
eq "(a deadline kept: HTTP)" "$(good)" 200
MARK=$(sql "SELECT max(seq) FROM outbox")
opened=$(grep -c 'event stream opened' "$T/vouchd.log")
curl -sS -N --tlsv1.3 --cacert "$P/ca.crt" --cert "$P/op.crt" --key "$P/op.key" --max-time 20 \
	"$URL/v1/events" >"$T/live" 2>/dev/null &
SPID=$!
stream_open() { [ "$(grep -c 'event stream opened' "$T/vouchd.log")" -gt "$opened" ]; }
check "the stream opens" wait_for 5 stream_open
eq "tampered (HTTP)" "$(tampered)" 200
E=$(sql "SELECT max(seq) FROM outbox WHERE type='untrusted'")
live_has() { grep -qx "id: $E" "$T/live"; }
check "the live stream delivers the new event" wait_for 5 live_has
closed=$(grep -c 'event stream closed (0 open)' "$T/vouchd.log")
kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
stream_gone() { [ "$(grep -c 'event stream closed (0 open)' "$T/vouchd.log")" -gt "$closed" ]; }
check "a client that leaves is dropped from the streams" wait_for 5 stream_gone
check "and nothing from before it was opened" ids "$T/live" "$MARK" "$E"
check "as event: untrusted" grep -qx 'event: untrusted' "$T/live"
got=$(curl -sS --tlsv1.3 --cacert "$P/ca.crt" --cert "$P/op.crt" --key "$P/op.key" -H 'Last-Event-ID: 1x' \
	-o /dev/null -w '%{http_code}' --max-time 2 "$URL/v1/events")
eq "a Last-Event-ID that is not a number is refused" "$got" 400

# --- overdue, recovered ----------------------------------------------------------------------------
eq "recovers (HTTP)" "$(good)" 200
T0=$(date +%s)
MARK=$(sql "SELECT max(seq) FROM outbox")
overdue1() { test "$(overdue_since)" = 1; }
overdue_since() { sql "SELECT count(*) FROM outbox WHERE agent='agent1' AND type='overdue' AND seq > $MARK"; }
check "silent for interval + grace: overdue" wait_for $((INTERVAL + GRACE + 3)) \
	overdue1
eq "within interval + grace (+1 s of watchdog)" "$(( $(date +%s) - T0 <= INTERVAL + GRACE + 2 ))" 1
eq "state overdue" "$(sql "SELECT state FROM agent_status WHERE agent='agent1'")" overdue
metrics
check "vouchd_agents_overdue 1" grep -q '^vouchd_agents_overdue 1$' "$T/metrics"
sleep 1.2
eq "overdue once" "$(overdue_since)" 1
OVERDUE=$(sql "SELECT seq FROM outbox WHERE type='overdue' AND seq > $MARK")
check "the overdue event reaches the webhook" wait_for 5 delivered "$OVERDUE"
eq "attests again (HTTP)" "$(good)" 200
eq "recovered from overdue" "$(sql "SELECT from_state FROM outbox WHERE seq > $OVERDUE AND type='recovered'")" overdue
metrics
check "vouchd_agents_overdue 0" grep -q '^vouchd_agents_overdue 0$' "$T/metrics"

# --- crash safety: 50 kill -9 at a random moment ------------------------------------------------------
# A client attests without pause in the background, like an agent that retries: a new
# program measured, nonce, quote, push (trusted, or recovered), then a replayed evidence
# (untrusted): two events a pair.  Meanwhile vouchd is started and killed with SIGKILL 0-300
# ms later, 50 times, so kills land between nonce and push, inside an attestation, during
# webhook deliveries.  The client logs every nonce's offset and every acknowledged result.
stop_vouchd
INTERVAL=60 GRACE=60
cp "$T/good.ev" "$T/stale.ev"
BASE=$(sql "SELECT count(*) FROM results")
START_OFF=$(rj .offset)
: >"$T/acks"; : >"$T/offsets"; : >"$T/cuts"; rm -f "$T/stop"
# an acknowledged result: a 200 whose whole answer arrived (a kill may cut it after the headers)
ack() {
	local r
	r=$(js .result 2>/dev/null) && [[ $r =~ ^[0-9]+$ ]] || return 1
	echo "$r $(js .verdict)" >>"$T/acks"
}
client() {
	local want_new=1 code n
	while [ ! -e "$T/stop" ]; do
		if [ "$want_new" = 1 ]; then measure_new; want_new=0; fi
		nonce || { sleep 0.02; continue; }
		jq -r .offset "$T/n.json" >>"$T/offsets"
		quote "$T/c.ev" || continue
		code=$(req agent1 POST /v1/agents/agent1/attest "$T/c.ev")
		case $code in
		200) ack || { echo cut >>"$T/cuts"; continue; }; want_new=1 ;;
		400) want_new=1; continue ;; # its entries were committed, the answer lost
		*) echo cut >>"$T/cuts"; sleep 0.02; continue ;;
		esac
		# replays are cheap (no quote): a few, the first one moves to untrusted
		for n in 1 2 3; do
			nonce || continue
			code=$(req agent1 POST /v1/agents/agent1/attest "$T/stale.ev")
			[ "$code" = 200 ] && ack
		done
	done
}
# one port for every round: a request in flight reaches the restarted vouchd
FIXED_PORT=$PORT
client 2>/dev/null &
CPID=$!
t0=$(date +%s)
# 50 kills; on a slow machine a few more, until the client saw both kinds of answers
enough() { grep -q ' trusted$' "$T/acks" && grep -q ' untrusted$' "$T/acks"; }
kills=0
for round in $(seq 1 100); do
	[ "$round" -gt 50 ] && enough && break
	start_vouchd || { not_ok "vouchd restarts in round $round"; break; }
	# past 50 kills without both kinds of answers (a loaded machine quotes slowly: a whole
	# good round may not fit in 300 ms), let vouchd live long enough for one
	if [ "$round" -gt 50 ]; then sleep "1.$(printf %03d $((RANDOM % 500)))"
	else sleep "0.$(printf %03d $((RANDOM % 300)))"; fi
	kill -9 "$VPID" && kills=$((kills + 1))
	wait "$VPID" 2>/dev/null; VPID=
done
touch "$T/stop"
wait "$CPID"
FIXED_PORT=
diag "$kills kills in $(( $(date +%s) - t0 )) s: $(wc -l <"$T/acks") acknowledged attestations," \
	"$(wc -l <"$T/cuts") pushes cut by a kill, $(sql 'SELECT count(*) FROM outbox') events"
check "at least 50 kills" test "$kills" -ge 50
check "good attestations and replays were acknowledged between the kills" enough
check "the offset never went back to 0 (no full list needed): it only grew from $START_OFF" \
	awk -v s="$START_OFF" '$1 < s || $1 < last { exit 1 } { last = $1 }' "$T/offsets"
python3 - "$T/acks" "$DB" "$BASE" >"$T/.py" 2>&1 <<'PY'
import sqlite3, sys
acks = [l.split() for l in open(sys.argv[1]) if l.strip()]
db = sqlite3.connect(sys.argv[2])
seqs = [int(a[0]) for a in acks]
assert len(seqs) == len(set(seqs)), "a result seq acknowledged twice"
for seq, verdict in acks:
    n = db.execute("SELECT count(*) FROM results WHERE seq=? AND agent='agent1' AND verdict=?",
                   (int(seq), verdict)).fetchone()[0]
    assert n == 1, "acknowledged result %s (%s) is not stored exactly once" % (seq, verdict)
rows = db.execute("SELECT count(*) FROM results").fetchone()[0] - int(sys.argv[3])
# a result committed whose answer the kill swallowed: at most one per round
assert len(acks) <= rows <= len(acks) + 50, (len(acks), rows)
ids = [r[0] for r in db.execute("SELECT seq FROM outbox ORDER BY seq")]
assert ids == list(range(1, len(ids) + 1)), "event ids are not 1..n"
print("ok")
PY
eq "every acknowledged result exists exactly once; event ids are dense" "$(cat "$T/.py")" ok
expect_rc 0 "the results chain verifies" "$VOUCHD" --db "$DB" --verify-chain
start_vouchd || { not_ok "vouchd starts after the rounds"; done_testing; }
check "the webhook backlog drains" wait_for 10 backlog0
sql "SELECT seq FROM outbox" | sort -n >"$T/outbox.ids"
awk '$1 == 200 && $3 == "ok" { print $2 }' "$HOOKLOG" | sort -nu >"$T/hook.ids"
eq "every event in the outbox reached the webhook at least once" \
	"$(comm -23 "$T/outbox.ids" "$T/hook.ids" | tr '\n' ' ')" ""
check "none with a bad signature" sh -c "! grep -q ' bad ' '$HOOKLOG'"
eq "in order: first deliveries by increasing id" \
	"$(awk '$1 == 200 && !seen[$2]++ { print $2 }' "$HOOKLOG" | sort -nc 2>&1 && echo sorted)" sorted
# stopping with a stream open and a delivery pending: a clean exit (the sanitizer leg checks leaks)
opened=$(grep -c 'event stream opened' "$T/vouchd.log")
curl -sS -N --tlsv1.3 --cacert "$P/ca.crt" --cert "$P/op.crt" --key "$P/op.key" --max-time 20 \
	-H 'Last-Event-ID: 0' "$URL/v1/events" >"$T/live" 2>/dev/null &
SPID=$!
check "a stream is open" wait_for 5 stream_open
receiver_fail 1000
eq "one more event (HTTP)" "$(good)" 200
kill "$VPID"
wait "$VPID"; rc=$?; VPID=
eq "vouchd stops cleanly on SIGTERM" "$rc" 0
wait "$SPID" 2>/dev/null; SPID=
grep -qi 'AddressSanitizer\|LeakSanitizer\|runtime error' "$T/vouchd.log" && not_ok "no sanitizer report" || ok "no sanitizer report"
done_testing
