#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# vouchd's outputs for other systems: the signed EAT attestation result (EAR) of each round,
# verified in python3-jwt under the key vouchd serves; /metrics through 'promtool check
# metrics'; the sd_notify protocol (READY=1, WATCHDOG=1) of vouchd and vouch-agent, read from
# a NOTIFY_SOCKET of our own.  vouchd starts from a --config file here.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/swtpm.sh"
. "$(dirname "$0")/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
require_peers swtpm curl jq sqlite3 python3 openssl promtool:prometheus
# Debian's python3-jwt lives in the system python's dist-packages (not in a pyenv's, say)
PYJWT=
for py in /usr/bin/python3 python3; do
	if "$py" -c 'import jwt, cryptography' 2>/dev/null; then PYJWT=$py; break; fi
done
[ -n "$PYJWT" ] || require_peer python3-jwt-is-missing python3-jwt
swtpm_start "$T/tpm" || { not_ok "swtpm starts"; done_testing; }
VPID= LPID=
trap 'stop_vouchd; [ -n "$LPID" ] && kill $LPID 2>/dev/null; swtpm_stop; rm -rf "$T"' EXIT
export VOUCH_TCTI=$SWTPM_TCTI

# --- PKI, the EAR key ----------------------------------------------------------------------
make_ca ca
issue ca server localhost "IP:127.0.0.1,DNS:localhost"
issue ca agent1 agent1
ecgen "$P/ear.key"
[ -s "$P/agent1.crt" ] && ok "test PKI and EAR key" || { not_ok "test PKI"; done_testing; }

# --- the engine's list and reference values that allow a and b, not evil -------------------
ST=$T/state
POL=$T/engine.pol
echo 'measure func=BPRM_CHECK' >"$POL"
mkdir -p "$T/bin"
for f in a b evil; do printf '#!/bin/sh\necho %s\n' "$f" >"$T/bin/$f"; done
load() { "$VOUCH" load --state-dir "$ST" --policy "$POL" --mode log --func BPRM_CHECK "$@" >/dev/null; }
python3 - "$T/bin/a" "$T/bin/b" >"$T/ref.json" <<'PY'
import hashlib, json, sys
files = {p: ["sha256:" + hashlib.sha256(open(p, "rb").read()).hexdigest()] for p in sys.argv[1:]}
print(json.dumps({"format": "vouch-reference", "version": 1, "files": files}))
PY
check "AK" "$VOUCH" tpm ak create --out "$T/ak"
check "the engine measures a and b" load --tcti "$SWTPM_TCTI" "$T/bin/a" "$T/bin/b"

# --- a NOTIFY_SOCKET: every datagram, one per line (newlines inside as '|') ------------------
listen_notify() { # SOCKET LOG: a listener in the background, its pid appended to LPID
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        msg = s.recv(4096).decode(errors="replace")
        log.write(msg.replace("\n", "|") + "\n")
        log.flush()
PY
	LPID="$LPID $!"
	for _ in $(seq 1 50); do [ -S "$1" ] && return 0; sleep 0.05; done
	return 1
}
NS=$T/notify.sock
listen_notify "$NS" "$T/notify.log" && ok "a NOTIFY_SOCKET listener" || { not_ok "notify listener"; done_testing; }
notified() { # PATTERN [LOG]: within 10 s
	local i
	for i in $(seq 1 200); do grep -q -- "$1" "${2:-$T/notify.log}" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}

