#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# vouchd enrollment end to end: three TPMs manufactured by 'swtpm_setup --create-ek-cert
# --create-platform-cert' with local CAs made here (swtpm_localca signs with them; nothing
# is read from /etc or /var): A and C by CAs vouchd trusts (--ek-ca), B by one it does not.
# vouch-agent enrolls with TPM A (EK certificate, AK, CSR -> credential -> activation ->
# client certificate) and then attests; every way to get a certificate without proving that
# the AK lives next to a trusted EK is refused, and a credential vouchd makes is activated
# by tpm2_activatecredential.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/swtpm.sh"
. "$(dirname "$0")/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
require_peers swtpm swtpm_setup:swtpm-tools swtpm_localca:swtpm-tools tpm2_activatecredential:tpm2-tools curl jq sqlite3 openssl python3
VPID=
trap 'stop_vouchd; swtpm_stop; rm -rf "$T"' EXIT

# --- three TPMs ------------------------------------------------------------------------------
# manufacture NAME: an EK CA of its own, the EKs, their certificates and a platform one in NV
manufacture() { swtpm_manufacture "$1" --create-platform-cert; }
for n in A B C; do check "manufacture TPM $n with an EK certificate from CA $n" manufacture $n; done
cat "$T/A/ca/issuercert.pem" "$T/C/ca/issuercert.pem" >"$T/ek-ca.pem"

tpm_up() { # NAME
	swtpm_stop
	swtpm_start "$T/$1/tpm" || { not_ok "swtpm $1 starts"; done_testing; }
	export VOUCH_TCTI=$SWTPM_TCTI
}
# what an agent of TPM NAME would send: EK certificate, an AK at HANDLE
tpm_keys() { # NAME HANDLE
	"$VOUCH" tpm ek --cert "$T/ek$1.crt" >/dev/null &&
	"$VOUCH" tpm ak create --handle "$2" --out "$T/ak$1" >/dev/null
}
tpm_up B
check "TPM B: EK certificate and an AK" tpm_keys B 0x81010020
tpm_up C
check "TPM C: EK certificate and an AK" tpm_keys C 0x81010020
tpm_up A
check "TPM A: EK certificate and an AK" tpm_keys A 0x81010020
check "tpm2_create: an unrestricted signing key" tools_key "$T/akunr.pub" \
	rsa2048:rsassa-sha256 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign'
check "tpm2_create: a restricted signing key that may leave the TPM (not fixedTPM)" tools_key \
	"$T/akdup.pub" rsa2048:rsassa-sha256:null 'restricted|sensitivedataorigin|userwithauth|sign'

# --- TLS: one CA for the server and the agents' certificates vouchd issues -------------------
ecgen "$P/ca.key"
openssl req -x509 -new -key "$P/ca.key" -subj /CN=vouch-agents-ca -days 30 \
	-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign \
	-out "$P/ca.crt" 2>/dev/null
ecgen "$P/server.key"
openssl req -new -key "$P/server.key" -subj /CN=localhost -out "$P/server.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$P/server.ext"
openssl x509 -req -in "$P/server.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial \
	-days 2 -extfile "$P/server.ext" -out "$P/server.crt" 2>/dev/null
[ -s "$P/server.crt" ] && ok "TLS PKI" || { not_ok "TLS PKI"; done_testing; }

DB=$T/vouchd.db
start_vouchd() { # [EXTRA OPTIONS]
	vouchd_up "$T/vouchd.log" --db "$DB" --tls-cert "$P/server.crt" \
		--tls-key "$P/server.key" --client-ca "$P/ca.crt" --pcrs sha256:0-10 \
		--agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/ca.key" --ek-ca "$T/ek-ca.pem" "$@"
}
expect_rc 2 "--ek-ca without the agent CA is a usage error" "$VOUCHD" --listen 127.0.0.1:1 \
	--db "$DB" --tls-cert "$P/server.crt" --tls-key "$P/server.key" --client-ca "$P/ca.crt" \
	--ek-ca "$T/ek-ca.pem"
cp "$P/ca.key" "$P/ca-open.key" && chmod 644 "$P/ca-open.key"
expect_rc 3 "an agent CA key readable by others is refused" "$VOUCHD" --listen 127.0.0.1:1 \
	--db "$DB" --tls-cert "$P/server.crt" --tls-key "$P/server.key" --client-ca "$P/ca.crt" \
	--agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/ca-open.key" --ek-ca "$T/ek-ca.pem"
