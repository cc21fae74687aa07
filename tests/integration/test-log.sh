#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vouch log against the Debian 6.1 kernel's own lists and evmctl ima_measurement.
. "$(dirname "$0")/lib.sh"
require_peer evmctl ima-evm-utils
require_peer jq jq
D=$VEC/debian-6.1
K=$VEC/keys
L=$TVEC/log
BIN=$D/binary_runtime_measurements
PCRS=(--pcrs "sha1=$D/pcrs-sha1.txt" --pcrs "sha256=$D/pcrs-sha256.txt"
	--pcrs "sha384=$D/pcrs-sha384.txt" --pcrs "sha512=$D/pcrs-sha512.txt")

# 1. the kernel's ascii list, byte for byte (trailing spaces, %2d)
"$VOUCH" log show --ascii "$BIN" >"$T/ascii"
check "--ascii reproduces ascii_runtime_measurements byte for byte" cmp "$T/ascii" "$D/ascii_runtime_measurements"
"$VOUCH" log show --ascii - <"$BIN" >"$T/stdin.ascii"
check "LIST - reads standard input" cmp "$T/stdin.ascii" "$D/ascii_runtime_measurements"
eq "summary lists 26 entries" "$("$VOUCH" log show "$BIN" | wc -l)" 26
eq "JSON names entry 9 (ima-buf, _ima keyring)" \
	"$("$VOUCH" log show --json "$BIN" | jq -r '.[8].template + " " + .[8].name')" "ima-buf _ima"

# every bank matches at entry 26; sha384/sha512 as zero-padded SHA-1
expect_rc 0 "verify: four banks" "$VOUCH" log verify "${PCRS[@]}" "$BIN"
out=$(cat "$T/.out")
for b in sha1 sha256 sha384 sha512; do
	check "$b matches after entry 26 of 26" grep -q "^$b: matches after entry 26 of 26" <<<"$out"
done
check "sha384 matched as zero-padded SHA-1" grep -q '^sha384: .*zero-padded' <<<"$out"
check "boot_aggregate ok (sha256)" grep -qx 'boot_aggregate: ok (sha256)' <<<"$out"
eq "replay: sha256 PCR 10" "$("$VOUCH" log replay --bank sha256 "$BIN" | sed -n 's/^sha256 PCR-10: //p')" \
	"$(sed -n 's/^PCR-10: //p' "$D/pcrs-sha256.txt" | tr A-F a-f)"
eq "replay --padded-bank sha512 gives the captured sha512 PCR 10" \
	"$("$VOUCH" log replay --padded-bank sha512 "$BIN" | sed -n 's/^sha512 (padded sha1) PCR-10: //p')" \
	"$(sed -n 's/^PCR-10: //p' "$D/pcrs-sha512.txt" | tr A-F a-f)"
expect_rc 0 "evmctl agrees on sha1+sha256" evmctl ima_measurement --pcrs "sha1,$D/pcrs-sha1.txt" \
	--pcrs "sha256,$D/pcrs-sha256.txt" "$BIN"
expect_rc 0 "the ascii list verifies too" "$VOUCH" log verify "${PCRS[@]}" "$D/ascii_runtime_measurements"

# signatures: the verdicts evmctl gives, entry by entry
sigs() { # KEYS... -> "path verdict" lines from vouch and from evmctl
	local t=() k=() c
	for c in "$@"; do t+=(-t "$K/$c.crt"); k+=("$K/$c.der"); done
	"$VOUCH" log verify --pcrs "sha256=$D/pcrs-sha256.txt" --verify-sigs "${t[@]}" "$BIN" \
		| sed -n 's/^entry [0-9]* \(.*\): signature \(.*\)$/\1 \2/p' >"$T/vouch.sigs"
	evmctl -v ima_measurement --verify-sig --key "$(IFS=,; echo "${k[*]}")" "$BIN" 2>&1 >/dev/null \
		| sed -n -e 's/^\(.*\): verification is OK$/\1 verified/p' \
			-e 's/^\(.*\): verification failed: unknown keyid.*/\1 unknown-key/p' \
			-e 's/^\(.*\): verification failed: 0 .*/\1 bad/p' >"$T/evmctl.sigs"
}
sigs rsa2048
eq "rsa2048: 2 verified, 2 bad, 2 unknown key" \
	"$(awk '{print $2}' "$T/vouch.sigs" | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')" \
	"bad=2 unknown-key=2 verified=2 "
