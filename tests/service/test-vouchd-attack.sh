#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# vouchd's HTTP layer attacked while an honest agent attests twice a second (service-load
# with a software AK: every round must succeed within 5 s): truncated requests, oversized
# bodies and headers, slowloris in the handshake and in the headers, plain HTTP and garbage
# on the TLS port, a TLS 1.2-only client, a client certificate from a rogue CA, 500 idle
# connections against a cap of 100 (shed).  Then the limits: the per-agent rate (429) and
# the global one (503), both with Retry-After; vouchd still alive, its result chain intact.
. "$(dirname "$0")/../integration/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
LOAD=${SERVICE_LOAD:?SERVICE_LOAD must point at the service-load generator}
require_peers curl python3 openssl
VPID= HPID=
trap '[ -n "$HPID" ] && kill "$HPID" 2>/dev/null; [ -n "$VPID" ] && kill "$VPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

P=$T/pki
mkdir -p "$P"
ecgen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null && chmod 600 "$1"; }
issue() { # NAME CN SAN [CA]
	local ca=${4:-ca}
	ecgen "$P/$1.key"
	openssl req -new -key "$P/$1.key" -subj "/CN=$2" -out "$P/$1.csr" 2>/dev/null
	printf 'basicConstraints=CA:FALSE\nsubjectAltName=%s\n' "$3" >"$P/$1.ext"
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$ca.crt" -CAkey "$P/$ca.key" -CAcreateserial \
		-days 1 -extfile "$P/$1.ext" -out "$P/$1.crt" 2>/dev/null
}
for ca in ca rogue-ca opca; do
	ecgen "$P/$ca.key"
	openssl req -x509 -new -key "$P/$ca.key" -subj "/CN=$ca" -days 1 -out "$P/$ca.crt" 2>/dev/null
