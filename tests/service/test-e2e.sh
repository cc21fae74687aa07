#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# The fleet end to end, in one run: vouchd (SQLite, 127.0.0.1) with EK certificates from a
# local manufacturer CA (no --allow-ek-public), its agent CA, an operator CA, reference
# values, a 1 s interval with a 2 s grace, a signed webhook and pull polling; three agents
# on three swtpm instances manufactured with EK certificates (two push, one pull), each
# enrolled by vouch-agent itself (EK certificate, credential activation) and attesting the
# vouch engine's own list every second.  One push agent runs a binary outside the reference
# values: untrusted within two intervals, one signed webhook event, a contraindicated EAR;
# the others stay trusted.  Then the must-fails on a fourth, fresh agent: an AK of another
# TPM, an EK certificate of an unknown CA, a replayed evidence, evidence for another id, a
# list with an entry removed or two swapped, a rebooted TPM claiming continuation; then a
# kexec (issue 19: a fresh list, PCR 10 kept): chained on the verified state when flagged a
# restart under the same resetCount, by hand and by vouch-agent; the new list alone, a
# restart with an entry cut and a restart across a TPM reset are not trusted.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/swtpm.sh"
. "$(dirname "$0")/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
VOUCH_AGENT=${VOUCH_AGENT:?VOUCH_AGENT must point at the vouch-agent binary}
require_peers swtpm swtpm_setup:swtpm-tools swtpm_localca:swtpm-tools curl jq sqlite3 openssl python3
# Debian's python3-jwt lives in the system python's dist-packages (not in a pyenv's, say)
PYJWT=
for py in /usr/bin/python3 python3; do
	if "$py" -c 'import jwt, cryptography' 2>/dev/null; then PYJWT=$py; break; fi
done
[ -n "$PYJWT" ] || require_peer python3-jwt-is-missing python3-jwt
START=$(date +%s.%N)
PIDS=()
declare -A TPID TCTI
cleanup() {
	stop_pids "${PIDS[@]}"
	for p in "${TPID[@]}"; do SWTPM_PID=$p; swtpm_stop; done
	[ -n "${KEEP:-}" ] && cp -r "$T" "$KEEP"
	rm -rf "$T"
}
trap cleanup EXIT
elapsed() { echo "$(date +%s.%N) $1" | awk '{ printf "%.2f", $1 - $2 }'; }
# wait_for SECONDS CMD...: poll until CMD succeeds
wait_for() { local n=$(($1 * 20)); shift; while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.05; n=$((n - 1)); done; return 1; }

# --- five TPMs manufactured with EK certificates --------------------------------------------
# A, B, C run the fleet, D is the fresh agent of the must-fails: their EK CAs are the ones
# vouchd trusts; E's CA is unknown to vouchd.  Each its own CA (swtpm_localca keeps a serial).
manufacture() { swtpm_manufacture "$1"; }
t0=$(date +%s.%N)
for n in A B C D E; do manufacture $n & done
for n in A B C D E; do wait -n || not_ok "manufacture a TPM"; done
tpm_up() { # NAME
	swtpm_start "$T/$1/tpm" || return 1
	TPID[$1]=$SWTPM_PID TCTI[$1]=$SWTPM_TCTI
}
for n in A B C D E; do
	tpm_up $n && "$VOUCH" tpm ek --cert "$T/ek$n.crt" --tcti "${TCTI[$n]}" >/dev/null 2>"$T/ek.err" ||
		{ not_ok "TPM $n: up, with an EK certificate in NV"; sed 's/^/#   /' "$T/ek.err"; done_testing; }
done
ok "five swtpm instances manufactured with EK certificates ($(elapsed "$t0") s)"
cat "$T"/[ABCD]/ca/issuercert.pem >"$T/ek-ca.pem"
# the EK fingerprint vouchd stores: sha256 of the certificate's public key (DER)
ekfpr() { openssl x509 -inform der -in "$T/ek$1.crt" -pubkey -noout | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1; }

# --- PKI: the agents' CA (vouchd issues from it), the operators' -----------------------------
for ca in ca op-ca; do
	make_ca "$ca" "vouch-e2e-$ca" -addext basicConstraints=critical,CA:true \
		-addext keyUsage=critical,keyCertSign,cRLSign
done
issue ca server localhost "IP:127.0.0.1,DNS:localhost"
issue ca verifier vouchd-verifier "DNS:vouchd-verifier"
issue op-ca op operator
ecgen "$P/mallory.key"
openssl req -new -key "$P/mallory.key" -subj /CN=mallory -out "$P/mallory.csr" 2>/dev/null
[ -s "$P/op.crt" ] && [ -s "$P/mallory.csr" ] && ok "test PKI" || { not_ok "test PKI"; done_testing; }

