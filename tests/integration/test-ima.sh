#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vouch ima against evmctl 1.4 and fsverity-utils: the peer vectors byte for byte, both-way
# cross-verification for RSA-2048/3072/4096 and ECDSA P-256/P-384 x sha1/256/384/512, sigv3
# against `fsverity digest`, must-fail cases, and tree signing.
. "$(dirname "$0")/lib.sh"
require_peer evmctl ima-evm-utils
require_peer fsverity fsverity
require_peer openssl openssl
require_peer getfattr attr
require_peer jq jq
keys_copy
S=$VEC/peer/samples

# Where can xattrs go?  security.* needs CAP_SYS_ADMIN and file system support.
touch "$T/probe"
if setfattr -n security.ima -v 0x0401 "$T/probe" 2>/dev/null; then
	X=security.ima; EVMCTL_X=(); diag "xattrs: security.ima on $T (root, supported)"
else
	X=user.ima; EVMCTL_X=(--xattr-user); diag "xattrs: user.ima on $T (security.* unavailable)"
fi
getx() { getfattr --only-values -n "$X" -e hex "$1" 2>/dev/null | od -An -tx1 -v | tr -d ' \n'; }
getx_hex() { getfattr -n "$X" -e hex "$1" 2>/dev/null | sed -n 's/^[^=]*=0x//p'; }

# 1. every row of ima-xattrs.tsv
mkdir "$T/rows"
while IFS=$'\t' read -r file sha kind hex; do
	[ "${file:0:1}" = "#" ] && continue
	cp "$S/$file" "$T/rows/$file"; f=$T/rows/$file
	case $kind in
	ima_hash)
		check "$file: ima hash" "$VOUCH" ima hash --xattr "$X" "$f"
		eq "$file: ima_hash value byte for byte" "$(getx_hex "$f")" "$hex" ;;
	ima_sign:rsa2048)
		check "$file: ima sign rsa2048" "$VOUCH" ima sign -k "$T/keys/rsa2048.key" --xattr "$X" "$f"
		eq "$file: RSA value byte for byte" "$(getx_hex "$f")" "$hex" ;;
	ima_sign:ecdsa-p256)
		setfattr -n "$X" -v "0x$hex" "$f"
		check "$file: evmctl's ECDSA value verifies" "$VOUCH" ima verify -t "$T/keys/ecdsa-p256.crt" --xattr "$X" "$f" ;;
	esac
done < "$VEC/peer/ima-xattrs.tsv"