# --- vouchd from a configuration file, under NOTIFY_SOCKET and a 1 s watchdog ----------------
DB=$T/vouchd.db
start_vouchd() { # extra options
	local try
	for try in 1 2 3 4 5 6; do
		PORT=$((20001 + (RANDOM % 20000) * 2))
		port_free "$PORT" || continue
		cat >"$T/vouchd.conf" <<-EOC
		# written by test-vouchd-ear.sh
		listen = 127.0.0.1:$PORT
		db = $DB
		tls-cert = $P/server.crt
		tls-key  = $P/server.key
		client-ca = $P/ca.crt
		pcrs = sha256:0-10
		reference = $T/ref.json
		agent-ca-cert = $P/ca.crt
		agent-ca-key = $P/ca.key
		allow-ek-public = true
		EOC
		NOTIFY_SOCKET=$NS WATCHDOG_USEC=1000000 "$VOUCHD" --config "$T/vouchd.conf" "$@" \
			2>>"$T/vouchd.log" &
		VPID=$!
		for _ in $(seq 1 100); do
			kill -0 "$VPID" 2>/dev/null || break
			if ! port_free "$PORT"; then URL=https://127.0.0.1:$PORT; return 0; fi
			sleep 0.05
		done
		stop_vouchd
	done
	return 1
}
chmod 644 "$P/ear.key"
expect_rc 2 "an --ear-key readable by others is refused" "$VOUCHD" --db "$T/x.db" \
	--listen 127.0.0.1:1 --tls-cert "$P/server.crt" --tls-key "$P/server.key" \
	--client-ca "$P/ca.crt" --ear-key "$P/ear.key"
check "and says why" grep -q "readable by group or others" "$T/.err"
chmod 600 "$P/ear.key"
start_vouchd --ear-key "$P/ear.key" && ok "vouchd starts from --config on 127.0.0.1:$PORT" ||
	{ not_ok "vouchd starts"; sed 's/^/#   /' "$T/vouchd.log"; done_testing; }
notified '^READY=1' && ok "vouchd sent READY=1" || not_ok "vouchd sent READY=1"
check "with a STATUS" grep -q "STATUS=listening on 127.0.0.1:$PORT" "$T/notify.log"
notified '^WATCHDOG=1' && ok "vouchd pings the watchdog" || not_ok "vouchd pings the watchdog"

req() { # METHOD PATH [BODYFILE] -> HTTP code, body in $T/.out
	local a=(--cert "$P/agent1.crt" --key "$P/agent1.key")
	[ -n "${3:-}" ] && a+=(-H "Content-Type: application/json" --data-binary "@$3")
	curl -sS --tlsv1.3 --cacert "$P/ca.crt" "${a[@]}" -X "$1" -o "$T/.out" -w '%{http_code}' \
		"$URL$2" 2>"$T/.curl"
}

# --- the EAR key ----------------------------------------------------------------------------
code 200 "GET /v1/ear/key" GET /v1/ear/key
cp "$T/.out" "$T/jwks.json"
eq "one ES256 P-256 key" "$(jq -r '.keys | length, .[0].kty, .[0].crv, .[0].alg' "$T/jwks.json" | tr '\n' ' ')" \
	"1 EC P-256 ES256 "
code 200 "GET /v1/ear/key.pem" GET /v1/ear/key.pem
openssl pkey -in "$P/ear.key" -pubout -out "$T/ear-pub.pem" 2>/dev/null
eq "the PEM is --ear-key's public key" "$(cat "$T/.out")" "$(cat "$T/ear-pub.pem")"

# verify_ear FILE-WITH-JWT -> the claims (JSON) on stdout, or exit 1
cat >"$T/verify.py" <<'PY'
import json, sys, jwt
jwks = json.load(open(sys.argv[1]))
token = open(sys.argv[2]).read().strip()
key = jwt.PyJWK(jwks["keys"][0]).key
hdr = jwt.get_unverified_header(token)
assert hdr["alg"] == "ES256" and hdr["kid"] == jwks["keys"][0]["kid"], hdr
claims = jwt.decode(token, key, algorithms=["ES256"], options={"verify_aud": False})
print(json.dumps(claims))
PY
verify_ear() { "$PYJWT" "$T/verify.py" "$T/jwks.json" "$1"; }

# --- round 1: a and b, allowed by the reference values -----------------------------------------
# enrollment (test-enroll.sh has the EK certificates): this swtpm's bare EK is allowed
check "the EK" "$VOUCH" tpm ek --public "$T/ek.pub"
jq -n --arg ek "$(base64 -w0 "$T/ek.pub")" --arg ak "$(base64 -w0 "$T/ak.pub")" \
	--rawfile csr "$P/agent1.csr" '{ek_public: $ek, ak: $ak, csr: $csr}' >"$T/enroll.json"
