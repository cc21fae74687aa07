#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# The engine measures into a TPM (swtpm) and a verifier checks it: files go through
# `vouch load --tcti`, `vouch attest quote --ima STATE/measurements` quotes the engine's
# list, `vouch attest verify` passes with reference values; a tampered file and a replayed
# quote fail with their reason; a second round with --state carries and checks only the new
# entries.  At start the engine checks its list against the TPM: a lost last extend is
# completed, an outside extend, a reset TPM and a list measured without a TPM are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/swtpm.sh"
require_peer swtpm swtpm
require_peer jq jq
require_peer python3 python3
require_peer sha256sum coreutils
swtpm_start "$T/tpm" || { not_ok "swtpm starts"; done_testing; }
trap 'swtpm_stop; rm -rf "$T"' EXIT
export VOUCH_TCTI=$SWTPM_TCTI # for vouch tpm / attest; the engine is given --tcti

ST=$T/state
POL=$T/engine.pol
echo 'measure func=BPRM_CHECK' >"$POL"
mkdir -p "$T/bin"
for f in a b c; do printf '#!/bin/sh\necho %s\n' "$f" >"$T/bin/$f"; chmod +x "$T/bin/$f"; done
load() { "$VOUCH" load --state-dir "$ST" --policy "$POL" --mode log --func BPRM_CHECK "$@"; }
res() { jq -r --arg c "$1" '.checks[] | select(.check==$c) | .result' "$T/.out"; }
detail() { jq -r --arg c "$1" '.checks[] | select(.check==$c) | .detail' "$T/.out"; }
pcr10() { "$VOUCH" tpm pcrread --json sha256:10 | jq -r '.sha256["10"]'; }
# reference values: sha256 of the given files as they are now
ref() {
	for f in "$@"; do printf '%s %s\n' "$f" "$(sha256sum "$f" | cut -d' ' -f1)"; done |
		jq -Rn '{format: "vouch-reference", version: 1,
			 files: ([inputs | split(" ") | {(.[0]): ["sha256:" + .[1]]}] | add)}'
}

# firmware measured into PCR 0 before the engine starts: its boot_aggregate must cover it
check "firmware extends PCR 0" "$VOUCH" tpm extend 0 --data "firmware of this test"
check "AK" "$VOUCH" tpm ak create --out "$T/ak"
ref "$T/bin/a" "$T/bin/b" "$T/bin/c" >"$T/ref.json"

# --- round 1 ---------------------------------------------------------------------------
expect_rc 2 "--tcti twice is refused" load --tcti "$SWTPM_TCTI" --tpm "$T/bin/a"
expect_rc 0 "the engine measures a and b into the TPM" load --tcti "$SWTPM_TCTI" --json \
	"$T/bin/a" "$T/bin/b"
eq "both measured" "$(jq -c '[.[].measured]' "$T/.out")" "[true,true]"
eq "the state is bound to the TPM" "$(cat "$ST/tcti")" "$SWTPM_TCTI"
expect_rc 0 "engine status: list, software PCRs and TPM agree" "$VOUCH" engine status \
	--state-dir "$ST" --json
eq "status names the TPM" "$(jq -r .tpm "$T/.out")" "$SWTPM_TCTI"
eq "3 entries (boot_aggregate, a, b)" "$(jq -r .entries "$T/.out")" 3
eq "TPM PCR 10 = the engine's software sha256 PCR 10" "$(pcr10)" "$(jq -r .pcr10_sha256 "$T/.out")"
eq "TPM sha1 PCR 10 = the software sha1 PCR 10" \
	"$("$VOUCH" tpm pcrread --json sha1:10 | jq -r '.sha1["10"]')" "$(jq -r .pcr10_sha1 "$T/.out")"
check "quote the engine's list" "$VOUCH" attest quote --nonce 01 --pcrs sha256:0-10 \
	--ima "$ST/measurements" --no-eventlog --out "$T/r1.ev"
expect_rc 0 "round 1 verifies with the reference values" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 01 --reference "$T/ref.json" --state "$T/vstate" "$T/r1.ev"
eq "verdict trusted" "$(jq -r .verdict "$T/.out")" trusted
eq "ima_list passes" "$(res ima_list)" pass
eq "boot_aggregate (over the TPM's PCR 0-9) passes" "$(res boot_aggregate)" pass
eq "reference passes" "$(res reference)" pass
eq "the verifier's state holds 3 entries" "$(jq -r .entries "$T/vstate")" 3
# every active bank was extended the kernel's way (template digest hashed per bank)
ALL=sha256:0-10+sha384:10+sha512:10 # sha1 (not in the default allow-list) is compared above
check "quote PCR 10 of the sha256, sha384 and sha512 banks" "$VOUCH" attest quote --nonce 0a --pcrs $ALL \
	--ima "$ST/measurements" --no-eventlog --out "$T/banks.ev"
expect_rc 0 "the list replays to PCR 10 in sha256, sha384 and sha512" "$VOUCH" attest \
	verify --json --ak "$T/ak.pub" --nonce 0a --pcrs $ALL "$T/banks.ev"
