#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# vouchd's operations and several nodes over one SQLite file.
# --check-config with a good configuration and each kind of bad one; vouchd db status and
# migrate on a version 6 database; then two nodes (WAL, busy_timeout) sharing pull agents
# (registered by an operator, their URLs unreachable: every round is an error row written by
# the node holding the agent's lease) and webhooks: an event stream on node B carries what
# node A committed, the overdue watchdog on both nodes moves each agent once, kill -9 of the
# node holding the pull agents hands them to the other within 2 intervals, webhook delivery
# goes on from the survivor, every event delivered at least once; an online backup of the
# live database and a prune both leave a chain that verifies; SIGTERM releases the leases.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/swtpm.sh"
. "$(dirname "$0")/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
require_peers curl jq sqlite3 python3 openssl
PIDS=()
cleanup() {
	stop_pids "${PIDS[@]}"
	swtpm_stop
	[ -n "${KEEP:-}" ] && cp -r "$T" "$KEEP"
	rm -rf "$T"
}
trap cleanup EXIT
# expect_rc, its output kept for the checks after it (check() reuses $T/.out)
xrc() { expect_rc "$@"; cp "$T/.out" "$T/last.out"; cp "$T/.err" "$T/last.err"; }
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done; }
now_ms() { date +%s%3N; }

# --- certificates -----------------------------------------------------------------------------
make_ca ca
make_ca op-ca
issue ca server localhost "IP:127.0.0.1,DNS:localhost"
issue ca verifier vouchd-verifier "DNS:vouchd-verifier"
issue ca other other
issue ca pull1 pull1 "DNS:pull1,IP:127.0.0.1"
issue op-ca op operator
openssl pkey -in "$P/other.key" -pubout -out "$P/ak.pem" 2>/dev/null
[ -s "$P/op.crt" ] && [ -s "$P/ak.pem" ] && ok "test PKI" || { not_ok "test PKI"; done_testing; }
SECRET=$T/webhook.secret
webhook_secret "$SECRET"