code 200 "agent1 enrolls" POST /v1/agents/agent1/enroll "$T/enroll.json"
jq -r .credential "$T/.out" | base64 -d >"$T/e.cred"
check "the TPM activates the credential" "$VOUCH" tpm credential activate --ak-handle 0x81010010 \
	"$T/e.cred" --out "$T/e.secret"
jq -n --arg s "$(od -An -tx1 "$T/e.secret" | tr -d ' \n')" '{secret: $s}' >"$T/act.json"
code 201 "agent1 is enrolled" POST /v1/agents/agent1/activate "$T/act.json"
jq -r .certificate "$T/.out" >"$P/agent1.crt"
round() { # NAME [LIST]: nonce, quote, push; the answer in $T/NAME.json
	local n off
	req GET /v1/agents/agent1/nonce >/dev/null && cp "$T/.out" "$T/n.json"
	n=$(jq -r .nonce "$T/n.json"); off=$(jq -r .offset "$T/n.json")
	"$VOUCH" attest quote --nonce "$n" --pcrs sha256:0-10 --ima "${2:-$ST/measurements}" \
		--from-entry "$off" --no-eventlog --out "$T/$1.ev" >/dev/null 2>"$T/.qerr"
	code 200 "round $1 is answered" POST /v1/agents/agent1/attest "$T/$1.ev"
	cp "$T/.out" "$T/$1.json"
	jq -r .ear "$T/$1.json" >"$T/$1.jwt"
}
round r1
eq "verdict trusted" "$(jq -r .verdict "$T/r1.json")" trusted
if verify_ear "$T/r1.jwt" >"$T/r1.claims" 2>"$T/.err"; then ok "the EAR verifies (ES256, python3-jwt)"; else
	not_ok "the EAR verifies"; sed 's/^/#   /' "$T/.err" | tail -5; fi
c() { jq -r "$1" "$T/$2.claims"; }
eq "eat_profile" "$(c .eat_profile r1)" "tag:github.com,2023:veraison/ear"
eq "eat_nonce is the round's nonce" "$(c .eat_nonce r1)" "$(jq -r .nonce "$T/n.json")"
eq "sub is the agent" "$(c .sub r1)" agent1
eq "ear.verifier-id names vouchd" "$(c '."ear.verifier-id".build' r1 | cut -d' ' -f1)" vouchd
now=$(date +%s)
check "iat is now" test $(( now - $(c .iat r1) )) -lt 60
eq "two submodules" "$(c '.submods | keys | join(",")' r1)" boot,runtime
eq "boot: affirming" "$(c '.submods.boot."ear.status"' r1)" affirming
eq "runtime: affirming" "$(c '.submods.runtime."ear.status"' r1)" affirming
eq "runtime vector: instance-identity 2, executables 2, file-system 2" \
	"$(c '.submods.runtime."ear.trustworthiness-vector" | [."instance-identity", .executables, ."file-system"] | map(tostring) | join(" ")' r1)" "2 2 2"
eq "boot vector: configuration 2, hardware 0 (a bare EK, --allow-ek-public: no claim)" \
	"$(c '.submods.boot."ear.trustworthiness-vector" | [.configuration, .hardware] | map(tostring) | join(" ")' r1)" "2 0"
eq "the policy ids" "$(c '[.submods.boot."ear.appraisal-policy-id", .submods.runtime."ear.appraisal-policy-id"] | join(" ")' r1)" \
	"vouchd:boot:pcrs=sha256:0-10 vouchd:runtime:reference=yes,signatures=no"
eq "the stored row carries the same EAR and the verdict" \
	"$(sqlite3 "$DB" "SELECT json_extract(body, '$.ear') || ' ' || json_extract(body, '$.verdict') FROM results WHERE seq = 1")" \
	"$(cat "$T/r1.jwt") trusted"

