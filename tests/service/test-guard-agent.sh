#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A guarded machine is also attested: vouch guard decides the execs of a bind mount (in a
# private mount namespace, as test-guard.sh) and measures them into its state directory and
# a swtpm; vouch-agent enrolls with vouchd and quotes that list (ima-list = the guard's
# measurements).  The signed program the guard let run keeps the machine trusted; a program
# that enforcement would have denied, run in log mode, makes the next attestation untrusted;
# the verdicts are vouchd's, from the guard's own list replayed against the TPM's PCR 10.
# swtpm's TCP server takes one client at a time, so the guard (which keeps its TPM open) and
# the agent take turns here: the guard stops, the agent quotes, the guard starts again on the
# same state and TPM (and checks that they still agree).  With a kernel TPM (/dev/tpmrm0, a
# resource manager) both run at once.
# Copyright (C) 2026 The vouch authors

if [ -z "${VOUCH_GUARD_NS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP vouch guard needs root (fanotify permission events)"; exit 0; fi
	if ! command -v unshare >/dev/null; then echo "1..0 # SKIP unshare missing"; exit 0; fi
	VOUCH_GUARD_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/swtpm.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
VOUCH_AGENT=${VOUCH_AGENT:?VOUCH_AGENT must point at the vouch-agent binary}
require_peers swtpm openssl sqlite3 jq
keys_copy
K=$T/keys
M=$T/m
S=$T/guard-state
G= VPID=
cleanup() {
	[ -n "$G" ] && kill -9 "$G" 2>/dev/null
	[ -n "$VPID" ] && kill "$VPID" 2>/dev/null
	swtpm_stop
	umount -l "$M" 2>/dev/null
	[ -n "${KEEP:-}" ] && cp -r "$T" "$KEEP"
	rm -rf "$T"
}
trap cleanup EXIT

guard_mount "$M"

# --- the programs: one signed, one that enforcement would deny --------------------------------
cp /bin/true "$M/signed"
cp /bin/true "$M/unsigned"
printf '\0' >>"$M/unsigned" # another digest than the signed copy's
$VOUCH ima sign -k "$K/rsa2048.key" "$M/signed" >/dev/null 2>&1
check "the signed program carries security.ima" getfattr -n security.ima "$M/signed"
# reference values: the signed program, by path and digest
printf '{"format":"vouch-reference","version":1,"files":{"%s":["sha256:%s"]}}\n' \
	"$M/signed" "$(sha256sum "$M/signed" | cut -d' ' -f1)" >"$T/ref.json"

# --- the TPM, the PKI, vouchd ------------------------------------------------------------------
swtpm_start "$T/tpm" || { not_ok "swtpm starts"; done_testing; }
ok "swtpm on $SWTPM_TCTI"
P=$T/pki
mkdir -p "$P"
ecgen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null && chmod 600 "$1"; }
ecgen "$P/ca.key"
openssl req -x509 -new -key "$P/ca.key" -subj "/CN=vouch-guard-agent-ca" -days 1 \
	-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign \
	-out "$P/ca.crt" 2>/dev/null
ecgen "$P/server.key"
openssl req -new -key "$P/server.key" -subj "/CN=localhost" -out "$P/server.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$P/server.ext"
openssl x509 -req -in "$P/server.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 1 \
	-extfile "$P/server.ext" -out "$P/server.crt" 2>/dev/null
check "test PKI" test -s "$P/server.crt"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
DB=$T/vouchd.db
for try in 1 2 3 4 5 6; do
	PORT=$((20001 + (RANDOM % 20000) * 2))
	port_free "$PORT" || continue
	"$VOUCHD" --listen "127.0.0.1:$PORT" --db "$DB" --tls-cert "$P/server.crt" \
		--tls-key "$P/server.key" --client-ca "$P/ca.crt" --agent-ca-cert "$P/ca.crt" \
		--agent-ca-key "$P/ca.key" --allow-ek-public --trust "$K/rsa2048.crt" \
		--reference "$T/ref.json" --pcrs sha256:10 2>>"$T/vouchd.log" &
	VPID=$!
	for _ in $(seq 100); do port_free "$PORT" || break; kill -0 "$VPID" 2>/dev/null || break; sleep 0.05; done
	port_free "$PORT" || break
	kill "$VPID" 2>/dev/null; wait "$VPID" 2>/dev/null; VPID=
done
[ -n "$VPID" ] && ok "vouchd on 127.0.0.1:$PORT" || { not_ok "vouchd starts"; sed 's/^/#   /' "$T/vouchd.log"; done_testing; }
URL=https://127.0.0.1:$PORT

# --- the guard: log mode (a first run reports what enforcing would deny), into the TPM ------
cat >"$T/policy" <<'EOF'
measure func=BPRM_CHECK
appraise func=BPRM_CHECK appraise_type=imasig
EOF
start_guard() {
	: >"$T/guard.err"
	$VOUCH guard --policy "$T/policy" --trust "$K/rsa2048.crt" --state-dir "$S" \
		--tcti "$SWTPM_TCTI" --mount "$M" --mode log --log-json "$T/log.json" 2>"$T/guard.err" &
	G=$!
	guard_up "$G" 200 && return 0
	sed 's/^/#   /' "$T/guard.err"
	return 1
}
stop_guard() {
	kill -TERM "$G"; wait "$G" 2>/dev/null; G=
	! grep -q 'Sanitizer\|runtime error' "$T/guard.err"
}
check "vouch guard guards $M, measuring into the swtpm" start_guard

check "the signed program runs" timeout -s KILL 10 "$M/signed"
check "its execution is in the guard's list" grep -aq "$M/signed" "$S/measurements"
check "the guard stops (the agent's turn at the swtpm)" stop_guard

# --- the agent: enrolls (EK public, credential activation) and attests the guard's list --------
agent() {
	timeout -s KILL 60 "$VOUCH_AGENT" --server "$URL" --id guarded --cert "$T/agent.crt" \
		--key "$T/agent.key" --cacert "$P/ca.crt" --tpm "$SWTPM_TCTI" \
		--ima-list "$S/measurements" --pcrs sha256:10 --once >>"$T/agent.out" 2>>"$T/agent.log"
}
newest() { sqlite3 "$DB" "SELECT verdict FROM results WHERE agent = 'guarded' ORDER BY seq DESC LIMIT 1"; }
agent
eq "vouch-agent quotes the guard's list: vouchd says trusted" "$(newest)" trusted
[ "$(newest)" = trusted ] || { sed 's/^/#   /' "$T/agent.log" | tail -5; sed 's/^/#   /' "$T/vouchd.log" | tail -5; }

# --- what enforcement would deny runs in log mode: logged, measured, and seen by the verifier ---
check "the guard starts again on its state and TPM" start_guard
check "in log mode the unsigned program runs" timeout -s KILL 10 "$M/unsigned"
check "and the guard logs that enforcing would deny it" \
	jq -e --arg p "$M/unsigned" 'select(.path == $p)' "$T/log.json"
check "the guard stops" stop_guard
agent
eq "the next attestation of the guard's list is untrusted" "$(newest)" untrusted
why=$(sqlite3 "$DB" "SELECT body FROM results WHERE agent = 'guarded' ORDER BY seq DESC LIMIT 1" |
	jq -r '.checks[] | select(.result == "fail") | .check + ": " + .detail')
case $why in
"reference: entry "*"'$M/unsigned': not in the reference values"*) ok "for the unsigned program, by name ($why)" ;;
*) not_ok "for the unsigned program, by name"; diag "failed checks: $why" ;;
esac
done_testing
