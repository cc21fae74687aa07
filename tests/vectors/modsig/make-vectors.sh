#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Regenerate the modsig must-fail vectors from tests/vectors with the real tools
# (sign-file from linux-kbuild-6.1, openssl) and byte patches.  Each vector breaks exactly
# one rule; README.md lists them with the rule vouch must report.  RSA signing is
# deterministic, so the output is reproducible except for the freshly generated "other"
# keys (committed, so a rerun only changes the vectors that use them).
set -euo pipefail
cd "$(dirname "$0")"
VEC=${VOUCH_VECTORS:-$(cd "$(dirname "$0")/.." && pwd)}
SIGN_FILE=${SIGN_FILE:-/usr/lib/linux-kbuild-6.1/scripts/sign-file}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cp "$VEC/keys/rsa2048.key" "$VEC/keys/rsa2048.crt" "$VEC/keys/ecdsa-p256.key" "$VEC/keys/ecdsa-p256.crt" "$T/"
chmod 600 "$T"/*.key
BLOB=$VEC/peer/blob.ko
GOOD=$VEC/peer/blob.rsa2048.ko
SIZE=$(stat -c %s "$GOOD")
PLEN=$(stat -c %s "$BLOB")
SLEN=$((SIZE - PLEN - 40))

# patch FILE OFFSET HEXBYTES: overwrite bytes in place
patch() { printf "$(sed 's/../\\x&/g' <<<"$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
# flip FILE OFFSET: xor one byte with 0x01
flip() { local b; b=$(od -An -tx1 -j "$2" -N1 "$1" | tr -d ' '); patch "$1" "$2" "$(printf %02x $((0x$b ^ 1)))"; }
# offset of the first occurrence of HEX in FILE
find_hex() {
	local o; o=$(xxd -p "$1" | tr -d '\n' | grep -bo "$2" | head -1 | cut -d: -f1)
	[ -n "$o" ] && [ $((o % 2)) = 0 ] || { echo "make-vectors: $2 not found in $1" >&2; exit 1; }
	echo $((o / 2))
}

# "other" keys: one with the same issuer+serial as rsa2048.crt (wrong key), one unknown
if [ ! -f other-same-id.key ]; then
	subj=$(openssl x509 -in "$T/rsa2048.crt" -noout -subject -nameopt compat | sed 's/^subject=//')
	serial=$(openssl x509 -in "$T/rsa2048.crt" -noout -serial | cut -d= -f2)
	openssl req -x509 -new -newkey rsa:2048 -nodes -keyout other-same-id.key -out other-same-id.crt \
		-subj "$subj" -set_serial "0x$serial" -days 36500 -sha256 2>/dev/null
	openssl req -x509 -new -newkey rsa:2048 -nodes -keyout unknown.key -out unknown.crt \
		-subj "/CN=vouch test unknown signer/O=vouch" -days 36500 -sha256 2>/dev/null
	chmod 600 other-same-id.key unknown.key
fi
# a revoked signer: its certificate's TBSCertificate sha256 is on the "tbs:" blacklist
if [ ! -f revoked.key ]; then
	openssl req -x509 -new -newkey rsa:2048 -nodes -keyout revoked.key -out revoked.crt \
		-subj "/CN=vouch test revoked signer/O=vouch" -days 36500 -sha256 \
		-addext "subjectKeyIdentifier=hash" -addext "keyUsage=digitalSignature" \
		-addext "extendedKeyUsage=codeSigning" 2>/dev/null
	chmod 600 revoked.key
fi
cp other-same-id.key unknown.key revoked.key "$T/"; chmod 600 "$T"/*.key

cp "$GOOD" payload-flip.ko; flip payload-flip.ko 100
cp "$GOOD" sig-flip.ko; flip sig-flip.ko $((PLEN + SLEN - 1))
# the outer ContentInfo SEQUENCE tag 0x30 -> 0x31
cp "$GOOD" pkcs7-tag.ko; patch pkcs7-tag.ko "$PLEN" 31
# SignerInfo version 1 -> 3 with an issuerAndSerialNumber sid in SignedData v1
cp "$GOOD" pkcs7-version.ko
patch pkcs7-version.ko $((PLEN + 64)) 03  # ContentInfo(4) [0](4) SEQ(4) ver(3) algs(15) ci(13) SET(4) SEQ(4) INTEGER
# rsaEncryption -> sha256WithRSAEncryption (same length: 1.2.840.113549.1.1.1 -> .11)
cp "$GOOD" sigalg-sha256withrsa.ko
off=$(find_hex sigalg-sha256withrsa.ko "06092a864886f70d0101010500")
patch sigalg-sha256withrsa.ko $((off + 10)) 0b
# encapsulated contentType data -> signedData
cp "$GOOD" content-type.ko
patch content-type.ko $((PLEN + 53)) 02  # last byte of the OID at offset 43
# wrong key (same issuer+serial as rsa2048.crt), unknown signer, sha1 (not allowed)
"$SIGN_FILE" sha256 "$T/other-same-id.key" other-same-id.crt "$BLOB" wrong-key.ko
"$SIGN_FILE" sha256 "$T/unknown.key" unknown.crt "$BLOB" unknown-signer.ko
"$SIGN_FILE" sha1 "$T/rsa2048.key" "$T/rsa2048.crt" "$BLOB" digest-sha1.ko
# revoked signer: sign-file with revoked.key; the blacklist names the certificate's TBS hash
"$SIGN_FILE" sha256 "$T/revoked.key" revoked.crt "$BLOB" revoked-signer.ko
openssl asn1parse -in revoked.crt -strparse 4 -noout -out "$T/tbs.der" >/dev/null
printf '# the TBSCertificate sha256 of revoked.crt (the kernel'"'"'s "tbs:" blacklist form)\ntbs:%s\n' \
	"$(sha256sum "$T/tbs.der" | cut -d' ' -f1)" > revoked.blacklist
# signed attributes: openssl cms without -noattr adds contentType/signingTime/messageDigest
openssl cms -sign -binary -in "$BLOB" -signer "$T/rsa2048.crt" -inkey "$T/rsa2048.key" -md sha256 \
	-nocerts -nosmimecap -outform DER -out "$T/attrs.p7"
"$SIGN_FILE" -s "$T/attrs.p7" sha256 "$T/rsa2048.crt" "$BLOB" signed-attrs.ko
# trailers: marker but too short; sig_len past the start; id_type 1; non-zero pad; bad marker
{ printf 'ELF\0\0\0\0\0'; printf '~Module signature appended~\n'; } > trailer-short.ko
cp "$GOOD" siglen-past-start.ko; patch siglen-past-start.ko $((SIZE - 40 + 8)) fffffff0
cp "$GOOD" id-type.ko; patch id-type.ko $((SIZE - 40 + 2)) 01
cp "$GOOD" pad-nonzero.ko; patch pad-nonzero.ko $((SIZE - 40 + 6)) 01
cp "$GOOD" bad-marker.ko; patch bad-marker.ko $((SIZE - 28 + 1)) 6d
# sig_len one too small: the PKCS#7 then ends with a stray byte outside it
cp "$GOOD" siglen-short.ko; patch siglen-short.ko $((SIZE - 40 + 8)) "$(printf %08x $((SLEN - 1)))"
# detached: a good .p7s for blob.ko and one for another payload
head -c "$((PLEN + SLEN))" "$GOOD" | tail -c "$SLEN" > blob.ko.p7s
printf 'a different payload\n' > other-payload.bin
echo "vectors written to $(pwd)"