done
issue server localhost "IP:127.0.0.1,DNS:localhost"
issue honest agent0 "URI:agent0"
issue other other "URI:agent1,URI:agent2,URI:agent3,URI:agent4,URI:agent5,URI:agent6"
issue rogue agent1 "URI:agent1" rogue-ca
# the operator provisions the load generator's software AKs (PUT /v1/agents/ID)
issue op operator "URI:operator" opca
export SERVICE_LOAD_OPERATOR_CERT=$P/op.crt SERVICE_LOAD_OPERATOR_KEY=$P/op.key
[ -s "$P/rogue.crt" ] && ok "test PKI" || { not_ok "test PKI"; done_testing; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in 1 2 3 4 5 6; do
	PORT=$((20001 + (RANDOM % 20000) * 2))
	port_free "$PORT" || continue
	"$VOUCHD" --listen "127.0.0.1:$PORT" --db "$T/vouchd.db" --tls-cert "$P/server.crt" \
		--tls-key "$P/server.key" --client-ca "$P/ca.crt" --operator-ca "$P/opca.crt" \
		--pcrs sha256:10 --handshake-timeout 3 --agent-rate 10 --max-rate 20 --max-connections 100 2>"$T/vouchd.log" &
	VPID=$!
	for _ in $(seq 100); do port_free "$PORT" || break; sleep 0.05; done
	port_free "$PORT" || break
	kill "$VPID"; wait "$VPID"; VPID=
done
[ -n "$VPID" ] && ok "vouchd starts on 127.0.0.1:$PORT" || { not_ok "vouchd starts"; done_testing; }
URL=https://127.0.0.1:$PORT
metric() { curl -sS --cacert "$P/ca.crt" "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# the honest agent: 2 rounds a second for 28 s, each within 5 s, all trusted
"$LOAD" "$URL" "$P/ca.crt" "$P/honest.crt" "$P/honest.key" 1 1 28 0.5 >"$T/honest.out" 2>&1 &
HPID=$!
sleep 2

# attacks: python3 with the ssl module; each line it prints is "NAME RESULT"
python3 - "$PORT" "$P" >"$T/attack.out" 2>&1 <<'PY' || true
import socket, ssl, sys, threading, time
port, p = int(sys.argv[1]), sys.argv[2]
def ctx(cert="honest", tls12=False):
    c = ssl.create_default_context(cafile=p + "/ca.crt")
    if cert: c.load_cert_chain(p + "/" + cert + ".crt", p + "/" + cert + ".key")
    if tls12: c.maximum_version = ssl.TLSVersion.TLSv1_2
    return c
def tls(cert="honest", tls12=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx(cert, tls12).wrap_socket(s, server_hostname="localhost")
def reply(s):
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            data += d
            if b"\r\n\r\n" in data: break
    except (OSError, ssl.SSLError): pass
    return data.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
def out(*a): print(*a, flush=True)

# truncated: Content-Length larger than sent, then close
for _ in range(20):
    s = tls(); s.sendall(b"POST /v1/agents/agent0/attest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"format\""); s.close()
out("truncated", "sent")
# oversized body: headers announce 64 MiB, nothing follows: 413 without the body
s = tls(); t0 = time.time()
s.sendall(b"POST /v1/agents/agent0/attest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 67108864\r\n\r\n")
r = reply(s); out("oversized-body", r.split(" ")[1] if r.startswith("HTTP/") else r, "%.1f" % (time.time() - t0)); s.close()
# oversized headers: 64 KiB of them
# vouchd may answer and close after its 16 KiB header limit, before the client has sent all
s = tls()
try:
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 65536 + b"\r\n\r\n")
    r = reply(s)
except (ssl.SSLError, OSError):
    r = "closed"
out("oversized-headers", r.split(" ")[1] if r.startswith("HTTP/") else r); s.close()
# plain HTTP and garbage on the TLS port
for name, data in (("plain-http", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), ("garbage", bytes(range(256)) * 16)):
    s = socket.create_connection(("127.0.0.1", port), timeout=10); s.sendall(data)
    try: d = s.recv(4096)
    except OSError: d = b""
    out(name, "http" if d.startswith(b"HTTP/") else "refused"); s.close()
# a TLS 1.2-only client
try: tls(tls12=True); out("tls12", "connected")
except (ssl.SSLError, OSError): out("tls12", "refused")
# a client certificate from a rogue CA
try:
    s = tls("rogue"); s.sendall(b"GET /v1/agents/agent1/nonce HTTP/1.1\r\nHost: x\r\n\r\n")
    r = reply(s); out("rogue-ca", r.split(" ")[1] if r.startswith("HTTP/") else "refused")
except (ssl.SSLError, OSError): out("rogue-ca", "refused")

# slowloris: 30 in the TLS handshake (raw TCP, one byte a second), 30 after it (a header
# byte a second); each must be closed by vouchd within its deadline (3 s) + slack
def loris(handshake, res, i):
    t0 = time.time()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=15) if handshake else tls()
        data = b"\x16\x03\x01\x02\x00\x01" if handshake else b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 100
        for b in data:
            s.sendall(bytes([b]))
            if handshake:
                s.settimeout(1)
                try:
                    if s.recv(1) == b"": break
                except socket.timeout: pass
            else:
                time.sleep(1)
        s.settimeout(15) # all sent (a 6-byte record header): vouchd must still close it
        s.recv(1)
    except (OSError, ssl.SSLError): pass
    res[i] = time.time() - t0
for handshake in (True, False):
    res = [None] * 30
    th = [threading.Thread(target=loris, args=(handshake, res, i)) for i in range(30)]
    for t in th: t.start()
    for t in th: t.join()
    out("slowloris-" + ("handshake" if handshake else "headers"), "%.1f" % max(res))

# 500 idle connections at once (half of them after a handshake)
conns, shut = [], 0 # shut: closed by vouchd before or in the handshake (shed)
for i in range(500):
    try: s = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError: break
    if i % 2:
        try: s = ctx().wrap_socket(s, server_hostname="localhost")
        except (OSError, ssl.SSLError): shut += 1; s.close(); continue
    conns.append(s)
out("idle-opened", len(conns) + shut)
time.sleep(4.5)
closed = 0
for c in conns:
    try:
        c.settimeout(0.05)
        closed += c.recv(1) == b""
    except socket.timeout: pass
    except (OSError, ssl.SSLError): closed += 1
out("idle-closed", closed + shut)
for c in conns: c.close()
PY
sed 's/^/# /' "$T/attack.out"
res() { awk -v n="$1" '$1 == n {print $2}' "$T/attack.out"; }
eq "a body announced above the cap: 413 at once" "$(res oversized-body)" 413
case $(res oversized-headers) in 4*|closed) ok "oversized headers refused ($(res oversized-headers))" ;; *) not_ok "oversized headers: $(res oversized-headers)" ;; esac
eq "plain HTTP on the TLS port gets no HTTP reply" "$(res plain-http)" refused
eq "garbage on the TLS port gets no HTTP reply" "$(res garbage)" refused
eq "a TLS 1.2-only client cannot connect" "$(res tls12)" refused
case $(res rogue-ca) in refused|401) ok "a rogue CA's client certificate is refused ($(res rogue-ca))" ;; *) not_ok "rogue CA: $(res rogue-ca)" ;; esac
if openssl s_client -tls1_2 -connect "127.0.0.1:$PORT" </dev/null >"$T/s12" 2>&1; then not_ok "openssl s_client -tls1_2 fails"; else ok "openssl s_client -tls1_2 fails"; fi
for k in handshake headers; do
	t=$(res slowloris-$k)
	if [ -n "$t" ] && (( $(echo "$t < 7" | bc -l) )); then ok "slowloris in the $k: every connection closed by vouchd in ${t} s"; else not_ok "slowloris in the $k: held ${t:-?} s"; fi
