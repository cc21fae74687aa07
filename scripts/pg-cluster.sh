#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A throwaway PostgreSQL 15 cluster for tests and benchmarks (vouchd(8), POSTGRESQL).
#
#   scripts/pg-cluster.sh start DIR     create (first time) and start a cluster in DIR
#   scripts/pg-cluster.sh stop DIR      stop it (nothing to do when it is not running)
#   scripts/pg-cluster.sh restart DIR   stop, then start on the same port
#   scripts/pg-cluster.sh psql DIR ...  psql on its database 'vouchd' (arguments follow)
#   scripts/pg-cluster.sh dsn DIR       print postgresql://postgres@127.0.0.1:PORT/vouchd
#
# The server listens on 127.0.0.1 only, on a free port picked at random on the first start
# (kept in DIR/port), with its unix socket in DIR (no clash with a system cluster), trust
# authentication on loopback (a test cluster: never expose it), and a database 'vouchd'.
# Run as root, the server runs as user 'postgres' (DIR is chowned to it).  'start' prints
# nothing but errors.  PG_BIN overrides /usr/lib/postgresql/15/bin; PG_CONF, lines added to
# postgresql.conf when the cluster is created (e.g. shared_preload_libraries for profiling).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

usage() {
	echo "usage: $0 start|stop|restart|psql|dsn DIR [psql arguments]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
[ -n "$dir" ] || usage
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
data=$dir/data

# as root, the server runs as 'postgres'; otherwise as the caller
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port() {
	cat "$dir/port" 2>/dev/null || {
		echo "pg-cluster: no cluster in '$dir' (no $dir/port): run '$0 start $dir' first" >&2
		exit 3
	}
}

running() {
	[ -f "$data/postmaster.pid" ] && as_owner "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
	if [ ! -x "$PG_BIN/initdb" ]; then
		echo "pg-cluster: '$PG_BIN/initdb' not found: install postgresql-15" >&2
		exit 3
	fi
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir"
		if ! runuser -u postgres -- test -w "$dir"; then
			echo "pg-cluster: user postgres cannot write '$dir' (is a parent directory private?)" >&2
			exit 3
		fi
	fi
	if [ ! -f "$data/PG_VERSION" ]; then
		as_owner "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
			--locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
			echo "pg-cluster: initdb in '$data' failed:" >&2
			cat "$dir/initdb.log" >&2
			exit 3
		}
		# loopback only, trust (the cluster is a test's); the socket in DIR
		cat >>"$data/postgresql.conf" <<-EOF
			listen_addresses = '127.0.0.1'
			unix_socket_directories = '$dir'
			max_connections = 200
			fsync = on
			logging_collector = off
		EOF
		[ -z "${PG_CONF:-}" ] || printf '%s\n' "$PG_CONF" >>"$data/postgresql.conf"
		printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$data/pg_hba.conf"
		free_port >"$dir/port"
	fi
	running && return 0
	local p try
	# the port was free when picked; another process may have taken it since: pick again
	for try in 1 2 3; do
		p=$(port) || exit 3
		: >"$dir/server.log"
		[ "$(id -u)" = 0 ] && chown postgres: "$dir/server.log"
		as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -o "-p $p" -w -t 60 \
			start >/dev/null 2>"$dir/pg_ctl.err" && break
		if [ "$try" = 3 ] || ! grep -q 'could not bind\|in use' "$dir/server.log"; then
			echo "pg-cluster: the server in '$data' did not start (port $p):" >&2
			cat "$dir/pg_ctl.err" >&2
			tail -n 20 "$dir/server.log" >&2
			exit 3
		fi
		free_port >"$dir/port"
	done
	if [ ! -f "$dir/created" ]; then
		as_owner "$PG_BIN/psql" -X -q -h "$dir" -p "$p" -U postgres -d postgres \
			-c 'CREATE DATABASE vouchd' >/dev/null
		touch "$dir/created"
	fi
}

stop() {
	[ -f "$data/PG_VERSION" ] || return 0
	running || return 0
	as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
}

case $cmd in
start) start ;;
stop) stop ;;
restart)
	stop
	start
	;;
psql)
	p=$(port) || exit 3
	exec "$PG_BIN/psql" -X -h 127.0.0.1 -p "$p" -U postgres -d vouchd "$@"
	;;
dsn)
	p=$(port) || exit 3
	echo "postgresql://postgres@127.0.0.1:$p/vouchd"
	;;
*) usage ;;
esac