check "rsa2048: entry by entry the verdicts of evmctl" diff "$T/vouch.sigs" "$T/evmctl.sigs"
sigs rsa2048 ecdsa-p256
eq "both certificates: 3 verified, 2 bad, 1 unknown key" \
	"$(awk '{print $2}' "$T/vouch.sigs" | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')" \
	"bad=2 unknown-key=1 verified=3 "
check "both certificates: entry by entry the verdicts of evmctl" diff "$T/vouch.sigs" "$T/evmctl.sigs"
expect_rc 0 "failed appraisals are a report, not a failure" "$VOUCH" log verify \
	--pcrs "sha256=$D/pcrs-sha256.txt" --verify-sigs -t "$K/rsa2048.crt" "$BIN"
expect_rc 1 "--require-sigs turns them into a failure" "$VOUCH" log verify \
	--pcrs "sha256=$D/pcrs-sha256.txt" --verify-sigs -t "$K/rsa2048.crt" --require-sigs "$BIN"
one_line_err "names the first unsigned file (issue 13 item 3: unsigned fails too)" "entry 2: signature none"
eq "JSON counts" "$("$VOUCH" log verify --json --pcrs "sha256=$D/pcrs-sha256.txt" --verify-sigs \
	-t "$K/rsa2048.crt" "$BIN" | jq -c '[.signature_counts.verified, .signature_counts.bad, .signature_counts["unknown-key"], .sha256.matched_at, .verified]')" \
	"[2,2,2,26,true]"

# 2. FORMATS.md §13.9-13.11, with evmctl as the second opinion
expect_rc 0 "§13.9 verifies (violation as all-ones, boot_aggregate of zero PCRs)" "$VOUCH" log verify \
	--pcrs "sha1=$L/pcrs-s13.9-sha1.txt" --pcrs "sha256=$L/pcrs-s13.9-sha256.txt" "$L/s13.9.bin"
expect_rc 0 "evmctl --ignore-violations agrees on §13.9" evmctl ima_measurement --ignore-violations \
	--pcrs "sha1,$L/pcrs-s13.9-sha1.txt" --pcrs "sha256,$L/pcrs-s13.9-sha256.txt" "$L/s13.9.bin"
eq "§13.10 legacy ima: sha256 PCR 10" "$("$VOUCH" log replay "$L/s13.10.bin" | sed -n 's/^sha256 PCR-10: //p')" \
	75b38d47e88d709eb5232afca2b8ee539e92b2a955102d053ff033e674b51585
"$VOUCH" log export --kexec -o "$T/s13.11.kexec" "$L/s13.9.bin"
check "export --kexec gives the §13.11 buffer" cmp "$T/s13.11.kexec" "$L/s13.11.kexec"
eq "a kexec buffer reads back as a list" "$("$VOUCH" log show --ascii "$T/s13.11.kexec" | md5sum)" \
	"$("$VOUCH" log show --ascii "$L/s13.9.bin" | md5sum)"

# 4. round trips through the CLI
"$VOUCH" log export --binary --big-endian -o "$T/be.bin" "$BIN"
"$VOUCH" log export --binary --canonical -o "$T/le.bin" "$T/be.bin"
check "binary -> big endian -> canonical is lossless" cmp "$T/le.bin" "$BIN"
check "the big endian list differs" bash -c "! cmp -s '$T/be.bin' '$BIN'"
"$VOUCH" log export --binary -o "$T/from-ascii.bin" "$D/ascii_runtime_measurements"
check "ascii -> binary is lossless" cmp "$T/from-ascii.bin" "$BIN"

# PCR sources: YAML and a sysfs tree below --root, default list path below --root
R=$T/root
mkdir -p "$R/sys/class/tpm/tpm0/pcr-sha256" "$R/sys/kernel/security/ima"
cp "$BIN" "$R/sys/kernel/security/ima/binary_runtime_measurements"
{ echo "  sha256:"; sed -n 's/^PCR-\([0-9]*\): \(.*\)/    \1 : 0x\2/p' "$D/pcrs-sha256.txt"; } >"$T/pcrs.yaml"
while read -r n v; do echo "$v" >"$R/sys/class/tpm/tpm0/pcr-sha256/$((10#${n#PCR-}))"; done \
	< <(sed 's/://' "$D/pcrs-sha256.txt")
