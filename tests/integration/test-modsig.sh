#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
# vouch sign/verify/strip/show against the real sign-file, openssl cms, modinfo and the
# Debian 6.1 module vectors; must-fail vectors from tests/vectors/modsig.
. "$(dirname "$0")/lib.sh"
SIGN_FILE=/usr/lib/linux-kbuild-6.1/scripts/sign-file
require_peer "$SIGN_FILE" linux-kbuild-6.1
require_peer openssl openssl
require_peer modinfo kmod
require_peer jq jq
keys_copy
K=$T/keys
MV=$TVEC/modsig

# --- 1. byte-identical with sign-file: stored vectors and fresh inputs -------------------
cp "$VEC/peer/blob.ko" "$T/blob.ko"
check "vouch sign blob.ko" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" -o "$T/v.ko" "$T/blob.ko"
check "== stored sign-file blob.rsa2048.ko" cmp "$T/v.ko" "$VEC/peer/blob.rsa2048.ko"
check "vouch sign --signer-id skid" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" --signer-id skid -o "$T/vk.ko" "$T/blob.ko"
check "== stored sign-file -k blob.rsa2048-skid.ko" cmp "$T/vk.ko" "$VEC/peer/blob.rsa2048-skid.ko"
for size in 1 100 4096 65537; do
	head -c "$size" /dev/urandom > "$T/in-$size"
	for algo in sha256 sha384 sha512 sha1; do
		for mode in issuer-serial skid; do
			kflag=(); [ $mode = skid ] && kflag=(-k)
			"$SIGN_FILE" "${kflag[@]}" "$algo" "$K/rsa2048.key" "$K/rsa2048.crt" "$T/in-$size" "$T/sf.ko"
			"$VOUCH" sign -a "$algo" --signer-id $mode -k "$K/rsa2048.key" -c "$K/rsa2048.crt" -o "$T/vo.ko" "$T/in-$size" >/dev/null
			if cmp -s "$T/sf.ko" "$T/vo.ko"; then ok "fresh $size bytes, $algo, $mode: identical to sign-file"
			else not_ok "fresh $size bytes, $algo, $mode: differs from sign-file"; fi
		done
	done
done

# --- 2. vouch verifies sign-file output (RSA, ECDSA; sha256/384/512); openssl accepts vouch
printf 'payload for the verify matrix\n%.0s' $(seq 50) > "$T/p.bin"
for key in rsa2048 ecdsa-p256; do
	for algo in sha256 sha384 sha512; do
		"$SIGN_FILE" "$algo" "$K/$key.key" "$K/$key.crt" "$T/p.bin" "$T/sf-$key-$algo"
		expect_rc 0 "vouch verifies sign-file $key $algo" "$VOUCH" verify -t "$K/$key.crt" "$T/sf-$key-$algo"
		"$VOUCH" sign -a $algo -k "$K/$key.key" -c "$K/$key.crt" --detached --out "$T/v-$key-$algo.p7s" "$T/p.bin" >/dev/null
		check "openssl cms -verify accepts vouch $key $algo" openssl cms -verify -binary -inform DER \
			-in "$T/v-$key-$algo.p7s" -content "$T/p.bin" -certfile "$K/$key.crt" -nointern -noverify -out /dev/null
		eq "openssl: vouch $key $algo has no signed attributes" \
			"$(openssl cms -cmsout -print -inform DER -in "$T/v-$key-$algo.p7s" | grep -A1 'signedAttrs:' | tail -1 | tr -d ' ')" "<ABSENT>"
	done
done
"$VOUCH" sign -a sha256 -k "$K/ecdsa-p256.key" -c "$K/ecdsa-p256.crt" -o "$T/vec.ko" "$T/blob.ko" >/dev/null
expect_rc 0 "vouch verifies its own ECDSA signature" "$VOUCH" verify -t "$K/ecdsa-p256.crt" "$T/vec.ko"
expect_rc 0 "vouch verifies stored sign-file ECDSA blob" "$VOUCH" verify -t "$K/ecdsa-p256.crt" "$VEC/peer/blob.ecdsa-p256.ko"

# modinfo shows the same signature fields for vouch- and sign-file-signed modules
for f in sig_id signer sig_key sig_hashalgo signature; do
	eq "modinfo $f: vouch RSA == sign-file RSA" "$(modinfo -F $f "$T/v.ko")" "$(modinfo -F $f "$VEC/peer/blob.rsa2048.ko")"
