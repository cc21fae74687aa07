#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# The operators' side of vouchd: the management API, reference values per agent,
# 'vouch fleet' (status, show, add-reference, set-reference, remove, events) and the fleet
# web page in a headless chromium.  Two agents on one swtpm, each with its own AK: agent1
# attests its real list, agent2 first a tampered one (untrusted), then the real one under
# reference values that lack a measured file named '<script>evil' (untrusted, and the name
# must reach the page escaped), then under complete ones (trusted).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/swtpm.sh"
. "$(dirname "$0")/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
VOUCH_FLEET=${VOUCH_FLEET:?VOUCH_FLEET must point at the vouch-fleet binary}
ARTIFACTS=${FLEET_ARTIFACTS:-$T/artifacts}
require_peers swtpm curl jq sqlite3 python3 openssl chromium
swtpm_start "$T/tpm" || { not_ok "swtpm starts"; done_testing; }
VPID= PPID_= SPID=
stop_helpers() {
	local p
	for p in $PPID_ $SPID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	PPID_= SPID=
}
trap 'stop_vouchd; stop_helpers; swtpm_stop; rm -rf "$T"' EXIT
export VOUCH_TCTI=$SWTPM_TCTI
# try DESCRIPTION CMD...: like check, without touching $T/.out
try() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

# --- certificates: the agents' CA and the operators' --------------------------------------------
make_ca ca ca
make_ca opca opca
issue ca server localhost "IP:127.0.0.1,DNS:localhost"
issue ca agent1 agent1
issue ca agent2 agent2
issue ca agent3 agent3
issue opca op alice
[ -s "$P/op.crt" ] && ok "test PKI" || { not_ok "test PKI"; done_testing; }

# --- vouchd --------------------------------------------------------------------------------------
DB=$T/vouchd.db
wait_port() { for _ in $(seq 1 100); do port_free "$1" || return 0; sleep 0.05; done; return 1; }
start_vouchd() {
	local try
	for try in 1 2 3 4 5 6; do
		PORT=$(free_port)
		"$VOUCHD" --listen "127.0.0.1:$PORT" --db "$DB" --tls-cert "$P/server.crt" \
			--tls-key "$P/server.key" --client-ca "$P/ca.crt" --operator-ca "$P/opca.crt" \
			--agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/ca.key" --allow-ek-public \
			--pcrs sha256:0-10 2>>"$T/vouchd.log" &
		VPID=$!
		if wait_port "$PORT" && kill -0 "$VPID" 2>/dev/null; then URL=https://127.0.0.1:$PORT; return 0; fi
		stop_vouchd
	done
	return 1
}
start_vouchd && ok "vouchd starts with --operator-ca" || { not_ok "vouchd starts"; sed 's/^/#   /' "$T/vouchd.log"; done_testing; }