# --- vouchd --check-config ----------------------------------------------------------------------
conf() { # FILE ["KEY = VALUE"...]: the base configuration, each KEY replaced or added
	local f=$1 line key; shift
	local -A v=([listen]=127.0.0.1:1 [db]=${DBPATH:-$T/check.db} [tls-cert]=$P/server.crt
		[tls-key]=$P/server.key [client-ca]=$P/ca.crt [operator-ca]=$P/op-ca.crt)
	local order=(listen db tls-cert tls-key client-ca operator-ca)
	for line in "$@"; do
		key=${line%% = *}
		[ -z "${v[$key]+x}" ] && order+=("$key")
		v[$key]=${line#* = }
	done
	: >"$f"
	for key in "${order[@]}"; do echo "$key = ${v[$key]}" >>"$f"; done
}
conf "$T/good.conf" "node-id = check-1" "webhook = http://127.0.0.1:1/hook" "webhook-secret = $SECRET" \
	"pull-cert = $P/verifier.crt" "pull-key = $P/verifier.key" "pull-ca = $P/ca.crt" "pull-allow = 127.0.0.0/8"
xrc 0 "--check-config: a good configuration" "$VOUCHD" --config "$T/good.conf" --check-config
check "it says ok and names the node" grep -q "^configuration $T/good.conf: ok (node 'check-1')$" "$T/last.out"
check "a database not there yet is created at the start" grep -q "does not exist yet" "$T/last.out"
[ ! -e "$T/check.db" ] && ok "and --check-config did not create it" || not_ok "--check-config created the database"
conf "$T/plain.conf"
xrc 0 "--check-config without --node-id" "$VOUCHD" --config "$T/plain.conf" --check-config
check "  names the node hostname:pid" grep -Eq "^configuration $T/plain.conf: ok \(node '[A-Za-z0-9._-]+:[0-9]+'\)$" "$T/last.out"

bad_conf() { # RC DESCRIPTION NEEDLE CONF-LINES...
	local rc=$1 d=$2 needle=$3; shift 3
	conf "$T/bad.conf" "$@"
	xrc "$rc" "--check-config: $d" "$VOUCHD" --config "$T/bad.conf" --check-config
	if [ "$rc" = 3 ]; then
		check "  one line names it" grep -q -- "$needle" "$T/last.err"
		check "  and counts one problem" grep -q "1 problem(s)" "$T/last.err"
	fi
}
bad_conf 3 "a missing --tls-cert file" "--tls-cert '$T/nope.crt': cannot open" "tls-cert = $T/nope.crt"
bad_conf 3 "a --tls-key that is not the certificate's" "cannot load key '$P/other.key'" "tls-key = $P/other.key"
printf 'junk\n' >"$T/junk.pem"
bad_conf 3 "a --client-ca that holds no certificate" "'$T/junk.pem'" "client-ca = $T/junk.pem"
cp "$SECRET" "$T/open.secret"; chmod 644 "$T/open.secret"
bad_conf 3 "a --webhook-secret readable by others" "'$T/open.secret' is readable by group or others" \
	"webhook = http://127.0.0.1:1/hook" "webhook-secret = $T/open.secret"
cp "$T/junk.pem" "$T/junk.key"; chmod 600 "$T/junk.key"
bad_conf 3 "an --ear-key that is not a P-256 key" "--ear-key '$T/junk.key'" "ear-key = $T/junk.key"
bad_conf 3 "an invalid --pull-allow" "invalid --pull-allow '127.0.0.0/33'" \
	"pull-cert = $P/verifier.crt" "pull-key = $P/verifier.key" "pull-ca = $P/ca.crt" "pull-allow = 127.0.0.0/33"
bad_conf 3 "a --pull-key that is not the --pull-cert's" "--pull-cert/--pull-key" \
	"pull-cert = $P/verifier.crt" "pull-key = $P/other.key" "pull-ca = $P/ca.crt" "pull-allow = 127.0.0.1"
bad_conf 3 "a missing --reference" "--reference '$T/nope.json': cannot open" "reference = $T/nope.json"
DBPATH=$T/no/such/dir/x.db bad_conf 3 "a database in a directory that does not exist" "--db '$T/no/such/dir/x.db'"
sqlite3 "$T/future.db" "PRAGMA user_version = 99" && DBPATH=$T/future.db \
	bad_conf 3 "a database of a newer schema" "schema version 99 is newer than this vouchd's 7"
conf "$T/bad.conf"
echo "tls-key = $P/other.key" >>"$T/bad.conf"
xrc 2 "--check-config: a key given twice is a usage error" "$VOUCHD" --config "$T/bad.conf" --check-config
conf "$T/bad.conf" "node-id = has space"
xrc 2 "--check-config: an invalid --node-id" "$VOUCHD" --config "$T/bad.conf" --check-config
conf "$T/bad.conf" "check-config = true"
xrc 2 "check-config cannot be set in the file" "$VOUCHD" --config "$T/bad.conf" --check-config
conf "$T/bad.conf" "reference = $T/nope.json" "ear-key = $T/junk.key"
xrc 3 "--check-config: two problems" "$VOUCHD" --config "$T/bad.conf" --check-config
check "  are both reported" grep -q "2 problem(s)" "$T/last.err"
eq "  one line each, then the count" "$(wc -l <"$T/last.err")" 3
xrc 2 "--retention-days must be a number" "$VOUCHD" --config "$T/good.conf" --retention-days x --check-config

# --- vouchd db on an old schema ------------------------------------------------------------------
OLD=$T/old.db
xrc 0 "db migrate creates a database" "$VOUCHD" db migrate --db "$OLD"
check "  from 0 to 7" grep -qx "schema: migrated from 0 to 7" "$T/last.out"
# the database as version 6 wrote it (test-store.c builds every version; this is the last)
sqlite3 "$OLD" "ALTER TABLE agents DROP COLUMN lease_node; ALTER TABLE agents DROP COLUMN lease_until;
	DROP TABLE duties; DROP TABLE anchors; DROP TRIGGER results_no_delete; DROP TABLE prune_permit;
	CREATE TRIGGER results_no_delete BEFORE DELETE ON results BEGIN SELECT RAISE(ABORT, 'results are append-only'); END;
	INSERT INTO agents (id, ak, ak_fpr, registered, reference) VALUES ('old1', x'01', 'f', 1, 'default');
	PRAGMA user_version = 6;"
xrc 0 "db status on a version 6 database" "$VOUCHD" db status --db "$OLD"
check "  says 6 of 7 and how to migrate" grep -qx "schema: 6 (this vouchd: 7), 'vouchd db migrate' brings it up to date" "$T/last.out"
eq "  and left it at 6" "$(sqlite3 "$OLD" "PRAGMA user_version")" 6
DBPATH=$OLD conf "$T/old.conf"
xrc 0 "--check-config accepts it" "$VOUCHD" --config "$T/old.conf" --check-config
check "  migrated at the start" grep -q "schema version 6 (this vouchd: 7), migrated at the start" "$T/last.out"
xrc 0 "db migrate (through --config)" "$VOUCHD" db migrate --config "$T/old.conf"
check "  from 6 to 7" grep -qx "schema: migrated from 6 to 7" "$T/last.out"
xrc 0 "db migrate again" "$VOUCHD" db migrate --db "$OLD"
check "  is up to date" grep -qx "schema: 7, up to date" "$T/last.out"
xrc 0 "db status" "$VOUCHD" db status --db "$OLD"
check "  up to date, its agent, its chain" bash -c "grep -qx 'schema: 7 (this vouchd: 7), up to date' '$T/last.out' &&
	grep -qx 'agents: 1' '$T/last.out' && grep -qx 'results: 0 rows, hash chain intact' '$T/last.out'"
xrc 3 "db migrate refuses a newer database" "$VOUCHD" db migrate --db "$T/future.db"
eq "  and leaves it at its version" "$(sqlite3 "$T/future.db" "PRAGMA user_version")" 99
xrc 3 "db status on a newer database" "$VOUCHD" db status --db "$T/future.db"
check "  says so" grep -qx "schema: 99 (this vouchd: 7), newer than this vouchd" "$T/last.out"
xrc 3 "db status on a missing database" "$VOUCHD" db status --db "$T/missing.db"
[ ! -e "$T/missing.db" ] && ok "  which it does not create" || not_ok "db status created a database"
xrc 2 "db without a command" "$VOUCHD" db
xrc 2 "db with an unknown command" "$VOUCHD" db frob --db "$OLD"
xrc 2 "db backup without a PATH" "$VOUCHD" db backup --db "$OLD"
xrc 2 "db prune without --older-than" "$VOUCHD" db prune --db "$OLD"
xrc 2 "db prune --older-than -1" "$VOUCHD" db prune --db "$OLD" --older-than -1
xrc 2 "db status without --db" "$VOUCHD" db status
xrc 2 "db backup of PostgreSQL: use pg_dump" "$VOUCHD" db backup --db postgresql://127.0.0.1/x "$T/b"
check "  says so" grep -q "pg_dump" "$T/last.err"

# --- the webhook receiver -----------------------------------------------------------------------
HOOKLOG=$T/hook.log
webhook_receiver "$SECRET" "$HOOKLOG" && PIDS+=("$RPID") && ok "webhook receiver" ||
	{ not_ok "webhook receiver"; done_testing; }

# --- a real pull agent's TPM (swtpm) and measurement list, when they can be had ------------------
REAL=
if [ -n "${VOUCH_AGENT:-}" ] && swtpm_start "$T/tpm"; then
	echo 'measure func=BPRM_CHECK' >"$T/engine.pol"
	mkdir -p "$T/bin"
	for f in a b; do printf '#!/bin/sh\necho %s\n' "$f" >"$T/bin/$f"; done
	if env VOUCH_TCTI="$SWTPM_TCTI" "$VOUCH" tpm ak create --out "$T/ak1" >/dev/null 2>&1 &&
	   "$VOUCH" load --state-dir "$T/st" --policy "$T/engine.pol" --mode log --func BPRM_CHECK \
		--tcti "$SWTPM_TCTI" "$T/bin/a" "$T/bin/b" >/dev/null 2>&1; then
		REAL=pull1
		ok "swtpm and a measurement list for a real pull agent"
	else
		not_ok "a TPM for the real pull agent"
	fi
else
	skip "no swtpm or vouch-agent: the pull agents are unreachable ones only"
fi

# --- two nodes over one SQLite file --------------------------------------------------------------
DB=$T/vouchd.db
INTERVAL=2
declare -A PID URL
start_node() { # NAME
	local try port
	for try in 1 2 3 4 5 6; do
		port=$((20001 + (RANDOM % 20000) * 2))
		port_free "$port" || continue
		"$VOUCHD" --listen "127.0.0.1:$port" --db "${NODE_DB:-$DB}" --tls-cert "$P/server.crt" \
			--tls-key "$P/server.key" --client-ca "$P/ca.crt" --operator-ca "$P/op-ca.crt" \
			--node-id "$1" --interval "$INTERVAL" --grace 2 --retention-days 30 \
			--pull-cert "$P/verifier.crt" --pull-key "$P/verifier.key" --pull-ca "$P/ca.crt" \
			--pull-allow 127.0.0.0/8 --pull-timeout 1 \
			--agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/ca.key" --allow-ek-public \
			--webhook "$HOOK" --webhook-secret "$SECRET" 2>>"$T/node-$1.log" &
		PID[$1]=$!
		for _ in $(seq 1 200); do
			kill -0 "${PID[$1]}" 2>/dev/null || break
			if ! port_free "$port"; then URL[$1]=https://127.0.0.1:$port; PIDS+=("${PID[$1]}"); return 0; fi
			sleep 0.02
		done
		kill "${PID[$1]}" 2>/dev/null; wait "${PID[$1]}" 2>/dev/null
	done
	return 1
}
start_node A && ok "node A starts" || { not_ok "node A starts"; sed 's/^/#   /' "$T/node-A.log"; done_testing; }
start_node B && ok "node B starts on the same file" || { not_ok "node B starts"; sed 's/^/#   /' "$T/node-B.log"; done_testing; }
sql() { sqlite3 -cmd ".timeout 5000" "$DB" "$1"; }
op() { # METHOD NODE PATH [BODYFILE] -> HTTP code
	local a=()
	[ -n "${4:-}" ] && a=(-H "Content-Type: application/json" --data-binary "@$4")
	curl -sS --tlsv1.3 --cacert "$P/ca.crt" --cert "$P/op.crt" --key "$P/op.key" "${a[@]}" \
		-X "$1" -o "$T/.resp" -w '%{http_code}' "${URL[$2]}$3" 2>>"$T/curl.log"
}

# an event stream on node B, opened before anything happens
curl -sS -N --tlsv1.3 --cacert "$P/ca.crt" --cert "$P/op.crt" --key "$P/op.key" \
	"${URL[B]}/v1/events" >"$T/stream-B.txt" 2>>"$T/curl.log" &
SPID=$!
PIDS+=("$SPID")
# open before anything is committed: what it carries then comes from B's polling of the outbox
wait_for 5 grep -q "event stream opened" "$T/node-B.log" || not_ok "node B's event stream opens"
jq -n --arg ak "$(base64 -w0 "$P/ak.pem")" '{ak: $ak}' >"$T/put.json"
for a in p1 p2 p3; do
	eq "node A provisions $a" "$(op PUT A "/v1/agents/$a" "$T/put.json")" 201
done
# no pull agent listens on port 9: every round is an error row, written by the lease holder
sql "UPDATE agents SET mode = 'pull', url = 'https://127.0.0.1:9' WHERE id IN ('p1', 'p2', 'p3')"
stream_has() { [ "$(grep -c "^event: enrolled" "$T/stream-B.txt")" -ge 3 ]; }
wait_for 2 stream_has && ok "the event stream on node B carries the 3 events node A committed" ||
	not_ok "node B's stream: $(grep -c '^event:' "$T/stream-B.txt") events"
NPULL=3
if [ -n "$REAL" ]; then
	start_pull() {
		listen_up "$T/pull.log" "$VOUCH_AGENT" --mode pull --verifier-name vouchd-verifier \
			--cert "$P/pull1.crt" --key "$P/pull1.key" --cacert "$P/ca.crt" --tpm "$SWTPM_TCTI" \
			--ima-list "$T/st/measurements" --server "${URL[A]}" --id pull1 --enroll || return 1
		APORT=$UP_PORT APID=$UP_PID
		PIDS+=("$APID")
	}
	start_pull && ok "a real pull agent enrolls through node A" || not_ok "the real pull agent starts"
	NPULL=4
	trusted_pull() { [ "$(sql "SELECT count(*) FROM results WHERE agent = 'pull1' AND verdict = 'trusted'")" -ge 1 ]; }
	wait_for 15 trusted_pull && ok "  and is attested trusted by its lease holder" ||
		{ not_ok "pull1 trusted"; sed 's/^/#   /' "$T/pull.log" | tail -5; }
fi
leased() { [ "$(sql "SELECT count(*) FROM agents WHERE mode = 'pull' AND lease_node IS NOT NULL")" = "$NPULL" ]; }
wait_for $((2 * INTERVAL + 2)) leased && ok "the $NPULL pull agents are leased" || not_ok "the pull agents are leased"
HOLDERS=$(sql "SELECT group_concat(DISTINCT lease_node) FROM agents WHERE id IN ('p1', 'p2', 'p3')")
case $HOLDERS in A|B) ok "p1..p3, claimed at once, by one node ($HOLDERS)";; *) not_ok "by one node (got '$HOLDERS')";; esac
# the node to kill: the one delivering the webhooks, when it also holds pull agents
DUTY=$(sql "SELECT node FROM duties WHERE name = 'outbox'")
case $DUTY in A|B) ok "node $DUTY holds the outbox duty";; *) not_ok "an outbox duty holder (got '$DUTY')";; esac
H=$DUTY
[ "$(sql "SELECT count(*) FROM agents WHERE lease_node = '$H'")" -gt 0 ] ||
	H=$(sql "SELECT lease_node FROM agents WHERE id = '${REAL:-p1}'")