done
for f in sig_id signer sig_key sig_hashalgo; do
	eq "modinfo $f: vouch ECDSA == sign-file ECDSA" "$(modinfo -F $f "$T/vec.ko")" "$(modinfo -F $f "$VEC/peer/blob.ecdsa-p256.ko")"
done
eq "modinfo on SKID form: same (empty) fields" "$(modinfo "$T/vk.ko" | grep -c '^sig')" "$(modinfo "$VEC/peer/blob.rsa2048-skid.ko" | grep -c '^sig')"
# vouch show says what modinfo says
for m in "$VEC/peer/blob.rsa2048.ko" "$VEC/peer/blob.ecdsa-p256.ko" "$VEC/debian-6.1/mod/crc-itu-t.ko"; do
	js=$("$VOUCH" show --json "$m")
	for f in signer sig_key sig_hashalgo; do
		eq "show $f == modinfo ($(basename "$m"))" "$(jq -r ".[0].$f" <<<"$js")" "$(modinfo -F $f "$m")"
	done
	eq "show signature == modinfo ($(basename "$m"))" "$(jq -r '.[0].signature' <<<"$js")" \
		"$(modinfo -F signature "$m" | tr -d ' \t\n')"
done
eq "show sig_offset/sig_len" "$("$VOUCH" show --json "$VEC/peer/blob.rsa2048.ko" | jq -c '.[0] | [.sig_offset, .sig_len]')" \
	"[$(stat -c %s "$VEC/peer/blob.ko"),$(stat -c %s "$VEC/peer/blob.rsa2048.pkcs7.der")]"

