#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vouch initramfs against the real peers: the kernel's usr/gen_init_cpio (built from Debian's
# linux-source-6.1 tarball), GNU cpio, gzip/zstd/xz and evmctl; xattr round trips through
# newcx and METADATA!!!; must-fail archives that must leave nothing outside the target.
. "$(dirname "$0")/lib.sh"
require_peer cpio cpio
require_peer evmctl ima-evm-utils
require_peer jq jq
require_peer zstd zstd
require_peer xz xz-utils
require_peer getfattr attr
keys_copy
V=$VOUCH

# --- gen_init_cpio from the kernel tree (cached in the build directory) -----------------
GIC=${VOUCH_BUILDDIR:-$T}/gen_init_cpio
if [ ! -x "$GIC" ]; then
	src=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -1)
	if [ -z "$src" ]; then
		if [ "${CI:-}" = true ]; then not_ok "linux-source-6.1 is missing in CI"; done_testing; fi
		echo "1..0 # SKIP linux-source-6.1 not installed (run scripts/setup.sh)"; exit 0
	fi
	tar -xf "$src" -C "$T" --wildcards '*/usr/gen_init_cpio.c' &&
		gcc -O2 -o "$GIC.tmp" "$T"/linux-source-*/usr/gen_init_cpio.c && mv "$GIC.tmp" "$GIC"
fi
check "gen_init_cpio built from the kernel source" test -x "$GIC"

# FORMATS.md 13.13: the published vector, then a richer list with the spec types we support
mkdir -p "$T/src"
printf 'hello IMA\n' >"$T/src/f"; touch -d @1700000000 "$T/src/f"
cat >"$T/l1" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
file /init $T/src/f 0755 0 0
slink /bin /usr/bin 0777 0 0
EOF
check "create from the 13.13 list" "$V" initramfs create -o "$T/v1.cpio" --mtime 1700000000 --list "$T/l1"
eq "13.13 vector sha256" "$(sha256sum <"$T/v1.cpio" | cut -d' ' -f1)" \
	a591fb45e822776c795e4f939a94940377608f2638f27d8c0c47cf3151646cb2
check "create -c (crc) from the 13.13 list" "$V" initramfs create -o "$T/v1c.cpio" --format crc --mtime 1700000000 --list "$T/l1"
eq "13.13 crc vector sha256" "$(sha256sum <"$T/v1c.cpio" | cut -d' ' -f1)" \
	e4f2bc1f7cadb980796e0b487d4d9d7d9f0a0dee32bb2978a84d1f94da743eb9

BB=/bin/busybox
[ -x "$BB" ] || BB=$T/src/f
head -c 100000 /dev/urandom >"$T/src/mod.ko"
printf '#!/bin/busybox sh\nmount -t proc proc /proc\nexec /bin/sh\n' >"$T/src/init"
touch -d @1700000001 "$T/src/mod.ko" "$T/src/init"
export VOUCH_TEST_SRC=$T/src
cat >"$T/l2" <<EOF
# a QEMU guest's initramfs
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/vda 0660 0 6 b 254 0
dir /bin 0755 0 0
file /bin/busybox $BB 0755 0 0 /bin/sh /bin/mount
slink /sbin /bin 0777 0 0
dir /lib 0755 0 0
dir /lib/modules 0755 0 0
file /lib/modules/mod.ko \${VOUCH_TEST_SRC}/mod.ko 0644 0 0
pipe /run.fifo 0600 0 0
sock /run.sock 0600 100 100
file /init $T/src/init 0755 0 0
EOF
for mode in newc crc; do
	opt=; [ $mode = crc ] && opt=-c
	"$GIC" $opt -t 4000000000 "$T/l2" >"$T/gic-$mode.cpio" 2>"$T/.err"
	check "vouch create --format $mode --list" "$V" initramfs create -o "$T/v-$mode.cpio" --format $mode --mtime 4000000000 --list "$T/l2"
	check "$mode spec list: byte for byte equal to gen_init_cpio" cmp "$T/gic-$mode.cpio" "$T/v-$mode.cpio"
done
check "reproducible: SOURCE_DATE_EPOCH gives the same bytes as --mtime" \
	env SOURCE_DATE_EPOCH=4000000000 "$V" initramfs create -o "$T/v-sde.cpio" --list "$T/l2"
check "SOURCE_DATE_EPOCH archive identical" cmp "$T/v-newc.cpio" "$T/v-sde.cpio"

