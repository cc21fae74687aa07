#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Stands in for vouchd in tests written for one node (test-e2e-pg.sh runs test-e2e.sh with
# VOUCHD pointing here): "vouchd --listen HOST:PORT --db PATH ARGS..." starts TWO vouchd nodes
# on the same PostgreSQL database ($VOUCHD_2NODES_DSN instead of PATH), each on a free
# loopback port with its own --node-id, and tests/fault-proxy on HOST:PORT handing the
# connections to both in turn.  It returns to the caller only through signals and exit: a
# SIGTERM/SIGINT stops the proxy and both nodes (each releases its leases), and when a node
# or the proxy dies on its own the others are stopped and its status is this script's.
# Any other call (--verify-chain, db status, ...) runs vouchd itself with --db PATH mapped.
#
#   VOUCHD_REAL         the vouchd binary
#   VOUCHD_2NODES_DSN   the PostgreSQL connection URI
#   VOUCHD_2NODES_DIR   a directory: node-a.log and node-b.log (each node's stderr, also
#                       copied to ours), db-path (the PATH mapped, for the sqlite3 shim),
#                       ear.key (the EAR signing key both share, made when the caller
#                       gives no --ear-key)
#   FAULT_PROXY         tests/fault-proxy
set -u
REAL=${VOUCHD_REAL:?VOUCHD_REAL must point at the vouchd binary}
DSN=${VOUCHD_2NODES_DSN:?VOUCHD_2NODES_DSN must be a PostgreSQL URI}
DIR=${VOUCHD_2NODES_DIR:?VOUCHD_2NODES_DIR must name a directory}
PROXY=${FAULT_PROXY:?FAULT_PROXY must point at tests/fault-proxy}

args=() listen= db= ear=false
while [ $# -gt 0 ]; do
	case $1 in
	--listen) listen=$2; shift 2 ;;
	--ear-key) ear=true; args+=("$1" "$2"); shift 2 ;;
	--db) db=$2; args+=(--db "$DSN"); shift 2 ;;
	*) args+=("$1"); shift ;;
	esac
done
[ -n "$db" ] && printf '%s\n' "$db" >"$DIR/db-path"
if [ -z "$listen" ]; then
	exec "$REAL" "${args[@]}"
fi

# --node-id when this vouchd has it (several nodes name themselves apart)
NODE_ID=false
"$REAL" --help 2>&1 | grep -q -- --node-id && NODE_ID=true

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local p
	for _ in $(seq 50); do
		p=$((20001 + (RANDOM % 20000) * 2 + 1))
		port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

PIDS=()
stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap 'stop_all; exit 0' TERM INT

# node NAME: one vouchd on a free port ($NODE_PORT), its stderr in DIR/NAME.log and ours
node() {
	local name=$1 try id
	for try in 1 2 3 4 5; do
		NODE_PORT=$(pick_port) || return 1
		id=()
		$NODE_ID && id=(--node-id "$name")
		"$REAL" --listen "127.0.0.1:$NODE_PORT" "${id[@]}" "${args[@]}" \
			2> >(tee -a "$DIR/$name.log" >&2) &
		NODE_PID=$!
		for _ in $(seq 200); do
			kill -0 "$NODE_PID" 2>/dev/null || break
			port_free "$NODE_PORT" || { PIDS+=("$NODE_PID"); return 0; }
			sleep 0.05
		done
		kill "$NODE_PID" 2>/dev/null
		wait "$NODE_PID" 2>/dev/null
	done
	return 1
}
# one EAR signing key for both: a relying party checks every node's EARs against the one key
# /v1/ear/key serves, whichever node answers (each would make its own ephemeral one)
if ! $ear; then
	[ -s "$DIR/ear.key" ] || (umask 077 && openssl genpkey -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-256 -out "$DIR/ear.key" 2>/dev/null)
	args+=(--ear-key "$DIR/ear.key")
fi
# one after the other: the first applies the schema migrations
node node-a || { echo "vouchd-2nodes: node-a does not start" >&2; stop_all; exit 3; }
PORT_A=$NODE_PORT
node node-b || { echo "vouchd-2nodes: node-b does not start" >&2; stop_all; exit 3; }
PORT_B=$NODE_PORT
rm -f "$DIR/proxy.port"
"$PROXY" --listen "$listen" --port-file "$DIR/proxy.port" --backend "127.0.0.1:$PORT_A" \
	--backend "127.0.0.1:$PORT_B" 2>>"$DIR/proxy.log" &
PIDS+=("$!")
echo "vouchd-2nodes: $listen -> node-a 127.0.0.1:$PORT_A, node-b 127.0.0.1:$PORT_B on PostgreSQL" >&2
# the first of them to end ends us all
wait -n "${PIDS[@]}"
rc=$?
echo "vouchd-2nodes: a node or the proxy exited ($rc): stopping the rest" >&2
stop_all
exit "$rc"