eq "ima_list passes in every bank" "$(res ima_list)" pass
expect_rc 1 "the round 1 quote replayed for a fresh nonce" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 02 --reference "$T/ref.json" "$T/r1.ev"
eq "reason: nonce" "$(jq -r .first_failure.check "$T/.out")" nonce

# --- round 2: only the new entries ------------------------------------------------------
expect_rc 0 "without --tcti the bound TPM is used: c is measured" load --json "$T/bin/a" "$T/bin/c"
eq "a unchanged (not measured again), c measured" "$(jq -c '[.[].measured]' "$T/.out")" \
	"[false,true]"
check "quote entries after 3" "$VOUCH" attest quote --nonce 02 --pcrs sha256:0-10 \
	--ima "$ST/measurements" --from-entry 3 --no-eventlog --out "$T/r2.ev"
eq "the evidence starts after entry 3" "$(jq -r .ima.from_entry "$T/r2.ev")" 3
eq "and carries one entry" "$(jq -r .ima.binary "$T/r2.ev" | base64 -d | grep -c "$T/bin/")" 1
expect_rc 0 "round 2 verifies against the state" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 02 --reference "$T/ref.json" --state "$T/vstate" "$T/r2.ev"
eq "only entry 4 was checked" "$(detail ima_list | cut -d';' -f1)" \
	"entries 4-4 replay to the quoted PCR 10"
eq "boot_aggregate belongs to round 1" "$(res boot_aggregate)" not_applicable
eq "the state holds 4 entries" "$(jq -r .entries "$T/vstate")" 4
expect_rc 1 "round 2 evidence without the state" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 02 --reference "$T/ref.json" "$T/r2.ev"
eq "reason: ima_list (entries 1-3 missing)" "$(jq -r .first_failure.check "$T/.out")" ima_list

# --- round 3: a tampered file ------------------------------------------------------------
printf 'echo tampered\n' >>"$T/bin/b"
expect_rc 0 "the tampered b is re-measured (log mode)" load --json "$T/bin/b"
eq "measured again" "$(jq -r '.[0].measured' "$T/.out")" true
check "quote entries after 4" "$VOUCH" attest quote --nonce 03 --pcrs sha256:0-10 \
	--ima "$ST/measurements" --from-entry 4 --no-eventlog --out "$T/r3.ev"
expect_rc 1 "round 3 fails: b is not in the reference values" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 03 --reference "$T/ref.json" --state "$T/vstate" "$T/r3.ev"
eq "ima_list still passes (the TPM vouches for the list)" "$(res ima_list)" pass
eq "first failure: reference" "$(jq -r .first_failure.check "$T/.out")" reference
eq "names entry 5 and the file" "$(detail reference | cut -d'(' -f1)" \
	"entry 5 '$T/bin/b': digest not in the reference values "
eq "a failed round does not advance the state" "$(jq -r .entries "$T/vstate")" 4
expect_rc 1 "round 2's quote replayed for round 3's nonce" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 03 --reference "$T/ref.json" --state "$T/vstate" "$T/r2.ev"
eq "reason: nonce" "$(jq -r .first_failure.check "$T/.out")" nonce

# --- restart: the list against the TPM ---------------------------------------------------
# a crash after the entry became durable and before its extends: append a record by hand
python3 - "$ST/measurements" "$T/bin/late" <<'PY'
import hashlib, struct, sys
d = b"sha256:\0" + hashlib.sha256(b"late").digest(); n = sys.argv[2].encode() + b"\0"
data = struct.pack("<I", len(d)) + d + struct.pack("<I", len(n)) + n + struct.pack("<I", 0)
rec = struct.pack("<I", 10) + hashlib.sha1(data).digest() + struct.pack("<I", 7) + b"ima-sig" + \
    struct.pack("<I", len(data)) + data
open(sys.argv[1], "ab").write(rec)
PY
before=$(pcr10)
expect_rc 0 "restart completes the lost extend (software bank and TPM)" "$VOUCH" engine status \
	--state-dir "$ST" --audit --json
cp "$T/.out" "$T/status.json"
check "the TPM recovery is audited" grep -q "reason='durable tail entry extended into the TPM'" \
	"$T/.err"
eq "6 entries" "$(jq -r .entries "$T/status.json")" 6
eq "TPM PCR 10 moved to the engine's" "$(pcr10)" "$(jq -r .pcr10_sha256 "$T/status.json")"
[ "$before" != "$(pcr10)" ] && ok "the TPM was extended" || not_ok "the TPM was extended"
check "quote after the recovery" "$VOUCH" attest quote --nonce 04 --pcrs sha256:0-10 \
	--ima "$ST/measurements" --no-eventlog --out "$T/r4.ev"
expect_rc 0 "the whole list still replays to the TPM" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 04 "$T/r4.ev"
eq "all 6 entries attested" "$(detail ima_list | cut -d';' -f1)" \
	"entries 1-6 replay to the quoted PCR 10"