# --- GNU cpio: list and extract our newc identically -------------------------------------
R=$T/tree
mkdir -p "$R/bin" "$R/etc/sub" "$R/dev" "$R/empty-dir"
printf '#!/bin/sh\necho tool\n' >"$R/bin/tool"; chmod 4755 "$R/bin/tool"
printf 'config\n' >"$R/etc/conf"; ln "$R/etc/conf" "$R/etc/conf.hard"; ln "$R/etc/conf" "$R/bin/conf3"
ln -s ../etc/conf "$R/bin/link"; ln -s /abs/target "$R/bin/abslink"
mkfifo "$R/dev/fifo"; : >"$R/empty"; head -c 70000 /dev/urandom >"$R/etc/blob"
chmod 700 "$R/etc/sub"; chown 1234:4321 "$R/etc/conf"
if [ "$(id -u)" = 0 ]; then mknod "$R/dev/null" c 1 3; fi
find "$R" -exec touch -h -d @1600000000 {} +
check "create newc from a directory" "$V" initramfs create -o "$T/tree.cpio" "$R"
vlist=$("$V" initramfs list --json "$T/tree.cpio" | jq -r '.[] | .name' | sort)
glist=$(cpio -t --quiet <"$T/tree.cpio" | sort)
eq "GNU cpio -t lists the same names" "$glist" "$vlist"
eq "cpio -tv and vouch list agree on mode, owner, size (files, dirs, fifos)" \
	"$(cpio -tv --quiet --numeric-uid-gid <"$T/tree.cpio" | grep -v '^[lcb]' | awk '{print $1, $3, $4, $5, $NF}' | sort)" \
	"$("$V" initramfs list "$T/tree.cpio" | grep -v '^[lcb ]' | awk '{split($2, o, "/"); print $1, o[1], o[2], $3, $NF}' | sort)"
mkdir "$T/gx" "$T/vx"
(cd "$T/gx" && cpio -idvm --quiet --no-absolute-filenames <"$T/tree.cpio" 2>/dev/null)
check "vouch extract" "$V" initramfs extract --devices "$T/tree.cpio" "$T/vx"
snap() { (cd "$1" && find . -mindepth 1 -printf '%p %m %y %s %U %G %l %n %T@\n' | sort); }
# GNU cpio -m restores the times of files only (not of directories and symlinks)
nodirtime() { awk '$3 == "d" || $3 == "l" {$NF = "-"} {print}'; }
eq "extract equals cpio -idvm (paths, modes, types, sizes, owners, links, file times)" \
	"$(snap "$T/vx" | nodirtime)" "$(snap "$T/gx" | nodirtime)"
eq "extracted contents equal" "$(cd "$T/vx" && find . -type f -exec sha256sum {} + | sort)" \
	"$(cd "$T/gx" && find . -type f -exec sha256sum {} + | sort)"
eq "hard links restored as links" "$(stat -c %i "$T/vx/etc/conf")" "$(stat -c %i "$T/vx/etc/conf.hard")"
eq "extract equals the source tree" "$(snap "$T/vx")" "$(snap "$R")"
# and the other way round: GNU cpio's archive through vouch
(cd "$R" && find . | cpio -o -H newc --quiet >"$T/gnu.cpio")
mkdir "$T/vg"
check "vouch extracts GNU cpio -H newc output" "$V" initramfs extract --devices "$T/gnu.cpio" "$T/vg"
eq "and gets the same tree" "$(snap "$T/vg" | awk '{$9=""; print}')" "$(snap "$R" | awk '{$9=""; print}')"
(cd "$R" && find . | cpio -o -H crc --quiet >"$T/gnu-crc.cpio")
check "vouch lists GNU cpio -H crc output (checksums verified)" "$V" initramfs list "$T/gnu-crc.cpio"

# --- compression and concatenation -------------------------------------------------------
base=$("$V" initramfs list "$T/tree.cpio")
for z in gzip zstd xz; do
	check "create --compress $z" "$V" initramfs create -o "$T/tree.$z" --compress $z "$R"
	eq "list of the $z archive" "$("$V" initramfs list "$T/tree.$z")" "$base"
done
check "gzip -d reads ours" sh -c "gzip -dc '$T/tree.gzip' | cmp - '$T/tree.cpio'"
check "zstd -d reads ours" sh -c "zstd -dcq '$T/tree.zstd' | cmp - '$T/tree.cpio'"
check "xz -d reads ours (crc32 check for the kernel)" sh -c "xz -dc '$T/tree.xz' | cmp - '$T/tree.cpio' && xz -lvv '$T/tree.xz' | grep -q CRC32"
{ head -c 1048575 /dev/zero; cat "$T/tree.gzip"; } >"$T/straddle.img"
eq "gzip magic straddling two reads after NUL padding" "$("$V" initramfs list "$T/straddle.img")" "$base"
cat "$T/v1.cpio" "$T/tree.zstd" "$T/v-newc.cpio" >"$T/concat.img"
gzip -c "$T/v1.cpio" >>"$T/concat.img"
eq "concatenated raw+zstd+raw+gzip: all members listed" "$("$V" initramfs list --json "$T/concat.img" | jq length)" \
	$(( $("$V" initramfs list --json "$T/v1.cpio" | jq length) * 2 + $("$V" initramfs list --json "$T/tree.cpio" | jq length) + $("$V" initramfs list --json "$T/v-newc.cpio" | jq length) ))