# a flipped byte in the signature (first signature character: never a padding bit)
python3 - "$T/r1.jwt" >"$T/flip.jwt" <<'PY'
import sys
h, p, s = open(sys.argv[1]).read().strip().split(".")
s = ("B" if s[0] != "B" else "C") + s[1:]
print(".".join([h, p, s]))
PY
verify_ear "$T/flip.jwt" >/dev/null 2>"$T/.err" && not_ok "a flipped signature byte is refused" ||
	{ grep -q InvalidSignatureError "$T/.err" && ok "a flipped signature byte is refused (InvalidSignatureError)" ||
	  { not_ok "a flipped signature byte is refused for the signature"; sed 's/^/#   /' "$T/.err" | tail -3; }; }
python3 - "$T/r1.jwt" >"$T/payload.jwt" <<'PY'
import base64, json, sys
h, p, s = open(sys.argv[1]).read().strip().split(".")
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
c["submods"]["runtime"]["ear.status"] = "affirming"; c["sub"] = "agent2"
p = base64.urlsafe_b64encode(json.dumps(c).encode()).decode().rstrip("=")
print(".".join([h, p, s]))
PY
verify_ear "$T/payload.jwt" >/dev/null 2>&1 && not_ok "an edited payload is refused" || ok "an edited payload is refused"

# --- round 2: evil, not in the reference values --------------------------------------------------
load "$T/bin/evil"
round r2
eq "verdict untrusted, reason reference" "$(jq -r '.verdict + " " + .first_failure.check' "$T/r2.json")" \
	"untrusted reference"
verify_ear "$T/r2.jwt" >"$T/r2.claims" && ok "the untrusted round's EAR verifies" || not_ok "r2 EAR verifies"
eq "runtime: contraindicated" "$(c '.submods.runtime."ear.status"' r2)" contraindicated
eq "executables 96, file-system 96" \
	"$(c '.submods.runtime."ear.trustworthiness-vector" | [.executables, ."file-system"] | map(tostring) | join(" ")' r2)" "96 96"
eq "instance-identity stays 2 (the quote verified)" \
	"$(c '.submods.runtime."ear.trustworthiness-vector"."instance-identity"' r2)" 2
eq "boot stays affirming" "$(c '.submods.boot."ear.status"' r2)" affirming

# --- round 3: round 1's evidence replayed (wrong nonce) ------------------------------------------
req GET /v1/agents/agent1/nonce >/dev/null && cp "$T/.out" "$T/n.json"
code 200 "round 1's evidence replayed is answered" POST /v1/agents/agent1/attest "$T/r1.ev"
jq -r .ear "$T/.out" >"$T/r3.jwt"
verify_ear "$T/r3.jwt" >"$T/r3.claims" && ok "the replay's EAR verifies" || not_ok "r3 EAR verifies"
eq "its eat_nonce is the server's nonce, not the replayed one" "$(c .eat_nonce r3)" "$(jq -r .nonce "$T/n.json")"
eq "instance-identity 96 in both submodules" \
	"$(c '[.submods[]."ear.trustworthiness-vector"."instance-identity"] | map(tostring) | join(" ")' r3)" "96 96"
eq "both contraindicated" "$(c '[.submods[]."ear.status"] | join(" ")' r3)" "contraindicated contraindicated"

# --- /metrics through promtool ---------------------------------------------------------------------
curl -sS --cacert "$P/ca.crt" "$URL/metrics" -o "$T/metrics.txt"
if promtool check metrics <"$T/metrics.txt" >"$T/.out" 2>&1; then ok "promtool check metrics: no problem"; else
	not_ok "promtool check metrics"; sed 's/^/#   /' "$T/.out" | head -20; fi
m() { grep -c -x -- "$1" "$T/metrics.txt"; }
eq "agents by state: agent1 untrusted (its newest row)" \
	"$(m 'vouchd_agents_by_state{state="untrusted"} 1') $(m 'vouchd_agents_by_state{state="trusted"} 0') $(m 'vouchd_agents_by_state{state="registered"} 0')" "1 1 1"