# req WHO METHOD PATH [BODYFILE [CONTENT-TYPE]] -> HTTP code on stdout, body in $T/.out
req() {
	local who=$1 method=$2 path=$3 body=${4:-} ct=${5:-application/json} a=()
	[ "$who" != none ] && a=(--cert "$P/$who.crt" --key "$P/$who.key")
	[ -n "$body" ] && a+=(-H "Content-Type: $ct" --data-binary "@$body")
	[ -n "${REQ_H:-}" ] && a+=(-H "$REQ_H")
	curl -sS --tlsv1.3 --cacert "$P/ca.crt" "${a[@]}" -X "$method" -o "$T/.out" -D "$T/.hdr" \
		-w '%{http_code}' "$URL$path" 2>"$T/.curl"
}
fleet() { "$VOUCH_FLEET" --server "$URL" --cert "$P/op.crt" --key "$P/op.key" --cacert "$P/ca.crt" "$@"; }
snapshot() { sql "SELECT id, reference FROM agents; SELECT * FROM states; SELECT hex(nonce) FROM nonces;
	SELECT * FROM reference_names; SELECT count(*) FROM reference_docs; SELECT count(*) FROM results"; }

# --- two agents, one TPM, two AKs; the engine's list --------------------------------------------
ST=$T/state
POL=$T/engine.pol
echo 'measure func=BPRM_CHECK' >"$POL"
mkdir -p "$T/bin"
for f in a b c; do printf '#!/bin/sh\necho %s\n' "$f" >"$T/bin/$f"; done
EVIL="$T/bin/<script>evil"
printf '#!/bin/sh\necho evil\n' >"$EVIL"
load() { "$VOUCH" load --state-dir "$ST" --policy "$POL" --mode log --func BPRM_CHECK "$@" >/dev/null; }
check "AK of agent1" "$VOUCH" tpm ak create --out "$T/ak1"
check "AK of agent2" "$VOUCH" tpm ak create --handle 0x81010011 --out "$T/ak2"
check "the engine measures a and b" load --tcti "$SWTPM_TCTI" "$T/bin/a" "$T/bin/b"
# enrollment (test-enroll.sh has the EK certificates): this swtpm's bare EK is allowed
check "the EK" "$VOUCH" tpm ek --public "$T/ek.pub"
enroll() { # NAME AK-HANDLE AKPUB: enroll, activate, the issued certificate in $P/NAME.crt
	jq -n --arg ek "$(base64 -w0 "$T/ek.pub")" --arg ak "$(base64 -w0 "$3")" \
		--rawfile csr "$P/$1.csr" '{ek_public: $ek, ak: $ak, csr: $csr}' >"$T/$1.enroll"
	[ "$(req none POST "/v1/agents/$1/enroll" "$T/$1.enroll")" = 200 ] || return 1
	jq -r .credential "$T/.out" | base64 -d >"$T/$1.cred"
	"$VOUCH" tpm credential activate --ak-handle "$2" "$T/$1.cred" --out "$T/$1.secret" || return 1
	jq -n --arg s "$(od -An -tx1 "$T/$1.secret" | tr -d ' \n')" '{secret: $s}' >"$T/$1.act"
	[ "$(req none POST "/v1/agents/$1/activate" "$T/$1.act")" = 201 ] || return 1
	jq -r .certificate "$T/.out" >"$P/$1.crt"
}
check "agent1 enrolls" enroll agent1 0x81010010 "$T/ak1.pub"
check "agent2 enrolls" enroll agent2 0x81010011 "$T/ak2.pub"
check "agent3 enrolls (agent1's AK), and never attests" enroll agent3 0x81010010 "$T/ak1.pub"

# round AGENT HANDLE [LIST]: nonce, quote, push; the verdict in $T/.out
round() {
	local got
	got=$(req "$1" GET "/v1/agents/$1/nonce") && [ "$got" = 200 ] || return 1
	"$VOUCH" attest quote --handle "$2" --nonce "$(js .nonce)" --pcrs sha256:0-10 \
		--ima "${3:-$ST/measurements}" --from-entry "$(js .offset)" --no-eventlog \
		--out "$T/ev.json" >/dev/null 2>"$T/.qerr" || return 1
	got=$(req "$1" POST "/v1/agents/$1/attest" "$T/ev.json") && [ "$got" = 200 ]
}
# a tampered list: entry 2 removed
list_without "$ST/measurements" "$T/cut.list" 2
try "agent1: a round on its real list" round agent1 0x81010010
eq "agent1 trusted" "$(js .verdict)" trusted
try "agent2: a round on a tampered list" round agent2 0x81010011 "$T/cut.list"
eq "agent2 untrusted: ima_list" "$(js .verdict) $(js .first_failure.check)" "untrusted ima_list"

# --- the management API: operators only ------------------------------------------------------------
before=$(snapshot)
for who in none agent1 agent2; do
	for r in "GET /v1/agents" "GET /v1/agents/agent1" "DELETE /v1/agents/agent2" "GET /v1/references" \
		"GET /fleet" "GET /" "GET /fleet/agents/agent1" "POST /v1/agents"; do
		got=$(req "$who" $r)
		case $got in 401|403) ok "$r with $who's certificate: refused (HTTP $got)" ;;
		*) not_ok "$r with $who's certificate: refused (HTTP $got)" ;; esac
	done
done
echo '{"reference": "default"}' >"$T/setdef.json"
code 403 "PUT an agent's reference values with an agent's certificate" agent1 PUT /v1/agents/agent1/reference "$T/setdef.json"
code 403 "PUT reference values with an agent's certificate" agent2 PUT /v1/references/mine "$T/setdef.json"
eq "nothing changed" "$(snapshot)" "$before"