# --- 3. the Debian 6.1 module vectors -----------------------------------------------------
D=$VEC/debian-6.1/mod
expect_rc 0 "labmod-signed.ko verifies with rsa2048.crt" "$VOUCH" verify -t "$VEC/keys/rsa2048.crt" "$D/labmod-signed.ko"
expect_rc 1 "labmod-badsigbytes.ko does not verify" "$VOUCH" verify -t "$VEC/keys/rsa2048.crt" "$D/labmod-badsigbytes.ko"
one_line_err "  reason: bad signature" "labmod-badsigbytes.ko: bad signature"
expect_rc 1 "labmod-badpkcs7.ko does not verify" "$VOUCH" verify -t "$VEC/keys/rsa2048.crt" "$D/labmod-badpkcs7.ko"
one_line_err "  reason: malformed PKCS#7" "labmod-badpkcs7.ko: malformed PKCS#7"
expect_rc 1 "labmod-unsigned.ko is not signed" "$VOUCH" verify -t "$VEC/keys/rsa2048.crt" "$D/labmod-unsigned.ko"
one_line_err "  reason: no signature" "labmod-unsigned.ko: no signature"
expect_rc 1 "crc-itu-t.ko (Debian key) is an unknown signer" "$VOUCH" verify -t "$VEC/keys/rsa2048.crt" "$D/crc-itu-t.ko"
one_line_err "  reason: unknown signer" "crc-itu-t.ko: unknown signer"
js=$("$VOUCH" verify --json -t "secondary=$VEC/keys/ecdsa-p256.crt" -t "platform=$VEC/keys/rsa2048.crt" "$D"/*.ko 2>/dev/null)
eq "--json per-file statuses" "$(jq -r '[.[] | .status] | join(",")' <<<"$js")" \
	"unknown signer,malformed PKCS#7,bad signature,ok,no signature"
eq "--json: the keyring that vouched" "$(jq -r '.[3].keyring' <<<"$js")" platform

# --- 4. must-fail vectors: each with its rule, exit 1 -------------------------------------
while read -r file rule; do
	expect_rc 1 "$file does not verify" "$VOUCH" verify -t "$VEC/keys/rsa2048.crt" "$MV/$file"
	one_line_err "  $file: $rule" "$file: $rule"
done <<'EOF'
payload-flip.ko bad signature
sig-flip.ko bad signature
pkcs7-tag.ko malformed PKCS#7
pkcs7-version.ko malformed PKCS#7
content-type.ko malformed PKCS#7
signed-attrs.ko malformed PKCS#7
sigalg-sha256withrsa.ko algorithm not allowed
digest-sha1.ko algorithm not allowed
wrong-key.ko bad signature
unknown-signer.ko unknown signer
trailer-short.ko malformed trailer
siglen-past-start.ko malformed trailer
id-type.ko malformed trailer
pad-nonzero.ko malformed trailer
bad-marker.ko no signature
siglen-short.ko malformed PKCS#7
EOF
expect_rc 0 "digest-sha1.ko verifies with --allow-hash sha1" "$VOUCH" verify --allow-hash sha1 -t "$VEC/keys/rsa2048.crt" "$MV/digest-sha1.ko"
expect_rc 0 "detached blob.ko.p7s verifies" "$VOUCH" verify -t "$VEC/keys/rsa2048.crt" --detached "$MV/blob.ko.p7s" "$VEC/peer/blob.ko"
expect_rc 1 "detached signature over another payload" "$VOUCH" verify -t "$VEC/keys/rsa2048.crt" --detached "$MV/blob.ko.p7s" "$MV/other-payload.bin"
one_line_err "  reason: bad signature" "other-payload.bin: bad signature"
expect_rc 1 "one bad file makes the run fail" "$VOUCH" verify -t "$VEC/keys/rsa2048.crt" "$D/labmod-signed.ko" "$MV/sig-flip.ko"
expect_rc 3 "missing file: could not check" "$VOUCH" verify -t "$VEC/keys/rsa2048.crt" "$T/none.ko"
one_line_err "  names the file" "none.ko"
expect_rc 3 "missing trust store: could not check" "$VOUCH" verify -t "$T/none.crt" "$D/labmod-signed.ko"

# blacklist: Debian's rule hashes the whole signed file
sha256sum "$D/labmod-signed.ko" | awk '{print "bin:" $1}' > "$T/blacklist"
expect_rc 1 "blacklisted whole-file sha256" "$VOUCH" verify --blacklist "$T/blacklist" -t "$VEC/keys/rsa2048.crt" "$D/labmod-signed.ko"
one_line_err "  reason: blacklisted" "labmod-signed.ko: blacklisted"
# a revoked signer certificate ("tbs:" + its TBSCertificate hash, as certs/blacklist.c keeps
# it): the attacker holds a module signed by a certificate that is still in the trust store
expect_rc 0 "revoked-signer.ko verifies while its certificate is not blacklisted" "$VOUCH" verify -t "$MV/revoked.crt" "$MV/revoked-signer.ko"
expect_rc 1 "revoked signer: tbs: blacklist entry refuses the module" "$VOUCH" verify --blacklist "$MV/revoked.blacklist" -t "$MV/revoked.crt" "$MV/revoked-signer.ko"
one_line_err "  reason: blacklisted signer certificate" "revoked-signer.ko: blacklisted"
expect_rc 0 "  other signers are not affected by it" "$VOUCH" verify --blacklist "$MV/revoked.blacklist" -t "$MV/revoked.crt" -t "$VEC/keys/rsa2048.crt" "$D/labmod-signed.ko"
# a "tbs:" entry is not a file hash, a "bin:" entry not a certificate hash
awk '/^tbs:/ {print "bin:" substr($0, 5)}' "$MV/revoked.blacklist" > "$T/tbs-as-bin"
expect_rc 0 "  the same hash as bin: does not refuse the module" "$VOUCH" verify --blacklist "$T/tbs-as-bin" -t "$MV/revoked.crt" "$MV/revoked-signer.ko"
sha256sum "$MV/revoked-signer.ko" | awk '{print "tbs:" $1}' > "$T/bin-as-tbs"
expect_rc 0 "  the file hash as tbs: does not refuse it either" "$VOUCH" verify --blacklist "$T/bin-as-tbs" -t "$MV/revoked.crt" "$MV/revoked-signer.ko"
printf 'foo:%s\n' "$(sha256sum "$MV/revoked-signer.ko" | cut -d' ' -f1)" > "$T/badprefix"
expect_rc 3 "unknown blacklist prefix is refused" "$VOUCH" verify --blacklist "$T/badprefix" -t "$MV/revoked.crt" "$MV/revoked-signer.ko"
printf 'not hex\n' > "$T/badlist"
expect_rc 3 "malformed blacklist" "$VOUCH" verify --blacklist "$T/badlist" -t "$VEC/keys/rsa2048.crt" "$D/labmod-signed.ko"

# --- in place, --replace, strip, detached --------------------------------------------------
cp "$VEC/peer/blob.ko" "$T/m.ko"; chmod 640 "$T/m.ko"
check "sign in place" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/m.ko"
check "  == sign-file" cmp "$T/m.ko" "$VEC/peer/blob.rsa2048.ko"
eq "  mode kept" "$(stat -c %a "$T/m.ko")" 640
expect_rc 3 "signing a signed file is refused" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/m.ko"
one_line_err "  says already signed" "already signed"
check "  file unchanged" cmp "$T/m.ko" "$VEC/peer/blob.rsa2048.ko"
check "--replace re-signs (ECDSA)" "$VOUCH" sign --replace -k "$K/ecdsa-p256.key" -c "$K/ecdsa-p256.crt" "$T/m.ko"
expect_rc 0 "  one signature, the new one" "$VOUCH" verify -t "$K/ecdsa-p256.crt" "$T/m.ko"
eq "  payload kept" "$("$VOUCH" show --json "$T/m.ko" | jq .[0].payload_len)" "$(stat -c %s "$VEC/peer/blob.ko")"
check "strip" "$VOUCH" strip "$T/m.ko"
check "  restores the payload" cmp "$T/m.ko" "$VEC/peer/blob.ko"
expect_rc 1 "strip an unsigned file" "$VOUCH" strip "$T/m.ko"
one_line_err "  says no signature" "no signature"
cp "$VEC/peer/blob.ko" "$T/d.ko"; cp "$VEC/peer/blob.ko" "$T/sfd.ko"
check "sign --detached" "$VOUCH" sign --detached -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/d.ko"
"$SIGN_FILE" -d sha256 "$K/rsa2048.key" "$K/rsa2048.crt" "$T/sfd.ko"
check "  d.ko.p7s == sign-file -d's .p7s" cmp "$T/d.ko.p7s" "$T/sfd.ko.p7s"
check "  payload untouched" cmp "$T/d.ko" "$VEC/peer/blob.ko"
expect_rc 0 "verify --detached" "$VOUCH" verify -t "$K/rsa2048.crt" --detached "$T/d.ko.p7s" "$T/d.ko"
printf 'x' >> "$T/d.ko"
expect_rc 1 "tampered payload with its .p7s" "$VOUCH" verify -t "$K/rsa2048.crt" --detached "$T/d.ko.p7s" "$T/d.ko"

# in place means the named file's content changes and nothing else: the attacker (or an
# accident) makes the path a symlink, a hard link, or gives it xattrs and an owner
mkdir "$T/real"; cp "$VEC/peer/blob.ko" "$T/real/l.ko"; ln -s real/l.ko "$T/link.ko"
check "sign in place through a symlink" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/link.ko"
check "  the link is still a link" test -L "$T/link.ko"
check "  and the real file is signed" cmp "$T/real/l.ko" "$VEC/peer/blob.rsa2048.ko"
check "strip in place through a symlink" "$VOUCH" strip "$T/link.ko"
check "  the link is still a link" test -L "$T/link.ko"
check "  and the real file is stripped" cmp "$T/real/l.ko" "$VEC/peer/blob.ko"
check "sign -o naming the input through a link is in place" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" -o "$T/link.ko" "$T/real/l.ko"
check "  the link is still a link" test -L "$T/link.ko"
check "  and the real file is signed" cmp "$T/real/l.ko" "$VEC/peer/blob.rsa2048.ko"
cp -a "$MV/inplace" "$T/inplace"
check "vector inplace/link.ko: sign in place" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/inplace/link.ko"
check "  link.ko is still a link" test -L "$T/inplace/link.ko"
check "  real.ko is signed" cmp "$T/inplace/real.ko" "$VEC/peer/blob.rsa2048.ko"
cp "$VEC/peer/blob.ko" "$T/x.ko"; chmod 604 "$T/x.ko"
if setfattr -n user.vouch -v kept "$T/x.ko" 2>/dev/null; then
	check "sign in place a file with xattrs" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/x.ko"
	eq "  user xattr kept" "$(getfattr --only-values -n user.vouch "$T/x.ko" 2>/dev/null)" kept
	if [ "$(id -u)" = 0 ]; then
		setfattr -n security.vouch -v kept2 "$T/x.ko"
		check "strip in place a file with security xattrs" "$VOUCH" strip "$T/x.ko"
		eq "  security xattr kept" "$(getfattr --only-values -n security.vouch "$T/x.ko" 2>/dev/null)" kept2
	else skip "security xattrs need root"; skip "security xattrs need root"; fi
else skip "no user xattrs on $T"; skip "no user xattrs on $T"; skip "no user xattrs"; skip "no user xattrs"; fi
eq "  mode kept" "$(stat -c %a "$T/x.ko")" 604
if [ "$(id -u)" = 0 ]; then
	cp "$VEC/peer/blob.ko" "$T/o.ko"; chown 4321:8765 "$T/o.ko"; chmod 2750 "$T/o.ko"
	check "sign in place a file owned by another user" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/o.ko"
	eq "  owner, group and mode (setgid too) kept" "$(stat -c %u:%g:%a "$T/o.ko")" 4321:8765:2750
else skip "chown needs root"; skip "chown needs root"; fi
cp "$VEC/peer/blob.ko" "$T/h1.ko"; ln "$T/h1.ko" "$T/h2.ko"
expect_rc 3 "sign in place a file with two hard links is refused" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/h1.ko"
one_line_err "  says hard links" "hard link"
check "  both names unchanged" cmp "$T/h2.ko" "$VEC/peer/blob.ko"
check "  the same inode still" test "$T/h1.ko" -ef "$T/h2.ko"
eq "no temporary files left" "$(find "$T" -name '*.vouch-*' | wc -l)" 0

# batch: many files in one call
for i in $(seq 20); do head -c 3000 /dev/urandom > "$T/batch-$i.bin"; done
check "sign 20 files in one process" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T"/batch-*.bin
expect_rc 0 "verify the 20" "$VOUCH" verify -t "$K/rsa2048.crt" "$T"/batch-*.bin

# an encrypted key, passphrase from a file (never argv)
openssl pkcs8 -topk8 -v2 aes256 -in "$K/rsa2048.key" -out "$T/enc.key" -passout pass:s3cret 2>/dev/null
chmod 600 "$T/enc.key"; printf 's3cret\n' > "$T/pass"
check "sign with an encrypted key and --pass-file" "$VOUCH" sign -k "$T/enc.key" --pass-file "$T/pass" -c "$K/rsa2048.crt" -o "$T/enc.ko" "$T/blob.ko"
check "  == sign-file" cmp "$T/enc.ko" "$VEC/peer/blob.rsa2048.ko"
check "-j1 signs the same bytes" "$VOUCH" sign -j1 -k "$K/rsa2048.key" -c "$K/rsa2048.crt" -o "$T/j1.ko" "$T/blob.ko"
check "  == sign-file" cmp "$T/j1.ko" "$VEC/peer/blob.rsa2048.ko"

# --- usage errors -------------------------------------------------------------------------
expect_rc 2 "sign without --key" "$VOUCH" sign -c "$K/rsa2048.crt" "$T/blob.ko"
expect_rc 2 "--out twice" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" -o a -o b "$T/blob.ko"
expect_rc 2 "--out with two files" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" -o a "$T/blob.ko" "$T/p.bin"
expect_rc 2 "unknown --signer-id" "$VOUCH" sign --signer-id name -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/blob.ko"
expect_rc 2 "--replace with --detached" "$VOUCH" sign --replace --detached -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/blob.ko"
expect_rc 2 "--jobs 0" "$VOUCH" sign -j 0 -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/blob.ko"
expect_rc 2 "unknown hash" "$VOUCH" sign -a sha3-999 -k "$K/rsa2048.key" -c "$K/rsa2048.crt" "$T/blob.ko"
expect_rc 3 "key and certificate do not match" "$VOUCH" sign -k "$K/rsa2048.key" -c "$K/ecdsa-p256.crt" "$T/blob.ko"
expect_rc 2 "verify without --trust" "$VOUCH" verify "$T/blob.ko"
expect_rc 2 "--detached with two files" "$VOUCH" verify -t "$K/rsa2048.crt" --detached x a b
expect_rc 1 "show an unsigned file" "$VOUCH" show "$VEC/peer/blob.ko"
done_testing