[ "$H" = A ] && S=B || S=A
rounds() { sql "SELECT count(*) FROM results WHERE agent IN ('p1', 'p2', 'p3') AND verdict = 'error'"; }
wait_for $((2 * INTERVAL + 2)) test "$(rounds)" -ge 3 && ok "their rounds run (error rows: $(rounds))" ||
	not_ok "pull rounds (error rows: $(rounds))"
grep -q "now holds [0-9]* pull agent" "$T/node-$H.log" && ok "node $H logs the agents it holds" || not_ok "node $H logs its agents"

# overdue: no trusted round within interval + grace; both nodes' watchdogs see it
overdue() { [ "$(sql "SELECT count(*) FROM agent_status WHERE state = 'overdue'")" = 3 ]; }
wait_for 10 overdue && ok "the 3 agents go overdue" || not_ok "overdue ($(sql "SELECT group_concat(state) FROM agent_status"))"
sleep 1.5
eq "one overdue event per agent, though two watchdogs run" \
	"$(sql "SELECT group_concat(n) FROM (SELECT count(*) AS n FROM outbox WHERE type = 'overdue' GROUP BY agent)")" "1,1,1"

all_delivered_so_far() {
	local s
	for s in $(sql "SELECT seq FROM outbox"); do grep -q "^200 $s ok " "$HOOKLOG" || return 1; done
}
# --- kill -9 the node holding the pull agents ----------------------------------------------------
wait_for 5 all_delivered_so_far || not_ok "the events before the kill are delivered"
eq "one node delivers: no event twice before the kill" "$(cut -d' ' -f2 "$HOOKLOG" | sort | uniq -d | wc -l)" 0
LAST=$(sql "SELECT coalesce(max(seq), 0) FROM results")
HELD=$(sql "SELECT group_concat(id, ' ') FROM agents WHERE lease_node = '$H'")
diag "killing node $H (pull leases: $HELD; outbox duty: node $DUTY)"
kill -9 "${PID[$H]}"
t0=$(now_ms)
wait "${PID[$H]}" 2>/dev/null
taken() {
	local a
	[ "$(sql "SELECT count(*) FROM agents WHERE mode = 'pull' AND lease_node = '$S'")" = "$NPULL" ] || return 1
	for a in $HELD; do
		[ "$(sql "SELECT count(*) FROM results WHERE seq > $LAST AND agent = '$a' AND
			verdict = '$([ "$a" = pull1 ] && echo trusted || echo error)'")" -ge 1 ] || return 1
	done
}
if wait_for $((3 * INTERVAL)) taken; then
	dt=$(( $(now_ms) - t0 ))
	diag "takeover after kill -9: ${dt} ms (interval ${INTERVAL} s)"
	[ "$dt" -le $((2 * INTERVAL * 1000)) ] && ok "node $S took over $HELD and ran their rounds in ${dt} ms (<= 2 intervals)" ||
		not_ok "takeover took ${dt} ms, more than 2 intervals"