# 2. cross-verification, both ways, five keys x four algorithms
mkdir "$T/x"
for spec in rsa:2048 rsa:3072 rsa:4096 ec:P-256 ec:P-384; do
	t=${spec%%:*}; p=${spec#*:}; k=$T/x/$t$p
	if [ "$t" = rsa ]; then "$VOUCH" key generate --type rsa --bits "$p" --subject "/CN=x $p" --out "$k" >/dev/null 2>&1
	else "$VOUCH" key generate --type ec --curve "$p" --subject "/CN=x $p" --out "$k" >/dev/null 2>&1; fi
	openssl x509 -in "$k.crt" -outform DER -out "$k.der"
	for a in sha1 sha256 sha384 sha512; do
		f=$T/x/f-$t$p-$a; head -c $((RANDOM * 7)) /dev/urandom > "$f.v"; cp "$f.v" "$f.e"
		"$VOUCH" ima sign -k "$k.key" -c "$k.crt" -a "$a" --sigfile "$f.v" 2>"$T/.err" ||
			diag "vouch sign failed: $(cat "$T/.err")"
		check "evmctl accepts vouch's $t-$p $a signature" evmctl ima_verify --key "$k.der" --sigfile "$f.v"
		evmctl ima_sign --key "$k.key" -a "$a" --sigfile "$f.e" >/dev/null 2>&1
		check "vouch accepts evmctl's $t-$p $a signature" "$VOUCH" ima verify -t "$k.crt" --sigfile "$f.e"
		if [ "$t" = rsa ]; then
			eq "$t-$p $a: RSA identical to evmctl's" "$(od -An -tx1 "$f.e.sig" | tr -d ' \n')" \
				"$("$VOUCH" ima sign -k "$k.key" -a "$a" --sigfile "$f.e" 2>/dev/null; od -An -tx1 "$f.e.sig" | tr -d ' \n')"
		fi
	done
done
# evmctl reading vouch's xattr directly (not a .sig file)
cp "$S/hello.txt" "$T/hx"
"$VOUCH" ima sign -k "$T/keys/rsa2048.key" --xattr "$X" "$T/hx"
openssl x509 -in "$T/keys/rsa2048.crt" -outform DER -out "$T/rsa2048.der"
check "evmctl ima_verify reads vouch's $X" evmctl ima_verify "${EVMCTL_X[@]}" --key "$T/rsa2048.der" "$T/hx"

# 3. sigv3: the fs-verity digest must equal fsverity-utils' (Merkle tree, 0..3 levels)
mkdir "$T/v3"
for size in 0 1 4095 4096 4097 531000 2100000; do
	f=$T/v3/s$size; head -c "$size" /dev/urandom > "$f"
	for a in sha256 sha512; do
		aid=$([ $a = sha256 ] && echo 04 || echo 06)
		vd=$(fsverity digest --hash-alg=$a "$f" | awk '{print $1}' | cut -d: -f2)
		# expected: RSA PKCS#1 over H(0x06 || algo || fs-verity digest)
		printf '06%s%s' "$aid" "$vd" | xxd -r -p | openssl dgst -"$a" -binary > "$T/v3/id"
		openssl pkeyutl -sign -inkey "$T/keys/rsa2048.key" -pkeyopt digest:$a -in "$T/v3/id" -out "$T/v3/body"
		want=06030$([ $a = sha256 ] && echo 4 || echo 6)c35519ed0100$(od -An -tx1 -v "$T/v3/body" | tr -d ' \n')
		"$VOUCH" ima sign --v3 -a "$a" -k "$T/keys/rsa2048.key" --sigfile "$f" 2>/dev/null
		eq "v3 $a over a $size-byte file equals fsverity digest + openssl" "$(od -An -tx1 -v "$f.sig" | tr -d ' \n')" "$want"
	done
	check "v3 verifies ($size bytes)" "$VOUCH" ima verify -t "$T/keys/rsa2048.crt" --sigfile "$f"
done

# 4. must-fail, one reason line each
mkdir "$T/mf"; f=$T/mf/file; cp "$S/hello.txt" "$f"
"$VOUCH" ima sign -k "$T/keys/rsa2048.key" --xattr "$X" "$f"
good=$(getx_hex "$f")
expect_rc 0 "good signature" "$VOUCH" ima verify -t "$T/keys/rsa2048.crt" --xattr "$X" "$f"
expect_rc 1 "wrong key (the ECDSA certificate only)" "$VOUCH" ima verify -t "$T/keys/ecdsa-p256.crt" --xattr "$X" "$f"
one_line_err "wrong key: no trusted key named" "no trusted key with id c35519ed"
setv() { setfattr -n "$X" -v "0x$1" "$f"; }
bad_xattr() { # VALUE WHAT CHECK REASON: VALUE in the xattr is refused (1), the one-line error has REASON
	setv "$1"
	expect_rc 1 "$2" "$VOUCH" ima verify -t "$T/keys/rsa2048.crt" --xattr "$X" "$f"
	one_line_err "$3" "$4"
}
bad_xattr "${good:0:6}deadbeef${good:14}" "unknown key id" "unknown key id named" "deadbeef"
bad_xattr "${good:0:100}" "truncated xattr" "truncated: reason" "disagrees with the length"
bad_xattr "07${good:2}" "wrong type byte" "wrong type: reason" "unknown type byte 0x07"
bad_xattr "0303${good:4}" "wrong version byte" "wrong version: reason" "version 3"
bad_xattr "${good:0:14}00ff${good:18}" "sig_size disagrees with the length" "sig_size: reason" "sig_size 255 disagrees"
setv "$good"; echo tamper >> "$f"
expect_rc 1 "tampered file" "$VOUCH" ima verify -t "$T/keys/rsa2048.crt" --xattr "$X" "$f"
one_line_err "tampered: reason names the file" "$f: signature by key c35519ed does not verify"
check "evmctl agrees: tampered file fails" bash -c "! evmctl ima_verify ${EVMCTL_X[*]} --key '$T/rsa2048.der' '$f'"
touch "$T/mf/unsigned"
expect_rc 1 "no xattr at all" "$VOUCH" ima verify -t "$T/keys/rsa2048.crt" --xattr "$X" "$T/mf/unsigned"
expect_rc 3 "missing file" "$VOUCH" ima verify -t "$T/keys/rsa2048.crt" "$T/mf/none"
expect_rc 2 "verify without -t" "$VOUCH" ima verify "$f"
expect_rc 2 "-k twice" "$VOUCH" ima sign -k a -k b "$f"
expect_rc 2 "--v3 with sha1" "$VOUCH" ima sign --v3 -a sha1 -k "$T/keys/rsa2048.key" "$f"
expect_rc 2 "--sigfile with --xattr" "$VOUCH" ima show --sigfile --xattr user.ima "$f"
expect_rc 3 "a directory without -r" "$VOUCH" ima sign -k "$T/keys/rsa2048.key" "$T/mf"

# --sigfile rewrites an existing FILE.sig: a symlinked FILE.sig (which ima verify never
# reads) is refused, not silently replaced by a file; a regular one keeps owner and mode
mkdir -p "$T/sl/sigs"; printf 'sigfile payload\n' > "$T/sl/p"; printf 'old' > "$T/sl/sigs/p.sig"
ln -s sigs/p.sig "$T/sl/p.sig"
expect_rc 3 "ima sign --sigfile with FILE.sig a symlink is refused" "$VOUCH" ima sign -k "$T/keys/rsa2048.key" --sigfile "$T/sl/p"
one_line_err "  says it is a symbolic link" "p.sig' is a symbolic link"
check "  FILE.sig is still a link" test -L "$T/sl/p.sig"
rm "$T/sl/p.sig"; printf 'old' > "$T/sl/p.sig"; chmod 640 "$T/sl/p.sig"
check "ima sign --sigfile over an existing FILE.sig" "$VOUCH" ima sign -k "$T/keys/rsa2048.key" --sigfile "$T/sl/p"
expect_rc 0 "  verifies" "$VOUCH" ima verify -t "$T/keys/rsa2048.crt" --sigfile "$T/sl/p"
eq "  its mode kept" "$(stat -c %a "$T/sl/p.sig")" 640

# JSON
setv "$good"; head -c -7 "$f" > "$f.tmp" && cat "$f.tmp" > "$f"; rm "$f.tmp"
eq "verify --json: verified" "$("$VOUCH" ima verify --json -t "$T/keys/rsa2048.crt" --xattr "$X" "$f" | jq -r '.[0].verified, .[0].keyid, .[0].algo' | tr '\n' ' ')" "true c35519ed sha256 "
eq "show --json: sig_size" "$("$VOUCH" ima show --json --xattr "$X" "$f" | jq -r '.[0].sig_size')" 256

# 5. trees: symlinks (also out of the tree) and FIFOs skipped with a note, summary, exit codes
mkdir -p "$T/tree/a/b" "$T/outside"
for i in $(seq 1 40); do head -c $((i * 300)) /dev/urandom > "$T/tree/a/f$i"; done
echo deep > "$T/tree/a/b/deep"; echo secret > "$T/outside/secret"
ln -s "$T/outside/secret" "$T/tree/link-out"; ln -s "$T/outside" "$T/tree/dirlink"; mkfifo "$T/tree/fifo"
expect_rc 0 "sign a tree with -r" "$VOUCH" ima sign -r -k "$T/keys/rsa2048.key" --xattr "$X" "$T/tree"
err_has "summary" "41 signed, 3 skipped, 0 failed"
check "note for the symlink out of the tree" grep -q "skipping '$T/tree/link-out': a symbolic link, not followed" "$T/.err"
check "note for the FIFO" grep -q "skipping '$T/tree/fifo': a FIFO" "$T/.err"
check "the file outside the tree was not touched" bash -c "! getfattr -n '$X' '$T/outside/secret' 2>/dev/null | grep -q ima"
expect_rc 0 "verify the tree" "$VOUCH" ima verify -r -t "$T/keys/rsa2048.crt" --xattr "$X" "$T/tree"
check "evmctl verifies a tree file" evmctl ima_verify "${EVMCTL_X[@]}" --key "$T/rsa2048.der" "$T/tree/a/b/deep"
echo x >> "$T/tree/a/f7"
expect_rc 1 "a tampered file in the tree" "$VOUCH" ima verify -r -t "$T/keys/rsa2048.crt" --xattr "$X" "$T/tree"
err_has "names the tampered file" "$T/tree/a/f7: signature by key"
check "summary counts one failure" grep -q "40 verified, 3 skipped, 1 failed" "$T/.err"
done_testing