# --- the programs, the engines, the reference values ------------------------------------------
POL=$T/engine.pol
echo 'measure func=BPRM_CHECK' >"$POL"
mkdir -p "$T/bin"
for f in a b c d evil; do printf '#!/bin/sh\necho %s\n' "$f" >"$T/bin/$f"; done
python3 - "$T/bin/a" "$T/bin/b" "$T/bin/c" "$T/bin/d" >"$T/ref.json" <<'PY'
import hashlib, json, sys
files = {p: ["sha256:" + hashlib.sha256(open(p, "rb").read()).hexdigest()] for p in sys.argv[1:]}
print(json.dumps({"format": "vouch-reference", "version": 1, "files": files}))
PY
load() { # NAME FILES...: the engine of TPM NAME measures FILES (appends to its own list)
	local n=$1; shift
	"$VOUCH" load --state-dir "$T/$n/st" --policy "$POL" --mode log --func BPRM_CHECK \
		--tcti "${TCTI[$n]}" "$@" >/dev/null 2>"$T/load.err"
}
for n in A B C D; do
	check "the engine measures a and b into TPM $n" load $n "$T/bin/a" "$T/bin/b"
done

# --- the webhook receiver: one line per POST, "CODE KEY ok|bad TYPE AGENT" ----------------------
# ok: the HMAC verifies and the body's id is the Idempotency-Key
SECRET=$T/webhook.secret
webhook_secret "$SECRET"
HOOKLOG=$T/hook.log
webhook_receiver "$SECRET" "$HOOKLOG" && PIDS+=("$RPID") && ok "webhook receiver on 127.0.0.1:$RPORT" ||
	{ not_ok "webhook receiver"; done_testing; }

# --- vouchd --------------------------------------------------------------------------------------
DB=$T/vouchd.db
VOUCHD_ARGS=(--db "$DB" --tls-cert "$P/server.crt"
	--tls-key "$P/server.key" --client-ca "$P/ca.crt" --operator-ca "$P/op-ca.crt"
	--pcrs sha256:0-10 --reference "$T/ref.json"
	--ek-ca "$T/ek-ca.pem" --agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/ca.key"
	--interval 1 --grace 2
	--webhook "$HOOK" --webhook-secret "$SECRET"
	--pull-cert "$P/verifier.crt" --pull-key "$P/verifier.key" --pull-ca "$P/ca.crt"
	--pull-allow 127.0.0.0/8 --pull-timeout 3)
start_vouchd() { vouchd_up "$T/vouchd.log" "${VOUCHD_ARGS[@]}" && PIDS+=("$VPID"); }
start_vouchd && ok "vouchd on 127.0.0.1:$PORT (SQLite, --ek-ca, --reference, --webhook, --pull-*)" ||
	{ not_ok "vouchd starts"; sed 's/^/#   /' "$T/vouchd.log"; done_testing; }
check "vouchd runs without --allow-ek-public" test -z "$(printf '%s\n' "${VOUCHD_ARGS[@]}" | grep -x -- --allow-ek-public)"

state() { sql "SELECT reset_count || ' ' || state FROM states WHERE agent = '$1'"; }
entries() { sql "SELECT json_extract(state, '$.entries') FROM states WHERE agent = '$1'"; }
rows() { sql "SELECT count(*) FROM results WHERE agent = '$1' AND verdict = '$2'"; }
newest() { sql "SELECT verdict FROM results WHERE agent = '$1' ORDER BY seq DESC LIMIT 1"; }
code 200 "healthz" none GET /healthz

# --- the three agents: A and B push, C is pulled; each enrolls itself -------------------------------
mkdir -p "$T/agents"
t_enroll=$(date +%s.%N)
push_agent() { # NAME ID
	"$VOUCH_AGENT" --server "$URL" --id "$2" --cert "$T/agents/$2.crt" --key "$T/agents/$2.key" \
		--cacert "$P/ca.crt" --tpm "${TCTI[$1]}" --ima-list "$T/$1/st/measurements" \
		--interval 1 >"$T/$2.out" 2>"$T/$2.log" &
	PIDS+=("$!")
}
push_agent A push1
push_agent B push2
start_pull() {
	listen_up "$T/pull1.log" "$VOUCH_AGENT" --mode pull --verifier-name vouchd-verifier \
		--cert "$T/agents/pull1.crt" --key "$T/agents/pull1.key" --cacert "$P/ca.crt" \
		--tpm "${TCTI[C]}" --ima-list "$T/C/st/measurements" --server "$URL" --id pull1 || return 1
	APORT=$UP_PORT APID=$UP_PID
	PIDS+=("$APID")
}
start_pull && ok "the pull agent enrolls and listens on 127.0.0.1:$APORT" ||
	{ not_ok "the pull agent starts"; sed 's/^/#   /' "$T/pull1.log"; done_testing; }
