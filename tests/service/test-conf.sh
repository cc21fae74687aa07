#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# --config FILE of vouchd and vouch-agent (service/conf.c): a good file, the command line
# overriding it, and each way a file is refused (exit 2 with FILE:LINE); the shipped example
# files parse; the systemd units pass 'systemd-analyze verify' without a warning.
. "$(dirname "$0")/../integration/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
SRC=${VOUCH_SRCDIR:?}

# --- vouchd ----------------------------------------------------------------------------
printf '# a comment\n\n   db   =   %s/good.db\nverify-chain = true\r\nnonce-ttl = 30\n' "$T" >"$T/good.conf"
expect_rc 0 "vouchd --config: key = value, comments, blank lines, spaces, CRLF" "$VOUCHD" --config "$T/good.conf"
eq "the file's db and switch were used" "$(cat "$T/.out")" "results: 0 rows, hash chain intact"
check "the database is where the file said" test -f "$T/good.db"
printf 'db = %s/nodir/x.db\nverify-chain = true\n' "$T" >"$T/over.conf"
expect_rc 0 "the command line overrides the file's db" "$VOUCHD" --config "$T/over.conf" --db "$T/cli.db"
check "the command line's database was used" test -f "$T/cli.db"
printf 'verify-chain = false\ndb = %s/f.db\n' "$T" >"$T/false.conf"
expect_rc 2 "a switch set to false is off (then --listen etc. are required)" "$VOUCHD" --config "$T/false.conf"
check "for that reason" grep -q "are required" "$T/.err"

