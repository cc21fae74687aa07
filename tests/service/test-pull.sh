#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# vouchd with push and pull agents at once: one vouchd polling every second, a push agent on
# one swtpm and a pull agent (vouch-agent --mode pull) on another; the pull agent's list
# grows between rounds and only the entries after the stored offset are asked for; a
# tampered entry is untrusted within two intervals while the push agent stays trusted.
# Must-fail: a caller without the verifier's certificate, a fake pull agent replaying an
# old evidence or answering garbage, a URL outside --pull-allow.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/swtpm.sh"
. "$(dirname "$0")/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
VOUCH_AGENT=${VOUCH_AGENT:?VOUCH_AGENT must point at the vouch-agent binary}
require_peers swtpm curl jq sqlite3 python3 openssl
PIDS=()
TPMS=()
cleanup() {
	stop_pids "${PIDS[@]}"
	for p in "${TPMS[@]}"; do SWTPM_PID=$p; swtpm_stop; done
	rm -rf "$T"
}
trap cleanup EXIT
swtpm_start "$T/tpm1" || { not_ok "swtpm 1 starts"; done_testing; }
TPMS+=("$SWTPM_PID"); TCTI1=$SWTPM_TCTI
swtpm_start "$T/tpm2" || { not_ok "swtpm 2 starts"; done_testing; }
TPMS+=("$SWTPM_PID"); TCTI2=$SWTPM_TCTI
ok "two swtpm instances"

# --- certificates ----------------------------------------------------------------------
make_ca ca
issue ca server localhost "IP:127.0.0.1,DNS:localhost"
issue ca verifier vouchd-verifier "DNS:vouchd-verifier"
issue ca agent1 agent1
issue ca pull1 pull1 "DNS:pull1,IP:127.0.0.1"
issue ca fake fake "DNS:fake,IP:127.0.0.1"
[ -s "$P/fake.crt" ] && ok "test PKI" || { not_ok "test PKI"; done_testing; }

# --- options -----------------------------------------------------------------------------------
srv_opts=(--listen 127.0.0.1:1 --db "$T/opts.db" --tls-cert "$P/server.crt" --tls-key "$P/server.key" --client-ca "$P/ca.crt")
pull_opts=(--pull-cert "$P/verifier.crt" --pull-key "$P/verifier.key" --pull-ca "$P/ca.crt")
expect_rc 2 "vouchd: --pull-cert without --pull-key and --pull-ca" "$VOUCHD" "${srv_opts[@]}" --pull-cert "$P/verifier.crt"
expect_rc 2 "vouchd: an invalid --pull-allow" "$VOUCHD" "${srv_opts[@]}" "${pull_opts[@]}" --pull-allow 127.0.0.0/33
expect_rc 2 "vouchd: --pull-allow with a host name" "$VOUCHD" "${srv_opts[@]}" "${pull_opts[@]}" --pull-allow localhost
expect_rc 2 "vouchd: --interval 0" "$VOUCHD" "${srv_opts[@]}" "${pull_opts[@]}" --interval 0
chmod 644 "$P/verifier.key"
expect_rc 2 "vouchd: a --pull-key readable by others" "$VOUCHD" "${srv_opts[@]}" "${pull_opts[@]}"
chmod 600 "$P/verifier.key"
expect_rc 2 "vouch-agent: pull mode without --verifier-name" "$VOUCH_AGENT" --mode pull --listen 127.0.0.1:1 \
	--cert "$P/pull1.crt" --key "$P/pull1.key" --cacert "$P/ca.crt" --tpm "$TCTI2"
expect_rc 2 "vouch-agent: pull mode with --interval" "$VOUCH_AGENT" --mode pull --listen 127.0.0.1:1 \
	--verifier-name v --cert "$P/pull1.crt" --key "$P/pull1.key" --cacert "$P/ca.crt" --tpm "$TCTI2" --interval 1
expect_rc 2 "vouch-agent: --listen in push mode" "$VOUCH_AGENT" --server https://127.0.0.1:1 --id a \
	--cert "$P/pull1.crt" --key "$P/pull1.key" --cacert "$P/ca.crt" --tpm "$TCTI2" --once --listen 127.0.0.1:1
expect_rc 2 "vouch-agent: an unknown --mode" "$VOUCH_AGENT" --mode poll --listen 127.0.0.1:1

