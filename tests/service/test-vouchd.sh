#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# vouchd end to end: a CA, a server and two agent certificates; vouchd on 127.0.0.1 with a
# temporary SQLite database; swtpm with an AK and the engine's list measured into it; the
# agents enrolled by credential activation; the endpoints driven with curl and
# 'vouch attest quote' (push mode, only new entries).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/swtpm.sh"
. "$(dirname "$0")/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
require_peers swtpm curl jq sqlite3 python3 openssl
swtpm_start "$T/tpm" || { not_ok "swtpm starts"; done_testing; }
VPID=
trap 'stop_vouchd; swtpm_stop; rm -rf "$T"' EXIT
export VOUCH_TCTI=$SWTPM_TCTI

# --- certificates ----------------------------------------------------------------------
make_ca ca
issue ca server localhost "IP:127.0.0.1,DNS:localhost"
issue ca agent1 agent1
issue ca agent2 other "URI:agent2"
# an agent certificate from another CA
ecgen "$P/rogue-ca.key"
openssl req -x509 -new -key "$P/rogue-ca.key" -subj /CN=rogue -days 2 -out "$P/rogue-ca.crt" 2>/dev/null
openssl req -x509 -new -key "$P/agent1.key" -subj /CN=agent1 -days 2 -out "$P/rogue.crt" 2>/dev/null
[ -s "$P/agent2.crt" ] && ok "test PKI" || { not_ok "test PKI"; done_testing; }

# --- vouchd ----------------------------------------------------------------------------
DB=$T/vouchd.db
start_vouchd() {
	vouchd_up "$T/vouchd.log" --db "$DB" --tls-cert "$P/server.crt" \
		--tls-key "$P/server.key" --client-ca "$P/ca.crt" --pcrs sha256:0-10 \
		--agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/ca.key" --allow-ek-public \
		"${VOUCHD_EXTRA[@]}"
}
VOUCHD_EXTRA=()
start_vouchd && ok "vouchd starts on 127.0.0.1:$PORT" || { not_ok "vouchd starts"; sed 's/^/#   /' "$T/vouchd.log"; done_testing; }

# req WHO METHOD PATH [BODYFILE [CONTENT-TYPE]] -> HTTP code on stdout, body in $T/.out
req() {
	local who=$1 method=$2 path=$3 body=${4:-} ct=${5:-application/json} a=()
	case $who in
	none) ;;
	rogue) a=(--cert "$P/rogue.crt" --key "$P/agent1.key") ;;
	*) a=(--cert "$P/$who.crt" --key "$P/$who.key") ;;
	esac
	[ -n "$body" ] && a+=(-H "Content-Type: $ct" --data-binary "@$body")
	curl -sS --tlsv1.3 --cacert "$P/ca.crt" "${a[@]}" -X "$method" -o "$T/.out" \
		-w '%{http_code}' "$URL$path" 2>"$T/.curl"
}
entries() { sql "SELECT json_extract(state, '$.entries') FROM states WHERE agent = 'agent1'"; }
res_check() { jq -r --arg c "$1" '.checks[] | select(.check==$c) | .result' "$T/.out"; }

code 200 "healthz without a client certificate" none GET /healthz
code 200 "readyz" none GET /readyz