else
	not_ok "node $S took the pull agents over ($(sql "SELECT group_concat(id || '=' || lease_node) FROM agents WHERE mode = 'pull'"))"
fi
if [ -n "$REAL" ]; then
	eq "pull1 was never judged anything but trusted" "$(sql "SELECT count(*) FROM results WHERE agent = 'pull1' AND verdict != 'trusted'")" 0
	eq "  and is in state trusted" "$(sql "SELECT state FROM agent_status WHERE agent = 'pull1'")" trusted
fi
eq "node $S provisions n1 after the kill" "$(op PUT "$S" /v1/agents/n1 "$T/put.json")" 201
NEWSEQ=$(sql "SELECT max(seq) FROM outbox WHERE agent = 'n1'")
delivered() { grep -q "^200 $NEWSEQ ok enrolled n1$" "$HOOKLOG"; }
wait_for 6 delivered && ok "its event is delivered by the survivor" || not_ok "event $NEWSEQ delivered after the kill"
eq "the survivor holds the outbox duty" "$(sql "SELECT node FROM duties WHERE name = 'outbox'")" "$S"
all_delivered() {
	local s
	for s in $(sql "SELECT seq FROM outbox"); do grep -q "^200 $s ok " "$HOOKLOG" || return 1; done
}
wait_for 10 all_delivered && ok "every event ($(sql "SELECT count(*) FROM outbox")) delivered at least once, signed" ||
	not_ok "events not delivered: $(for s in $(sql "SELECT seq FROM outbox"); do grep -q "^200 $s ok " "$HOOKLOG" || printf '%s ' "$s"; done)"