code 200 "GET /v1/agents" op GET /v1/agents
eq "three agents" "$(js '.agents | map(.id) | join(",")')" "agent1,agent2,agent3"
eq "agent1: trusted, 3 entries, default reference values" \
	"$(js '.agents[0] | [.state, .last_verdict, .entries, .reference] | join(" ")')" "trusted trusted 3 default"
eq "agent2: untrusted, nothing verified" "$(js '.agents[1] | [.state, .entries] | join(" ")')" "untrusted 0"
try "each with its last result and time" test "$(js '.agents[:2] | map(.last_result > 0 and .last_time > 0) | all')" = true
eq "agent3: registered, no result" "$(js '.agents[2] | [.state, .last_verdict, .last_result, .last_time] | map(tostring) | join(" ")')" "registered null null null"
eq "one page holds them all: no next" "$(js .next)" null
REQ_H="X-Vouch-After: agent1" code 200 "GET /v1/agents, the page after agent1" op GET /v1/agents
eq "agent2, agent3" "$(js '.agents | map(.id) | join(",")')" "agent2,agent3"
REQ_H="X-Vouch-After: agent3" code 200 "the page after the last agent" op GET /v1/agents
eq "is empty, no next" "$(js '[(.agents | length), .next] | map(tostring) | join(" ")')" "0 null"
REQ_H="X-Vouch-After: ../agent1" code 400 "X-Vouch-After that is not an agent id" op GET /v1/agents
code 200 "GET /fleet/after/agent1" op GET /fleet/after/agent1
try "the page lists agent2 and agent3, not agent1" sh -c 'grep -q "/fleet/agents/agent2\"" "$1" && grep -q "/fleet/agents/agent3\"" "$1" && ! grep -q "/fleet/agents/agent1\"" "$1"' - "$T/.out"
try "... and counts the whole fleet" grep -q '<span>3 agents</span>' "$T/.out"
code 404 "GET /fleet/after/ with no id" op GET /fleet/after/
code 200 "GET /v1/agents/agent2" op GET /v1/agents/agent2
eq "its record" "$(js '.agent.id + " " + .agent.state')" "agent2 untrusted"
eq "its AK" "$(js .agent.ak)" "$(sql "SELECT ak_fpr FROM agents WHERE id='agent2'")"
eq "one result in its history" "$(js '.history | length')" 1
eq "the last failure: ima_list" "$(js '.last_failure.failures[0].check')" ima_list
code 200 "GET /v1/agents/agent1" op GET /v1/agents/agent1
eq "agent1 has no failure" "$(js .last_failure)" null
code 404 "GET an unknown agent" op GET /v1/agents/nobody
try "a one-line reason" test "$(wc -l <"$T/.out")" = 1
code 400 "an invalid agent id" op GET '/v1/agents/.hidden'
code 200 "GET /v1/references: none yet" op GET /v1/references
eq "an empty list" "$(js '.references | length')" 0

# --- reference values: malformed documents change nothing ---------------------------------------------
# full: every measured file; partial: lacks '<script>evil'
refdoc() { for f in "$@"; do printf '%s\t%s\n' "$f" "$(sha256sum "$f" | cut -d' ' -f1)"; done |
	jq -Rn '{format: "vouch-reference", version: 1,
		 files: ([inputs | split("\t") | {(.[0]): ["sha256:" + .[1]]}] | add)}'; }