# --- AK, the engine's list --------------------------------------------------------------
ST=$T/state
POL=$T/engine.pol
echo 'measure func=BPRM_CHECK' >"$POL"
mkdir -p "$T/bin"
for f in a b c d e f g; do printf '#!/bin/sh\necho %s\n' "$f" >"$T/bin/$f"; done
load() { "$VOUCH" load --state-dir "$ST" --policy "$POL" --mode log --func BPRM_CHECK "$@" >/dev/null; }
check "AK" "$VOUCH" tpm ak create --out "$T/ak"
check "the engine measures a and b into the TPM" load --tcti "$SWTPM_TCTI" "$T/bin/a" "$T/bin/b"
# enrollment (test-enroll.sh has the EK certificates and every refusal): this swtpm was not
# manufactured with one, so its EK public area is sent (--allow-ek-public)
check "the EK" "$VOUCH" tpm ek --public "$T/ek.pub"
enroll_doc() { # OUT AKPUB CSR
	jq -n --arg ek "$(base64 -w0 "$T/ek.pub")" --arg ak "$(base64 -w0 "$1")" --rawfile csr "$2" \
		'{ek_public: $ek, ak: $ak, csr: $csr}'
}
activate() { # AK-HANDLE NAME ANSWER: the enroll answer's credential -> $T/NAME.act
	jq -r .credential "$3" | base64 -d >"$T/$2.cred" &&
	"$VOUCH" tpm credential activate --ak-handle "$1" "$T/$2.cred" --out "$T/$2.secret" &&
	jq -n --arg s "$(od -An -tx1 "$T/$2.secret" | tr -d ' \n')" '{secret: $s}' >"$T/$2.act"
}
enroll_doc "$T/ak.pub" "$P/agent1.csr" >"$T/enroll1.json"
code 200 "agent1 enrolls its AK (no client certificate)" none POST /v1/agents/agent1/enroll "$T/enroll1.json"
cp "$T/.out" "$T/e1.json"
eq "nothing stored but the pending enrollment" "$(sql 'SELECT count(*) FROM agents')" 0
check "the TPM activates the credential" activate 0x81010010 e1 "$T/e1.json"
code 201 "the secret buys agent1's certificate" none POST /v1/agents/agent1/activate "$T/e1.act"
eq "the AK fingerprint is stored" "$(sql "SELECT ak_fpr FROM agents WHERE id='agent1'")" "$(js .ak)"
js .certificate >"$P/agent1.crt"
check "the issued certificate replaces agent1's" openssl verify -CAfile "$P/ca.crt" "$P/agent1.crt"
code 404 "/register is gone" agent1 POST /v1/agents/agent1/register "$T/enroll1.json"
"$VOUCH" tpm ak create --handle 0x81010011 --out "$T/ak2" >/dev/null 2>&1
enroll_doc "$T/ak2.pub" "$P/agent2.csr" >"$T/enroll2.json"
code 409 "another AK for an enrolled id is refused" none POST /v1/agents/agent1/enroll "$T/enroll2.json"
code 200 "agent2 enrolls" none POST /v1/agents/agent2/enroll "$T/enroll2.json"
cp "$T/.out" "$T/e2.json"
check "the TPM activates agent2's credential" activate 0x81010011 e2 "$T/e2.json"
code 201 "agent2 is enrolled (it keeps using its certificate with URI SAN agent2)" none \
	POST /v1/agents/agent2/activate "$T/e2.act"

# quote: nonce from the server, entries after the server's offset
quote() { # OUT [LIST]
	local n off
	n=$(jq -r .nonce "$T/n.json"); off=$(jq -r .offset "$T/n.json")
	"$VOUCH" attest quote --nonce "$n" --pcrs sha256:0-10 --ima "${2:-$ST/measurements}" \
		--from-entry "$off" --no-eventlog --out "$1" >/dev/null 2>"$T/.qerr"
}

# --- round 1: the whole list -------------------------------------------------------------
code 403 "agent2 asks for agent1's nonce" agent2 GET /v1/agents/agent1/nonce
code 200 "agent1 gets a nonce" agent1 GET /v1/agents/agent1/nonce
cp "$T/.out" "$T/n.json"
eq "offset 0 before the first round" "$(js .offset)" 0
eq "a 32-byte nonce" "$(js .nonce | tr -d '\n' | wc -c)" 64
check "quote round 1" quote "$T/r1.ev"
code 403 "agent2 pushes evidence to agent1's id" agent2 POST /v1/agents/agent1/attest "$T/r1.ev"
eq "nothing stored for agent1" "$(sql "SELECT count(*) FROM states")" 0
code 200 "round 1 attests" agent1 POST /v1/agents/agent1/attest "$T/r1.ev"
eq "verdict trusted" "$(js .verdict)" trusted
eq "next offset 3 (boot_aggregate, a, b)" "$(js .offset)" 3
eq "the stored state holds 3 entries" "$(entries)" 3
eq "one result row" "$(sql 'SELECT count(*) FROM results')" 1
cp "$T/.out" "$T/resp1.json"