diag "deliveries: $(wc -l <"$HOOKLOG") for $(sql "SELECT count(*) FROM outbox") events"
! grep -q " bad " "$HOOKLOG" && ok "no delivery with a bad signature" || not_ok "a delivery with a bad signature"

# --- the watchdog's race: an attestation lands between its list and its transaction -------------
# a third node C without pull agents or webhooks, so that nothing but its watchdog writes: it
# lists w1 as due while the test holds the write lock, in which w1's deadline moves on (as a
# fresh attestation by another node would move it); C must re-read w1 once it has the lock.
# After the kill: the survivor, stalled by the lock too, may see its leases and duty lapse
"$VOUCHD" --listen 127.0.0.1:0 --db "$DB" --tls-cert "$P/server.crt" --tls-key "$P/server.key" \
	--client-ca "$P/ca.crt" --node-id C --interval "$INTERVAL" --grace 2 2>>"$T/node-C.log" &
CPID=$!
PIDS+=("$CPID")
wait_for 5 grep -q "listening on" "$T/node-C.log" && ok "node C (watchdog only) starts" || not_ok "node C starts"
# nothing else due meanwhile (a due agent would have C wait for the lock before w1 is due)
n1_overdue() { [ "$(sql "SELECT state FROM agent_status WHERE agent = 'n1'")" = overdue ]; }
wait_for 10 n1_overdue || not_ok "n1 overdue before the race"
eq "node $S provisions w1" "$(op PUT "$S" /v1/agents/w1 "$T/put.json")" 201
DL=$(sql "SELECT deadline FROM agent_status WHERE agent = 'w1'")
while [ "$(date +%s)" -lt "$DL" ]; do sleep 0.05; done
# from the deadline's second (not yet due: deadline < now) to 3.5 s after: C's ticks from DL+1 list it
( echo "BEGIN IMMEDIATE;"; sleep 3.5
  echo "UPDATE agent_status SET state = 'trusted', deadline = $((DL + 1000)) WHERE agent = 'w1'; COMMIT;" ) |
	sqlite3 -cmd ".timeout 5000" "$DB"