enrolled() { [ "$(sql "SELECT count(*) FROM agents WHERE id IN ('push1', 'push2', 'pull1')")" = 3 ]; }
wait_for 20 enrolled && ok "the three agents enrolled ($(elapsed "$t_enroll") s after the start)" ||
	{ not_ok "the three agents enrolled"; tail -5 "$T/push1.log" "$T/push2.log" "$T/pull1.log" | sed 's/^/#   /'; }
for a in push1:A push2:B pull1:C; do
	id=${a%:*} n=${a#*:}
	eq "$id: stored with TPM $n's EK (fingerprint of its EK certificate)" \
		"$(sql "SELECT ek_fpr FROM agents WHERE id='$id'")" "$(ekfpr $n)"
	check "$id: its certificate (issued at activation) chains to the agent CA" \
		openssl verify -CAfile "$P/ca.crt" -purpose sslclient "$T/agents/$id.crt"
done
check "push1 and push2 said they enrolled" grep -q "enrolled as 'push1'" "$T/push1.log"
eq "modes" "$(sql "SELECT group_concat(id || ':' || mode, ' ') FROM (SELECT * FROM agents ORDER BY id)")" \
	"pull1:pull push1:push push2:push"
eq "no enrollment pending" "$(sql "SELECT count(*) FROM enrollments")" 0

# --- a few trusted rounds; idle rounds too ------------------------------------------------------
t_rounds=$(date +%s.%N)
three_trusted() { # N: at least N trusted rows for each
	local id
	for id in push1 push2 pull1; do [ "$(rows $id trusted)" -ge "$1" ] || return 1; done
}
wait_for 20 three_trusted 3 && ok "three trusted rounds each ($(elapsed "$t_rounds") s)" ||
	not_ok "three trusted rounds each ($(rows push1 trusted) $(rows push2 trusted) $(rows pull1 trusted))"
load A "$T/bin/c" && load B "$T/bin/c" && load C "$T/bin/c" "$T/bin/d" &&
	ok "TPMs A and B measure c, TPM C measures c and d" || not_ok "the engines measure c, d"
at() { [ "$(entries "$1")" = "$2" ]; }
wait_for 5 at push1 4 && wait_for 5 at push2 4 && wait_for 5 at pull1 5 &&
	ok "the new entries are verified: push1 4, push2 4, pull1 5 entries" ||
	not_ok "new entries verified ($(entries push1) $(entries push2) $(entries pull1))"
base=$(sql "SELECT min(c) FROM (SELECT count(*) AS c FROM results WHERE verdict='trusted' GROUP BY agent)")
wait_for 8 three_trusted $((base + 2)) && ok "idle rounds (nothing new measured) are attested and trusted" ||
	not_ok "idle rounds attested"
eq "the list did not move in the idle rounds" "$(entries push1) $(entries push2) $(entries pull1)" "4 4 5"
check "an idle round sends an empty list" grep -q "entries after 5, 0 sent" "$T/pull1.log"
eq "no untrusted or error row so far" "$(sql "SELECT count(*) FROM results WHERE verdict != 'trusted'")" 0
code 200 "GET /v1/agents with the operator's certificate" op GET /v1/agents
eq "the fleet: three agents, trusted" "$(js '[.agents[] | .id + ":" + .state] | sort | join(" ")')" \
	"pull1:trusted push1:trusted push2:trusted"

# --- push1 runs a binary outside the reference values -------------------------------------------
ev0=$(sql "SELECT ifnull(max(seq), 0) FROM outbox")
t_evil=$(date +%s.%N)
check "TPM A's engine measures evil" load A "$T/bin/evil"
untrusted1() { [ "$(rows push1 untrusted)" -ge 1 ]; }
wait_for 6 untrusted1
dt=$(elapsed "$t_evil")
eq "push1 untrusted within 2 intervals (${dt} s)" "$(awk -v t="$dt" 'BEGIN { print (t <= 2.0) }')" 1
diag "push1 untrusted ${dt} s after evil was measured"
eq "the reason: reference" \
	"$(sql "SELECT json_extract(body, '$.first_failure.check') FROM results WHERE agent='push1' AND verdict='untrusted' ORDER BY seq LIMIT 1")" \
	reference
eq "push1's state did not advance past evil" "$(entries push1)" 4
UNT=$(sql "SELECT seq FROM outbox WHERE agent='push1' AND type='untrusted'")
delivered() { grep -q "^200 $1 ok " "$HOOKLOG"; }
check "the untrusted event reaches the webhook" wait_for 5 delivered "${UNT:-x}"
# push1 keeps attesting (untrusted each round): one state change, one event
sleep 1.5
eq "exactly one untrusted event for push1 in the outbox" "$(sql "SELECT count(*) FROM outbox WHERE agent='push1' AND type='untrusted'")" 1
eq "delivered exactly once, HMAC valid, Idempotency-Key = event id" \
	"$(grep -c " untrusted push1$" "$HOOKLOG") $(grep " untrusted push1$" "$HOOKLOG" | cut -d' ' -f2-)" \
	"1 $UNT ok untrusted push1"
check "no webhook with a bad signature" sh -c "! grep -q ' bad ' '$HOOKLOG'"
eq "no other untrusted event since" "$(sql "SELECT count(*) FROM outbox WHERE seq > $ev0 AND type='untrusted' AND agent != 'push1'")" 0

code 200 "GET /v1/ear/key" op GET /v1/ear/key
cp "$T/.out" "$T/jwks.json"
cat >"$T/verify.py" <<'PY'
import json, sys, jwt
jwks = json.load(open(sys.argv[1]))
token = open(sys.argv[2]).read().strip()
key = jwt.PyJWK(jwks["keys"][0]).key
claims = jwt.decode(token, key, algorithms=["ES256"], options={"verify_aud": False})
print(json.dumps(claims))
PY
ear() { # ID -> the verified claims of its newest result in $T/ID.claims
	sql "SELECT json_extract(body, '$.ear') FROM results WHERE agent='$1' ORDER BY seq DESC LIMIT 1" >"$T/$1.jwt"
	"$PYJWT" "$T/verify.py" "$T/jwks.json" "$T/$1.jwt" >"$T/$1.claims" 2>"$T/.err"
}
c() { jq -r "$2" "$T/$1.claims"; }
check "push1's newest EAR verifies (ES256 under /v1/ear/key, python3-jwt)" ear push1
eq "push1: sub, runtime contraindicated, executables 96" \
	"$(c push1 '[.sub, .submods.runtime."ear.status", (.submods.runtime."ear.trustworthiness-vector".executables | tostring)] | join(" ")')" \
	"push1 contraindicated 96"
eq "push1: boot still affirming" "$(c push1 '.submods.boot."ear.status"')" affirming
# enrolled with a certified EK, and this AK signed the quote: the hardware is affirmed
eq "push1: hardware 2 (a certified EK's TPM)" "$(c push1 '.submods.boot."ear.trustworthiness-vector".hardware')" 2
eq "ek_certified recorded for the three" "$(sql "SELECT group_concat(id || '=' || ek_certified, ' ') FROM (SELECT id, ek_certified FROM agents ORDER BY id)")" \
	"pull1=1 push1=1 push2=1"
for id in push2 pull1; do
	n=$(rows $id trusted)
	wait_for 4 sh -c "[ \$(sqlite3 '$DB' \"SELECT count(*) FROM results WHERE agent='$id' AND verdict='trusted'\") -gt $n ]" ||
		not_ok "$id attests after push1 turned untrusted"
	eq "$id stays trusted: newest row trusted, no untrusted or error row" \
		"$(newest $id) $(rows $id untrusted) $(rows $id error)" "trusted 0 0"
	check "$id's newest EAR verifies" ear $id
	eq "$id: both submodules affirming" "$(c $id '[.submods[]."ear.status"] | join(" ")')" "affirming affirming"
	eq "$id: hardware 2" "$(c $id '.submods.boot."ear.trustworthiness-vector".hardware')" 2
done
code 200 "GET /v1/agents" op GET /v1/agents
eq "the fleet: push1 untrusted, the others trusted" "$(js '[.agents[] | .id + ":" + .state] | sort | join(" ")')" \
	"pull1:trusted push1:untrusted push2:trusted"

# --- must-fail on a fourth, fresh agent (TPM D): the three keep running ---------------------------
t_mf=$(date +%s.%N)
check "agent d enrolls (EK certificate, activation) and attests once" "$VOUCH_AGENT" --server "$URL" \
	--id d --cert "$P/d.crt" --key "$P/d.key" --cacert "$P/ca.crt" --tpm "${TCTI[D]}" \
	--ima-list "$T/D/st/measurements" --once
eq "d: trusted, TPM D's EK" "$(newest d) $(sql "SELECT ek_fpr FROM agents WHERE id='d'")" "trusted $(ekfpr D)"
export VOUCH_TCTI=${TCTI[D]}
nonce() { req d GET /v1/agents/d/nonce >/dev/null && cp "$T/.out" "$T/n.json"; }
quote() { # OUT LIST FROM
	"$VOUCH" attest quote --nonce "$(jq -r .nonce "$T/n.json")" --pcrs sha256:0-10 \
		--ima "$2" --from-entry "$3" --no-eventlog --out "$1" >/dev/null 2>"$T/.qerr"
}
snapshot() { echo "$(state d) $(sql "SELECT count(*) FROM agents") $(sql "SELECT count(*) FROM enrollments")"; }
load D "$T/bin/c"
nonce && quote "$T/d-good.ev" "$T/D/st/measurements" "$(jq -r .offset "$T/n.json")"
code 200 "d: a good round by hand (nonce, quote, push)" d POST /v1/agents/d/attest "$T/d-good.ev"
eq "trusted, 4 entries" "$(js .verdict) $(entries d)" "trusted 4"
before=$(snapshot)

# (a) TPM D's EK certificate with TPM E's AK: vouchd cannot tell at enroll, nobody can activate
check "an AK in TPM E" "$VOUCH" tpm ak create --tcti "${TCTI[E]}" --out "$T/akE"
b64() { base64 -w0 "$1"; }
enroll_doc() { # OUT EKCERT AKPUB
	jq -n --arg ek "$(b64 "$2")" --arg ak "$(b64 "$3")" --rawfile csr "$P/mallory.csr" \
		'{ek_cert: $ek, ak: $ak, csr: $csr}' >"$1"
}
enroll_doc "$T/mix.json" "$T/ekD.crt" "$T/akE.pub"
code 200 "(a) enroll with TPM D's EK certificate and TPM E's AK: a credential for EK D" \
	none POST /v1/agents/mallory/enroll "$T/mix.json"
js .credential | base64 -d >"$T/mix.cred"
expect_rc 1 "(a) TPM E (holds the AK) cannot activate it: not its EK" "$VOUCH" tpm credential activate \
	--tcti "${TCTI[E]}" --ak-handle 0x81010010 "$T/mix.cred" --out "$T/mixE.secret"
expect_rc 1 "(a) TPM D (its EK) cannot activate it: the AK is not resident there" "$VOUCH" tpm credential \
	activate --tcti "${TCTI[D]}" --ak-handle 0x81010010 "$T/mix.cred" --out "$T/mixD.secret"
jq -n --arg s "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" '{secret: $s}' >"$T/guess.json"
code 403 "(a) a guessed secret is refused" none POST /v1/agents/mallory/activate "$T/guess.json"
reason=$(js .error); eq "(a) with a reason" "${reason:+y}" y; diag "(a) reason: $reason"
eq "(a) no certificate, no agent row for mallory, no enrollment left" \
	"$(sql "SELECT count(*) FROM agents WHERE id='mallory'") $(snapshot)" "0 $before"

# (b) an EK certificate from a CA vouchd does not know (TPM E's manufacturer)
enroll_doc "$T/unknown.json" "$T/ekE.crt" "$T/akE.pub"
code 403 "(b) an EK certificate from an unknown CA" none POST /v1/agents/mallory/enroll "$T/unknown.json"
reason=$(js .error); eq "(b) a one-line reason" "$(wc -l <"$T/.out") ${reason:+y}" "1 y"; diag "(b) reason: $reason"
"$VOUCH" tpm ek --tcti "${TCTI[E]}" --public "$T/ekE.pub" >/dev/null || not_ok "TPM E's EK public area"
jq -n --arg ek "$(b64 "$T/ekE.pub")" --arg ak "$(b64 "$T/akE.pub")" --rawfile csr "$P/mallory.csr" \
	'{ek_public: $ek, ak: $ak, csr: $csr}' >"$T/ekpub.json"
code 403 "(b) TPM E's bare EK public area (vouchd runs without --allow-ek-public)" none POST /v1/agents/mallory/enroll "$T/ekpub.json"
eq "(b) says so" "$(js .error)" "an EK without certificate is not accepted (--allow-ek-public)"
eq "(b) nothing stored" "$(sql "SELECT count(*) FROM agents WHERE id='mallory'") $(snapshot)" "0 $before"

# (c) d's good evidence replayed: its nonce was spent
code 200 "(c) the good evidence POSTed again is answered" d POST /v1/agents/d/attest "$T/d-good.ev"
eq "(c) untrusted, reason nonce" "$(js '.verdict + " " + .first_failure.check')" "untrusted nonce"
diag "(c) $(js '.first_failure.detail')"
eq "(c) state unchanged" "$(snapshot)" "$before"

# (d) evidence for another agent's id with d's (valid) client certificate
code 403 "(d) d's certificate on push2's attest endpoint" d POST /v1/agents/push2/attest "$T/d-good.ev"
reason=$(js .error); eq "(d) with a reason" "${reason:+y}" y; diag "(d) reason: $reason"
code 403 "(d) and on its nonce" d GET /v1/agents/push2/nonce
eq "(d) no row for push2 other than trusted" "$(rows push2 untrusted) $(rows push2 error)" "0 0"

# (e) the engine's list with an entry removed, and with two entries swapped, quoted from entry 0
load D "$T/bin/d"
python3 - "$T/D/st/measurements" "$T/cut.list" "$T/swap.list" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read(); e = []; i = 0
while i < len(b):
    s = i; i += 4 + 20
    nl = struct.unpack_from("<I", b, i)[0]; i += 4 + nl
    dl = struct.unpack_from("<I", b, i)[0]; i += 4 + dl
    e.append(b[s:i])
assert len(e) == 5, len(e)
open(sys.argv[2], "wb").write(b"".join(e[:2] + e[3:]))
open(sys.argv[3], "wb").write(b"".join(e[:1] + [e[2], e[1]] + e[3:]))
PY
for l in cut swap; do
	nonce && quote "$T/$l.ev" "$T/$l.list" 0 || not_ok "(e) quote the $l list"
	code 200 "(e) the $l list is answered" d POST /v1/agents/d/attest "$T/$l.ev"
	eq "(e) $l: untrusted, ima_list" "$(js '.verdict + " " + .first_failure.check')" "untrusted ima_list"
	diag "(e) $l: $(js '.first_failure.detail')"
	eq "(e) $l: state unchanged" "$(snapshot)" "$before"
done

# (f) TPM D reboots (resetCount moves on); evidence claiming to continue from the old offset
SWTPM_PID=${TPID[D]}; swtpm_stop
tpm_up D || { not_ok "TPM D restarts"; done_testing; }
export VOUCH_TCTI=${TCTI[D]}
nonce
eq "(f) the server still expects the old boot's offset" "$(jq -r .offset "$T/n.json")" 4
quote "$T/reboot.ev" "$T/D/st/measurements" 4 || not_ok "(f) quote after the reboot ($(cat "$T/.qerr"))"
code 200 "(f) the rebooted TPM's quote claiming continuation is answered" d POST /v1/agents/d/attest "$T/reboot.ev"
eq "(f) not trusted, recognised as a new boot" "$(js '.verdict + " " + (.new_boot | tostring)')" "untrusted true"
diag "(f) first failure: $(js '.first_failure.check + ": " + .first_failure.detail')"
eq "(f) no state advanced: the old boot's state is kept" "$(snapshot)" "$before"
old_reset=$(state d | cut -d' ' -f1)
new_reset=$(jq -r '.quote.reset_count | numbers' "$T/.out")
check "(f) the quote's resetCount moved on ($old_reset -> ${new_reset:-none})" test "${new_reset:-0}" -gt "$old_reset"
# the new boot's own list, from entry 0, is what the server takes: it starts over
"$VOUCH" load --state-dir "$T/D/st2" --policy "$POL" --mode log --func BPRM_CHECK \
	--tcti "${TCTI[D]}" "$T/bin/a" >/dev/null 2>"$T/load.err" || not_ok "the rebooted TPM's engine measures a"
nonce && quote "$T/fresh.ev" "$T/D/st2/measurements" 0 || not_ok "quote the new boot's list"
code 200 "(f) the new boot's whole list, from entry 0" d POST /v1/agents/d/attest "$T/fresh.ev"
eq "(f) trusted as a new boot: the state starts over at 2 entries of resetCount $new_reset" \
	"$(js '.verdict + " " + (.new_boot | tostring)') $(state d | cut -d' ' -f1) $(entries d)" \
	"trusted true $new_reset 2"

# (g) issue 19: a kexec.  The new kernel starts a fresh list (no IMA_KEXEC) while the TPM keeps
# PCR 10 and its resetCount.  vouch-agent then sends all of the new list after the old offset
# with "ima": { "restart": true }; vouchd chains it on the verified PCRs of the same boot only.
restart_quote() { # OUT LIST FROM: the agent's restart evidence: all of LIST, after entry FROM
	quote "$1.raw" "$2" 0 && jq --argjson f "$3" '.ima.restart = true | .ima.from_entry = $f' "$1.raw" >"$1"
}
# The kexec'd kernel's fresh list: made by an engine on the spare TPM E (whose PCR 10 starts
# at zero), then every entry extended into TPM D's PCR 10 too (each bank: the hash of the
# entry's template data), as the new kernel does on the TPM that kept the old boot's PCRs.
"$VOUCH" load --state-dir "$T/E/kx" --policy "$POL" --mode log --func BPRM_CHECK \
	--tcti "${TCTI[E]}" "$T/bin/b" >/dev/null 2>"$T/load.err" ||
	{ not_ok "(g) the kexec'd kernel's engine measures b"; sed "s/^/#   /" "$T/load.err"; }
kx_digests() { # LIST: per entry "sha1:HEX sha256:HEX START", what each bank is extended with
	python3 - "$1" >"$T/kx.digests" <<'PY'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read(); i = 0
while i < len(b):
    start = i; i += 4; tdig = b[i:i + 20]; i += 20
    nl = struct.unpack_from("<I", b, i)[0]; i += 4 + nl
    dl = struct.unpack_from("<I", b, i)[0]; data = b[i + 4:i + 4 + dl]; i += 4 + dl
    assert tdig != bytes(20)
    print("sha1:" + tdig.hex(), "sha256:" + hashlib.sha256(data).hexdigest(), start)
PY
}
kx_digests "$T/E/kx/measurements"
kx_extend() { # the digests of $T/kx.digests into TPM D's PCR 10, in the banks it has
	local s1 s256 start
	while read -r s1 s256 start; do
		"$VOUCH" tpm extend --tcti "${TCTI[D]}" 10 "$s1" "$s256" 2>/dev/null ||
			"$VOUCH" tpm extend --tcti "${TCTI[D]}" 10 "$s256" || return 1
	done <"$T/kx.digests"
}
check "(g) the kexec: $(wc -l <"$T/kx.digests") new entries extended into TPM D's kept PCR 10" kx_extend
before=$(snapshot)
nonce && quote "$T/kx-alone.ev" "$T/E/kx/measurements" 0 || not_ok "(g) quote the new list alone"
code 200 "(g) the kexec'd list alone, from entry 0" d POST /v1/agents/d/attest "$T/kx-alone.ev"
eq "(g) the new list alone is not trusted (PCR 10 was not reset)" \
	"$(js '.verdict + " " + .first_failure.check + " " + (.new_boot | tostring)')" "untrusted ima_list false"
diag "(g) alone: $(js '.first_failure.detail')"
eq "(g) alone: state unchanged" "$(snapshot)" "$before"
# the new list without its last entry (b): up to where that entry starts
head -c "$(tail -n 1 "$T/kx.digests" | cut -d' ' -f3)" "$T/E/kx/measurements" >"$T/kx-cut.list"
nonce && restart_quote "$T/kx-cut.ev" "$T/kx-cut.list" 2 || not_ok "(g) quote the restart with b removed"
code 200 "(g) a restart with the new list's last entry removed" d POST /v1/agents/d/attest "$T/kx-cut.ev"
eq "(g) cut: not trusted, ima_list, and the verdict names the chaining" \
	"$(js '.verdict + " " + .first_failure.check + " " + (.ima_restart | test("chained") | tostring)')" \
	"untrusted ima_list true"
diag "(g) cut: $(js '.first_failure.detail')"
eq "(g) cut: state unchanged" "$(snapshot)" "$before"
nonce && restart_quote "$T/kx.ev" "$T/E/kx/measurements" 2 || not_ok "(g) quote the restart"
code 200 "(g) the restart: the whole new list after entry 2" d POST /v1/agents/d/attest "$T/kx.ev"
eq "(g) trusted, chained: 2 old + 2 new entries, same resetCount" \
	"$(js '.verdict + " " + (.new_boot | tostring) + " " + (.offset | tostring)') $(state d | cut -d' ' -f1) $(entries d)" \
	"trusted false 4 $new_reset 4"
diag "(g) ima_restart: $(js .ima_restart); $(js '.first_failure.check + ": " + .first_failure.detail')"
check "(g) the stored verdict names the restart" test "$(sql "SELECT json_extract(body, '$.ima_restart') FROM results WHERE agent = 'd' ORDER BY seq DESC LIMIT 1" | grep -c 'chained on the 2 verified')" = 1
# a restart claimed across a TPM reset is a new boot: not chained, the list replayed from entry 1
SWTPM_PID=${TPID[D]}; swtpm_stop
tpm_up D || { not_ok "(g) TPM D restarts"; done_testing; }
export VOUCH_TCTI=${TCTI[D]}
before=$(snapshot)
nonce && restart_quote "$T/kx-reset.ev" "$T/E/kx/measurements" 4 || not_ok "(g) quote the restart after a reset"
code 200 "(g) a restart claimed with another resetCount" d POST /v1/agents/d/attest "$T/kx-reset.ev"
eq "(g) reset: not trusted, a new boot, not chained" \
	"$(js '.verdict + " " + (.new_boot | tostring) + " " + (.ima_restart | test("TPM was reset") | tostring)')" \
	"untrusted true true"
diag "(g) reset: $(js .ima_restart); $(js '.first_failure.check + ": " + .first_failure.detail')"
eq "(g) reset: state unchanged" "$(snapshot)" "$before"

# (h) vouch-agent itself: after a reboot its list is shorter than the offset (a new boot, from
# entry 1), then after a kexec it flags the restart and vouchd chains the new list
agent_once() { # LIST
	"$VOUCH_AGENT" --server "$URL" --id d --cert "$P/d.crt" --key "$P/d.key" --cacert "$P/ca.crt" \
		--tpm "${TCTI[D]}" --ima-list "$1" --once >"$T/d-once.out" 2>"$T/d-once.log" ||
		{ sed 's/^/#   /' "$T/d-once.log"; return 1; }
}
"$VOUCH" load --state-dir "$T/D/st4" --policy "$POL" --mode log --func BPRM_CHECK \
	--tcti "${TCTI[D]}" "$T/bin/a" "$T/bin/b" >/dev/null 2>"$T/load.err" ||
	{ not_ok "(h) the rebooted TPM's engine measures a and b"; sed "s/^/#   /" "$T/load.err"; }
check "(h) vouch-agent after the reboot (3 entries, offset 4)" agent_once "$T/D/st4/measurements"
reset_now=$(state d | cut -d' ' -f1)
eq "(h) trusted as a new boot at 3 entries" "$(newest d) $(entries d) $([ "$reset_now" != "$new_reset" ] && echo moved)" "trusted 3 moved"
SWTPM_PID=${TPID[E]}; swtpm_stop
tpm_up E || { not_ok "(h) TPM E restarts"; done_testing; }
"$VOUCH" load --state-dir "$T/E/kx2" --policy "$POL" --mode log --func BPRM_CHECK \
	--tcti "${TCTI[E]}" "$T/bin/c" >/dev/null 2>"$T/load.err" ||
	{ not_ok "(h) the kexec'd kernel's engine measures c"; sed "s/^/#   /" "$T/load.err"; }
kx_digests "$T/E/kx2/measurements"
check "(h) the kexec: the new list's entries extended into TPM D's kept PCR 10" kx_extend
check "(h) vouch-agent after the kexec (2 entries, offset 3)" agent_once "$T/E/kx2/measurements"
eq "(h) trusted, chained: 5 entries, the same resetCount" "$(newest d) $(entries d) $(state d | cut -d' ' -f1)" \
	"trusted 5 $reset_now"
check "(h) the agent's evidence was flagged a restart, and the verdict says it was chained" test \
	"$(sql "SELECT json_extract(body, '$.ima_restart') FROM results WHERE agent = 'd' ORDER BY seq DESC LIMIT 1" | grep -c 'chained on the 3 verified')" = 1
diag "(h) agent: $(tail -n 3 "$T/d-once.log" | tr '\n' ' ')"

diag "must-fails (a)-(f) took $(elapsed "$t_mf") s"

# --- the three still run -------------------------------------------------------------------------
for id in push2 pull1; do
	eq "$id is still trusted" "$(newest $id) $(rows $id untrusted) $(rows $id error)" "trusted 0 0"
done
eq "push1 is still untrusted" "$(newest push1)" untrusted
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
PIDS=()
expect_rc 0 "the results chain verifies" "$VOUCHD" --db "$DB" --verify-chain
grep -qi 'AddressSanitizer\|LeakSanitizer\|runtime error' "$T/vouchd.log" "$T/push1.log" \
	"$T/push2.log" "$T/pull1.log" && not_ok "no sanitizer report" || ok "no sanitizer report"
diag "wall time $(elapsed "$START") s"
done_testing