# --- round 2: only the new entry ----------------------------------------------------------
load "$T/bin/c"
code 200 "nonce for round 2" agent1 GET /v1/agents/agent1/nonce
cp "$T/.out" "$T/n.json"
eq "the server's offset is 3" "$(js .offset)" 3
check "quote round 2 (entries after 3)" quote "$T/r2.ev"
eq "the evidence carries one entry" "$(jq -r .ima.binary "$T/r2.ev" | base64 -d | grep -c "$T/bin/")" 1
code 200 "round 2 attests" agent1 POST /v1/agents/agent1/attest "$T/r2.ev"
eq "verdict trusted" "$(js .verdict)" trusted
eq "only entry 4 was checked" "$(jq -r '.checks[] | select(.check=="ima_list") | .detail' "$T/.out" | cut -d';' -f1)" \
	"entries 4-4 replay to the quoted PCR 10"
eq "offset advanced to 4" "$(js .offset)" 4
eq "stored state: 4 entries" "$(entries)" 4

# --- a replayed evidence (old nonce) -----------------------------------------------------
code 200 "nonce for round 3" agent1 GET /v1/agents/agent1/nonce
cp "$T/.out" "$T/n.json"
code 200 "round 2's evidence replayed" agent1 POST /v1/agents/agent1/attest "$T/r2.ev"
eq "verdict untrusted" "$(js .verdict)" untrusted
eq "reason: nonce" "$(js .first_failure.check)" nonce
eq "state not advanced" "$(entries)" 4
eq "offset stays 4" "$(js .offset)" 4
code 200 "replayed again against the next nonce" agent1 POST /v1/agents/agent1/attest "$T/r2.ev"
eq "untrusted: nonce" "$(js .verdict) $(js .first_failure.check)" "untrusted nonce"
code 409 "agent2 attests without asking for a nonce" agent2 POST /v1/agents/agent2/attest "$T/r2.ev"
eq "nothing stored for agent2" "$(sql "SELECT count(*) FROM results WHERE agent='agent2'")" 0

# --- a list with an entry removed ----------------------------------------------------------
load "$T/bin/d" "$T/bin/e"
list_without "$ST/measurements" "$T/cut.list" 5
code 200 "nonce" agent1 GET /v1/agents/agent1/nonce
cp "$T/.out" "$T/n.json"
check "quote with entry 5 removed from the list" quote "$T/cut.ev" "$T/cut.list"
code 200 "the list without entry 5 is judged" agent1 POST /v1/agents/agent1/attest "$T/cut.ev"
eq "verdict untrusted" "$(js .verdict)" untrusted
eq "reason: ima_list" "$(js .first_failure.check)" ima_list
eq "state not advanced" "$(entries)" 4
code 200 "nonce" agent1 GET /v1/agents/agent1/nonce
cp "$T/.out" "$T/n.json"
check "quote the real entries 5-6" quote "$T/r4.ev"
code 200 "the real list attests" agent1 POST /v1/agents/agent1/attest "$T/r4.ev"
eq "verdict trusted" "$(js .verdict)" trusted
eq "stored state: 6 entries" "$(entries)" 6