sleep 1.5
grep -q "event [0-9]*: agent 'w1' overdue" "$T/node-C.log" && not_ok "node C moved w1 to overdue after its attestation" ||
	ok "an attestation between the watchdog's list and its transaction wins: w1 not overdue"
eq "  w1 is trusted, no overdue event" "$(sql "SELECT state || ':' || (SELECT count(*) FROM outbox WHERE agent = 'w1' AND type = 'overdue') FROM agent_status WHERE agent = 'w1'")" "trusted:0"
kill -TERM "$CPID"; wait "$CPID" 2>/dev/null



# --- backup and prune while the survivor serves --------------------------------------------------
xrc 0 "db backup of the live database" "$VOUCHD" db backup --db "$DB" "$T/backup.db"
check "  the copy's chain is intact" grep -q "^backup: [1-9][0-9]* rows, hash chain intact$" "$T/last.out"
xrc 0 "  and --verify-chain on the copy agrees" "$VOUCHD" --db "$T/backup.db" --verify-chain
[ ! -e "$T/backup.db-wal" ] && ok "  the copy is one file" || not_ok "the backup left a WAL file"
xrc 0 "a second backup, kept for the restore below" "$VOUCHD" db backup --db "$DB" "$T/restore.db"
ROWS=$(sql "SELECT count(*) FROM results")
xrc 0 "db prune --older-than 0 while it serves" "$VOUCHD" db prune --db "$DB" --older-than 0
check "  pruned rows, chain intact" bash -c "grep -Eq '^pruned: [1-9][0-9]* results older than 0 days$' '$T/last.out' &&
	grep -q 'hash chain intact' '$T/last.out'"