# wait_for SECONDS CMD...: CMD succeeds within SECONDS
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done; }

# --- vouchd, polling every second -------------------------------------------------------------
DB=$T/vouchd.db
start_vouchd() {
	vouchd_up "$T/vouchd.log" --db "$DB" --tls-cert "$P/server.crt" \
		--tls-key "$P/server.key" --client-ca "$P/ca.crt" --pcrs sha256:0-10 \
		--agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/ca.key" --allow-ek-public \
		--pull-cert "$P/verifier.crt" --pull-key "$P/verifier.key" --pull-ca "$P/ca.crt" \
		--pull-allow 127.0.0.0/8 --pull-allow ::1 --interval 1 --pull-timeout 3 &&
		PIDS+=("$VPID")
}
start_vouchd && ok "vouchd starts with --pull-allow 127.0.0.0/8 --interval 1" ||
	{ not_ok "vouchd starts"; sed 's/^/#   /' "$T/vouchd.log"; done_testing; }
entries() { sql "SELECT json_extract(state, '$.entries') FROM states WHERE agent = '$1'"; }
rows() { sql "SELECT count(*) FROM results WHERE agent = '$1' AND verdict = '$2'"; }
# req WHO METHOD URL [BODYFILE] -> HTTP code on stdout, body in $T/.out
req() {
	local who=$1 method=$2 url=$3 body=${4:-} a=()
	[ "$who" != none ] && a=(--cert "$P/$who.crt" --key "$P/$who.key")
	[ -n "$body" ] && a+=(-H "Content-Type: application/json" --data-binary "@$body")
	# the pull agent serves with its enrolled certificate, which names pull1, not an address:
	# these requests test whom the agent answers, not who it is
	[ -n "${AURL:-}" ] && [[ $url == "$AURL"* ]] && a+=(--insecure)
	curl -sS --tlsv1.3 --cacert "$P/ca.crt" "${a[@]}" -X "$method" -o "$T/.out" \
		-w '%{http_code}' "$url" 2>"$T/.curl"
}

# --- the engines: one list per TPM; the agents read copies, replaced atomically ----------------
POL=$T/engine.pol
echo 'measure func=BPRM_CHECK' >"$POL"
mkdir -p "$T/bin"
for f in a b c d e f g h i j; do printf '#!/bin/sh\necho %s\n' "$f" >"$T/bin/$f"; done
load() { # STATE-DIR TCTI FILES...
	local st=$1 tcti=$2; shift 2
	"$VOUCH" load --state-dir "$st" --policy "$POL" --mode log --func BPRM_CHECK --tcti "$tcti" \
		"$@" >/dev/null
}
check "AK in TPM 1" env VOUCH_TCTI="$TCTI1" "$VOUCH" tpm ak create --out "$T/ak1"
check "AK in TPM 2" env VOUCH_TCTI="$TCTI2" "$VOUCH" tpm ak create --out "$T/ak2"
check "the engine measures a and b into TPM 1" load "$T/st1" "$TCTI1" "$T/bin/a" "$T/bin/b"
check "the engine measures a and b into TPM 2" load "$T/st2" "$TCTI2" "$T/bin/a" "$T/bin/b"
# the agents read the engines' own lists (appended under the lock the agent takes): a copy
# published after the extend would lag behind the quote and make a round untrusted.  The
# pull list is a link so that the tamper step below can put a forged file in its place.
ln -s "$T/st1/measurements" "$T/push.list"
ln -s "$T/st2/measurements" "$T/pull.list"

# --- the agents ----------------------------------------------------------------------------------
# both enroll first (--enroll: the test PKI's certificates are replaced by vouchd's); the pull
# agent then serves its quotes with the enrolled certificate, which names pull1
"$VOUCH_AGENT" --server "$URL" --id agent1 --cert "$P/agent1.crt" --key "$P/agent1.key" \
	--cacert "$P/ca.crt" --tpm "$TCTI1" --ima-list "$T/push.list" --interval 1 --enroll \
	>"$T/push.out" 2>"$T/push.log" &
