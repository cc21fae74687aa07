#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# The service tests' shared scaffolding.  Source it after ../integration/lib.sh.
#   P                        the test PKI's directory ($T/pki, made here)
#   ecgen FILE               a P-256 key, mode 0600
#   make_ca NAME [CN [ARG...]]  a self-signed CA $P/NAME.{key,crt} (CN vouch-test-NAME; ARGs
#                            go to openssl req, e.g. -addext ...)
#   issue CA NAME CN [SAN]   a leaf certificate $P/NAME.{key,csr,crt} from $P/CA
#   port_free PORT           nothing listens on 127.0.0.1:PORT
#   stop_pids PID...         kill and reap exactly these processes
#   free_port, stop_vouchd ($VPID), listen_up, vouchd_up, req, code, js, sql ($DB), list_without,
#   webhook_secret, webhook_receiver, receiver_fail:
#                            below
P=$T/pki
mkdir -p "$P"

ecgen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null && chmod 600 "$1"; }

make_ca() {
	local n=$1 cn=${2:-vouch-test-$1}
	shift $(($# < 2 ? $# : 2))
	ecgen "$P/$n.key"
	openssl req -x509 -new -key "$P/$n.key" -subj "/CN=$cn" -days 2 "$@" -out "$P/$n.crt" 2>/dev/null
}

issue() { # CA NAME SUBJECT-CN [SAN]
	ecgen "$P/$2.key"
	openssl req -new -key "$P/$2.key" -subj "/CN=$3" -out "$P/$2.csr" 2>/dev/null
	printf 'basicConstraints=CA:FALSE\n%s\n' "${4:+subjectAltName=$4}" >"$P/$2.ext"
	openssl x509 -req -in "$P/$2.csr" -CA "$P/$1.crt" -CAkey "$P/$1.key" -CAcreateserial \
		-days 2 -extfile "$P/$2.ext" -out "$P/$2.crt" 2>/dev/null
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_pids() {
	local p
	for p in "$@"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}

# free_port: a port nothing listens on (its neighbour may be taken)
free_port() { local p; while :; do p=$((20001 + (RANDOM % 20000) * 2)); port_free "$p" && { echo "$p"; return; }; done; }

# stop_vouchd: the vouchd of $VPID, if any
stop_vouchd() { if [ -n "$VPID" ]; then kill "$VPID" 2>/dev/null; wait "$VPID" 2>/dev/null; VPID=; fi; }

# req WHO METHOD PATH [BODYFILE] -> HTTP code on stdout, body in $T/.out; WHO: none or a NAME
# with $P/NAME.crt and $P/NAME.key (a script may define its own)
req() {
	local who=$1 method=$2 path=$3 body=${4:-} a=()
	[ "$who" != none ] && a=(--cert "$P/$who.crt" --key "$P/$who.key")
	[ -n "$body" ] && a+=(-H "Content-Type: application/json" --data-binary "@$body")
	curl -sS --tlsv1.3 --cacert "$P/ca.crt" "${a[@]}" -X "$method" -o "$T/.out" \
		-w '%{http_code}' "$URL$path" 2>"$T/.curl"
}
# code WANT DESCRIPTION REQ-ARGS...: req() answers HTTP WANT (else the answer's start is shown)
code() {
	local want=$1 d=$2 got; shift 2
	got=$(req "$@")
	eq "$d (HTTP $got)" "$got" "$want"
	[ "$got" = "$want" ] || diag "$(head -c 300 "$T/.out")"
}
# js FILTER: jq on the last answer; sql QUERY: on the SQLite database $DB
js() { jq -r "$1" "$T/.out"; }
sql() { sqlite3 "$DB" "$1"; }

# listen_up LOG CMD ARG...: CMD --listen 127.0.0.1:PORT ARG... in the background on a free port
# (or on $FIXED_PORT), stderr appended to LOG; once it listens UP_PORT and UP_PID are set and
# 0 returned, else it is stopped and another port tried; 1 after six tries
listen_up() {
	local log=$1 cmd=$2 try
	shift 2
	for try in 1 2 3 4 5 6; do
		if [ -n "${FIXED_PORT:-}" ]; then UP_PORT=$FIXED_PORT; else
			UP_PORT=$((20001 + (RANDOM % 20000) * 2))
			port_free "$UP_PORT" || continue
		fi
		"$cmd" --listen "127.0.0.1:$UP_PORT" "$@" 2>>"$log" &
		UP_PID=$!
		for _ in $(seq 1 200); do
			kill -0 "$UP_PID" 2>/dev/null || break
			port_free "$UP_PORT" || return 0
			sleep 0.05
		done
		stop_pids "$UP_PID"
	done
	UP_PID=
	return 1
}

# vouchd_up LOG ARG...: listen_up for "$VOUCHD"; sets PORT, VPID and URL
vouchd_up() {
	VPID=
	listen_up "$1" "$VOUCHD" "${@:2}" || return 1
	PORT=$UP_PORT VPID=$UP_PID URL=https://127.0.0.1:$UP_PORT
}

# list_without LIST OUT N: the binary IMA list LIST (ima-ng records) without its Nth entry
list_without() {
	python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read(); out = b""; i = 0; n = 0
while i < len(b):
    s = i; i += 4 + 20
    nl = struct.unpack_from("<I", b, i)[0]; i += 4 + nl
    dl = struct.unpack_from("<I", b, i)[0]; i += 4 + dl
    n += 1
    if n != int(sys.argv[3]): out += b[s:i]
open(sys.argv[2], "wb").write(out)
PY
}

# webhook_secret FILE: 32 random bytes in base64, mode 0600
webhook_secret() { head -c 32 /dev/urandom | base64 >"$1" && chmod 600 "$1"; }

# webhook_receiver SECRET LOG: a python3 receiver on 127.0.0.1 that appends one line per POST
# to LOG (emptied first): "CODE KEY ok|bad TYPE AGENT", ok = the HMAC with SECRET verifies, the
# body is JSON (Content-Type too) and its id is the Idempotency-Key.  GET /fail/N: the next N
# posts are answered 500.  Sets RPID, RPORT and HOOK (its URL); 1 if it did not come up in 5 s.
webhook_receiver() {
	: >"$2"
	cat >"$T/receiver.py" <<'PY'
import hashlib, hmac, http.server, json, os, sys
secret = open(sys.argv[1], "rb").read().rstrip(b"\r\n")
log = open(sys.argv[2], "a", buffering=1)
fail = [0]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def reply(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        if self.path.startswith("/fail/"):
            fail[0] = int(self.path[6:])
        self.reply(200)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        key = self.headers.get("Idempotency-Key", "-")
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(self.headers.get("X-Vouch-Signature", ""), want)
        try:
            ev = json.loads(body)
            good = good and str(ev["id"]) == key and self.headers.get("Content-Type") == "application/json"
            what = "%s %s" % (ev["type"], ev["agent"])
        except Exception:
            good, what = False, "- -"
        if fail[0] > 0:
            fail[0] -= 1
            log.write("500 %s %s %s\n" % (key, "ok" if good else "bad", what))
            return self.reply(500)
        log.write("200 %s %s %s\n" % (key, "ok" if good else "bad", what))
        self.reply(200)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
open(sys.argv[3] + ".tmp", "w").write(str(s.server_address[1]))
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
s.serve_forever()
PY
	rm -f "$T/rport"
	python3 "$T/receiver.py" "$1" "$2" "$T/rport" &
	RPID=$!
	for _ in $(seq 1 100); do [ -s "$T/rport" ] && break; sleep 0.05; done
	RPORT=$(cat "$T/rport" 2>/dev/null)
	HOOK=http://127.0.0.1:$RPORT/hook
	[ -n "$RPORT" ]
}
# receiver_fail N: the receiver answers its next N posts with 500
receiver_fail() { curl -sS -o /dev/null "http://127.0.0.1:$RPORT/fail/$1"; }