LEFT=$(sql "SELECT count(*) FROM results")
[ "$LEFT" -lt "$ROWS" ] && ok "  $ROWS rows down to $LEFT" || not_ok "prune left $LEFT of $ROWS rows"
eq "  each agent keeps its newest row" "$(sql "SELECT count(DISTINCT agent) FROM results")" \
	"$(sql "SELECT count(*) FROM (SELECT agent FROM results GROUP BY agent)")"
sleep $INTERVAL
xrc 0 "  the chain verifies with rows appended after the prune" "$VOUCHD" --db "$DB" --verify-chain
sqlite3 "$T/backup.db" "DROP TRIGGER results_no_update; UPDATE results SET body = '{}' WHERE seq = (SELECT max(seq) FROM results)"
xrc 1 "a tampered backup fails --verify-chain" "$VOUCHD" --db "$T/backup.db" --verify-chain
xrc 1 "  and db prune refuses it" "$VOUCHD" db prune --db "$T/backup.db" --older-than 0
xrc 1 "  and db status says it is broken" "$VOUCHD" db status --db "$T/backup.db"
check "  naming the row" grep -Eq "^results: hash chain broken at row [0-9]+$" "$T/last.out"

# --- SIGTERM: leases and duties released ---------------------------------------------------------
kill -TERM "${PID[$S]}"
wait "${PID[$S]}" 2>/dev/null
eq "SIGTERM released every lease" "$(sql "SELECT count(*) FROM agents WHERE lease_node IS NOT NULL")" 0
eq "  and the outbox duty" "$(sql "SELECT count(*) FROM duties WHERE node = '$S'")" 0
xrc 0 "db status after it all" "$VOUCHD" db status --db "$DB"
check "  the chain is intact" grep -q "hash chain intact" "$T/last.out"
kill "$SPID" 2>/dev/null

