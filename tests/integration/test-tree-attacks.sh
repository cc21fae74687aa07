#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 14 (items 4-8, 10) and issue 13 item 16, each written as the attack: trees swapped
# under a root walker (ima sign|hash -r, evm sign -r, initramfs create DIR), reserved member
# names, hard links to FIFOs, METADATA!!! after a skipped member, spec-list symlinks, and
# hard links that dodge initramfs verify.
. "$(dirname "$0")/lib.sh"
require_peer getfattr attr
require_peer timeout coreutils
keys_copy
V=$VOUCH
K=$T/keys/rsa2048

# --- item 4: a parent directory swapped for a symlink between the walk and the opens --------
W=$T/t4
mkdir -p "$W/tree/a" "$W/outside"
NF=300 # many files: a long window between the walk and the last open
for i in $(seq 1 $NF); do echo "public $i" >"$W/tree/a/f$i"; echo "SECRET $i" >"$W/outside/f$i"; done
chmod 600 "$W/outside/"*
SECRET_HEX=$("$V" ima hash "$W/outside/f1" | cut -d' ' -f1)
"$V" ima hash "$W/outside/"* 2>/dev/null | cut -d' ' -f1 >"$T/secret-hex"
head -c 32 /dev/urandom >"$T/hmac"; chmod 600 "$T/hmac"
unswap() { if [ -L "$W/tree/a" ]; then rm -f "$W/tree/a"; mv "$W/tree/a.real" "$W/tree/a"; fi; }
# paused CMD...: run CMD; once it has walked the tree, swap tree/a for a symlink to outside
paused() {
	rm -f "$T/fifo"; mkfifo "$T/fifo"
	VOUCH_TEST_WALK_PAUSE=$T/fifo "$@" >"$T/p.out" 2>"$T/p.err" &
	local pid=$!
	timeout 30 bash -c 'exec 3>"$1" && mv "$2/tree/a" "$2/tree/a.real" && ln -s ../outside "$2/tree/a"' \
		_ "$T/fifo" "$W"
	SWAPPED=$?
	wait $pid; PRC=$?
	unswap
}
outside_clean() { # no xattr and no .sig written outside the tree
	! getfattr -m - -d "$W/outside/"* 2>/dev/null | grep -q 'user\.' && ! ls "$W/outside" | grep -q '\.sig$'
}
paused "$V" ima hash -r "$W/tree"
eq "ima hash -r: the swap happened after the walk" "$SWAPPED" 0
check "ima hash -r: no digest of a file outside the tree" bash -c "! grep -q '$SECRET_HEX' '$T/p.out'"
eq "ima hash -r: fails (exit 3)" "$PRC" 3
check "ima hash -r: names the swapped file" grep -q "tree/a/f1" "$T/p.err"

paused "$V" ima sign -r -k "$K.key" --xattr user.ima "$W/tree"
eq "ima sign -r: swap after the walk" "$SWAPPED" 0
check "ima sign -r --xattr: nothing signed outside the tree" outside_clean
eq "ima sign -r: fails (exit 3)" "$PRC" 3
paused "$V" ima sign -r -k "$K.key" --sigfile "$W/tree"
check "ima sign -r --sigfile: no .sig written outside the tree" outside_clean
rm -f "$W/tree/a/"*.sig
paused "$V" evm sign -r --hmac "$T/hmac" --xattr user.evm "$W/tree"
eq "evm sign -r: swap after the walk" "$SWAPPED" 0
check "evm sign -r: nothing signed outside the tree" outside_clean
paused "$V" initramfs create -o "$W/out.cpio" "$W/tree"
eq "initramfs create: swap after the walk" "$SWAPPED" 0
check "initramfs create: no outside file in the image" bash -c "! grep -qs SECRET '$W/out.cpio'"
check "initramfs create: fails, no image" test "$PRC" -ne 0 -a ! -e "$W/out.cpio"
# the same without openat2 (kernels before 5.6): one O_NOFOLLOW component at a time
paused env VOUCH_TEST_NO_OPENAT2=1 "$V" ima hash -r "$W/tree"
check "no openat2: ima hash -r reads nothing outside" bash -c "[ $SWAPPED = 0 ] && [ $PRC = 3 ] && ! grep -q '$SECRET_HEX' '$T/p.out'"
paused env VOUCH_TEST_NO_OPENAT2=1 "$V" initramfs create -o "$W/out.cpio" "$W/tree"
check "no openat2: initramfs create puts nothing outside in" bash -c "[ $SWAPPED = 0 ] && [ $PRC != 0 ] && [ ! -e '$W/out.cpio' ]"
VOUCH_TEST_NO_OPENAT2=1 "$V" ima hash -r "$W/tree" >"$T/p.out" 2>&1
check "no openat2: an untouched tree still hashes" bash -c "[ \$(grep -c 'tree/a/f' '$T/p.out') = $NF ]"