expect_rc 0 "tpm2_pcrread YAML" "$VOUCH" log verify --pcrs "sha256=$T/pcrs.yaml" "$BIN"
expect_rc 0 "sysfs tree and default list below --root" "$VOUCH" log verify --root "$R" --pcrs sha256

# 3. must-fail, each with exit code and one line naming the problem
cp "$BIN" "$T/tampered"
printf '\x00' | dd of="$T/tampered" bs=1 seek=4000 conv=notrunc status=none
expect_rc 1 "a tampered list" "$VOUCH" log verify "${PCRS[@]}" "$T/tampered"
one_line_err "names the entry" "entry 17: the template digest does not match"
expect_rc 1 "flipped digest byte (§13.9 twin)" "$VOUCH" log verify --no-boot-aggregate \
	--pcrs "sha256=$L/pcrs-s13.9-sha256.txt" "$L/bad-flipped-digest.bin"
one_line_err "reported at entry 2" "entry 2: the template digest does not match"
for v in bad-truncated bad-length-past-end bad-length-huge bad-field-length bad-unknown-template; do
	expect_rc 1 "$v is refused" "$VOUCH" log show "$L/$v.bin"
	one_line_err "$v: one line naming the file" "$v.bin"
done
expect_rc 1 "a list shorter than the PCR state" "$VOUCH" log verify --no-boot-aggregate \
	--pcrs "sha256=$L/pcrs-s13.9-sha256.txt" "$L/short-list.bin"
one_line_err "names the bank" "sha256: no prefix of the 3 entries"
expect_rc 1 "boot_aggregate against other PCRs" "$VOUCH" log verify --pcrs "sha256=$L/pcrs-s13.9-sha256.txt" \
	--pcrs "sha1=$L/pcrs-s13.9-sha1.txt" "$BIN"
expect_rc 3 "boot_aggregate bank without values: could not check" "$VOUCH" log verify \
	--pcrs "sha1=$D/pcrs-sha1.txt" "$BIN"
expect_rc 3 "a missing list" "$VOUCH" log show "$T/none"
one_line_err "missing list named" "$T/none"
expect_rc 2 "--pcrs is required" "$VOUCH" log verify "$BIN"
expect_rc 2 "--ascii and --json together" "$VOUCH" log show --ascii --json "$BIN"
expect_rc 2 "--pcrs twice for a bank" "$VOUCH" log verify --pcrs "sha1=$D/pcrs-sha1.txt" \
	--pcrs "sha1=$D/pcrs-sha1.txt" "$BIN"
expect_rc 2 "--require-sigs without --verify-sigs" "$VOUCH" log verify --require-sigs \
	--pcrs "sha1=$D/pcrs-sha1.txt" "$BIN"
expect_rc 3 "PCR values of the wrong size" "$VOUCH" log verify --pcrs "sha256=$D/pcrs-sha1.txt" "$BIN"

# --previous: after kexec -e (no IMA_KEXEC) a new list on a PCR 10 that kept the old extends
cat "$BIN" "$BIN" > "$T/two-boots"
echo "PCR-10: $("$VOUCH" log replay --bank sha256 "$T/two-boots" | sed -n 's/^sha256 PCR-10: //p')" > "$T/pcr-after-kexec"
check "--previous: the old list followed by the new one replays" "$VOUCH" log verify --no-boot-aggregate \
	--pcrs "sha256=$T/pcr-after-kexec" --previous "$BIN" "$BIN"
expect_rc 1 "--previous, must fail: the new list alone does not" "$VOUCH" log verify --no-boot-aggregate \
	--pcrs "sha256=$T/pcr-after-kexec" "$BIN"
expect_rc 2 "--previous needs LIST as a file" "$VOUCH" log verify --pcrs "sha256=$T/pcr-after-kexec" --previous "$BIN" -
done_testing