PIDS+=("$!")
start_pull() {
	listen_up "$T/pull.log" "$VOUCH_AGENT" --mode pull --verifier-name vouchd-verifier \
		--cert "$P/pull1.crt" --key "$P/pull1.key" --cacert "$P/ca.crt" --tpm "$TCTI2" \
		--ima-list "$T/pull.list" --server "$URL" --id pull1 --enroll || return 1
	APORT=$UP_PORT APID=$UP_PID AURL=https://127.0.0.1:$UP_PORT
	PIDS+=("$APID")
}
start_pull && ok "the pull agent registers and listens on 127.0.0.1:$APORT" ||
	{ not_ok "the pull agent starts"; sed 's/^/#   /' "$T/pull.log"; done_testing; }
registered() { [ "$(sql "SELECT count(*) FROM agents WHERE id='pull1' AND mode='pull'")" = 1 ]; }
wait_for 10 registered || not_ok "the pull agent registered"
eq "vouchd stores it as a pull agent" "$(sql "SELECT mode || ' ' || url FROM agents WHERE id='pull1'")" "pull $AURL"
pushing() { [ "$(sql "SELECT count(*) FROM agents WHERE id='agent1'")" = 1 ]; }
wait_for 10 pushing || not_ok "the push agent enrolled"
eq "the push agent is a push agent" "$(sql "SELECT mode || ' ' || ifnull(url, '-') FROM agents WHERE id='agent1'")" "push -"

# --- round 1: both attest ------------------------------------------------------------------------
pull_at() { [ "$(entries pull1)" = "$1" ]; }
push_at() { [ "$(entries agent1)" = "$1" ]; }
wait_for 10 pull_at 3 && ok "the poller attests pull1: 3 entries" || not_ok "the poller attests pull1 (state: $(entries pull1))"
wait_for 10 push_at 3 && ok "agent1 pushes: 3 entries" || not_ok "agent1 pushes (state: $(entries agent1))"
check "the pull agent sent all 3 entries" grep -q "entries after 0, 3 sent" "$T/pull.log"

# --- the lists grow: only the entries after the stored offset are asked for -------------------------
check "TPM 2 measures c" load "$T/st2" "$TCTI2" "$T/bin/c"
wait_for 10 pull_at 4 && ok "pull1 at 4 entries" || not_ok "pull1 at 4 entries (state: $(entries pull1))"
check "vouchd asked for the entries after 3: one sent" grep -q "entries after 3, 1 sent" "$T/pull.log"
check "TPM 2 measures d and e" load "$T/st2" "$TCTI2" "$T/bin/d" "$T/bin/e"
check "TPM 1 measures c" load "$T/st1" "$TCTI1" "$T/bin/c"
wait_for 10 pull_at 6 && ok "pull1 at 6 entries" || not_ok "pull1 at 6 entries (state: $(entries pull1))"
check "vouchd asked for the entries after 4: two sent" grep -q "entries after 4, 2 sent" "$T/pull.log"
wait_for 10 push_at 4 && ok "agent1 at 4 entries" || not_ok "agent1 at 4 entries (state: $(entries agent1))"
check "rounds without new entries ask after 6 and send nothing" wait_for 5 grep -q "entries after 6, 0 sent" "$T/pull.log"
# idle rounds (nothing new) are judged too: the quote against the state, one row each
idle_rounds() { [ "$(rows pull1 trusted)" -ge 4 ]; }
wait_for 5 idle_rounds && ok "pull1's idle rounds are attested (quote alone)" || not_ok "pull1's idle rounds are attested"
eq "pull1 and agent1: no untrusted or error result" "$(rows pull1 untrusted) $(rows pull1 error) $(rows agent1 untrusted) $(rows agent1 error)" "0 0 0 0"
check "agent1 attests while idle too" test "$(rows agent1 trusted)" -ge 3

# --- the pull agent's endpoint: only the verifier may ask -------------------------------------------
code 401 "no client certificate: refused by the pull agent" none GET "$AURL/v1/quote?nonce=00&offset=0"
code 403 "agent1's certificate (same CA, not the verifier): refused" agent1 GET "$AURL/v1/quote?nonce=00&offset=0"
code 400 "the verifier without a nonce" verifier GET "$AURL/v1/quote?offset=0"
code 400 "the verifier with a repeated nonce" verifier GET "$AURL/v1/quote?nonce=00&nonce=01&offset=0"
code 404 "the verifier on another path" verifier GET "$AURL/v1/other?nonce=00&offset=0"
code 200 "the verifier's certificate gets the evidence" verifier GET "$AURL/v1/quote?nonce=0badcafe&offset=0&pcrs=sha256:0-10"
cp "$T/.out" "$T/recorded.ev"
eq "an evidence document with the whole list" "$(jq -r '.ima.from_entry // 0' "$T/recorded.ev") $(jq -r .ima.binary "$T/recorded.ev" | base64 -d | grep -c "$T/bin/")" "0 5"
code 409 "pull1 cannot fetch a push nonce" pull1 GET "$URL/v1/agents/pull1/nonce"
code 409 "pull1 cannot push evidence" pull1 POST "$URL/v1/agents/pull1/attest" "$T/recorded.ev"

