#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# bench/fleet stays working: 50 simulated agents (EK certificates, credential activation,
# mTLS, quotes, ima-sig lists with signatures) at a 1 s interval for 8 s against vouchd on
# SQLite: no error, every round and every agent trusted, the rate offered is reached.  And it
# can fail: EK certificates from a CA vouchd does not trust are refused at enrollment, and
# signatures by a key vouchd does not trust make the verdicts untrusted.
. "$(dirname "$0")/../integration/lib.sh"
VOUCHD=${VOUCHD:?VOUCHD must point at the vouchd binary}
FLEET=${FLEET:?FLEET must point at the fleet generator}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
require_peers openssl curl bc
export VOUCHD FLEET
K=$T/keys

"$SRC/bench/fleet" --agents 50 --interval 1 --duration 8 --threads 8 --keys "$K" >"$T/run.out" 2>&1
rc=$?
sed 's/^/# /' "$T/run.out"
eq "bench/fleet exits 0" "$rc" 0
check "every round trusted, none in error" grep -Eq '^RESULT rate=.* rounds=([0-9]+) trusted=\1 errors=0 ' "$T/run.out"
check "every agent enrolled" grep -q '^enroll: 50 of 50 agents' "$T/run.out"
check "a warm-up window ran first, not counted" grep -Eq '^warm-up: [0-9.]+ s on the same schedule, [1-9][0-9]* rounds' "$T/run.out"
eq "vouchd holds all 50 agents as trusted" "$(grep -c '^vouchd: 50 of 50 agents in state trusted' "$T/run.out")" 1
rate=$(grep -o ' rate=[0-9.]*' "$T/run.out" | cut -d= -f2)
check "about the rate offered (50/s): $rate" test "$(echo "${rate:-0} > 45" | bc)" = 1
sigs=$(grep -o ' sigs=[0-9]*' "$T/run.out" | cut -d= -f2)
rounds=$(grep -o ' rounds=[0-9]*' "$T/run.out" | cut -d= -f2)
check "vouchd verified the signed entries ($sigs signatures, $rounds rounds)" \
	test "${sigs:-0}" -ge "${rounds:-1}" -a "${rounds:-0}" -gt 0
check "the prime pool is kept" test -s "$K/primes"

# must-fail: another EK CA
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/other.key" 2>/dev/null
openssl req -x509 -new -key "$T/other.key" -subj /CN=other -days 2 -out "$T/other.crt" 2>/dev/null
FLEET_EK_CA=$T/other.crt "$SRC/bench/fleet" --agents 4 --interval 1 --duration 2 --threads 2 \
	--keys "$K" >"$T/ek.out" 2>&1
eq "EK certificates of an untrusted CA: exit 1" "$?" 1
check "... refused at enrollment with 403" grep -q "enroll: HTTP 403" "$T/ek.out"
check "... no agent enrolled" grep -q '^enroll: 0 of 4 agents' "$T/ek.out"

# must-fail: IMA signatures by a key vouchd does not trust
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ima2.key" -subj /CN=other-ima -days 2 \
	-out "$T/ima2.crt" 2>/dev/null
FLEET_TRUST=$T/ima2.crt "$SRC/bench/fleet" --agents 4 --interval 1 --duration 2 --threads 2 \
	--keys "$K" >"$T/sig.out" 2>&1
eq "signatures by an untrusted key: exit 1" "$?" 1
check "... verdicts not trusted" grep -Eq 'errors: [0-9]+, not-trusted [1-9]' "$T/sig.out"
check "... for the signatures" grep -q ': untrusted: signatures fail' "$T/sig.out"
done_testing
