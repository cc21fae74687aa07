#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Test helper: start a private swtpm on a free loopback port, stop it by PID.  Source it.
#   swtpm_start DIR   -> sets SWTPM_PID, SWTPM_PORT, SWTPM_TCTI (and TPM2TOOLS_TCTI); returns
#                        1 when swtpm is missing or does not come up
#   swtpm_stop        -> kills exactly $SWTPM_PID (never by name) and waits for it
#   swtpm_manufacture NAME [SWTPM_SETUP-ARGS...]
#                     -> $T/NAME/tpm: a TPM manufactured by swtpm_setup --create-ek-cert, its
#                        EK certificates issued by an EK CA of its own ($T/NAME/ca)
#   tools_key OUT ALG ATTRIBUTES
#                     -> a key made by tpm2-tools under a fresh owner primary (no resource
#                        manager): OUT (public) and OUT.priv
#   swtpm_debian_pcr10 WHAT
#                     -> the swtpm's sha256 PCR 10 extended with $VEC/debian-6.1's measurement
#                        list; checked (WHAT names it) against that machine's PCR 10
SWTPM_PID=
SWTPM_PORT=
SWTPM_TCTI=

_swtpm_port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

swtpm_start() {
	local dir=$1 try port
	command -v swtpm >/dev/null 2>&1 || return 1
	mkdir -p "$dir/state"
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM % 20000) * 2))
		_swtpm_port_free "$port" && _swtpm_port_free $((port + 1)) || continue
		swtpm socket --tpm2 --tpmstate dir="$dir/state" \
			--server type=tcp,port="$port",bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
			--flags not-need-init,startup-clear --pid file="$dir/swtpm.pid" \
			>"$dir/swtpm.log" 2>&1 &
		SWTPM_PID=$!
		for _ in $(seq 1 50); do
			if ! kill -0 "$SWTPM_PID" 2>/dev/null; then break; fi
			if ! _swtpm_port_free "$port"; then
				SWTPM_PORT=$port
				SWTPM_TCTI="swtpm:host=127.0.0.1,port=$port"
				export TPM2TOOLS_TCTI=$SWTPM_TCTI
				return 0
			fi
			sleep 0.1
		done
		kill "$SWTPM_PID" 2>/dev/null; wait "$SWTPM_PID" 2>/dev/null
		SWTPM_PID=
	done
	return 1
}

swtpm_stop() {
	if [ -n "$SWTPM_PID" ]; then
		kill "$SWTPM_PID" 2>/dev/null
		wait "$SWTPM_PID" 2>/dev/null
		SWTPM_PID=
	fi
}

swtpm_manufacture() {
	local n=$1 d=$T/$1
	shift
	mkdir -p "$d/ca" "$d/tpm/state"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca/signkey.pem" \
		-out "$d/ca/issuercert.pem" -days 30 -subj "/CN=vouch test EK CA $n" \
		-addext basicConstraints=critical,CA:true \
		-addext keyUsage=critical,keyCertSign,cRLSign >"$d/openssl.log" 2>&1 || return 1
	echo 1 >"$d/ca/certserial"
	printf 'statedir = %s\nsigningkey = %s\nissuercert = %s\ncertserial = %s\n' \
		"$d/ca" "$d/ca/signkey.pem" "$d/ca/issuercert.pem" "$d/ca/certserial" \
		>"$d/localca.conf"
	printf -- '--platform-manufacturer vouch\n--platform-version 2.1\n--platform-model swtpm\n' \
		>"$d/localca.options"
	printf 'create_certs_tool = %s\ncreate_certs_tool_config = %s\ncreate_certs_tool_options = %s\n' \
		"$(command -v swtpm_localca)" "$d/localca.conf" "$d/localca.options" >"$d/setup.conf"
	swtpm_setup --tpm2 --tpmstate "$d/tpm/state" --create-ek-cert "$@" \
		--config "$d/setup.conf" --overwrite >"$d/setup.log" 2>&1
}

tools_key() {
	tpm2_flushcontext -t >/dev/null 2>&1
	tpm2_createprimary -Q -C o -c "$T/prim.ctx" >"$T/create.log" 2>&1 &&
	tpm2_create -Q -C "$T/prim.ctx" -G "$2" -a "$3" -u "$1" -r "$1.priv" >>"$T/create.log" 2>&1
	local rc=$?
	tpm2_flushcontext -t >/dev/null 2>&1
	[ $rc = 0 ] || sed 's/^/# /' "$T/create.log"
	return $rc
}

swtpm_debian_pcr10() {
	python3 - "$VEC/debian-6.1/binary_runtime_measurements" <<'PY' |
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read(); o = 0
while o < len(b):
    o += 4 + 20; n, = struct.unpack_from("<I", b, o); o += 4 + n
    n, = struct.unpack_from("<I", b, o); print("sha256:" + hashlib.sha256(b[o + 4:o + 4 + n]).hexdigest()); o += 4 + n
PY
		while read -r d; do "$VOUCH" tpm extend 10 "$d" >/dev/null || not_ok "extend"; done
	eq "swtpm PCR 10 = $1" "$("$VOUCH" tpm pcrread --json sha256:10 | jq -r '.sha256["10"]')" \
		"$(awk '/PCR-10/ {print tolower($2)}' "$VEC/debian-6.1/pcrs-sha256.txt")"
}