# the real race: a helper swaps tree/a for a symlink in a loop while vouch walks, bounded in time
# (perl-base is essential on Debian: system calls in a tight loop, 1 ms in each state)
swapper() {
	perl -e 'my ($d, $stop) = @ARGV;
		until (-e $stop) {
			rename("$d/a", "$d/a.real") and symlink("../outside", "$d/a");
			select(undef, undef, undef, 0.001);
			unlink("$d/a") if -l "$d/a";
			rename("$d/a.real", "$d/a") if -e "$d/a.real";
			select(undef, undef, undef, 0.001);
		}' "$W/tree" "$T/stop"
}
rm -f "$T/stop" "$T/leak"
swapper & SW=$!
end=$((SECONDS + ${VOUCH_RACE_SECONDS:-15})); rounds=0
while [ $SECONDS -lt $end ]; do
	rounds=$((rounds + 1))
	"$V" ima hash -r "$W/tree" 2>/dev/null | grep -qFf "$T/secret-hex" && { echo "ima hash round $rounds" >>"$T/leak"; break; }
	"$V" initramfs create -o "$W/race.cpio" "$W/tree" 2>/dev/null
	grep -qs SECRET "$W/race.cpio" && { echo "initramfs round $rounds" >>"$T/leak"; break; }
	rm -f "$W/race.cpio"
done
touch "$T/stop"; wait $SW; unswap
diag "racing: $rounds rounds"
check "racing swapper: no outside file read in $rounds rounds" test ! -s "$T/leak"
[ -s "$T/leak" ] && diag "$(cat "$T/leak")"

# --- item 5: the image's mode follows the umask, 0600 when a source is private ---------------
mkdir -p "$T/t5/pub" "$T/t5/priv"
echo pub >"$T/t5/pub/f"; chmod 644 "$T/t5/pub/f"
echo key >"$T/t5/priv/key"; chmod 600 "$T/t5/priv/key"
(umask 022; "$V" initramfs create -o "$T/t5/pub.cpio" "$T/t5/pub")
eq "umask 022, public tree: 0644" "$(stat -c %a "$T/t5/pub.cpio")" 644
(umask 077; "$V" initramfs create -o "$T/t5/pub77.cpio" "$T/t5/pub")
eq "umask 077: 0600" "$(stat -c %a "$T/t5/pub77.cpio")" 600
(umask 022; "$V" initramfs create -o "$T/t5/priv.cpio" "$T/t5/priv")
eq "a source not readable by others: 0600 whatever the umask" "$(stat -c %a "$T/t5/priv.cpio")" 600
mkdir -p "$T/t5/closed/d"; echo k >"$T/t5/closed/d/k"; chmod 644 "$T/t5/closed/d/k"; chmod 700 "$T/t5/closed/d"
(umask 022; "$V" initramfs create -o "$T/t5/closed.cpio" "$T/t5/closed")
eq "a readable file in a directory others cannot enter: 0600" "$(stat -c %a "$T/t5/closed.cpio")" 600
printf 'file /key %s 0600 0 0\n' "$T/t5/priv/key" >"$T/t5/list"
(umask 022; "$V" initramfs create -o "$T/t5/list.cpio" --list "$T/t5/list")
eq "spec list with a private file: 0600" "$(stat -c %a "$T/t5/list.cpio")" 600

