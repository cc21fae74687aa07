#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Regenerate the must-fail quote vectors in this directory with swtpm + tpm2-tools (the
# committed files come from one run of this script; see README).  Usage: make-vectors.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../integration/swtpm.sh"
W=$(mktemp -d /tmp/vouch-qvec.XXXXXX)
trap 'swtpm_stop; rm -rf "$W"' EXIT
swtpm_start "$W" || { echo "swtpm did not start" >&2; exit 1; }
cd "$W"
NONCE=5c0ffee0d15ea5e5
OLDNONCE=0bad0bad0bad0bad
flush() { tpm2_flushcontext -t >/dev/null; tpm2_flushcontext -s >/dev/null || true; }
ATTRS="fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign"

tpm2_pcrextend 10:sha256=51b9d59f69f134a3e098024f77f4fdea4d506cfd57a03b92f45bbf4116c3a0e9
tpm2_pcrextend 11:sha256=e8682c1c9df5ddade69656acadaf8b6c922c5b49afb918ed1834c63dc569fd88
tpm2_createprimary -Q -C o -g sha256 -G rsa -c prim.ctx; flush
mkak() { # name keyspec
	tpm2_create -Q -C prim.ctx -G "$2" -a "$ATTRS" -u "$1.pub" -r "$1.priv"; flush
	tpm2_load -Q -C prim.ctx -u "$1.pub" -r "$1.priv" -c "$1.ctx"; flush
	tpm2_readpublic -Q -c "$1.ctx" -f pem -o "$1.pem"; flush
}
mkak ak rsa2048:rsassa-sha256:null
mkak ak2 rsa2048:rsassa-sha256:null
mkak akpss rsa2048:rsapss-sha256:null
mkak akecc ecc256:ecdsa-sha256:null
mkak aksha1 rsa2048:rsassa-sha1:null
quote() { # ak out sel nonce hash [scheme]
	tpm2_quote -Q -c "$1.ctx" -l "$3" -q "$4" -m "$2.msg" -s "$2.sig" -o "$2.pcrs" -F values -g "$5" \
		${6:+--scheme "$6"}; flush
}
quote ak good sha256:0,10 $NONCE sha256
quote akpss good-pss sha256:0,10 $NONCE sha256 rsapss
quote akecc good-ecc sha256:0,10 $NONCE sha256 ecdsa
quote ak old-nonce sha256:0,10 $OLDNONCE sha256
quote ak pcr11 sha256:11 $NONCE sha256
quote aksha1 sha1-scheme sha256:0,10 $NONCE sha1
# PCR values that do not hash to pcrDigest: flip a byte of the good quote's values
cp good.pcrs bad-values.pcrs
printf '\x01' | dd of=bad-values.pcrs bs=1 seek=40 conv=notrunc status=none
# attestation of another type signed by the same AK: TPM2_GetTime -> TPM_ST_ATTEST_TIME
tpm2_gettime -Q -c ak.ctx -q $NONCE --attestation time.msg -o time.sig; flush
# attacker bytes: a TPMS_ATTEST lookalike with every field right except the magic, signed
# with TPM2_Sign by the restricted AK (TPM2_Hash issues the ticket because the data does
# not start with TPM_GENERATED_VALUE)
python3 - "$NONCE" good.msg forged.msg <<'PY'
import sys
nonce = bytes.fromhex(sys.argv[1]); good = open(sys.argv[2], 'rb').read()
# keep everything after the magic (same signer, nonce, selection, pcrDigest)
open(sys.argv[3], 'wb').write(bytes.fromhex('ff544348') + good[4:])
PY
tpm2_hash -Q -C o -g sha256 -t forged.ticket -o forged.digest forged.msg; flush
tpm2_sign -Q -c ak.ctx -g sha256 -s rsassa -d -t forged.ticket -o forged.sig forged.digest; flush
cp good.pcrs forged.pcrs
cp good.pcrs old-nonce.pcrs 2>/dev/null || true
# the CVE-2024-29039 shape: a quote of PCR 11 offered as PCR 10 with PCR 11's value
cp pcr11.pcrs pcr11-as-10.pcrs
tpm2_checkquote -Q -u ak.pem -m good.msg -s good.sig -f good.pcrs -l sha256:0,10 -g sha256 -q $NONCE
for f in ak ak2 akpss akecc aksha1; do cp "$f.pem" "$f.pub" "$here/"; done
for f in good good-pss good-ecc old-nonce pcr11 sha1-scheme forged; do
	cp "$f.msg" "$f.sig" "$here/"
done
cp good.pcrs good-pss.pcrs good-ecc.pcrs pcr11.pcrs sha1-scheme.pcrs bad-values.pcrs \
	forged.pcrs time.msg time.sig "$here/"
echo "$NONCE" >"$here/nonce.hex"
echo "$OLDNONCE" >"$here/old-nonce.hex"
echo "vectors written to $here (swtpm $(dpkg-query -W -f '${Version}' swtpm), tpm2-tools $(dpkg-query -W -f '${Version}' tpm2-tools))"
