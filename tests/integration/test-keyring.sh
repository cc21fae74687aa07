#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vouch key import: a certificate lands in the _ima keyring, as keyctl sees it, and
# behaves like evmctl import.  Runs inside a private session keyring so that nothing is
# left in the user's keyrings.
. "$(dirname "$0")/lib.sh"
require_peer keyctl keyutils
require_peer evmctl ima-evm-utils
if [ -z "${VOUCH_KEYRING_INNER:-}" ]; then
	if ! keyctl show @s >/dev/null 2>&1 || ! keyctl session - true 2>/dev/null; then
		echo "1..0 # SKIP kernel keyrings are unavailable here (keyctl show @s failed)"
		exit 0
	fi
	rm -rf "$T"
	VOUCH_KEYRING_INNER=1 exec keyctl session - "$0" 2>/dev/null
fi
keys_copy
diag "in private session keyring $(keyctl show @s 2>/dev/null | awk 'NR==2 {print $1}')"
ring=$(keyctl newring _ima @s)
expect_rc 0 "import into _ima" "$VOUCH" key import "$T/keys/rsa2048.crt" --keyring _ima
serial=$(cat "$T/.out")
check "keyctl lists the key in _ima" bash -c "keyctl list $ring | grep -q '^ *$serial: .*asymmetric: .*c35519ed$'"
eq "keyctl describes it as an asymmetric key ending in the IMA key id" \
	"$(keyctl rdescribe "$serial" | cut -d';' -f1)" asymmetric
check "the description ends in the SKID (key id c35519ed)" bash -c "keyctl rdescribe $serial | grep -q 'c35519ed$'"
expect_rc 0 "import by serial" "$VOUCH" key import "$T/keys/rsa2048.der" --keyring "$ring"
serial2=$(cat "$T/.out")
check "DER import listed in the keyring by serial" bash -c "keyctl list $ring | grep -q '^ *$serial2: .*asymmetric: .*c35519ed$'"
ring2=$(keyctl newring other @s)
expect_rc 0 "import into another keyring by serial" "$VOUCH" key import "$T/keys/rsa2048.crt" --keyring "$ring2"
openssl x509 -in "$T/keys/ecdsa-p256.crt" -outform DER -out "$T/ec.der"
if evmctl import "$T/ec.der" "$ring" >/dev/null 2>&1; then
	expect_rc 0 "ECDSA certificate imports (the kernel supports ECDSA, as evmctl shows)" "$VOUCH" key import "$T/keys/ecdsa-p256.crt"
else
	expect_rc 3 "ECDSA certificate refused as evmctl import is (kernel lacks ECDSA)" "$VOUCH" key import "$T/keys/ecdsa-p256.crt"
	one_line_err "says why" "cannot parse the certificate"
fi
expect_rc 3 "no such keyring" "$VOUCH" key import "$T/keys/rsa2048.crt" --keyring no-such-ring
one_line_err "names the keyring" "no keyring named 'no-such-ring'"
expect_rc 3 "not a certificate" "$VOUCH" key import "$T/keys/rsa2048.key"
expect_rc 2 "two certificates" "$VOUCH" key import "$T/keys/rsa2048.crt" "$T/keys/rsa2048.crt"
expect_rc 2 "--keyring twice" "$VOUCH" key import --keyring a --keyring b "$T/keys/rsa2048.crt"
done_testing
