#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# A node's memory does not grow with the fleet (vouchd(8), MEMORY): vouchd on a database of
# 1,000 agents and on one of 100,000 (each with a state, a status and a result, written
# through the store by store-fill), driven through what touches every agent: /metrics (the
# counts by state), the whole fleet list page after page (vouch fleet status), the fleet
# page and a page deep into the fleet.  Its resident memory (process_resident_memory_bytes)
# after that must be within MEM_GROWTH_MAX of the small fleet's and under MEM_MAX.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
VOUCH_FLEET=${VOUCH_FLEET:?VOUCH_FLEET must point at the vouch-fleet binary}
STORE_FILL=${STORE_FILL:?STORE_FILL must point at the store-fill binary}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIG=${MEM_AGENTS:-100000}
MEM_GROWTH_MAX=$((16 * 1024 * 1024))
MEM_MAX=$((64 * 1024 * 1024))
require_peers curl openssl
VPID=
trap 'stop_vouchd; rm -rf "$T"' EXIT

make_ca ca ca
make_ca opca opca
issue ca server localhost "IP:127.0.0.1,DNS:localhost"
issue opca op alice
[ -s "$P/op.crt" ] && ok "test PKI" || { not_ok "test PKI"; done_testing; }

wait_port() { for _ in $(seq 1 100); do port_free "$1" || return 0; sleep 0.05; done; return 1; }
start_vouchd() { # DB
	local try
	for try in 1 2 3 4 5 6; do
		PORT=$(free_port)
		"$VOUCHD" --listen "127.0.0.1:$PORT" --db "$1" --tls-cert "$P/server.crt" \
			--tls-key "$P/server.key" --client-ca "$P/ca.crt" --operator-ca "$P/opca.crt" \
			2>>"$T/vouchd.log" &
		VPID=$!
		if wait_port "$PORT" && kill -0 "$VPID" 2>/dev/null; then URL=https://127.0.0.1:$PORT; return 0; fi
		stop_vouchd
	done
	return 1
}
get() { curl -sS --tlsv1.3 --cacert "$P/ca.crt" --cert "$P/op.crt" --key "$P/op.key" -o "$T/.out" -w '%{http_code}' "$URL$1"; }
rss() { get /metrics >/dev/null && awk '$1 == "process_resident_memory_bytes" { print $2 }' "$T/.out"; }
fleet() { "$VOUCH_FLEET" --server "$URL" --cert "$P/op.crt" --key "$P/op.key" --cacert "$P/ca.crt" "$@"; }

# one fleet: fill, serve, walk everything that reads every agent; RSS_<N> and the timings
walk() { # N
	local n=$1 db=$T/fleet-$1.db t0 t1 rss
	t0=$(date +%s.%N)
	check "store-fill: $n agents" "$STORE_FILL" "$db" "$n" "$SRC/tests/vectors/tpm2/ak-ecc.pem"
	t1=$(date +%s.%N)
	diag "$n agents written through the store in $(echo "$t1 - $t0" | bc) s"
	start_vouchd "$db" && ok "vouchd on $n agents" || { not_ok "vouchd on $n agents"; sed 's/^/#   /' "$T/vouchd.log"; return; }
	eq "/metrics counts $n trusted agents" \
		"$(get /metrics >/dev/null; awk '$1 == "vouchd_agents_by_state{state=\"trusted\"}" { print $2 }' "$T/.out")" "$n"
	t0=$(date +%s.%N)
	fleet status --json >"$T/status.json" 2>"$T/status.err"
	t1=$(date +%s.%N)
	eq "vouch fleet status lists all $n, page after page" \
		"$(jq '.agents | length' "$T/status.json" 2>/dev/null)" "$n"
	diag "the whole fleet listed in $(echo "$t1 - $t0" | bc) s"
	eq "the fleet page" "$(get /fleet)" 200
	cp "$T/.out" "$T/page.html"
	check "... counts $n agents" grep -q "<span>$n agents</span>" "$T/page.html"
	eq "a page deep into the fleet" "$(get "/fleet/after/agent-$(printf %07d $((n / 2)))")" 200
	rss=$(rss)
	diag "vouchd resident memory after the walk: $((rss / 1024)) KiB"
	eval "RSS_$n=$rss"
	stop_vouchd
}

require_peers jq bc
walk 1000
walk "$BIG"
small=$RSS_1000
big=$(eval echo "\${RSS_$BIG:-}")
if ldd "$VOUCHD" 2>/dev/null | grep -q 'libasan\|libubsan'; then
	# ASan keeps freed memory in quarantine (256 MiB): resident memory says nothing here
	skip "resident memory bounds: this vouchd is built with sanitizers (${small:-?} / ${big:-?} bytes)"
elif [ -n "$small" ] && [ -n "$big" ]; then
	ok "resident memory: $((small / 1024)) KiB with 1000 agents, $((big / 1024)) KiB with $BIG"
	check "grows by less than $((MEM_GROWTH_MAX / 1048576)) MiB from 1000 to $BIG agents ($(((big - small) / 1024)) KiB)" \
		test $((big - small)) -lt $MEM_GROWTH_MAX
	check "stays under $((MEM_MAX / 1048576)) MiB" test "$big" -lt $MEM_MAX
else
	not_ok "resident memory read from /metrics"
fi
grep -qi 'AddressSanitizer\|LeakSanitizer\|runtime error' "$T/vouchd.log" && { not_ok "sanitizers quiet"; sed 's/^/#   /' "$T/vouchd.log" | head -20; }
done_testing