# --- tamper with an entry the verifier has not seen: untrusted within 2 intervals --------------------
# the agent reads a copy from here on, so that it never sees the honest entry 7
cp "$T/st2/measurements" "$T/pull.list.tmp" && mv "$T/pull.list.tmp" "$T/pull.list"
check "TPM 2 measures f" load "$T/st2" "$TCTI2" "$T/bin/f"
python3 - "$T/st2/measurements" "$T/pull.list.tmp" 7 <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read()); i = 0; n = 0
while i < len(b):
    s = i; i += 4 + 20
    nl = struct.unpack_from("<I", b, i)[0]; i += 4 + nl
    dl = struct.unpack_from("<I", b, i)[0]; d = i + 4; i += 4 + dl
    n += 1
    if n == int(sys.argv[3]): b[d + 4 + 8 + 5] ^= 1   # a byte of the file digest
open(sys.argv[2], "wb").write(b)
PY
t0=$SECONDS
mv "$T/pull.list.tmp" "$T/pull.list"
untrusted() { [ "$(rows pull1 untrusted)" -ge 1 ]; }
# two 1 s intervals, plus a second for the whole-second clock of $SECONDS
wait_for 3 untrusted && ok "pull1 untrusted within 2 intervals ($((SECONDS - t0)) s)" || not_ok "pull1 untrusted within 2 intervals"
eq "reason: the list" "$(sql "SELECT json_extract(body, '$.first_failure.check') FROM results WHERE agent='pull1' AND verdict='untrusted' LIMIT 1")" ima_list
eq "pull1's state did not advance" "$(entries pull1)" 6
check "TPM 1 measures d" load "$T/st1" "$TCTI1" "$T/bin/d"
wait_for 10 push_at 5 && ok "agent1 stays trusted: 5 entries" || not_ok "agent1 stays trusted (state: $(entries agent1))"
eq "agent1: no untrusted or error result" "$(rows agent1 untrusted) $(rows agent1 error)" "0 0"