refdoc "$T/bin/a" "$T/bin/b" "$T/bin/c" "$EVIL" >"$T/full.json"
refdoc "$T/bin/a" "$T/bin/b" "$T/bin/c" >"$T/partial.json"
before=$(snapshot)
head -c 40 "$T/full.json" >"$T/trunc.json"
code 400 "PUT truncated reference values" op PUT /v1/references/full "$T/trunc.json"
try "one-line reason" test "$(wc -l <"$T/.out")" = 1
echo '{"format": "vouch-reference", "version": 1, "files": {"/x": []}}' >"$T/empty.json"
code 400 "PUT reference values with an empty digest list" op PUT /v1/references/full "$T/empty.json"
printf '{"format": "vouch-reference", "version": 1, "files": {}, "files": {}}' >"$T/dup.json"
code 400 "PUT reference values with a duplicate key" op PUT /v1/references/full "$T/dup.json"
echo '{"format": "something-else"}' >"$T/other.json"
code 400 "PUT a document that is not reference values" op PUT /v1/references/full "$T/other.json"
code 415 "PUT reference values as text/plain" op PUT /v1/references/full "$T/full.json" text/plain
code 400 "PUT reference values named 'default'" op PUT /v1/references/default "$T/full.json"
code 400 "PUT reference values under an invalid name" op PUT '/v1/references/a..b/c' "$T/full.json"
code 405 "POST to a reference name" op POST /v1/references/full "$T/full.json"
echo '{"reference": "nothing-by-that-name"}' >"$T/set-unknown.json"
code 404 "set an agent's reference values to an unknown name" op PUT /v1/agents/agent1/reference "$T/set-unknown.json"
code 404 "set an unknown agent's reference values" op PUT /v1/agents/nobody/reference "$T/setdef.json"
echo '{"reference": "default", "x": 1}' >"$T/set-extra.json"
code 400 "an unknown member" op PUT /v1/agents/agent1/reference "$T/set-extra.json"
echo '{"reference": 7}' >"$T/set-type.json"
code 400 "a reference name of the wrong type" op PUT /v1/agents/agent1/reference "$T/set-type.json"
echo '{"reference": "../x"}' >"$T/set-bad.json"
code 400 "an invalid reference name" op PUT /v1/agents/agent1/reference "$T/set-bad.json"
echo '[]' >"$T/arr.json"
code 400 "a JSON array" op PUT /v1/agents/agent1/reference "$T/arr.json"
code 405 "PATCH-like: POST /v1/agents/agent1" op POST /v1/agents/agent1 "$T/setdef.json"
eq "nothing changed" "$(snapshot)" "$before"

code 201 "PUT /v1/references/full" op PUT /v1/references/full "$T/full.json"
eq "stored under its SHA-256" "$(js .sha256)" "$(sha256sum "$T/full.json" | cut -d' ' -f1)"
code 200 "the same document again" op PUT /v1/references/full "$T/full.json"
eq "updated, not created" "$(js .created)" false
code 201 "the same document under a second name" op PUT /v1/references/full2 "$T/full.json"
eq "stored once" "$(sql 'SELECT count(*) FROM reference_docs')" 1
code 200 "GET /v1/references" op GET /v1/references
eq "two names, one hash" "$(js '[.references[].name] | join(",")') $(js '[.references[].sha256] | unique | length')" "full,full2 1"

# --- vouch fleet ---------------------------------------------------------------------------------
expect_rc 0 "vouch fleet add-reference" fleet add-reference partial "$T/partial.json"
try "says created" grep -q "^partial sha256:$(sha256sum "$T/partial.json" | cut -d' ' -f1) (created)$" "$T/.out"
VOUCH_EXEC_PATH=$(dirname "$VOUCH_FLEET") expect_rc 0 "vouch fleet set-reference (through 'vouch fleet')" \
	"$VOUCH" fleet set-reference --server "$URL" --cert "$P/op.crt" --key "$P/op.key" \
	--cacert "$P/ca.crt" agent1 full
expect_rc 0 "vouch fleet set-reference agent2 partial" fleet set-reference agent2 partial
eq "the store has the choices" "$(sql 'SELECT id || "=" || reference FROM agents ORDER BY id' | paste -sd,)" \
	"agent1=full,agent2=partial,agent3=default"
expect_rc 3 "set-reference to an unknown name fails" fleet set-reference agent1 nothing
try "with the server's reason" grep -q "HTTP 404: no reference values named 'nothing'" "$T/.err"
expect_rc 2 "an invalid agent id is a usage error" fleet show '../x'
expect_rc 2 "an unknown command" fleet frobnicate
expect_rc 2 "vouch fleet: an unknown subcommand" "$VOUCH" fleet frobnicate
expect_rc 2 "vouch fleet show: a missing argument" "$VOUCH" fleet show
expect_rc 2 "vouch fleet status: --follow is events' only" "$VOUCH" fleet status --follow
expect_rc 3 "an agent's certificate cannot use vouch fleet" "$VOUCH_FLEET" --server "$URL" \
	--cert "$P/agent1.crt" --key "$P/agent1.key" --cacert "$P/ca.crt" status