# --- malformed requests: 4xx, nothing changes, the server keeps serving ------------------------
before=$(sql "SELECT state FROM states; SELECT count(*) FROM results; SELECT hex(nonce) FROM nonces")
code 200 "nonce" agent1 GET /v1/agents/agent1/nonce
cp "$T/.out" "$T/n.json"
before=$(sql "SELECT state FROM states; SELECT count(*) FROM results; SELECT hex(nonce) FROM nonces")
head -c 200 "$T/r4.ev" >"$T/trunc.json"
code 400 "truncated evidence" agent1 POST /v1/agents/agent1/attest "$T/trunc.json"
check "one-line reason" test "$(wc -l <"$T/.out")" = 1
code 400 "truncated enroll JSON" none POST /v1/agents/agent1/enroll "$T/trunc.json"
printf '{"ak": "%s", "ak": "x"' "$(base64 -w0 "$T/ak.pub")" >"$T/bad.json"
code 400 "enroll JSON without its closing brace" none POST /v1/agents/agent1/enroll "$T/bad.json"
python3 -c 'print("[" * 100000 + "]" * 100000)' >"$T/deep.json"
code 400 "deeply nested JSON" none POST /v1/agents/agent1/enroll "$T/deep.json"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T/big.json"
got=$(req agent1 POST /v1/agents/agent1/attest "$T/big.json")
case $got in 4*) ok "9 MiB body refused (HTTP $got)" ;; *) not_ok "9 MiB body refused (HTTP $got)" ;; esac
jq 'del(.ima)' "$T/r4.ev" >"$T/noima.json"
code 400 "evidence without an IMA list" agent1 POST /v1/agents/agent1/attest "$T/noima.json"
code 415 "wrong content type" agent1 POST /v1/agents/agent1/attest "$T/r4.ev" text/plain
echo '{"ak": 1}' >"$T/wrongtype.json"
code 400 "wrong member type" none POST /v1/agents/agent1/enroll "$T/wrongtype.json"
code 400 "an invalid agent id" agent1 GET '/v1/agents/..%2f/nonce'
code 404 "an unknown endpoint" agent1 GET /v1/nothing
code 401 "nonce without a client certificate" none GET /v1/agents/agent1/nonce
got=$(req rogue GET /v1/agents/agent1/nonce)
case $got in 000|401) ok "a certificate from another CA is refused (HTTP $got)" ;; *) not_ok "a certificate from another CA is refused (HTTP $got)" ;; esac
eq "state, results and nonce unchanged" \
	"$(sql "SELECT state FROM states; SELECT count(*) FROM results; SELECT hex(nonce) FROM nonces")" "$before"
code 200 "the server keeps serving" none GET /healthz

# --- stateless verify -----------------------------------------------------------------------
check "a quote for /v1/verify" "$VOUCH" attest quote --nonce 0badcafe --pcrs sha256:0-10 \
	--ima "$ST/measurements" --no-eventlog --out "$T/sv.ev"
jq -n --arg ak "$(base64 -w0 "$T/ak.pub")" --slurpfile ev "$T/sv.ev" \
	'{ak: $ak, nonce: "0badcafe", evidence: $ev[0]}' >"$T/sv.json"
code 401 "POST /v1/verify without a client certificate" none POST /v1/verify "$T/sv.json"
code 200 "POST /v1/verify" agent1 POST /v1/verify "$T/sv.json"
eq "trusted" "$(js .verdict)" trusted
jq '.nonce = "0badcaff"' "$T/sv.json" >"$T/sv2.json"
code 200 "POST /v1/verify, another nonce" agent1 POST /v1/verify "$T/sv2.json"
eq "untrusted: nonce" "$(js .verdict) $(js .first_failure.check)" "untrusted nonce"