# --- a fake pull agent replaying an old evidence: nonce mismatch, nothing advances ------------------
cat >"$T/fake.py" <<'PY'
import http.server, os, socket, ssl, sys, time
port_file, cert, key, ca, body, log = sys.argv[1:]
if body == "silent":   # accepts connections, never says a word
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    held = []
    while True:
        held.append(s.accept()[0])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        b = open(body, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
PY
cp "$T/recorded.ev" "$T/fake.body"
python3 "$T/fake.py" "$T/fake.port" "$P/fake.crt" "$P/fake.key" "$P/ca.crt" "$T/fake.body" "$T/fake.log" 2>"$T/fake.err" &
PIDS+=("$!")
wait_for 10 test -s "$T/fake.port" && FURL=https://127.0.0.1:$(cat "$T/fake.port") && ok "a fake pull agent listens" ||
	{ not_ok "a fake pull agent listens"; done_testing; }
# the fake agent enrolls TPM 2's AK (EK public area: --allow-ek-public) with its own key
check "TPM 2's EK" env VOUCH_TCTI="$TCTI2" "$VOUCH" tpm ek --public "$T/ek2.pub"
jq -n --arg ek "$(base64 -w0 "$T/ek2.pub")" --arg ak "$(base64 -w0 "$T/ak2.pub")" --rawfile csr "$P/fake.csr" \
	'{ek_public: $ek, ak: $ak, csr: $csr}' >"$T/fake-enroll.json"
code 200 "the fake agent enrolls TPM 2's AK" none POST "$URL/v1/agents/fake/enroll" "$T/fake-enroll.json"
jq -r .credential "$T/.out" | base64 -d >"$T/fake.cred"
check "TPM 2 activates the credential" env VOUCH_TCTI="$TCTI2" "$VOUCH" tpm credential activate \
	--ak-handle 0x81010010 "$T/fake.cred" --out "$T/fake.secret"
jq -n --arg s "$(od -An -tx1 "$T/fake.secret" | tr -d ' \n')" '{secret: $s}' >"$T/fake.act"
code 201 "the fake agent's certificate" none POST "$URL/v1/agents/fake/activate" "$T/fake.act"
jq -r .certificate "$T/.out" >"$P/fake-enrolled.crt"
cp "$P/fake.key" "$P/fake-enrolled.key"
jq -n --arg url "http://127.0.0.1:1" '{mode: "pull", url: $url}' >"$T/reg.json"
code 400 "registration with an http URL" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg.json"
jq '.url = "https://localhost:1"' "$T/reg.json" >"$T/reg2.json"
code 400 "registration with a host name" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"
jq '.url = "https://10.1.2.3:443"' "$T/reg.json" >"$T/reg2.json"
code 403 "registration with a URL outside --pull-allow" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"
jq '.url = "https://127.0.0.1:1/x?y"' "$T/reg.json" >"$T/reg2.json"
code 400 "registration with a path and query" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"
jq '.mode = "poll"' "$T/reg.json" >"$T/reg2.json"
code 400 "registration with an unknown mode" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"
eq "nothing stored for the refused registrations" "$(sql "SELECT mode FROM agents WHERE id='fake'")" push
code 401 "a mode change without a client certificate" \
	none POST "$URL/v1/agents/fake/mode" "$T/reg.json"
jq --arg url "$FURL" '.url = $url' "$T/reg.json" >"$T/reg2.json"
code 200 "the fake agent switches to pull mode" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"
fake_untrusted() { [ "$(rows fake untrusted)" -ge 1 ]; }
wait_for 5 fake_untrusted && ok "the replayed evidence is judged untrusted" || not_ok "the replayed evidence is judged untrusted"
eq "reason: nonce" "$(sql "SELECT json_extract(body, '$.first_failure.check') FROM results WHERE agent='fake' AND verdict='untrusted' LIMIT 1")" nonce
check "vouchd asked the fake with a fresh nonce, not the recorded one" sh -c "grep -q '^/v1/quote?nonce=[0-9a-f]\{64\}&offset=0&pcrs=' '$T/fake.log' && ! grep -q 0badcafe '$T/fake.log'"
eq "no state for the fake agent" "$(sql "SELECT count(*) FROM states WHERE agent='fake'")" 0
echo '{"not": "evidence"}' >"$T/fake.body.tmp" && mv "$T/fake.body.tmp" "$T/fake.body"
fake_error() { [ "$(rows fake error)" -ge 1 ]; }
wait_for 5 fake_error && ok "garbage from a pull agent is an error result" || not_ok "garbage from a pull agent is an error result"
check "with the reason" sh -c "sqlite3 '$DB' \"SELECT body FROM results WHERE agent='fake' AND verdict='error'\" | grep -q 'not an evidence document'"
eq "still no state for the fake agent" "$(sql "SELECT count(*) FROM states WHERE agent='fake'")" 0

# --- a pull agent with a certificate from another CA, one that never answers: error rows -----------
ecgen "$P/rogue-ca.key"
openssl req -x509 -new -key "$P/rogue-ca.key" -subj /CN=rogue -days 2 -out "$P/rogue-ca.crt" 2>/dev/null
openssl req -x509 -new -key "$P/fake.key" -subj /CN=fake -addext subjectAltName=IP:127.0.0.1 \
	-days 2 -out "$P/rogue.crt" 2>/dev/null
cp "$T/recorded.ev" "$T/fake.body"
python3 "$T/fake.py" "$T/rogue.port" "$P/rogue.crt" "$P/fake.key" "$P/ca.crt" "$T/fake.body" "$T/rogue.log" 2>"$T/rogue.err" &
PIDS+=("$!")
python3 "$T/fake.py" "$T/silent.port" - - - silent - 2>"$T/silent.err" &
PIDS+=("$!")
wait_for 10 test -s "$T/rogue.port" -a -s "$T/silent.port" && ok "a rogue and a silent pull agent listen" ||
	{ not_ok "a rogue and a silent pull agent listen"; done_testing; }
n_err=$(rows fake error)
jq --arg url "https://127.0.0.1:$(cat "$T/rogue.port")" '.url = $url' "$T/reg.json" >"$T/reg2.json"
code 200 "the fake agent moves its URL to the rogue server" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"
tls_error() { sqlite3 "$DB" "SELECT body FROM results WHERE agent='fake' AND verdict='error'" | grep -qi 'fetch: .*certificate'; }
wait_for 5 tls_error && ok "an agent certificate from another CA: an error row naming the certificate" ||
	not_ok "an agent certificate from another CA: an error row"
check "the rogue server never saw a request" test ! -s "$T/rogue.log"
# a server with a valid certificate of the same CA that names another agent (agent1's)
python3 "$T/fake.py" "$T/other.port" "$P/agent1.crt" "$P/agent1.key" "$P/ca.crt" "$T/fake.body" "$T/other.log" 2>"$T/other.err" &
PIDS+=("$!")
wait_for 10 test -s "$T/other.port" || not_ok "a server with agent1's certificate listens"
n_err=$(rows fake error)
jq --arg url "https://127.0.0.1:$(cat "$T/other.port")" '.url = $url' "$T/reg.json" >"$T/reg2.json"
code 200 "the fake agent moves its URL to a server with agent1's certificate" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"
named_error() { [ "$(rows fake error)" -gt "$n_err" ]; }
wait_for 5 named_error && ok "a certificate naming another agent: an error row" || not_ok "a certificate naming another agent: an error row"
check "the server with agent1's certificate never saw a request" test ! -s "$T/other.log"
jq --arg url "https://127.0.0.1:$(cat "$T/silent.port")" '.url = $url' "$T/reg.json" >"$T/reg2.json"
code 200 "the fake agent moves its URL to the silent server" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"
timeout_error() { sqlite3 "$DB" "SELECT body FROM results WHERE agent='fake' AND verdict='error'" | grep -qi 'fetch: timeout'; }
wait_for 8 timeout_error && ok "an agent that never answers: a timeout error row after --pull-timeout" ||
	not_ok "an agent that never answers: a timeout error row"
code 200 "meanwhile the push endpoints answer" none GET "$URL/healthz"
eq "no state for the fake agent" "$(sql "SELECT count(*) FROM states WHERE agent='fake'")" 0
jq '.url = "https://u:p@127.0.0.1:1"' "$T/reg.json" >"$T/reg2.json"
code 400 "a URL with user info" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"
jq '.url = "https://[::1]:9/"' "$T/reg.json" >"$T/reg2.json"
code 200 "an IPv6 URL inside --pull-allow ::1" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"
eq "stored normalised" "$(sql "SELECT url FROM agents WHERE id='fake'")" "https://[::1]:9"
jq '.url = "https://[::2]:9"' "$T/reg.json" >"$T/reg2.json"
code 403 "an IPv6 URL outside" fake-enrolled POST "$URL/v1/agents/fake/mode" "$T/reg2.json"

# --- an agent that went away: a failed fetch is an error result, no state moves ---------------------
kill "$APID"; wait "$APID" 2>/dev/null
n_err=$(rows pull1 error)
more_errors() { [ "$(rows pull1 error)" -gt "$n_err" ]; }
wait_for 5 more_errors && ok "a pull agent that does not answer: an error result" || not_ok "an unreachable pull agent: an error result"
check "the reason names the fetch" sh -c "sqlite3 '$DB' \"SELECT body FROM results WHERE agent='pull1' AND verdict='error'\" | grep -q 'fetch: '"
eq "pull1's state stays at 6" "$(entries pull1)" 6

# --- the push endpoints kept serving; the chain holds ----------------------------------------------
code 200 "healthz" none GET "$URL/healthz"
code 200 "metrics" none GET "$URL/metrics"
cp "$T/.out" "$T/metrics.txt"
check "pull rounds are counted" grep -Eq '^vouchd_pull_rounds_total [1-9][0-9]*$' "$T/metrics.txt"
check "failed pull rounds are counted" grep -Eq '^vouchd_pull_rounds_failed_total [1-9][0-9]*$' "$T/metrics.txt"
kill "$VPID"; wait "$VPID" 2>/dev/null
expect_rc 0 "the results chain verifies" "$VOUCHD" --db "$DB" --verify-chain
grep -qi 'AddressSanitizer\|LeakSanitizer\|runtime error' "$T/vouchd.log" "$T/pull.log" "$T/push.log" &&
	not_ok "no sanitizer report" || ok "no sanitizer report"
done_testing