try "refused with 403" grep -q "HTTP 403" "$T/.err"

# --- reference values per agent decide the verdict -------------------------------------------------
check "the engine measures c and '<script>evil'" load --tcti "$SWTPM_TCTI" "$T/bin/c" "$EVIL"
try "agent1 (full) attests" round agent1 0x81010010
eq "agent1 trusted" "$(js .verdict)" trusted
try "agent2 (partial) attests its real list" round agent2 0x81010011
eq "agent2 untrusted: reference" "$(js .verdict) $(js .first_failure.check)" "untrusted reference"
try "the failure names the file" grep -qF "<script>evil" <(js .first_failure.detail)

expect_rc 1 "vouch fleet status: an agent is untrusted (exit 1)" fleet status --json
eq "status --json: states" "$(jq -r '.agents | map(.id + "=" + .state) | join(",")' "$T/.out")" \
	"agent1=trusted,agent2=untrusted,agent3=registered"
eq "status --json: entries and reference values" \
	"$(jq -r '.agents | map((.entries | tostring) + ":" + .reference) | join(",")' "$T/.out")" "5:full,0:partial,0:default"
expect_rc 1 "vouch fleet status (table)" fleet status
try "a header" grep -q "^AGENT  *STATE  *LAST-VERDICT  *LAST-SEEN  *ENTRIES  *REFERENCE$" "$T/.out"
try "agent1's row" grep -Eq '^agent1 +trusted +trusted +[0-9T:-]+Z +5  full$' "$T/.out"
try "agent2's row" grep -Eq '^agent2 +untrusted +untrusted +[0-9T:-]+Z +0  partial$' "$T/.out"
try "agent3's row" grep -Eq '^agent3 +registered +- +never +0  default$' "$T/.out"
expect_rc 1 "vouch fleet show agent2 (untrusted: exit 1)" fleet show agent2
try "its state" grep -q "^state:      untrusted$" "$T/.out"
try "two results in its history" test "$(grep -cE '^ +[0-9]+  [0-9T:-]+Z  untrusted' "$T/.out")" = 2
try "the last failure" grep -q "^last failure: result [0-9]* at .* (untrusted)$" "$T/.out"
try "with the failing entry" grep -qF "  reference: entry 5 '$EVIL': " "$T/.out"
expect_rc 1 "vouch fleet show agent2 --json" fleet show --json agent2
eq "show --json: the failing entry" "$(jq -r '.last_failure.failures[] | select(.check=="reference") | .detail' "$T/.out" | grep -cF "'$EVIL'")" 1
expect_rc 0 "vouch fleet show agent1 (trusted: exit 0)" fleet show agent1
try "no failure" grep -q "^last failure: none$" "$T/.out"