bad() { # DESCRIPTION LINE-NUMBER REASON-PATTERN FILE-CONTENT [PROGRAM ARGS...]
	local d=$1 line=$2 why=$3 content=$4
	shift 4
	printf '%b' "$content" >"$T/bad.conf"
	[ $# -gt 0 ] || set -- "$VOUCHD"
	expect_rc 2 "$d" "$@" --config "$T/bad.conf"
	if grep -q -- "$T/bad.conf:$line: .*$why" "$T/.err" && [ "$(wc -l <"$T/.err")" = 1 ]; then
		ok "  one line naming bad.conf:$line ($why)"
	else
		not_ok "  one line naming bad.conf:$line ($why)"
		sed 's/^/#   /' "$T/.err" | head -5
	fi
}
bad "an unknown key" 2 "unknown key 'lisen'" "db = /x\nlisen = 1.2.3.4:5\n"
bad "a key given twice" 3 "key 'db' given twice" "db = /x\n# c\ndb = /y\n"
bad "a bad value" 1 "invalid nonce-ttl '0': 1 to 86400 seconds" "nonce-ttl = 0\n"
bad "a number with garbage" 1 "invalid nonce-ttl '6o'" "nonce-ttl = 6o\n"
bad "a line without '='" 2 "expected 'key = value'" "db = /x\nverify-chain\n"
bad "an empty value" 1 "'db' has an empty value" "db =   \n"
bad "a switch neither true nor false" 1 "takes true or false" "verify-chain = yes\n"
bad "a file naming another file" 1 "unknown key 'config'" "config = /etc/passwd\n"
bad "help in a file" 1 "unknown key 'help'" "help = true\n"
bad "a listen address without a port" 1 "invalid listen '127.0.0.1': HOST:PORT" "listen = 127.0.0.1\n"
bad "a port out of range" 1 "invalid listen '127.0.0.1:70000'" "listen = 127.0.0.1:70000\n"
bad "a bad PCR selection" 2 "invalid pcrs 'sha256:0-99'" "db = /x\npcrs = sha256:0-99\n"
bad "a value without a key" 1 "a value without a key" " = 3\n"
bad "a bad line still fails when the command line sets the key" 1 "invalid nonce-ttl" \
	"nonce-ttl = -1\n" "$VOUCHD" --nonce-ttl 5 --db "$T/x.db" --verify-chain
expect_rc 2 "a missing file" "$VOUCHD" --config "$T/nonexistent.conf" --db "$T/x.db" --verify-chain
check "is named" grep -q "cannot read the configuration '$T/nonexistent.conf'" "$T/.err"
head -c 70000 /dev/zero | tr '\0' '#' >"$T/big.conf"
expect_rc 2 "a file over 64 KiB" "$VOUCHD" --config "$T/big.conf"
expect_rc 2 "--config twice on the command line" "$VOUCHD" --config "$T/good.conf" --config "$T/good.conf"
expect_rc 0 "the shipped vouchd.conf.example parses" "$VOUCHD" --config "$SRC/service/vouchd.conf.example" \
	--db "$T/ex.db" --verify-chain

# --- vouch-agent: the same parser -----------------------------------------------------------
if [ -n "${VOUCH_AGENT:-}" ]; then
	NOTPM="swtpm:host=127.0.0.1,port=1"
	printf '%s\n' "server = https://127.0.0.1:1" "id = host1" "cert = /x.crt" "key = /x.key" \
		"cacert = /ca.crt" "tpm = $NOTPM" "ak-handle = 0x81010010" "interval = 60" >"$T/agent.conf"
	# a parsed configuration goes on to open the TPM, which is not there: exit 3, not 2
	expect_rc 3 "vouch-agent --config: parsed, then no TPM" "$VOUCH_AGENT" --config "$T/agent.conf"
	expect_rc 3 "--once on the command line overrides the file's interval" "$VOUCH_AGENT" \
		--config "$T/agent.conf" --once
	bad "vouch-agent: a bad interval" 1 "invalid interval '0': 1 to 86400 seconds" "interval = 0\n" \
		"$VOUCH_AGENT"
	bad "vouch-agent: a bad AK handle" 2 "invalid ak-handle '0x1'" "id = a\nak-handle = 0x1\n" "$VOUCH_AGENT"
	bad "vouch-agent: vouchd's key" 1 "unknown key 'db'" "db = /x\n" "$VOUCH_AGENT"
	bad "vouch-agent: a server that is not https" 1 "invalid server 'http://x': an https:// URL" \
		"server = http://x\n" "$VOUCH_AGENT"
	bad "vouch-agent: once = maybe" 1 "takes true or false" "once = maybe\n" "$VOUCH_AGENT"
	expect_rc 3 "the shipped vouch-agent.conf.example parses" "$VOUCH_AGENT" \
		--config "$SRC/service/vouch-agent.conf.example" --tpm "$NOTPM" --once
else
	skip "vouch-agent is not built (libcurl missing)"
fi

# --- the systemd units ------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units"
	sed "s#^ExecStart=/usr/sbin/vouchd #ExecStart=$VOUCHD #" "$SRC/service/units/vouchd.service" \
		>"$T/units/vouchd.service"
	units=("$T/units/vouchd.service")
	if [ -n "${VOUCH_AGENT:-}" ]; then
		sed "s#^ExecStart=/usr/bin/vouch-agent #ExecStart=$VOUCH_AGENT #" \
			"$SRC/service/units/vouch-agent.service" >"$T/units/vouch-agent.service"
		units+=("$T/units/vouch-agent.service")
	fi
	check "vouchd.service starts the installed vouchd with /etc/vouch/vouchd.conf" \
		grep -q "^ExecStart=/usr/sbin/vouchd --config /etc/vouch/vouchd.conf$" \
		"$SRC/service/units/vouchd.service"
	for u in "${units[@]}"; do
		(cd "$T/units" && systemd-analyze verify --man=no "./${u##*/}") >"$T/.sa" 2>&1
		rc=$?
		if [ "$rc" = 0 ] && [ ! -s "$T/.sa" ]; then
			ok "systemd-analyze verify ${u##*/}: no warning"
		else
			not_ok "systemd-analyze verify ${u##*/} (exit $rc)"
			sed 's/^/#   /' "$T/.sa" | head -10
		fi
	done
	printf '[Service]\nProtectHome=yess\n' >>"$T/units/vouchd.service"
	(cd "$T/units" && systemd-analyze verify --man=no ./vouchd.service) >"$T/.sa" 2>&1
	if grep -q "ProtectHome\|protect home" "$T/.sa"; then
		ok "systemd-analyze verify reports a bad setting (the check can fail)"
	else
		not_ok "systemd-analyze verify reports a bad setting"
	fi
	for k in Type=notify WatchdogSec= ProtectSystem=strict StateDirectory=vouchd NoNewPrivileges=yes \
		PrivateTmp=yes "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"; do
		if grep -q "^$k" "$SRC/service/units/vouchd.service"; then
			ok "vouchd.service has $k"
		else
			not_ok "vouchd.service has $k"
		fi
	done
	check "vouch-agent.service may use /dev/tpmrm0 and nothing else of /dev" \
		grep -q '^DeviceAllow=/dev/tpmrm0 rw' "$SRC/service/units/vouch-agent.service"
else
	skip "systemd-analyze is missing (package systemd): units not verified"
fi
done_testing