# --- raw archives --------------------------------------------------------------------------
pad() { local r=$(( $1 % 4 )); [ $r -ne 0 ] && head -c $((4 - r)) /dev/zero; true; }
# rawm NAME MODE(octal) DATAFILE INO NLINK [RDEVMAJ]: one newc member, data from a file
rawm() {
	local n=$(( ${#1} + 1 )) d; d=$(stat -c %s "$3")
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' "$4" $((8#$2)) \
		0 0 "$5" 0 "$d" 0 0 "${6:-0}" 0 "$n" 0
	printf '%s\0' "$1"; pad $((110 + n)); cat "$3"; pad "$d"
}
rawtrailer() { : >"$T/empty"; rawm 'TRAILER!!!' 0 "$T/empty" 0 1; }
# mdrec NAME HEXVALUE: one METADATA!!! xattr record (FORMATS.md 11.7)
mdrec() {
	local v=$(( ${#2} / 2 )) s
	s=$((10 + ${#1} + 1 + v))
	printf '%08x\001\001%s\0' "$s" "$1"; printf '%s' "$2" | xxd -r -p
}
printf 'x' >"$T/x1"; : >"$T/empty"
CAP=0100000280000000000000000000000000000000 # cap_setuid+ep, VFS_CAP_REVISION_2

# --- item 6: reserved names in a source tree; extraction restores only what is asked for ----
mkdir -p "$T/t6/tree/bin"
echo '#!/bin/sh' >"$T/t6/tree/bin/sh"
mdrec security.capability "$CAP" >"$T/t6/tree/bin/METADATA!!!"
expect_rc 3 "create refuses a source file named METADATA!!!" "$V" initramfs create --format metadata -o "$T/t6/o.cpio" "$T/t6/tree"
one_line_err "names the reserved member" "METADATA!!!"
check "no image with smuggled metadata" test ! -e "$T/t6/o.cpio"
rm "$T/t6/tree/bin/METADATA!!!"; echo later >"$T/t6/tree/z"; echo x >"$T/t6/tree/TRAILER!!!"
expect_rc 3 "create refuses a source file named TRAILER!!!" "$V" initramfs create -o "$T/t6/o.cpio" "$T/t6/tree"
one_line_err "names the reserved member" "TRAILER!!!"
printf 'file /TRAILER!!! %s 0644 0 0\n' "$T/x1" >"$T/t6/list"
expect_rc 3 "create refuses a spec-list member named TRAILER!!!" "$V" initramfs create -o "$T/t6/o.cpio" --list "$T/t6/list"
# an image carrying security.capability and user.* xattrs: extraction restores only ima/evm
printf 'xattr user.vouchtest=0x41\nxattr security.ima=0x0401\nfile /f %s 0755 0 0\n' "$T/x1" >"$T/t6/xl"
[ "$(id -u)" = 0 ] && printf 'xattr security.capability=0x%s\nfile /c %s 0755 0 0\n' "$CAP" "$T/x1" >>"$T/t6/xl"
"$V" initramfs create --format newcx -o "$T/t6/x.cpio" --list "$T/t6/xl"
rm -rf "$T/t6/x"; mkdir "$T/t6/x"
check "extract" "$V" initramfs extract "$T/t6/x.cpio" "$T/t6/x"
check "user.* not restored by default" bash -c "! getfattr -n user.vouchtest '$T/t6/x/f' >/dev/null 2>&1"
if [ "$(id -u)" = 0 ]; then
	check "security.ima restored by default" getfattr -n security.ima "$T/t6/x/f"
	check "security.capability not restored by default" bash -c "! getfattr -n security.capability '$T/t6/x/c' >/dev/null 2>&1"
	rm -rf "$T/t6/x"; mkdir "$T/t6/x"
	check "extract --xattrs all" "$V" initramfs extract --xattrs all "$T/t6/x.cpio" "$T/t6/x"
	check "--xattrs all: security.capability restored" getfattr -n security.capability "$T/t6/x/c"
	rm -rf "$T/t6/x"; mkdir "$T/t6/x"
	check "extract --xattrs security.capability" "$V" initramfs extract --xattrs security.capability "$T/t6/x.cpio" "$T/t6/x"
	check "--xattrs NAME restores NAME" getfattr -n security.capability "$T/t6/x/c"
	check "--xattrs NAME: nothing else" bash -c "! getfattr -n security.ima '$T/t6/x/f' >/dev/null 2>&1"
else
	skip "security.* xattrs need root"
fi
rm -rf "$T/t6/x"; mkdir "$T/t6/x"
check "extract --xattrs user." "$V" initramfs extract --xattrs user. "$T/t6/x.cpio" "$T/t6/x"
check "--xattrs PREFIX. restores that namespace" getfattr -n user.vouchtest "$T/t6/x/f"

# --- item 7: a hard link to a FIFO must not hang extraction ---------------------------------
{ rawm a 0100644 "$T/x1" 5 2; rawm a 010644 "$T/empty" 6 1; rawm b 0100644 "$T/x1" 5 2; rawtrailer; } >"$T/t7.cpio"
rm -rf "$T/t7"; mkdir "$T/t7"
timeout 20 "$V" initramfs extract "$T/t7.cpio" "$T/t7" 2>"$T/.err"; rc=$?
check "hard link to a FIFO: no hang (exit $rc)" test "$rc" != 124
eq "hard link to a FIFO: refused (exit 1)" "$rc" 1
one_line_err "names the link" "'b'"
check "no link to the FIFO" bash -c "! test -p '$T/t7/b'"

# --- item 8: METADATA!!! after a skipped device node is not applied to what is there --------
mdrec user.evil 41 >"$T/md8"
[ "$(id -u)" = 0 ] && mdrec security.ima 0401 >>"$T/md8"
{ rawm n 020644 "$T/empty" 7 1 5; rawm 'METADATA!!!' 0100644 "$T/md8" 8 1; rawtrailer; } >"$T/t8.cpio"
rm -rf "$T/t8"; mkdir "$T/t8"; echo precious >"$T/t8/n"
"$V" initramfs extract "$T/t8.cpio" "$T/t8" 2>"$T/.err"
if [ "$(id -u)" = 0 ]; then
	check "skipped node's metadata: no security.ima on the existing file" \
		bash -c "! getfattr -n security.ima '$T/t8/n' >/dev/null 2>&1"
fi
"$V" initramfs extract --xattrs all "$T/t8.cpio" "$T/t8" 2>"$T/.err"
check "skipped node's metadata: no user.evil on the existing file (--xattrs all)" \
	bash -c "! getfattr -n user.evil '$T/t8/n' >/dev/null 2>&1"
eq "the existing file is untouched" "$(cat "$T/t8/n")" precious

# --- item 10: a spec-list file location that is a symlink is refused, consistently ----------
echo secret >"$T/t10-secret"; ln -sf "$T/t10-secret" "$T/t10-link"
printf 'file /f %s 0644 0 0\n' "$T/t10-link" >"$T/t10.list"
expect_rc 3 "spec list: a symlink location is refused" "$V" initramfs create -o "$T/t10.cpio" --list "$T/t10.list"
one_line_err "names the line and says why" "line 1.*symbolic link"
check "no image" test ! -e "$T/t10.cpio"

# --- issue 13 item 16: a lone hard link of size 0 is appraised as the kernel unpacks it ------
# 'ok' carries a valid sha256 digest (METADATA!!!), 'evil' nothing: only 'evil' may fail
mdrec security.ima "0404$(printf x | sha256sum | cut -c1-64)" >"$T/md16"
{ rawm ok 0100755 "$T/x1" 9 1; rawm 'METADATA!!!' 0100644 "$T/md16" 10 1; rawtrailer; } >"$T/t16ok.cpio"
expect_rc 0 "verify --allow-digest: the good member alone passes" \
	"$V" initramfs verify --allow-digest -t "$K.crt" "$T/t16ok.cpio"
expect_rc 1 "verify: a lone nlink=2 size-0 member without security.ima fails" \
	"$V" initramfs verify --allow-digest -t "$K.crt" "$TVEC/cpio/hardlink-no-data.cpio"
cp "$T/.out" "$T/v16.out"; check "names the member" grep -q "FAIL evil: no security.ima" "$T/v16.out"
# a real hard-link pair (data on the last link, as gen_init_cpio writes it) still passes
{ rawm a 0100755 "$T/empty" 12 2; rawm b 0100755 "$T/x1" 12 2; rawm 'METADATA!!!' 0100644 "$T/md16" 13 1
  rawtrailer; } >"$T/t16pair.cpio"
expect_rc 0 "verify: a hard-link pair with the data on the last link passes" \
	"$V" initramfs verify --allow-digest -t "$K.crt" "$T/t16pair.cpio"
# two links with data: the kernel writes the second over the first, untruncated
{ rawm a 0100755 "$T/x1" 14 2; rawm 'METADATA!!!' 0100644 "$T/md16" 15 1; rawm b 0100755 "$T/x1" 14 2
  rawm 'METADATA!!!' 0100644 "$T/md16" 16 1; rawtrailer; } >"$T/t16two.cpio"
expect_rc 1 "verify: a hard-link group with data on two links fails" \
	"$V" initramfs verify --allow-digest -t "$K.crt" "$T/t16two.cpio"
{ rawm ok 0100755 "$T/x1" 9 1; rawm 'METADATA!!!' 0100644 "$T/md16" 10 1
  rawm evil 0100755 "$T/empty" 11 2; rawtrailer; } | cmp -s - "$TVEC/cpio/hardlink-no-data.cpio"
eq "the committed vector is what this test's helper makes" "$?" 0
done_testing