expect_rc 3 "an agent CA that is not the key's is refused" "$VOUCHD" --listen 127.0.0.1:1 \
	--db "$DB" --tls-cert "$P/server.crt" --tls-key "$P/server.key" --client-ca "$P/ca.crt" \
	--agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/server.key" --ek-ca "$T/ek-ca.pem"
start_vouchd && ok "vouchd starts with enrollment on 127.0.0.1:$PORT" ||
	{ not_ok "vouchd starts"; sed 's/^/#   /' "$T/vouchd.log"; done_testing; }

code() {
	local want=$1 d=$2 got; shift 2
	got=$(req "$@")
	eq "$d (HTTP $got)" "$got" "$want"
	[ "$got" = "$want" ] || diag "$(head -c 300 "$T/.out")"
	cp "$T/.out" "$T/.resp"
	# the last enroll answer, for activate()
	case $3 in */enroll) cp "$T/.out" "$T/enrolled.json" ;; esac
}
b64() { base64 -w0 "$1"; }
# a TLS key and its CSR: csr NAME [CN]
csr() { ecgen "$P/$1.key" && openssl req -new -key "$P/$1.key" -subj "/CN=${2:-$1}" -out "$P/$1.csr" 2>/dev/null; }
# enroll_doc OUT EKCERT AKPUB CSR: the enroll request
enroll_doc() {
	jq -n --arg ek "$(b64 "$2")" --arg ak "$(b64 "$3")" --rawfile csr "$4" \
		'{ek_cert: $ek, ak: $ak, csr: $csr}' >"$1"
}
# the credential of the last enroll answer activated by vouch on the running TPM
activate() { # AK-HANDLE NAME -> $T/NAME.secret, $T/NAME.act (the activate request)
	jq -r .credential "$T/enrolled.json" | base64 -d >"$T/$2.cred" &&
	"$VOUCH" tpm credential activate --ak-handle "$1" "$T/$2.cred" --out "$T/$2.secret" \
		>/dev/null 2>"$T/$2.aerr" &&
	jq -n --arg s "$(od -An -tx1 "$T/$2.secret" | tr -d ' \n')" '{secret: $s}' >"$T/$2.act"
}
wrong_secret() { jq -n --arg s "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" '{secret: $s}' >"$1"; }
rows() { sql "SELECT (SELECT count(*) FROM agents) || ' ' || (SELECT count(*) FROM enrollments)"; }

code 200 "healthz" none GET /healthz
check "the schema has the enrollments table" sql "SELECT count(*) FROM enrollments"

# --- the old path is closed -------------------------------------------------------------------
jq -n --arg ak "$(b64 "$T/akA.pub")" '{ak: $ak}' >"$T/reg.json"
code 404 "/register (an AK without proof) is gone" none POST /v1/agents/x/register "$T/reg.json"

# --- cross-check: vouchd's credential, activated by tpm2_activatecredential --------------------
csr tools
enroll_doc "$T/tools.json" "$T/ekA.crt" "$T/akA.pub" "$P/tools.csr"
code 200 "enroll 'tools' (EK A, AK A at 0x81010020), no client certificate" none POST /v1/agents/tools/enroll "$T/tools.json"
eq "a pending enrollment, no agent" "$(rows)" "0 1"
eq "the answer names the agent and the fingerprints" \
	"$(js '.agent + " " + (.ak | length | tostring) + " " + (.ek | length | tostring) + " " + (.deadline | type)')" \
	"tools 64 64 number"
js .credential | base64 -d >"$T/tools.cred"
eq "the credential is tpm2_makecredential's file format (magic, version 1)" \
	"$(head -c 8 "$T/tools.cred" | od -An -tx1 | tr -d ' ')" badcc0de00000001
tools_activate() { # CRED OUT AK
	tpm2_flushcontext -t >/dev/null 2>&1
	tpm2_createek -Q -c "$T/ek.ctx" -G rsa &&
	tpm2_startauthsession -Q --policy-session -S "$T/s.ctx" &&
	tpm2_policysecret -Q -S "$T/s.ctx" -c e &&
	tpm2_activatecredential -Q -c "$3" -C "$T/ek.ctx" -i "$1" -o "$2" -P "session:$T/s.ctx"
	local rc=$?
	tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -s >/dev/null 2>&1
	return $rc
}
check "tpm2_activatecredential activates vouchd's credential" tools_activate "$T/tools.cred" \
	"$T/tools.secret" 0x81010020