# --- xattrs: signed tree -> newcx / metadata -> extract -> verify ------------------------
S=$T/signed
mkdir -p "$S/bin" "$S/lib"
printf 'signed tool\n' >"$S/bin/tool"; head -c 50000 /dev/urandom >"$S/lib/mod.ko"; printf 'init\n' >"$S/init"
chmod 755 "$S/bin/tool" "$S/init"
for f in "$S/bin/tool" "$S/lib/mod.ko" "$S/init"; do
	evmctl ima_sign -a sha256 --key "$T/keys/rsa2048.key" "$f" >/dev/null 2>&1
done
setfattr -n security.test -v 0x0102 "$S/lib"
check "evmctl signed the tree" sh -c "getfattr -n security.ima '$S/init' >/dev/null 2>&1"
xsnap() { (cd "$1" && getfattr -R -h -d -m '^security\.' -e hex . 2>/dev/null); }
for fmt in newcx metadata; do
	check "create --format $fmt" "$V" initramfs create -o "$T/s.$fmt" --format $fmt "$S"
	rm -rf "$T/sx"; mkdir "$T/sx"
	check "extract --xattrs security. $fmt" "$V" initramfs extract --xattrs security. "$T/s.$fmt" "$T/sx"
	eq "$fmt: every security.* xattr restored" "$(xsnap "$T/sx")" "$(xsnap "$S")"
	eq "$fmt: list shows security.ima for 3 files" \
		"$("$V" initramfs list --json "$T/s.$fmt" | jq '[.[] | select(.xattrs["security.ima"])] | length')" 3
	expect_rc 0 "$fmt: verify -t the signer" "$V" initramfs verify -t "$VEC/keys/rsa2048.crt" "$T/s.$fmt"
	eq "$fmt: three members appraised" "$(grep -c '^OK ' "$T/.out")" 3
	check "$fmt: evmctl ima_verify agrees on an extracted file" evmctl ima_verify --key "$VEC/keys/rsa2048.der" "$T/sx/bin/tool"
	cp "$T/s.$fmt" "$T/tampered.$fmt"
	off=$(grep -obUa 'signed tool' "$T/tampered.$fmt" | head -1 | cut -d: -f1)
	printf 'S' | dd of="$T/tampered.$fmt" bs=1 seek="$off" conv=notrunc status=none
	expect_rc 1 "$fmt: verify flags a tampered member" "$V" initramfs verify -t "$VEC/keys/rsa2048.crt" "$T/tampered.$fmt"
	cp "$T/.out" "$T/v.out"
	check "$fmt: the tampered member is named" grep -q '^FAIL bin/tool: signature does not verify' "$T/v.out"
	eq "$fmt: the other members still pass" "$(grep -c "^OK " "$T/v.out")" 2
	expect_rc 1 "$fmt: verify with an unrelated key" "$V" initramfs verify -t "$VEC/keys/ecdsa-p256.crt" "$T/s.$fmt"
	cp "$T/.out" "$T/v.out"
	check "$fmt: no trusted key reported" grep -q 'no trusted certificate' "$T/v.out"
done
expect_rc 1 "newc drops xattrs: verify refuses unsigned members" "$V" initramfs verify -t "$VEC/keys/rsa2048.crt" "$T/tree.cpio"
cp "$T/.out" "$T/v.out"
check "members without security.ima are named" grep -q '^FAIL bin/tool: no security.ima' "$T/v.out"
"$V" initramfs create -o "$T/s.gz" --format newcx --compress gzip "$S" >/dev/null 2>&1
expect_rc 0 "verify reads a compressed newcx image" "$V" initramfs verify --json -t "$VEC/keys/rsa2048.crt" "$T/s.gz"
eq "json verdicts" "$(jq -c '[.[] | .ok] | all' "$T/.out")" true