done
eq "500 idle connections opened" "$(res idle-opened)" 500
eq "all 500 closed by vouchd (deadline, or shed above --max-connections 100)" "$(res idle-closed)" 500
shed=$(metric 'vouchd_connections_closed_total{reason="shed"}')
[ "${shed:-0}" -ge 100 ] && ok "$shed connections above the cap were shed at once" || not_ok "shed: ${shed:-none}"

if wait "$HPID"; then ok "the honest agent attested throughout: $(grep -o '^steady: *[0-9]* attestations' "$T/honest.out")"; else not_ok "the honest agent failed"; sed 's/^/#   /' "$T/honest.out" | head; fi
HPID=
n=$(awk '/^steady:/ {print $2}' "$T/honest.out")
[ "${n:-0}" -ge 30 ] && ok "at least 30 honest rounds ($n)" || not_ok "only ${n:-0} honest rounds"

# per-agent rate (10/s): 25 attest requests for agent1 in a burst, which may straddle two
# wall-clock seconds: at most 20 reach the checks (400, the body is no evidence), the
# rest get 429
cfg() { for i in $(seq "$2"); do printf 'url = "%s/v1/agents/%s/attest"\n' "$URL" "$1"; done; }
burst() { # CONFIG: keep-alive POSTs, one status code a line
	curl -sS --cacert "$P/ca.crt" --cert "$P/other.crt" --key "$P/other.key" -X POST \
		-H 'Content-Type: application/json' -d '{}' -o /dev/null -w '%{http_code}\n' \
		-D "$T/hdrs" -K "$1"
}
cfg agent1 25 >"$T/b1"
burst "$T/b1" >"$T/codes1"
n400=$(grep -c '^400$' "$T/codes1" || true)
n429=$(grep -c '^429$' "$T/codes1" || true)
if [ "$n400" -ge 10 ] && [ "$n400" -le 20 ] && [ "$n429" -ge 5 ] && [ $((n400 + n429)) -eq 25 ]; then
	ok "per-agent rate: $n400 checked, $n429 refused with 429"
else
	not_ok "per-agent rate: $(sort "$T/codes1" | uniq -c | tr '\n' ' ')"
fi
grep -qi '^Retry-After: 1' "$T/hdrs" && ok "429 carries Retry-After" || not_ok "429 without Retry-After"
# global rate (--max-rate 20): 6 agents x 8 requests, none over its own rate: some get 503
for a in agent1 agent2 agent3 agent4 agent5 agent6; do cfg "$a" 8; done >"$T/b2"
burst "$T/b2" >"$T/codes2"
n503=$(grep -c '^503$' "$T/codes2" || true)
[ "$n503" -ge 8 ] && ok "global rate: $n503 of 48 requests over --max-rate got 503" ||
	not_ok "global rate: $(sort "$T/codes2" | uniq -c | tr '\n' ' ')"
grep -qi '^Retry-After: 1' "$T/hdrs" && ok "503 carries Retry-After" || not_ok "503 without Retry-After"

kill -0 "$VPID" 2>/dev/null && ok "vouchd is alive" || not_ok "vouchd died"
eq "vouchd answers /healthz" "$(curl -sS --cacert "$P/ca.crt" "$URL/healthz")" ok
d=$(metric 'vouchd_connections_closed_total{reason="deadline"}')
[ "${d:-0}" -ge 100 ] && ok "vouchd counted $d connections closed at their deadline" || not_ok "deadline closes: ${d:-none}"
# a crash: every acknowledged result is in the database (group commit replies after COMMIT)
kill -9 "$VPID"; wait "$VPID" 2>/dev/null; VPID=
acked=$(( $(awk '/^round 1:/ {print $3}' "$T/honest.out") + n ))
eq "after kill -9: every acknowledged result stored ($acked)" \
	"$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from results").fetchone()[0])' "$T/vouchd.db")" "$acked"
check "the result chain verifies" "$VOUCHD" --db "$T/vouchd.db" --verify-chain
done_testing
