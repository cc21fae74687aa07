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

# private keys through the CLI: formats, passphrases (never argv), modes
expect_rc 0 "PKCS#8 key matches its certificate" "$VOUCH" key check --cert "$VEC/keys/rsa2048.crt" "$T/keys/rsa2048.key"
expect_rc 1 "key against another certificate does not match" "$VOUCH" key check --cert "$VEC/keys/ecdsa-p256.crt" "$T/keys/rsa2048.key"
openssl rsa -in "$T/keys/rsa2048.key" -traditional -out "$T/pkcs1.pem" 2>/dev/null; chmod 600 "$T/pkcs1.pem"
expect_rc 0 "PKCS#1 PEM key" "$VOUCH" key check --cert "$VEC/keys/rsa2048.crt" "$T/pkcs1.pem"
openssl pkey -in "$T/keys/rsa2048.key" -outform DER -out "$T/k.der"; chmod 600 "$T/k.der"
expect_rc 0 "PKCS#8 DER key" "$VOUCH" key check --cert "$VEC/keys/rsa2048.crt" "$T/k.der"
openssl ec -in "$T/keys/ecdsa-p256.key" -out "$T/sec1.pem" 2>/dev/null; chmod 600 "$T/sec1.pem"
expect_rc 0 "SEC1 EC key" "$VOUCH" key check --cert "$VEC/keys/ecdsa-p256.crt" "$T/sec1.pem"
openssl pkcs8 -topk8 -in "$T/keys/rsa2048.key" -passout pass:s3cret -out "$T/enc.key"; chmod 600 "$T/enc.key"
echo s3cret > "$T/pass"; echo wrong > "$T/badpass"
expect_rc 0 "encrypted key, --pass-file" "$VOUCH" key check --cert "$VEC/keys/rsa2048.crt" --pass-file "$T/pass" "$T/enc.key"
expect_rc 0 "encrypted key, --pass-fd" "$VOUCH" key check --cert "$VEC/keys/rsa2048.crt" --pass-fd 5 "$T/enc.key" 5<"$T/pass"
expect_rc 3 "wrong passphrase" "$VOUCH" key check --pass-file "$T/badpass" "$T/enc.key"
one_line_err "says wrong passphrase" "wrong passphrase"
expect_rc 3 "encrypted key without a passphrase source" "$VOUCH" key check "$T/enc.key" </dev/null
expect_rc 2 "two passphrase sources" "$VOUCH" key check --pass-file "$T/pass" --pass-fd 0 "$T/enc.key"
cp "$T/keys/rsa2048.key" "$T/open.key"; chmod 644 "$T/open.key"
expect_rc 3 "group/world-readable key refused" "$VOUCH" key check "$T/open.key"
one_line_err "says how to fix the mode" "chmod 600"
printf 'garbage\n' > "$T/garbage.key"; chmod 600 "$T/garbage.key"
expect_rc 3 "garbage key" "$VOUCH" key check "$T/garbage.key"
one_line_err "garbage key named" "garbage.key"
head -c 300 "$T/k.der" > "$T/trunc.key"; chmod 600 "$T/trunc.key"
expect_rc 3 "truncated DER key" "$VOUCH" key check "$T/trunc.key"
expect_rc 3 "directory as key" "$VOUCH" key check "$T"
expect_rc 3 "missing key" "$VOUCH" key check "$T/none.key"
done_testing