# --- restore: the nodes stopped, the copy put in the database's place ----------------------------
AGENTS=$(sqlite3 "$T/restore.db" "SELECT count(*) FROM agents")
RROWS=$(sqlite3 "$T/restore.db" "SELECT count(*) FROM results")
rm -f "$DB" "$DB-wal" "$DB-shm" && cp "$T/restore.db" "$DB"
start_node A && ok "a node starts on the restored database" || not_ok "a node starts on the restored database"
eq "  its agents are the backup's" "$(op GET A /v1/agents >/dev/null; jq '.agents | length' "$T/.resp")" "$AGENTS"
[ "$(sql "SELECT count(*) FROM results")" -ge "$RROWS" ] && ok "  with the backup's $RROWS results" || not_ok "results after the restore"
kill -TERM "${PID[A]}"; wait "${PID[A]}" 2>/dev/null
xrc 0 "  and its chain verifies after the node's rounds" "$VOUCHD" --db "$DB" --verify-chain

# --- --retention-days in the service: results written 40 days ago, chained as vouchd does ------
RET=$T/ret.db
xrc 0 "a database for retention" "$VOUCHD" db migrate --db "$RET"
python3 - "$RET" <<'PY'
import hashlib, sqlite3, sys, time
u64 = lambda v: v.to_bytes(8, "big")
s = lambda x: u64(len(x.encode())) + x.encode()
now, day = int(time.time()), 86400
# r1: two old rows and a new one; r2: two old rows (its newest stays, however old)
rows = [("r1", now - 40 * day), ("r1", now - 39 * day), ("r2", now - 38 * day),
        ("r2", now - 37 * day), ("r1", now - day)]
db, prev = sqlite3.connect(sys.argv[1]), bytes(32)
for seq, (agent, t) in enumerate(rows, 1):
    body = '{"verdict":"trusted"}'
    prev = hashlib.sha256(prev + u64(seq) + s(agent) + u64(t) + s("trusted") + s(body)).digest()
    db.execute("INSERT INTO results VALUES (?, ?, ?, 'trusted', ?, ?)", (seq, agent, t, body, prev))
db.commit()
PY
xrc 0 "  its chain (made by the test) verifies" "$VOUCHD" --db "$RET" --verify-chain
check "  over 5 rows" grep -qx "results: 5 rows, hash chain intact" "$T/last.out"
NODE_DB=$RET start_node R && ok "a node with --retention-days 30 starts on it" || not_ok "node R starts"
pruned_at_start() { grep -q "retention: 3 results older than 30 days pruned" "$T/node-R.log"; }
wait_for 5 pruned_at_start && ok "  and prunes the 3 results older than 30 days at the start" ||
	not_ok "pruned at the start: $(grep retention "$T/node-R.log")"
kill -TERM "${PID[R]}"; wait "${PID[R]}" 2>/dev/null
eq "  r2's newest row stays, r1's new one too" "$(sqlite3 "$RET" "SELECT group_concat(seq) FROM (SELECT seq FROM results ORDER BY seq)")" "4,5"
xrc 0 "  the pruned chain verifies" "$VOUCHD" --db "$RET" --verify-chain
check "  over the 2 rows left" grep -qx "results: 2 rows, hash chain intact" "$T/last.out"
sqlite3 "$RET" "DROP TRIGGER anchors_no_update; UPDATE anchors SET hash = zeroblob(32)"
xrc 1 "  an anchor edited after it breaks the chain" "$VOUCHD" --db "$RET" --verify-chain
done_testing