# --- kill -9, restart on the same database: incremental from the stored state --------------
kill -9 "$VPID"; wait "$VPID" 2>/dev/null; VPID=
start_vouchd && ok "vouchd restarts on the same database" || { not_ok "vouchd restarts"; done_testing; }
load "$T/bin/f"
code 200 "nonce after the restart" agent1 GET /v1/agents/agent1/nonce
cp "$T/.out" "$T/n.json"
eq "the offset survived" "$(js .offset)" 6
check "quote entries after 6" quote "$T/r5.ev"
code 200 "the round after the restart attests" agent1 POST /v1/agents/agent1/attest "$T/r5.ev"
eq "verdict trusted" "$(js .verdict)" trusted
eq "only entry 7 was checked" "$(jq -r '.checks[] | select(.check=="ima_list") | .detail' "$T/.out" | cut -d';' -f1)" \
	"entries 7-7 replay to the quoted PCR 10"

# --- metrics ------------------------------------------------------------------------------------
code 200 "metrics" none GET /metrics
cp "$T/.out" "$T/metrics.txt"
check "attestations by result" grep -q '^vouchd_attestations_total{result="trusted"} 1$' "$T/metrics.txt"
check "agents gauge" grep -q '^vouchd_agents 2$' "$T/metrics.txt"
check "phase histogram" grep -q '^vouchd_phase_seconds_count{phase="verify"} 1$' "$T/metrics.txt"

# --- vouch-agent: nonce, quote and push in one run ---------------------------------
if [ -n "${VOUCH_AGENT:-}" ]; then
	agent() { "$VOUCH_AGENT" --server "$URL" --id agent1 --cert "$P/agent1.crt" --key "$P/agent1.key" \
		--cacert "$P/ca.crt" --tpm "$SWTPM_TCTI" --ima-list "$ST/measurements" "$@"; }
	load "$T/bin/g"
	expect_rc 0 "vouch-agent --once pushes the new entry" agent --once
	eq "trusted, next offset 8" "$(jq -r '.verdict + " " + (.offset | tostring)' "$T/.out")" "trusted 8"
	eq "only entry 8 was sent and checked" \
		"$(jq -r '.checks[] | select(.check=="ima_list") | .detail' "$T/.out" | cut -d';' -f1)" \
		"entries 8-8 replay to the quoted PCR 10"
	expect_rc 0 "a second run with nothing new still attests: the quote alone" agent --once
	eq "trusted against the state, still at 8" "$(jq -r '.verdict + " " + (.offset | tostring)' "$T/.out")" "trusted 8"
	check "and says so" grep -q "no entries after 8: the quote alone" "$T/.err"
	eq "the state stays at 8 entries" "$(entries)" 8
	expect_rc 0 "vouch-agent --enroll again, with the bare EK (this TPM has no EK certificate)" \
		"$VOUCH_AGENT" --server "$URL" --id agent1 --cert "$T/a1.crt" --key "$T/a1.key" \
		--cacert "$P/ca.crt" --tpm "$SWTPM_TCTI" --ima-list "$ST/measurements" --enroll --once
	check "it sent the EK public area" grep -q "sending the EK public key" "$T/.err"
	check "and got a certificate for agent1" grep -q "enrolled as 'agent1'" "$T/.err"
	expect_rc 3 "vouch-agent with agent2's certificate on agent1's id fails" "$VOUCH_AGENT" \
		--server "$URL" --id agent1 --cert "$P/agent2.crt" --key "$P/agent2.key" \
		--cacert "$P/ca.crt" --tpm "$SWTPM_TCTI" --ima-list "$ST/measurements" --once
	check "refused with 403" grep -q "HTTP 403" "$T/.err"
	eq "the state holds 8 entries" "$(entries)" 8
else
	skip "vouch-agent is not built (libcurl missing)"
fi
old_entries=$(entries)
if [ -n "${VOUCH_AGENT:-}" ]; then
	# the machine changes behind the verifier's back: PCR 10 moves without a list entry
	check "PCR 10 extended outside the engine" "$VOUCH" tpm extend --tcti "$SWTPM_TCTI" 10 \
		"sha256:$(printf '%064d' 7)"
	expect_rc 1 "an idle round after PCR 10 moved without an entry is not trusted" agent --once
	eq "the list check names it" "$(jq -r '.first_failure.check' "$T/.out")" ima_list