# --- must-fail archives ------------------------------------------------------------------
pad() { head -c $(( (4 - $1 % 4) % 4 )) /dev/zero; }
# member NAME MODE(octal) DATA [FIELD-OVERRIDE-MODE]
member() {
	local n=$(( ${#1} + 1 )) d=${#3}
	printf '070701%08X%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' 1 "${4:-$(printf %08X $((8#$2)))}" \
		0 0 1 0 "$d" 0 0 0 0 "$n" 0
	printf '%s\0' "$1"; pad $((110 + n)); printf '%s' "$3"; pad "$d"
}
trailer() { member 'TRAILER!!!' 0 ''; }
mkdir "$T/outside"
mf() { # mf NAME DESCRIPTION NEEDLE: archive $T/$1.bad must be refused by extract and list
	rm -rf "$T/x"; mkdir "$T/x"
	expect_rc 1 "$2: extract refuses" "$V" initramfs extract "$T/$1.bad" "$T/x"
	err_has "$2: reason given" "$3" # (after warnings on members it skipped)
	eq "$2: nothing outside DIR" "$(ls -A "$T/outside"; ls "$T" | grep -c '^evil')" 0
}
{ member ../evil 0100644 pwned; trailer; } >"$T/dotdot.bad";  mf dotdot "name with .." "'..' in the name"
{ member "$T/evil-abs" 0100644 pwned; trailer; } >"$T/abs.bad"; mf abs "absolute name" "absolute name"
check "absolute: nothing written at the absolute path" test ! -e "$T/evil-abs"
{ member lnk 0120777 "$T/outside"; member lnk/x 0100644 pwned; trailer; } >"$T/symlink.bad"
mf symlink "file through a symlink" "is a symlink, refusing to write through it"
{ member ok 0100644 data; trailer; } | sed '1s/^070701/070709/' >"$T/magic.bad"; mf magic "bad magic" "bad magic"
{ member ok 0100644 data 0000G1A4; trailer; } >"$T/nonhex.bad"; mf nonhex "non-hex header field" "non-hex character"
member big 0100644 data | sed '1s/^\(070701.\{48\}\)00000004/\100001000/' >"$T/size.bad"
mf size "size past the end" "runs past the end"
head -c 150 "$T/tree.cpio" >"$T/trunc.bad"; mf trunc "truncated archive" "truncated archive"
member ok 0100644 data >"$T/notrailer.bad"; mf notrailer "no trailer" "no TRAILER"
head -c 300 "$T/tree.gzip" >"$T/truncgz.bad"; mf truncgz "truncated gzip stream" "truncated gzip"
{ member ok 0100644 data; trailer; } | sed '1s/^070701/070707/' >"$T/odc.bad"; mf odc "old 070707 format" "070707"
eq "the committed 13.13 vector is gen_init_cpio's output" "$(sha256sum <"$TVEC/cpio/gen-init-cpio-1313.cpio")" "$(sha256sum <"$T/v1.cpio")"
for b in bad-magic odc-magic nonhex size-past-end truncated no-trailer name-no-nul bad-checksum \
	newcx-bad-xattr-size metadata-bad-version; do
	expect_rc 1 "must-fail vector $b.cpio refused" "$V" initramfs list "$TVEC/cpio/$b.cpio"
	one_line_err "$b.cpio: one line naming the file" "$b.cpio"
done
for b in magic nonhex size trunc; do
	expect_rc 1 "list refuses $b" "$V" initramfs list "$T/$b.bad"
done
# symlink swapped in for an existing file: the file is replaced, never written through
{ member f 0120777 "$T/outside/target"; member f 0100644 over; trailer; } >"$T/swap.cpio"
rm -rf "$T/x"; mkdir "$T/x"
check "symlink then file of the same name" "$V" initramfs extract "$T/swap.cpio" "$T/x"
check "the symlink was replaced, not followed" test ! -e "$T/outside/target" -a -f "$T/x/f" -a ! -L "$T/x/f"
# usage errors
expect_rc 2 "create without -o" "$V" initramfs create "$R"
expect_rc 2 "create --format given twice" "$V" initramfs create -o "$T/y" --format newc --format newcx "$R"
expect_rc 2 "unknown format" "$V" initramfs create -o "$T/y" --format odc "$R"
printf 'file /x /nonexistent 0644 0 0\n' >"$T/badspec"
expect_rc 3 "spec list with a missing file" "$V" initramfs create -o "$T/y" --list "$T/badspec"
one_line_err "names the spec line" "line 1"
printf 'frob /x 0644 0 0\n' >"$T/badspec2"
expect_rc 3 "spec list with an unknown type" "$V" initramfs create -o "$T/y" --list "$T/badspec2"
check "no half-written output" test ! -e "$T/y"
expect_rc 2 "verify without trust" "$V" initramfs verify "$T/s.newcx"
done_testing