# --- the fleet page in a headless chromium, through a loopback proxy holding the operator's cert ---
# chromium cannot pick a client certificate headless; this proxy (plain HTTP on 127.0.0.1,
# test only) presents the operator's certificate to vouchd and relays the answer as is
PPORT=$(free_port)
python3 - "$PPORT" "$PORT" "$P" >"$T/proxy.log" 2>&1 <<'PY' &
import http.client, http.server, ssl, sys
pport, vport, pki = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/op.crt", pki + "/op.key")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        c = http.client.HTTPSConnection("127.0.0.1", vport, context=ctx)
        c.request("GET", self.path)
        r = c.getresponse(); body = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() in ("content-type", "content-security-policy", "x-content-type-options"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", pport), H).serve_forever()
PY
PPID_=$!
wait_port "$PPORT" && ok "the loopback proxy listens" || not_ok "the loopback proxy listens"
PAGE=http://127.0.0.1:$PPORT
curl -sS -D "$T/page.hdr" -o "$T/page.html" "$PAGE/fleet"
try "the page has a strict Content-Security-Policy" \
	grep -qi "^content-security-policy: default-src 'none'; style-src 'nonce-[0-9a-f]*'; img-src 'none'" "$T/page.hdr"
try "served as HTML" grep -qi "^content-type: text/html; charset=utf-8" "$T/page.hdr"
try "the hostile file name is escaped in the HTML" grep -qF "&lt;script&gt;evil" "$T/page.html"
try "and never appears raw" test "$(grep -c "<script" "$T/page.html")" = 0
chrome() { timeout 60 chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$T/chrome" \
	--no-first-run --disable-extensions "$@" 2>>"$T/chrome.log"; }
chrome --dump-dom "$PAGE/fleet" >"$T/dom.html"
try "chromium renders the page" grep -q '<h1>Fleet</h1>' "$T/dom.html"
dom_state() { python3 - "$T/dom.html" "$1" <<'PY'
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(s): super().__init__(); s.row = None; s.found = None
    def handle_starttag(s, tag, a):
        a = dict(a)
        if tag == "tr" and a.get("class") == "agent": s.row = a.get("data-state")
        if tag == "a" and s.row and a.get("href") == "/fleet/agents/" + sys.argv[2]: s.found = s.row
p = P(); p.feed(open(sys.argv[1]).read()); print(p.found)
PY
}
eq "agent1 appears as trusted" "$(dom_state agent1)" trusted
eq "agent2 appears as untrusted" "$(dom_state agent2)" untrusted
eq "agent3 appears as registered" "$(dom_state agent3)" registered
try "the counts" grep -q 'id="count-trusted">trusted: 1<' "$T/dom.html"
try "agent2's failing entry is in the DOM, escaped" grep -qF "entry 5 '$(printf '%s' "$EVIL" | sed 's/</\&lt;/g; s/>/\&gt;/g')'" "$T/dom.html"
eq "no script element in the DOM" "$(grep -c '<script' "$T/dom.html")" 0
chrome --dump-dom "$PAGE/fleet/agents/agent2" >"$T/dom2.html"
try "agent2's page: its state" grep -q 'id="state" class="untrusted">untrusted<' "$T/dom2.html"
try "a timeline of its two results" test "$(grep -o '<rect' "$T/dom2.html" | wc -l)" = 2
try "the last failure with the escaped name" grep -qF "&lt;script&gt;evil" "$T/dom2.html"
eq "no script element on the agent's page" "$(grep -c '<script' "$T/dom2.html")" 0
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS/fleet.png"
chrome --screenshot="$ARTIFACTS/fleet.png" --window-size=1200,900 "$PAGE/fleet" >/dev/null
try "a screenshot of the fleet page" test -s "$ARTIFACTS/fleet.png"
echo "# screenshot: $ARTIFACTS/fleet.png"
chrome --screenshot="$ARTIFACTS/fleet-agent2.png" --window-size=1200,900 "$PAGE/fleet/agents/agent2" >/dev/null
echo "# screenshot: $ARTIFACTS/fleet-agent2.png"

# --- complete reference values: agent2 is trusted again; then it is removed --------------------------
expect_rc 0 "agent2 moves to the full reference values" fleet set-reference agent2 full2
try "agent2 (full2) attests the same list" round agent2 0x81010011
eq "agent2 trusted now" "$(js .verdict)" trusted
expect_rc 0 "vouch fleet status: everyone trusted (exit 0)" fleet status --json
eq "both trusted" "$(jq -r '.agents | map(.state) | join(",")' "$T/.out")" "trusted,trusted,registered"
results=$(sql 'SELECT count(*) FROM results')
expect_rc 0 "vouch fleet remove agent2" fleet remove agent2
eq "agent2 is gone" "$(sql "SELECT count(*) FROM agents WHERE id='agent2'")" 0
eq "with its state and nonce" "$(sql "SELECT count(*) FROM states WHERE agent='agent2'") $(sql "SELECT count(*) FROM nonces WHERE agent='agent2'")" "0 0"
eq "its results stay" "$(sql 'SELECT count(*) FROM results')" "$results"
code 404 "DELETE it again" op DELETE /v1/agents/agent2
code 404 "agent2 can no longer ask for a nonce" agent2 GET /v1/agents/agent2/nonce
code 200 "GET /v1/agents" op GET /v1/agents
eq "agent2 is no longer listed" "$(js '[.agents[].id] | join(",")')" agent1,agent3

# --- an operator provisions an agent (no enrollment, no EK): vouch fleet add-agent -------------------
expect_rc 0 "vouch fleet add-agent agent2 with its AK file" fleet add-agent agent2 "$T/ak2.pub"
try "says provisioned" grep -q "^agent2 AK [0-9a-f]\{64\} (provisioned)$" "$T/.out"
eq "stored without an EK, not certified" "$(sql "SELECT ek_fpr || ':' || ek_certified FROM agents WHERE id='agent2'")" ":0"
eq "an enrolled event says by whom" "$(sql "SELECT reason FROM outbox WHERE agent='agent2' AND type='enrolled' ORDER BY seq DESC LIMIT 1")" \
	"provisioned by an operator"
expect_rc 0 "the same AK again is idempotent" fleet add-agent agent2 "$T/ak2.pub"
try "says already provisioned" grep -q "(already provisioned)$" "$T/.out"
expect_rc 3 "another AK for an existing agent is refused (409)" fleet add-agent agent2 "$T/ak1.pub"
printf 'not an AK' >"$T/junk.ak"
expect_rc 3 "a file that is not an AK is refused (400)" fleet add-agent agent5 "$T/junk.ak"
eq "and nothing is stored" "$(sql "SELECT count(*) FROM agents WHERE id='agent5'")" 0
jq -n --arg ak "$(base64 -w0 "$T/ak1.pub")" '{ak: $ak}' >"$T/put.json"
code 403 "an agent's certificate cannot provision" agent1 PUT /v1/agents/agent6 "$T/put.json"
jq -n --arg ak "$(base64 -w0 "$T/ak1.pub")" '{ak: $ak, extra: "x"}' >"$T/put2.json"
code 400 "an unknown member is refused" op PUT /v1/agents/agent6 "$T/put2.json"
try "the provisioned agent attests" round agent2 0x81010011
ear_payload() { python3 -c 'import base64, sys; p = sys.stdin.read().split(".")[1]; sys.stdout.write(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())'; }
eq "agent2 trusted, its EAR claims no hardware" \
	"$(js .verdict) $(js .ear | ear_payload | jq -r '.submods.boot."ear.trustworthiness-vector".hardware')" "trusted 0"

# --- stored reference values edited in the database: refused, nothing changes ----------------------
refdoc "$T/bin/a" "$T/bin/b" >"$T/ab.json"
code 201 "PUT /v1/references/ab" op PUT /v1/references/ab "$T/ab.json"
h=$(js .sha256)
sql "UPDATE reference_docs SET body = '{\"format\": \"vouch-reference\", \"version\": 1, \"files\": {}, \"exclude\": [\"/\"]}' WHERE hash = '$h'"
expect_rc 0 "agent1 moves to 'ab'" fleet set-reference agent1 ab
printf '#!/bin/sh\necho d\n' >"$T/bin/d"
load --tcti "$SWTPM_TCTI" "$T/bin/d"
code 200 "agent1's nonce" agent1 GET /v1/agents/agent1/nonce
"$VOUCH" attest quote --handle 0x81010010 --nonce "$(js .nonce)" --pcrs sha256:0-10 \
	--ima "$ST/measurements" --from-entry "$(js .offset)" --no-eventlog --out "$T/ev.json" >/dev/null 2>&1
before=$(snapshot)
code 503 "a round judged by an edited stored document is refused" agent1 POST /v1/agents/agent1/attest "$T/ev.json"
eq "nothing changed, the nonce is still there" "$(snapshot)" "$before"
grep -q "stored reference values 'ab' ($h) are unusable" "$T/vouchd.log" && ok "vouchd says why" || not_ok "vouchd says why"
expect_rc 0 "agent1 back to the default (none: vouchd has no --reference)" fleet set-reference agent1 default
code 200 "the same evidence is judged under the default" agent1 POST /v1/agents/agent1/attest "$T/ev.json"
eq "trusted" "$(js .verdict)" trusted

# --- vouch fleet events: against a small text/event-stream server --------------------------------------
# vouchd's own event stream: replayed from the start, the client stops when it goes quiet
expect_rc 0 "vouch fleet events from vouchd (replayed from 0)" timeout 20 "$VOUCH_FLEET" \
	--server "$URL" --cert "$P/op.crt" --key "$P/op.key" --cacert "$P/ca.crt" events \
	--last-event-id 0 --idle 2
try "the enrollments are there" grep -q "enrolled" "$T/.out"
try "and agent2's fall" grep -q "untrusted" "$T/.out"
expect_rc 3 "an agent's certificate gets no events" timeout 20 "$VOUCH_FLEET" --server "$URL" \
	--cert "$P/agent1.crt" --key "$P/agent1.key" --cacert "$P/ca.crt" events --idle 1
SPORT=$(free_port)
python3 - "$SPORT" "$P" "$T/sse.log" >"$T/sse.out" 2>&1 <<'PY' &
import http.server, socketserver, ssl, sys, time
port, pki, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
events = [(1, "attestation", '{"agent":"agent1","verdict":"trusted"}'),
          (2, "attestation", '{"agent":"agent2","verdict":"untrusted","detail":"\x1b]0;x"}'),
          (3, "agent_removed", '{"agent":"agent2"}'),
          (4, "attestation", '{"agent":"agent1","verdict":"trusted","n":4}'),
          (5, "attestation", '{"agent":"agent1","verdict":"trusted","n":5}')]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        last = self.headers.get("Last-Event-ID")
        open(log, "a").write("%s %s %s\n" % (self.path, last or "-", self.headers.get("Accept")))
        self.send_response(200); self.send_header("Content-Type", "text/event-stream"); self.end_headers()
        after = int(last) if last else 0
        batch = [e for e in events if e[0] > after][:3]
        self.wfile.write(b": keep-alive\r\n\r\n")
        for i, t, d in batch:
            self.wfile.write(("id: %d\r\nevent: %s\r\ndata: %s\r\n\r\n" % (i, t, d)).encode()); self.wfile.flush()
        time.sleep(4)   # quiet, then the stream ends
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(pki + "/server.crt", pki + "/server.key")
ctx.load_verify_locations(pki + "/opca.crt"); ctx.verify_mode = ssl.CERT_REQUIRED
s = S(("127.0.0.1", port), H); s.socket = ctx.wrap_socket(s.socket, server_side=True); s.serve_forever()
PY
SPID=$!
wait_port "$SPORT" && ok "the event-stream server listens" || not_ok "the event-stream server listens"
SSE=https://127.0.0.1:$SPORT
efleet=("$VOUCH_FLEET" --server "$SSE" --cert "$P/op.crt" --key "$P/op.key" --cacert "$P/ca.crt")
t0=$SECONDS
expect_rc 0 "vouch fleet events: what is there, then stops when the stream goes quiet" timeout 20 "${efleet[@]}" events
try "before the server closes" test $((SECONDS - t0)) -lt 4
eq "three events, one line each" "$(cut -d' ' -f1,2 "$T/.out" | paste -sd,)" "1 attestation,2 attestation,3 agent_removed"
eq "the data as sent" "$(sed -n 1p "$T/.out" | cut -d' ' -f3-)" '{"agent":"agent1","verdict":"trusted"}'
try "a control character in the data is not passed to the terminal" grep -q '"detail":"?\]0;x"' <(sed -n 2p "$T/.out")
expect_rc 0 "events --last-event-id 2 --json" timeout 20 "${efleet[@]}" events --json --last-event-id 2
eq "resumes after event 2" "$(jq -r '.id' "$T/.out" | paste -sd,)" "3,4,5"
eq "the data is JSON" "$(jq -r 'select(.id=="4") | .data.n' "$T/.out")" 4
expect_rc 0 "events --follow --count 5: reconnects after the stream ends" timeout 30 "${efleet[@]}" events --follow --count 5
eq "five events across two connections" "$(cut -d' ' -f1 "$T/.out" | paste -sd,)" "1,2,3,4,5"
eq "the server saw Last-Event-ID: -, 2, -, 3" "$(cut -d' ' -f2 "$T/sse.log" | paste -sd,)" "-,2,-,3"
try "and the event-stream Accept header" grep -q "/v1/events - text/event-stream" "$T/sse.log"
stop_helpers

grep -qi 'AddressSanitizer\|LeakSanitizer\|runtime error' "$T/vouchd.log" && not_ok "no sanitizer report" || ok "no sanitizer report"
done_testing