eq "a 32-byte secret" "$(stat -c %s "$T/tools.secret")" 32
jq -n --arg s "$(od -An -tx1 "$T/tools.secret" | tr -d ' \n')" '{secret: $s}' >"$T/tools.act"
code 201 "its secret activates: a certificate" none POST /v1/agents/tools/activate "$T/tools.act"
cp "$T/.out" "$T/tools.out"
js .certificate >"$P/tools.crt"
eq "the agent is stored with its EK, the enrollment is gone" "$(rows)" "1 0"
eq "EK fingerprint stored" "$(sql "SELECT ek_fpr FROM agents WHERE id='tools'")" \
	"$(openssl x509 -inform der -in "$T/ekA.crt" -pubkey -noout | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)"
check "the certificate chains to the agent CA for client authentication" \
	openssl verify -CAfile "$P/ca.crt" -purpose sslclient "$P/tools.crt"
openssl x509 -in "$P/tools.crt" -noout -text >"$T/tools.txt"
check "CN=tools" grep -q "Subject: CN *= *tools$" "$T/tools.txt"
check "URI SAN tools" grep -q "URI:tools$" "$T/tools.txt"
check "clientAuth EKU" grep -q "TLS Web Client Authentication" "$T/tools.txt"
check "not a CA" grep -q "CA:FALSE" "$T/tools.txt"
check "for the CSR's key" cmp <(openssl x509 -in "$P/tools.crt" -pubkey -noout) \
	<(openssl pkey -in "$P/tools.key" -pubout)
eq "valid for a year, capped at the agent CA's own validity (30 days here)" \
	"$(openssl x509 -in "$P/tools.crt" -noout -enddate)" "$(openssl x509 -in "$P/ca.crt" -noout -enddate)"
code 200 "the issued certificate opens the agent endpoints (nonce)" tools GET /v1/agents/tools/nonce
code 403 "it names only its own id" tools GET /v1/agents/other/nonce

# --- must-fail: activation ------------------------------------------------------------------
code 404 "replayed activation: the enrollment was consumed" none POST /v1/agents/tools/activate "$T/tools.act"
eq "nothing changed" "$(rows)" "1 0"
code 200 "enroll 'tools' again (same EK and AK)" none POST /v1/agents/tools/enroll "$T/tools.json"
wrong_secret "$T/wrong.json"
code 403 "a wrong secret is refused" none POST /v1/agents/tools/activate "$T/wrong.json"
eq "and consumed the enrollment (no second guess)" "$(rows)" "1 0"
check "vouch activates that credential" activate 0x81010020 tools2
code 404 "the right secret after a wrong one: no enrollment left" none POST /v1/agents/tools/activate "$T/tools2.act"
code 200 "enroll 'tools' again" none POST /v1/agents/tools/enroll "$T/tools.json"
check "activate" activate 0x81010020 tools3
code 200 "re-enrollment of the same EK and AK: a fresh certificate" none POST /v1/agents/tools/activate "$T/tools3.act"
eq "registered: false" "$(js .registered)" false
code 404 "activation without enrollment" none POST /v1/agents/nobody/activate "$T/tools3.act"
echo '{}' >"$T/empty.json"
code 400 "activate without 'secret'" none POST /v1/agents/tools/activate "$T/empty.json"
echo '{"secret": "zz"}' >"$T/badhex.json"
code 400 "activate with a secret that is not hex" none POST /v1/agents/tools/activate "$T/badhex.json"

# --- must-fail: EK certificate and AK of different TPMs -----------------------------------------
csr mallory
enroll_doc "$T/mix.json" "$T/ekA.crt" "$T/akB.pub" "$P/mallory.csr"
code 200 "enroll with TPM A's EK certificate and TPM B's AK (vouchd cannot tell yet)" none \
	POST /v1/agents/mallory/enroll "$T/mix.json"
expect_rc 1 "TPM A cannot activate it with its own AK at that handle" activate 0x81010020 mixA
tpm_up B
expect_rc 1 "TPM B (which holds the AK) cannot activate it: the credential is for EK A" activate 0x81010020 mixB
tpm_up A
wrong_secret "$T/guess.json"
code 403 "a guessed secret is refused" none POST /v1/agents/mallory/activate "$T/guess.json"
eq "no certificate, no agent record for mallory" "$(sql "SELECT count(*) FROM agents WHERE id='mallory'") $(rows)" "0 1 0"