# a crash after a group of entries was durable, before their extends (group commit): two
# records by hand, both completed in list order
python3 - "$ST/measurements" "$T/bin/late2" "$T/bin/late3" <<'PY'
import hashlib, struct, sys
with open(sys.argv[1], "ab") as f:
    for name in sys.argv[2:]:
        d = b"sha256:\0" + hashlib.sha256(name.encode()).digest(); n = name.encode() + b"\0"
        data = struct.pack("<I", len(d)) + d + struct.pack("<I", len(n)) + n + struct.pack("<I", 0)
        f.write(struct.pack("<I", 10) + hashlib.sha1(data).digest() + struct.pack("<I", 7) +
                b"ima-sig" + struct.pack("<I", len(data)) + data)
PY
expect_rc 0 "restart completes a group's lost extends" "$VOUCH" engine status \
	--state-dir "$ST" --audit --json
cp "$T/.out" "$T/status.json"
eq "8 entries" "$(jq -r .entries "$T/status.json")" 8
eq "TPM PCR 10 is the engine's after both extends" "$(pcr10)" "$(jq -r .pcr10_sha256 "$T/status.json")"

# runs killed with SIGKILL at random points: the next start always finds the TPM in step
mkdir -p "$T/crash"
bad=0 recovered=0
for i in $(seq 1 30); do
	for f in $(seq 1 40); do echo "run $i file $f" >"$T/crash/f$f"; done
	"$VOUCH" load --state-dir "$ST" --policy "$POL" --mode log --func BPRM_CHECK "$T"/crash/f* \
		>/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' $((RANDOM % 60)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	if ! "$VOUCH" engine status --state-dir "$ST" --audit --json >"$T/st.out" 2>"$T/st.err"; then
		bad=$((bad + 1)); sed 's/^/#   /' "$T/st.err" | head -3
	fi
	grep -q 'extended into the TPM' "$T/st.err" && recovered=$((recovered + 1))
done
eq "30 SIGKILLed runs: list, software PCRs and TPM always agree at the next start" "$bad" 0
diag "TPM tail entries recovered: $recovered, entries: $(jq .entries "$T/st.out")"
check "quote after the crashes" "$VOUCH" attest quote --nonce 05 --pcrs sha256:0-10 \
	--ima "$ST/measurements" --no-eventlog --out "$T/r5.ev"
expect_rc 0 "the whole list replays to the TPM" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 05 "$T/r5.ev"
eq "every entry attested" "$(detail ima_list | cut -d';' -f1)" \
	"entries 1-$(jq .entries "$T/st.out") replay to the quoted PCR 10"

# quotes taken while the engine measures: the list read after the quote, under the lock
mkdir -p "$T/busy"
for f in $(seq 1 150); do echo "busy $f" >"$T/busy/f$f"; done
"$VOUCH" load --state-dir "$ST" --policy "$POL" --mode log --func BPRM_CHECK "$T"/busy/f* \
	>/dev/null 2>&1 &
pid=$!
sleep 0.1
for n in 1 2 3; do
	"$VOUCH" attest quote --nonce 0b0$n --pcrs sha256:10 --ima "$ST/measurements" \
		--no-eventlog --out "$T/busy$n.ev" 2>"$T/busy$n.err" || not_ok "quote $n during loads"
done
wait $pid || not_ok "the busy load"
good=0
for n in 1 2 3; do
	"$VOUCH" attest verify --json --ak "$T/ak.pub" --nonce 0b0$n --pcrs sha256:10 \
		"$T/busy$n.ev" >"$T/.out" 2>/dev/null && [ "$(res ima_list)" = pass ] && good=$((good + 1))
done
eq "3 quotes taken during 150 loads all verify" "$good" 3

# a list measured without a TPM cannot be continued on one
"$VOUCH" load --state-dir "$T/soft" --policy "$POL" --mode log --func BPRM_CHECK "$T/bin/a" \
	>/dev/null 2>&1 || not_ok "software-only state"
expect_rc 1 "a software-only state refuses a TPM" "$VOUCH" load --state-dir "$T/soft" \
	--policy "$POL" --mode log --tcti "$SWTPM_TCTI" --func BPRM_CHECK "$T/bin/c"
one_line_err "one line: measured without a TPM" "were measured without a TPM"

# someone else extends PCR 10: the engine refuses to go on
check "an outside extend of PCR 10" "$VOUCH" tpm extend 10 --data intruder
expect_rc 1 "engine status reports the mismatch" "$VOUCH" engine status --state-dir "$ST"
one_line_err "one line naming the TPM" "do not match the measurement list"
expect_rc 1 "and the engine refuses to measure" load "$T/bin/c"

# the TPM restarted (a new boot): the bound state is refused, a new state works
swtpm_stop
swtpm_start "$T/tpm2" || { not_ok "second swtpm starts"; done_testing; }
expect_rc 1 "a reset TPM refuses the old state" load --tcti "$SWTPM_TCTI" "$T/bin/c"
one_line_err "one line: PCR 10 is reset" "PCR 10 is reset"
expect_rc 3 "an unreachable TPM: could not check" "$VOUCH" load --state-dir "$T/new" \
	--policy "$POL" --tcti "swtpm:host=127.0.0.1,port=1" --func BPRM_CHECK "$T/bin/c"
check "nothing was bound to it" test ! -e "$T/new/tcti"
done_testing