fi

# --- a new boot: resetCount moves on, the list starts again ----------------------------------
stop_vouchd
swtpm_stop
swtpm_start "$T/tpm" || { not_ok "swtpm restarts"; done_testing; }
export VOUCH_TCTI=$SWTPM_TCTI
start_vouchd || { not_ok "vouchd starts again"; done_testing; }
ST=$T/state2
check "the engine measures a into the rebooted TPM" load --tcti "$SWTPM_TCTI" "$T/bin/a"
code 200 "nonce after the reboot" agent1 GET /v1/agents/agent1/nonce
cp "$T/.out" "$T/n.json"
eq "the server still has the old boot's offset" "$(jq -r .offset "$T/n.json")" "$old_entries"
jq '.offset = 0' "$T/.out" >"$T/n.json"
check "quote the new boot's whole list" quote "$T/r6.ev"
code 200 "the new boot attests" agent1 POST /v1/agents/agent1/attest "$T/r6.ev"
eq "verdict trusted, new boot" "$(js .verdict) $(js .new_boot)" "trusted true"
eq "the state restarts at 2 entries" "$(entries)" 2

# --- roles: an operator's certificate is not an agent's ----------------------------------------
stop_vouchd
ecgen "$P/op-ca.key"
openssl req -x509 -new -key "$P/op-ca.key" -subj /CN=vouch-test-operators -days 2 -out "$P/op-ca.crt" 2>/dev/null
ecgen "$P/op.key"
openssl req -new -key "$P/op.key" -subj /CN=agent1 -out "$P/op.csr" 2>/dev/null
openssl x509 -req -in "$P/op.csr" -CA "$P/op-ca.crt" -CAkey "$P/op-ca.key" -CAcreateserial \
	-days 2 -out "$P/op.crt" 2>/dev/null
expect_rc 2 "one CA as both the agents' and the operators' is refused" "$VOUCHD" --listen 127.0.0.1:1 \
	--db "$DB" --tls-cert "$P/server.crt" --tls-key "$P/server.key" --client-ca "$P/ca.crt" \
	--operator-ca "$P/ca.crt"
check "with the reason" grep -q "every agent would be an operator" "$T/.err"
VOUCHD_EXTRA=(--operator-ca "$P/op-ca.crt")
start_vouchd || { not_ok "vouchd starts with --operator-ca"; done_testing; }
code 401 "an operator certificate named agent1 cannot act as agent1" op GET /v1/agents/agent1/nonce
code 200 "agent1 still can" agent1 GET /v1/agents/agent1/nonce
VOUCHD_EXTRA=()

# --- the results hash chain -------------------------------------------------------------------
stop_vouchd
expect_rc 0 "the results chain verifies" "$VOUCHD" --db "$DB" --verify-chain
eq "it counts the rows" "$(cat "$T/.out")" "results: $(sql 'SELECT count(*) FROM results') rows, hash chain intact"
sqlite3 "$DB" "UPDATE results SET verdict='trusted' WHERE verdict='untrusted'" 2>"$T/.err" &&
	not_ok "UPDATE is refused by the database" || ok "UPDATE is refused by the database"
check "append-only is the reason" grep -q "results are append-only" "$T/.err"
bad=$(sql "SELECT min(seq) FROM results WHERE verdict='untrusted'")
sql "DROP TRIGGER results_no_update; UPDATE results SET verdict='trusted' WHERE seq=$bad"
expect_rc 1 "an edited row breaks the chain" "$VOUCHD" --db "$DB" --verify-chain
eq "at that row" "$(cat "$T/.out")" "results: hash chain broken at row $bad"
grep -qi 'AddressSanitizer\|LeakSanitizer\|runtime error' "$T/vouchd.log" && not_ok "no sanitizer report" || ok "no sanitizer report"
done_testing