# --- must-fail: enroll -------------------------------------------------------------------------
before=$(rows)
enroll_doc "$T/unknown.json" "$T/ekB.crt" "$T/akB.pub" "$P/mallory.csr"
code 403 "an EK certificate from an unknown CA" none POST /v1/agents/mallory/enroll "$T/unknown.json"
check "one-line reason" test "$(wc -l <"$T/.resp")" = 1
openssl req -x509 -new -key "$P/mallory.key" -subj /CN=self -days 2 -outform der -out "$T/self.der" 2>/dev/null
enroll_doc "$T/self.json" "$T/self.der" "$T/akA.pub" "$P/mallory.csr"
code 403 "a self-signed 'EK certificate'" none POST /v1/agents/mallory/enroll "$T/self.json"
enroll_doc "$T/unr.json" "$T/ekA.crt" "$T/akunr.pub" "$P/mallory.csr"
code 403 "an AK that is not restricted" none POST /v1/agents/mallory/enroll "$T/unr.json"
check "says restricted" grep -q restricted "$T/.resp"
enroll_doc "$T/dup.json" "$T/ekA.crt" "$T/akdup.pub" "$P/mallory.csr"
code 403 "an AK that is not fixedTPM" none POST /v1/agents/mallory/enroll "$T/dup.json"
check "says fixedTPM" grep -qi fixedtpm "$T/.resp"
"$VOUCH" tpm ek --public "$T/ekA.pub" >/dev/null
enroll_doc "$T/ekak.json" "$T/ekA.crt" "$T/ekA.pub" "$P/mallory.csr"
code 403 "the EK as AK" none POST /v1/agents/mallory/enroll "$T/ekak.json"
# a CSR whose signature does not verify: the last byte of the signature flipped
openssl req -in "$P/mallory.csr" -outform der -out "$T/csr.der"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[1], "wb").write(b)' "$T/csr.der"
{ echo "-----BEGIN CERTIFICATE REQUEST-----"; base64 -w64 "$T/csr.der"; echo "-----END CERTIFICATE REQUEST-----"; } >"$T/badsig.csr"
enroll_doc "$T/badsig.json" "$T/ekA.crt" "$T/akA.pub" "$T/badsig.csr"
code 400 "a CSR with a bad signature" none POST /v1/agents/mallory/enroll "$T/badsig.json"
check "says the signature" grep -q "signature does not verify" "$T/.resp"
refused() { # CODE WHAT JQ-FILTER: the tools' enrolment document through JQ-FILTER is answered CODE
	jq "$3" "$T/tools.json" >"$T/refused.json"
	code "$1" "$2" none POST /v1/agents/mallory/enroll "$T/refused.json"
}
refused 400 "enroll without 'csr'" 'del(.csr)'
refused 400 "enroll without 'ak'" 'del(.ak)'
refused 400 "enroll without an EK" 'del(.ek_cert)'
refused 400 "enroll with both ek_cert and ek_public" '.ek_public = .ak'
refused 403 "an EK without certificate is refused by default" '{ek_public: .ek_cert, ak, csr}'
refused 400 "'ak' not base64" '.ak = "not base64!"'
eq "no state changed" "$(rows)" "$before"

# --- another EK or AK for an enrolled id: 409 ------------------------------------------------------
csr tools-c
enroll_doc "$T/otherek.json" "$T/ekC.crt" "$T/akC.pub" "$P/tools-c.csr"
code 200 "TPM C (trusted CA) enrolls as its own id" none POST /v1/agents/c1/enroll "$T/otherek.json"
code 409 "TPM C on the id enrolled with TPM A's EK" none POST /v1/agents/tools/enroll "$T/otherek.json"
check "says EK" grep -q "another EK" "$T/.resp"
"$VOUCH" tpm ak create --handle 0x81010021 --out "$T/akA2" >/dev/null
enroll_doc "$T/otherak.json" "$T/ekA.crt" "$T/akA2.pub" "$P/tools-c.csr"
code 409 "another AK of the same TPM on that id" none POST /v1/agents/tools/enroll "$T/otherak.json"
eq "the stored agent keeps its keys" "$(sql "SELECT ak_fpr FROM agents WHERE id='tools'")" \
	"$(jq -r .ak "$T/tools.out")"

# --- an EK without certificate: only with --allow-ek-public ------------------------------------------
stop_vouchd
start_vouchd --allow-ek-public || { not_ok "vouchd restarts with --allow-ek-public"; done_testing; }
jq -n --arg ek "$(b64 "$T/ekA.pub")" --arg ak "$(b64 "$T/akA2.pub")" --rawfile csr "$P/tools-c.csr" \
	'{ek_public: $ek, ak: $ak, csr: $csr}' >"$T/ekpub2.json"