eq "attestations by result" "$(m 'vouchd_attestations_total{result="trusted"} 1') $(m 'vouchd_attestations_total{result="untrusted"} 2')" "1 1"
commits=$(sed -n 's/^vouchd_db_commit_seconds_count \([0-9]*\)$/\1/p' "$T/metrics.txt")
check "commit histogram: enroll, activate, 3 nonces, 3 results (>= 8)" test "${commits:-0}" -ge 8
eq "per-phase histograms" "$(grep -c '^vouchd_phase_seconds_count{phase="\(parse\|verify\|store\)"} 3$' "$T/metrics.txt")" 3
check "the database is up" grep -qx 'vouchd_database_up 1' "$T/metrics.txt"
printf 'vouchd_bad_total{x="1"} 1\nvouchd_bad_total{x="1"} 2\n' >"$T/bad-metrics.txt"
promtool check metrics <"$T/bad-metrics.txt" >/dev/null 2>&1 && not_ok "promtool can fail here" ||
	ok "promtool fails on a broken exposition (the check above can fail)"

# --- the results survive a restart; an ephemeral key when none is given ---------------------------
stop_vouchd
: >"$T/notify.log"
start_vouchd && ok "vouchd starts without --ear-key" || { not_ok "vouchd restarts"; done_testing; }
check "and logs that the key is ephemeral" grep -q "signed by an ephemeral key" "$T/vouchd.log"
req GET /v1/ear/key >/dev/null
check "another key is served" test "$(jq -r '.keys[0].x' "$T/.out")" != "$(jq -r '.keys[0].x' "$T/jwks.json")"
cp "$T/.out" "$T/jwks2.json"
"$PYJWT" "$T/verify.py" "$T/jwks2.json" "$T/r1.jwt" >/dev/null 2>&1 && not_ok "an old EAR does not verify under the new key" ||
	ok "an old EAR does not verify under the new key"

# --- vouch-agent under NOTIFY_SOCKET -----------------------------------------------------------------
if [ -n "${VOUCH_AGENT:-}" ]; then
	# its own socket: vouchd keeps pinging the first one
	NA=$T/agent-notify.sock AL=$T/agent-notify.log
	listen_notify "$NA" "$AL" || not_ok "a second NOTIFY_SOCKET listener"
	load "$T/bin/a"
	NOTIFY_SOCKET=$NA "$VOUCH_AGENT" --server "$URL" --id agent1 --cert "$P/agent1.crt" \
		--key "$P/agent1.key" --cacert "$P/ca.crt" --tpm "$SWTPM_TCTI" \
		--ima-list "$ST/measurements" --once >"$T/agent.out" 2>"$T/agent.err"
	notified '^READY=1' "$AL" && ok "vouch-agent sent READY=1 once registered" || not_ok "vouch-agent READY=1"
	check "its answer carries an EAR" test "$(jq -r '.ear | split(".") | length' "$T/agent.out")" = 3
	check "and no WATCHDOG=1 without WATCHDOG_USEC" test "$(grep -c WATCHDOG "$AL")" = 0
	: >"$AL"
	NOTIFY_SOCKET=$NA WATCHDOG_USEC=400000 "$VOUCH_AGENT" --server "$URL" --id agent1 \
		--cert "$P/agent1.crt" --key "$P/agent1.key" --cacert "$P/ca.crt" --tpm "$SWTPM_TCTI" \
		--ima-list "$ST/measurements" --interval 2 >/dev/null 2>"$T/agent.err" &
	APID=$!
	notified '^WATCHDOG=1' "$AL" && ok "vouch-agent --interval pings the watchdog between rounds" ||
		not_ok "vouch-agent WATCHDOG=1"
	notified 'STATUS=last round' "$AL" && ok "and reports the last round in STATUS" ||
		not_ok "and reports the last round in STATUS"
	kill "$APID"; wait "$APID" 2>/dev/null
else
	skip "vouch-agent is not built (libcurl missing)"
fi
stop_vouchd
grep -qi 'AddressSanitizer\|LeakSanitizer\|runtime error' "$T/vouchd.log" && not_ok "no sanitizer report" || ok "no sanitizer report"
done_testing
