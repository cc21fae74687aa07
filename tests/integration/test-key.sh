#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vouch key generate/show, key id vectors, and bad input exit codes.
. "$(dirname "$0")/lib.sh"
require_peer openssl openssl
require_peer jq jq
keys_copy

eq "rsa2048 IMA key id" "$("$VOUCH" key show --json "$VEC/keys/rsa2048.crt" | jq -r '.[0].ima_keyid')" c35519ed
eq "ecdsa-p256 IMA key id" "$("$VOUCH" key show --json "$VEC/keys/ecdsa-p256.crt" | jq -r '.[0].ima_keyid')" 40f901e3
eq "DER certificate reads the same" "$("$VOUCH" key show --json "$VEC/keys/rsa2048.der" | jq -r '.[0].skid')" \
	"$(openssl x509 -in "$VEC/keys/rsa2048.crt" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)"
eq "serial matches openssl" "$("$VOUCH" key show --json "$VEC/keys/rsa2048.crt" | jq -r '.[0].serial')" \
	"$(openssl x509 -in "$VEC/keys/rsa2048.crt" -noout -serial | cut -d= -f2 | tr A-F a-f)"

for spec in "rsa:--bits 2048" "rsa:--bits 3072" "ec:--curve P-256" "ec:--curve P-384"; do
	type=${spec%%:*}; opt=${spec#*:}; name=$type$(echo "$opt" | tr -dc '0-9')
	# shellcheck disable=SC2086
	check "generate $type $opt" "$VOUCH" key generate --type "$type" $opt --subject "/CN=t $name" --out "$T/$name"
	eq "$name key is 0600" "$(stat -c %a "$T/$name.key")" 600
	check "$name key is PKCS#8 PEM" grep -q 'BEGIN PRIVATE KEY' "$T/$name.key"
	check "openssl accepts the $name key" openssl pkey -in "$T/$name.key" -noout
	exts=$(openssl x509 -in "$T/$name.crt" -noout -text)
	check "$name cert: codeSigning" grep -q 'Code Signing' <<<"$exts"
	check "$name cert: CA:FALSE" grep -q 'CA:FALSE' <<<"$exts"
	check "$name cert: digitalSignature" grep -q 'Digital Signature' <<<"$exts"
	check "$name cert: SKID" grep -q 'Subject Key Identifier' <<<"$exts"
	eq "$name key matches cert" "$(openssl pkey -in "$T/$name.key" -pubout | sha256sum)" \
		"$(openssl x509 -in "$T/$name.crt" -noout -pubkey | sha256sum)"
	skid=$(openssl x509 -in "$T/$name.crt" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)
	eq "$name IMA key id is the SKID tail" "$("$VOUCH" key show --json "$T/$name.crt" | jq -r '.[0].ima_keyid')" "${skid: -8}"
done
eq "RSA-3072 size reported" "$("$VOUCH" key show --json "$T/rsa3072.crt" | jq -r '.[0].key_bits')" 3072
expect_rc 3 "refuses to overwrite an existing key" "$VOUCH" key generate --out "$T/rsa2048"
one_line_err "says refusing" "refusing to overwrite"
expect_rc 2 "unknown key type" "$VOUCH" key generate --type dsa --out "$T/x"
expect_rc 2 "bits for EC" "$VOUCH" key generate --type ec --bits 256 --out "$T/x"
expect_rc 2 "missing --out" "$VOUCH" key generate --type rsa
expect_rc 2 "unknown curve" "$VOUCH" key generate --type ec --curve secp999 --out "$T/x"

# bad input to key show: one line, exit 3, never a crash
printf 'garbage\n' > "$T/garbage.pem"
printf -- '-----BEGIN CERTIFICATE-----\nAAAA!!\n-----END CERTIFICATE-----\n' > "$T/badpem.crt"
head -c 200 "$VEC/keys/rsa2048.der" > "$T/trunc.der"
expect_rc 3 "missing certificate" "$VOUCH" key show "$T/none.crt"
one_line_err "missing named" "$T/none.crt"
expect_rc 3 "directory as certificate" "$VOUCH" key show "$T"
one_line_err "directory named" "is a directory"
expect_rc 3 "garbage" "$VOUCH" key show "$T/garbage.pem"
one_line_err "garbage named" "$T/garbage.pem"
expect_rc 3 "garbage PEM" "$VOUCH" key show "$T/badpem.crt"
one_line_err "bad PEM named" "badpem.crt"
expect_rc 3 "truncated DER" "$VOUCH" key show "$T/trunc.der"
one_line_err "truncated DER named" "trunc.der"
expect_rc 2 "no certificate" "$VOUCH" key show
done_testing