code 200 "with --allow-ek-public an EK public area enrolls" none POST /v1/agents/bare/enroll "$T/ekpub2.json"
check "activate" activate 0x81010021 bare
code 201 "and activates" none POST /v1/agents/bare/activate "$T/bare.act"
eq "the same EK fingerprint as from TPM A's certificate" \
	"$(sql "SELECT ek_fpr FROM agents WHERE id='bare'")" "$(sql "SELECT ek_fpr FROM agents WHERE id='tools'")"
code 403 "an EK certificate from an unknown CA is still refused" none POST /v1/agents/mallory/enroll "$T/unknown.json"

# --- the deadline ------------------------------------------------------------------------------------
stop_vouchd
start_vouchd --enroll-ttl 1 || { not_ok "vouchd restarts with --enroll-ttl 1"; done_testing; }
code 200 "enroll with a 1 s deadline" none POST /v1/agents/tools/enroll "$T/tools.json"
check "activate" activate 0x81010020 late
sleep 2.2
code 409 "activation after the deadline is refused" none POST /v1/agents/tools/activate "$T/late.act"
check "says expired" grep -q expired "$T/.resp"
eq "and the enrollment is gone" "$(sql "SELECT count(*) FROM enrollments WHERE agent='tools'")" 0
stop_vouchd
start_vouchd || { not_ok "vouchd restarts"; done_testing; }

# --- vouch-agent: enrolls, then attests ------------------------------------------------------------
if [ -n "${VOUCH_AGENT:-}" ]; then
	ST=$T/state
	echo 'measure func=BPRM_CHECK' >"$T/engine.pol"
	mkdir -p "$T/bin"
	for f in a b; do printf '#!/bin/sh\necho %s\n' "$f" >"$T/bin/$f"; done
	check "the engine measures into TPM A" "$VOUCH" load --state-dir "$ST" --policy "$T/engine.pol" \
		--mode log --func BPRM_CHECK --tcti "$SWTPM_TCTI" "$T/bin/a" "$T/bin/b"
	mkdir -p "$T/agent"
	agent() { "$VOUCH_AGENT" --server "$URL" --id node1 --cert "$T/agent/node1.crt" \
		--key "$T/agent/node1.key" --cacert "$P/ca.crt" --tpm "$SWTPM_TCTI" \
		--ima-list "$ST/measurements" "$@"; }
	expect_rc 0 "vouch-agent without a certificate enrolls and attests" agent --once
	eq "verdict trusted" "$(jq -r .verdict "$T/.out")" trusted
	check "it said it enrolled" grep -q "enrolled as 'node1'" "$T/.err"
	eq "the TLS key is private" "$(stat -c %a "$T/agent/node1.key")" 600
	check "its certificate chains to the agent CA" openssl verify -CAfile "$P/ca.crt" \
		-purpose sslclient "$T/agent/node1.crt"
	check "no temporary file left" test "$(ls "$T/agent" | wc -l)" = 2
	eq "node1 is stored with TPM A's EK" "$(sql "SELECT ek_fpr FROM agents WHERE id='node1'")" \
		"$(sql "SELECT ek_fpr FROM agents WHERE id='tools'")"
	cp "$T/agent/node1.crt" "$T/node1.first"
	for f in c; do printf '#!/bin/sh\necho %s\n' "$f" >"$T/bin/$f"; done
	"$VOUCH" load --state-dir "$ST" --policy "$T/engine.pol" --mode log --func BPRM_CHECK \
		--tcti "$SWTPM_TCTI" "$T/bin/c" >/dev/null
	expect_rc 0 "the next run uses its certificate" agent --once
	eq "trusted" "$(jq -r .verdict "$T/.out")" trusted
	check "without enrolling again" cmp "$T/agent/node1.crt" "$T/node1.first"
	expect_rc 0 "--enroll enrolls again (same EK and AK): a fresh certificate" agent --enroll --once
	check "a new certificate" bash -c "! cmp -s '$T/agent/node1.crt' '$T/node1.first'"
	expect_rc 3 "vouch-agent on the id enrolled with another AK fails" agent --enroll --once \
		--ak-handle 0x81010021
	check "refused with 409" grep -q "HTTP 409" "$T/.err"
else
	skip "vouch-agent is not built (libcurl missing)"
fi

stop_vouchd
[ "$_fail" = 0 ] || sed 's/^/# vouchd: /' "$T/vouchd.log" | tail -40
grep -qi 'AddressSanitizer\|LeakSanitizer\|runtime error' "$T/vouchd.log" && not_ok "no sanitizer report" || ok "no sanitizer report"
done_testing
