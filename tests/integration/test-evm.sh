#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vouch evm against evmctl 1.4: portable signatures both ways, byte-identical RSA values,
# must-fail on changed metadata, and the HMAC form against an openssl re-computation.
. "$(dirname "$0")/lib.sh"
require_peer evmctl ima-evm-utils
require_peer openssl openssl
require_peer getfattr attr
require_peer lsattr e2fsprogs
keys_copy
S=$VEC/peer/samples

touch "$T/probe"
if ! setfattr -n security.ima -v 0x0401 "$T/probe" 2>/dev/null || ! setfattr -n security.evm -v 0x0201 "$T/probe" 2>/dev/null; then
	echo "1..0 # SKIP security.* xattrs unavailable on $T (EVM hashes security.ima; needs root)"
	exit 0
fi
diag "xattrs: security.ima and security.evm on $T"
openssl x509 -in "$T/keys/rsa2048.crt" -outform DER -out "$T/rsa.der"
openssl x509 -in "$T/keys/ecdsa-p256.crt" -outform DER -out "$T/ec.der"
evm_hex() { getfattr -n security.evm -e hex "$1" 2>/dev/null | sed -n 's/^[^=]*=0x//p'; }

for k in rsa2048:rsa ecdsa-p256:ec; do
	key=${k%%:*}; der=$T/${k#*:}.der
	for a in sha1 sha256 sha512; do
		f=$T/v-$key-$a; cp "$S/hello.txt" "$f"; chmod 640 "$f"
		"$VOUCH" ima sign -k "$T/keys/$key.key" "$f"
		check "vouch evm sign --portable ($key $a)" "$VOUCH" evm sign --portable -a "$a" -k "$T/keys/$key.key" "$f"
		check "evmctl verify accepts vouch's $key $a portable signature" evmctl verify --key "$der" "$f"
		g=$T/e-$key-$a; cp "$S/abc" "$g"; chmod 600 "$g"
		evmctl ima_sign --key "$T/keys/$key.key" "$g" >/dev/null 2>&1
		evmctl sign --portable -a "$a" --key "$T/keys/$key.key" "$g" >/dev/null 2>&1
		check "vouch accepts evmctl's $key $a portable signature" "$VOUCH" evm verify -t "$T/keys/$key.crt" "$g"
		if [ "$key" = rsa2048 ]; then
			want=$(evm_hex "$g")
			"$VOUCH" evm sign --portable -a "$a" -k "$T/keys/$key.key" "$g"
			eq "RSA $a portable value identical to evmctl's" "$(evm_hex "$g")" "$want"
		fi
	done
done

# must-fail: metadata and security.ima are covered
f=$T/v-rsa2048-sha256
expect_rc 0 "portable signature verifies" "$VOUCH" evm verify -t "$T/keys/rsa2048.crt" "$f"
chmod 600 "$f"
expect_rc 1 "changed mode fails" "$VOUCH" evm verify -t "$T/keys/rsa2048.crt" "$f"
one_line_err "names file and reason" "$f: signature by key c35519ed does not verify"
check "evmctl agrees: changed mode fails" bash -c "! evmctl verify --key '$T/rsa.der' '$f'"
chmod 640 "$f"; chown 1:1 "$f"
expect_rc 1 "changed owner fails" "$VOUCH" evm verify -t "$T/keys/rsa2048.crt" "$f"
chown 0:0 "$f"
expect_rc 0 "restored metadata verifies" "$VOUCH" evm verify -t "$T/keys/rsa2048.crt" "$f"
"$VOUCH" ima hash "$f" >/dev/null
expect_rc 1 "changed security.ima fails" "$VOUCH" evm verify -t "$T/keys/rsa2048.crt" "$f"
expect_rc 1 "unknown key" "$VOUCH" evm verify -t "$T/keys/ecdsa-p256.crt" "$f"
one_line_err "unknown key named" "no trusted key with id c35519ed"
touch "$T/noima"
expect_rc 3 "portable signature without security.ima refused" "$VOUCH" evm sign --portable -k "$T/keys/rsa2048.key" "$T/noima"
one_line_err "reason" "needs security.ima"
expect_rc 1 "no security.evm" "$VOUCH" evm verify -t "$T/keys/rsa2048.crt" "$T/noima"
expect_rc 2 "--portable and --hmac together" "$VOUCH" evm sign --portable --hmac x -k y "$f"

# HMAC: HMAC-SHA1(key zero-padded to 128, security.ima || h_misc(ino, generation, uid, gid, mode))
printf '0123456789abcdef0123456789abcdef' > "$T/evm-key"; chmod 600 "$T/evm-key"
h=$T/hmac; cp "$S/hello.txt" "$h"; chmod 644 "$h"
"$VOUCH" ima hash "$h" >/dev/null
check "evm sign --hmac" "$VOUCH" evm sign --hmac "$T/evm-key" "$h"
le() { local v=$1 n=$2 out=""; for ((i = 0; i < n; i++)); do out+=$(printf '%02x' $(( (v >> (8 * i)) & 255 ))); done; echo "$out"; }
ino=$(stat -c %i "$h"); gen=$(lsattr -v "$h" | awk '{print $1}'); mode=$(stat -c %f "$h")
ima=$(getfattr -n security.ima -e hex "$h" 2>/dev/null | sed -n 's/^[^=]*=0x//p')
misc=$(le "$ino" 8)$(le "$gen" 4)$(le 0 4)$(le 0 4)$(le $((16#$mode)) 2)0000
keyhex=$(od -An -tx1 -v "$T/evm-key" | tr -d ' \n')$(printf '0%.0s' $(seq 1 192))
want=02$(printf '%s%s' "$ima" "$misc" | xxd -r -p | openssl mac -digest SHA1 -macopt "hexkey:$keyhex" HMAC | tr A-F a-f)
eq "HMAC value equals an openssl re-computation" "$(evm_hex "$h")" "$want"
expect_rc 0 "HMAC verifies" "$VOUCH" evm verify --hmac "$T/evm-key" "$h"
printf 'another key' > "$T/evm-key2"; chmod 600 "$T/evm-key2"
expect_rc 1 "HMAC with another key fails" "$VOUCH" evm verify --hmac "$T/evm-key2" "$h"
check "HMAC with an fs UUID" "$VOUCH" evm sign --hmac "$T/evm-key" --uuid 01020304-0506-0708-090a-0b0c0d0e0f10 "$h"
want=02$(printf '%s%s0102030405060708090a0b0c0d0e0f10' "$ima" "$misc" | xxd -r -p | openssl mac -digest SHA1 -macopt "hexkey:$keyhex" HMAC | tr A-F a-f)
eq "HMAC with fs UUID equals openssl" "$(evm_hex "$h")" "$want"
expect_rc 1 "HMAC without the UUID fails" "$VOUCH" evm verify --hmac "$T/evm-key" "$h"
expect_rc 0 "HMAC with the UUID verifies" "$VOUCH" evm verify --hmac "$T/evm-key" --uuid 0102030405060708090a0b0c0d0e0f10 "$h"
done_testing
