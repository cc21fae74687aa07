#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Regenerate the attestation must-fail vectors (README): run from the repository root after
# a build; needs swtpm, tpm2-tools and python3.  Each scenario runs on a fresh swtpm.
set -euo pipefail
VOUCH=${VOUCH:-$PWD/build/programs/vouch}
OUT=$PWD/tests/vectors/attest
KEYS=$PWD/tests/vectors/keys
. tests/integration/swtpm.sh
T=$(mktemp -d)
trap 'swtpm_stop; rm -rf "$T"' EXIT
NONCE=$(cat "$OUT/nonce.hex")

cd "$T"
printf 'good\n' >good; printf 'good2\n' >good2; printf 'evil\n' >evil
cp "$KEYS/rsa2048.key" k.key; chmod 600 k.key
"$VOUCH" ima sign -k k.key --sigfile good good2 evil >/dev/null
# evil.sig signs "evil\n"; the list records the digest of other content: a bad signature
BOOT=10:ima-sig:boot_aggregate:@zero320
GOOD=10:ima-sig:/usr/bin/good:good$'\n':good.sig
EVIL=ima-sig:/usr/bin/evil:tampered$'\n':evil.sig

run_tpm() { # NAME: a fresh swtpm and AK; extends what the true list says, quotes SEL
	swtpm_stop
	rm -rf "$T/tpm"
	swtpm_start "$T/tpm"
	"$VOUCH" tpm ak create --tcti "$SWTPM_TCTI" --out "$T/$1-ak" >/dev/null 2>&1
	cp "$T/$1-ak.pub" "$OUT/$1-ak.pub"
	while read -r pcr d; do "$VOUCH" tpm extend --tcti "$SWTPM_TCTI" "$pcr" "$d" >/dev/null; done
}
quote() { # NAME LIST SEL
	"$VOUCH" attest quote --tcti "$SWTPM_TCTI" --nonce "$NONCE" --pcrs "$3" --ima "$2" \
		--no-eventlog --out "$OUT/$1.ev" >/dev/null
}

# 1. entries outside PCR 10: the kernel extended evil into PCR 11 (policy pcr=11)
python3 "$OUT/mklist.py" true "$BOOT" "$GOOD" "11:$EVIL" >ext
run_tpm pcr11 <ext
quote pcr11-honest true sha256:10,11
python3 "$OUT/mklist.py" deleted "$BOOT" "$GOOD" >/dev/null
quote pcr11-deleted deleted sha256:10,11
python3 "$OUT/mklist.py" forged "$BOOT" "$GOOD" "11:ima-sig:/usr/bin/evil:good2"$'\n'":good2.sig" \
	>/dev/null
quote pcr11-forged forged sha256:10,11
# tpm2_quote's own files of the same PCRs: -o in its default (serialized) form and -F values
tpm2_quote -c 0x81010010 -l sha256:10,11 -q "$NONCE" -m "$OUT/tpm2-quote.msg" \
	-s "$OUT/tpm2-quote.sig" -o "$OUT/tpm2-quote.pcrs" -g sha256 >/dev/null
tpm2_quote -c 0x81010010 -l sha256:10,11 -q "$NONCE" -m "$T/q2.msg" -s "$T/q2.sig" \
	-o "$OUT/tpm2-quote.values" -F values -g sha256 >/dev/null

# 2. the template name: evil (bad signature) in PCR 10, then relabelled ima-buf
python3 "$OUT/mklist.py" true2 "$BOOT" "$GOOD" "10:$EVIL" >ext
run_tpm relabel <ext
quote relabel-honest true2 sha256:10
python3 "$OUT/mklist.py" relabeled "$BOOT" "$GOOD" "10:${EVIL/ima-sig/ima-buf}" >/dev/null
quote relabel-buf relabeled sha256:10
echo "vectors written to $OUT"
