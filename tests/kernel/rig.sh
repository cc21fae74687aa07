#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel rig: boot Debian's own 6.1 kernel under QEMU (TCG) with a swtpm TPM 2.0, on a
# test disk signed by vouch and an initramfs built by vouch, and check vouch against what the
# kernel decided, in both directions.  In the same boot, vouch guard (with its libraries in
# the initramfs) guards a second disk that the kernel does not appraise.  TAP output.
#
# RIG_CORRUPT=1 gives the must-run binary (on both disks) a deliberately wrong signature: the
# rig must then fail (tests/kernel/test-rig-can-fail.sh checks that it does).
. "$(dirname "$0")/../integration/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
require_peer qemu-system-x86_64 qemu-system-x86
require_peer swtpm swtpm
require_peer mke2fs e2fsprogs
require_peer debugfs e2fsprogs
require_peer /bin/busybox busybox-static
require_peer gcc gcc
CACHE=${VOUCH_CACHE:-/var/cache/vouch}/kernel
UUID=6c61622d-696d-4161-2d74-657374646b31

# --- the kernel: the image linux-image-amd64 depends on (or VOUCH_KERNEL_VERSION), fetched
# once under a lock into the cache shared between runs (kernel-cache.sh)
. "$HERE/kernel-cache.sh"
if kernel_fetch "$CACHE"; then ok "kernel $KERNEL_VERSION fetched with apt and unpacked"; else
	not_ok "kernel ${KERNEL_VERSION:-?} fetched with apt and unpacked"; diag "$KERNEL_ERROR"; done_testing; fi
kver=$KERNEL_VERSION
kroot=$KERNEL_ROOT
mods=$kroot/lib/modules/$kver

# --- keys: made by vouch --------------------------------------------------------------
"$VOUCH" key generate --type rsa --subject "/CN=vouch rig RSA" --out "$T/ima-rsa" >/dev/null 2>&1
"$VOUCH" key generate --type rsa --subject "/CN=vouch rig other" --out "$T/other" >/dev/null 2>&1
"$VOUCH" key generate --type ec --subject "/CN=vouch rig EC" --out "$T/ima-ec" >/dev/null 2>&1
check "vouch generated the RSA, other-RSA and EC keys" test -s "$T/ima-rsa.crt" -a -s "$T/other.crt" -a -s "$T/ima-ec.crt"
openssl x509 -in "$T/ima-rsa.crt" -outform DER -out "$T/ima-rsa.der"
openssl x509 -in "$T/ima-ec.crt" -outform DER -out "$T/ima-ec.der"

# --- the test disk: binaries signed by vouch, a vouch-signed module ----------------------
disk=$T/disk; mkdir -p "$disk/bin" "$disk/mod" "$T/sig"
gcc -static -O2 -o "$T/hello" "$HERE/hello.c"
for n in signed unsigned tampered wrongkey badsig hashonly ecdsa; do cp "$T/hello" "$disk/bin/hello-$n"; done
sign() { # KEYPREFIX FILE -> $T/sig/NAME (the security.ima value)
	"$VOUCH" ima sign -k "$1.key" -c "$1.crt" -a sha256 --sigfile "$2" >/dev/null &&
		mv "$2.sig" "$T/sig/${2##*/}"
}
sign "$T/ima-rsa" "$disk/bin/hello-signed"
sign "$T/ima-rsa" "$disk/bin/hello-tampered"; printf 'x' >> "$disk/bin/hello-tampered"
sign "$T/other" "$disk/bin/hello-wrongkey"
sign "$T/ima-rsa" "$disk/bin/hello-badsig"
sign "$T/ima-ec" "$disk/bin/hello-ecdsa"
# a digest-only xattr (04 04 sha256): appraise_type=imasig must refuse it
"$VOUCH" ima hash -a sha256 --sigfile "$disk/bin/hello-hashonly" >/dev/null && mv "$disk/bin/hello-hashonly.sig" "$T/sig/hello-hashonly"
flip_last() { # flip the last byte of a file
	local f=$1 n b; n=$(stat -c %s "$f"); b=$(od -An -tu1 -j $((n-1)) -N1 "$f" | tr -d ' ')
	printf "\\x$(printf %02x $(( (b ^ 0xff) & 0xff )))" | dd of="$f" bs=1 seek=$((n-1)) conv=notrunc status=none
}
flip_last "$T/sig/hello-badsig"
[ "${RIG_CORRUPT:-}" = 1 ] && flip_last "$T/sig/hello-signed"
check "vouch signed six binaries and hashed one" test -s "$T/sig/hello-signed" -a -s "$T/sig/hello-tampered" \
	-a -s "$T/sig/hello-wrongkey" -a -s "$T/sig/hello-badsig" -a -s "$T/sig/hello-ecdsa" -a -s "$T/sig/hello-hashonly"

cp "$VEC/debian-6.1/mod/labmod-unsigned.ko" "$disk/mod/labmod.ko"; chmod 644 "$disk/mod/labmod.ko"
check "vouch sign appends a module signature" "$VOUCH" sign -k "$T/ima-rsa.key" -c "$T/ima-rsa.crt" -a sha256 \
	-o "$disk/mod/labmod-vouch.ko" "$disk/mod/labmod.ko"
rm "$disk/mod/labmod.ko"
# a broken PKCS#7: the outer SEQUENCE tag of the signature blob replaced
cp "$disk/mod/labmod-vouch.ko" "$disk/mod/labmod-badpkcs7.ko"
size=$(stat -c %s "$disk/mod/labmod-badpkcs7.ko")
siglen=$(od -An -tu1 -j $((size - 28 - 4)) -N4 "$disk/mod/labmod-badpkcs7.ko" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
printf '\x31' | dd of="$disk/mod/labmod-badpkcs7.ko" bs=1 seek=$((size - 28 - 12 - siglen)) conv=notrunc status=none
expect_rc 1 "vouch verify refuses the broken PKCS#7 too" "$VOUCH" verify -t "$T/ima-rsa.crt" "$disk/mod/labmod-badpkcs7.ko"

rm -f "$T/disk.img"
mke2fs -q -t ext4 -U "$UUID" -d "$disk" "$T/disk.img" 32M >/dev/null 2>&1
for f in "$T"/sig/*; do
	debugfs -w -R "ea_set -f $f /bin/${f##*/} security.ima" "$T/disk.img" >/dev/null 2>&1
done
n_xattrs=$(debugfs -R "ea_list /bin/hello-signed" "$T/disk.img" 2>/dev/null | grep -c 'security.ima')
eq "ext4 test disk carries the vouch signatures as security.ima" "$n_xattrs" 1

# --- the guard's disk: another UUID, so the kernel measures it but does not appraise it and
# vouch guard alone decides there.  The static hello with the same signatures as above (the
# same bytes, so RIG_CORRUPT reaches the guard too), a dynamic program whose library is
# signed or not, and the lab module unsigned, signed in security.ima, or by appended signature.
UUID2=6c61622d-696d-4161-2d74-657374646b32
gdisk=$T/gdisk; mkdir -p "$gdisk/bin" "$gdisk/libok" "$gdisk/libbad" "$gdisk/mod"
gsig=() # "PATH-ON-THE-DISK SIGFILE" for debugfs
for n in signed unsigned tampered wrongkey; do cp "$disk/bin/hello-$n" "$gdisk/bin/hello-$n"; done
for n in signed tampered wrongkey; do gsig+=("/bin/hello-$n $T/sig/hello-$n"); done
printf 'int vt(void) { return 42; }\n' >"$T/vt.c"
printf '#include <stdio.h>\nint vt(void);\nint main(void) { printf("vt=%%d\\n", vt()); return vt() == 42 ? 0 : 1; }\n' >"$T/prog.c"
mkdir -p "$T/sig2"
for d in libok libbad; do
	gcc -shared -fPIC -O2 -o "$gdisk/$d/libvt.so" "$T/vt.c"
	# shellcheck disable=SC2016 # $ORIGIN is for the dynamic loader
	gcc -O2 -o "$gdisk/$d/prog" "$T/prog.c" -L"$gdisk/$d" -lvt -Wl,-rpath,'$ORIGIN'
	sign "$T/ima-rsa" "$gdisk/$d/prog" && mv "$T/sig/prog" "$T/sig2/$d-prog"
	gsig+=("/$d/prog $T/sig2/$d-prog")
done
sign "$T/ima-rsa" "$gdisk/libok/libvt.so" && mv "$T/sig/libvt.so" "$T/sig2/libvt.so"
gsig+=("/libok/libvt.so $T/sig2/libvt.so")
# no signature at all; security.ima only; the appended signature only (an enforcing consumer
# accepts that too: the engine's latch is signature enforcement, as module.sig_enforce)
cp "$VEC/debian-6.1/mod/labmod-unsigned.ko" "$gdisk/mod/labmod-unsigned.ko"
cp "$VEC/debian-6.1/mod/labmod-unsigned.ko" "$gdisk/mod/labmod-signed.ko"
cp "$disk/mod/labmod-vouch.ko" "$gdisk/mod/labmod-appended.ko"
sign "$T/ima-rsa" "$gdisk/mod/labmod-signed.ko" && mv "$T/sig/labmod-signed.ko" "$T/sig2/labmod-signed.ko"
gsig+=("/mod/labmod-signed.ko $T/sig2/labmod-signed.ko")
rm -f "$T/gdisk.img"
mke2fs -q -t ext4 -U "$UUID2" -d "$gdisk" "$T/gdisk.img" 16M >/dev/null 2>&1
for e in "${gsig[@]}"; do
	debugfs -w -R "ea_set -f ${e#* } ${e%% *} security.ima" "$T/gdisk.img" >/dev/null 2>&1
done
n_xattrs=0
for e in "${gsig[@]}"; do
	debugfs -R "ea_list ${e%% *}" "$T/gdisk.img" 2>/dev/null | grep -q 'security.ima' && n_xattrs=$((n_xattrs + 1))
done
eq "the guard's disk carries security.ima on the ${#gsig[@]} signed files" "$n_xattrs" "${#gsig[@]}"

# --- the initramfs: built by vouch ----------------------------------------------------
gcc -static -O2 -o "$T/gh" "$HERE/guest-helper.c"
rm -f "$T/dirs" "$T/libs"
order="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk crc16 mbcache jbd2 crc32c_generic ext4"
printf '%s\n' $order > "$T/modules.order"
cp "$VEC/debian-6.1/ima-policy" "$T/ima-policy"
{
	echo "dir /bin 0755 0 0"; echo "dir /etc 0755 0 0"; echo "dir /keys 0755 0 0"; echo "dir /lib 0755 0 0"
	echo "dir /lib/modules 0755 0 0"; echo "dir /dev 0755 0 0"; echo "nod /dev/console 0600 0 0 c 5 1"
	echo "file /init $HERE/init.sh 0755 0 0"
	echo "file /bin/busybox /bin/busybox 0755 0 0"
	echo "file /bin/gh $T/gh 0755 0 0"
	echo "file /etc/modules.order $T/modules.order 0644 0 0"
	echo "file /etc/ima-policy $T/ima-policy 0644 0 0"
	echo "file /keys/ima-rsa.der $T/ima-rsa.der 0644 0 0"
	echo "file /keys/ima-ec.der $T/ima-ec.der 0644 0 0"
	for m in $order; do
		f=$(find "$mods/kernel" -name "$m.ko" | head -1)
		[ -n "$f" ] && echo "file /lib/modules/$m.ko $f 0644 0 0"
	done
} > "$T/initramfs.list"
check "vouch initramfs create builds the guest initramfs" "$VOUCH" initramfs create --compress gzip -o "$T/initrd" --list "$T/initramfs.list"

# vouch guard's part: vouch and every library it loads, the real files under the names the
# loader asks for (libvouch beside it through its RUNPATH, $ORIGIN/../lib).  50 MB, 31 of them
# ICU's data (libarchive -> libxml2 -> ICU): an uncompressed archive before the gzip one, as
# early microcode is (vouch's gzip took 7.6 s over these files, uncompressed 0.05 s; the
# kernel unpacks the whole initrd in about 0.7 s under TCG).
{
	echo "dir /bin 0755 0 0"; echo "dir /lib 0755 0 0"; echo "dir /keys 0755 0 0"
	# the helper again, named insmod: vouch guard tells a module file by its opener's name
	echo "dir /usr 0755 0 0"; echo "dir /usr/lib 0755 0 0"; echo "dir /usr/lib/rig 0755 0 0"
	echo "file /usr/lib/rig/insmod $T/gh 0755 0 0"
	echo "file /keys/ima-rsa.pem $T/ima-rsa.crt 0644 0 0"
	echo "file /bin/vouch $VOUCH 0755 0 0"
	for lib in $(ldd "$VOUCH" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		case $lib in
		/lib/* | /lib64/* | /usr/lib/*) dst=$lib ;;
		*) dst=/lib/${lib##*/} ;;
		esac
		d=${dst%/*}
		while [ -n "$d" ] && ! grep -qx "$d" "$T/dirs" 2>/dev/null; do echo "$d" >>"$T/dirs"; d=${d%/*}; done
		echo "file $dst $(readlink -f "$lib") 0755 0 0" >>"$T/libs"
	done
	sort "$T/dirs" | grep -vxE '/lib|/usr|/usr/lib' | sed 's/.*/dir & 0755 0 0/'
	cat "$T/libs"
} > "$T/guard.list"
check "vouch initramfs create builds vouch guard's part (uncompressed)" "$VOUCH" initramfs create --compress none \
	-o "$T/initrd-guard" --list "$T/guard.list"
cat "$T/initrd-guard" "$T/initrd" > "$T/initrd-all"

# --- boot ------------------------------------------------------------------------------
mkdir -p "$T/tpm"
swtpm socket --tpm2 --tpmstate dir="$T/tpm" --ctrl type=unixio,path="$T/swtpm.sock" \
	--flags startup-clear --daemon --pid file="$T/swtpm.pid" --log file="$T/swtpm.log"
check "swtpm started" test -s "$T/swtpm.pid"
start=$(date +%s)
timeout 300 qemu-system-x86_64 -M pc -m 1024 -smp 1 -display none -no-reboot -monitor none -nic none \
	-serial file:"$T/console.log" \
	-kernel "$kroot/boot/vmlinuz-$kver" -initrd "$T/initrd-all" \
	-append "console=ttyS0 panic=-1 ima_hash=sha256 ima_template=ima-sig" \
	-drive file="$T/disk.img",if=virtio,format=raw \
	-drive file="$T/gdisk.img",if=virtio,format=raw \
	-chardev socket,id=chrtpm,path="$T/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
	-device tpm-tis,tpmdev=tpm0 >/dev/null 2>&1
[ -f "$T/swtpm.pid" ] && kill "$(cat "$T/swtpm.pid")" 2>/dev/null
diag "guest ran $(( $(date +%s) - start )) s"
tr -d '\r' < "$T/console.log" > "$T/console.txt"
[ -n "${RIG_KEEP:-}" ] && cp "$T/console.txt" "$RIG_KEEP"
if grep -q RIG-DONE "$T/console.txt"; then ok "the guest booted and finished its script"; else
	not_ok "the guest booted and finished its script"; tail -30 "$T/console.txt" | sed 's/^/#   /'; done_testing; fi

# --- what the kernel decided -------------------------------------------------------------
result() { grep -a "^$1 | " "$T/console.txt" | tail -1; }
expect() { # NAME PATTERN DESCRIPTION
	local line; line=$(result "$1")
	if grep -qE -- "$2" <<<"$line"; then ok "$3"; else not_ok "$3"; diag "got: ${line:-nothing}"; fi
}
expect mount '-> OK' "ext4 and virtio are modules, loaded from the vouch initramfs; the disk mounts"
expect keyload-rsa '-> OK' "the vouch RSA certificate loads into _ima"
expect keyload-ecdsa '-> ERR' "the EC certificate cannot load: this kernel has no ECDSA"
expect policy-load '-> OK' "the appraisal policy loads"
expect policy-again '-> ERR' "the policy can be written once per boot"
expect exec-hello-signed '-> OK exit=0' "a binary signed by vouch runs"
for n in unsigned tampered wrongkey badsig hashonly ecdsa; do
	expect "exec-hello-$n" 'ERR EACCES' "hello-$n is denied (EACCES)"
done
expect mod-vouch '-> OK loaded' "the vouch-signed module loads"
expect taint-mod-vouch 'E' "and taints the kernel: its key is unknown to the kernel"
expect mod-badpkcs7 'ERR EBADMSG' "a broken PKCS#7 is refused with EBADMSG"

# --- what vouch guard decided in the same guest, on the disk the kernel does not appraise ----
expect guard-mount '-> OK' "guard: the second disk mounts"
expect guard-enforce '-> OK' "guard: vouch guard starts in the guest, enforcing BPRM, MMAP and MODULE_CHECK"
expect guard-hello-signed '-> OK exit=0' "guard, enforce: a signed binary runs"
for n in unsigned tampered wrongkey; do
	expect "guard-hello-$n" 'ERR EPERM' "guard, enforce: hello-$n gets EPERM"
done
expect guard-lib-signed '-> OK exit=0$' "guard, enforce: a signed program with its signed library runs"
expect guard-lib-unsigned 'exit=127 stderr: .*libvt.so' \
	"guard, enforce: a signed program whose library is unsigned cannot load it (exit 127)"
expect guard-lib-open '\| open .* -> ERR EPERM' "guard, enforce: that library's open gets EPERM (MMAP_CHECK)"
check "guard, enforce: the guard says it denied the library as MMAP_CHECK" \
	grep -aq "^GUARD: vouch guard: deny MMAP_CHECK '/mnt/guard/libbad/libvt.so'" "$T/console.txt"
expect guard-mod-unsigned '\| open .* -> ERR EPERM' "guard, enforce: insmod cannot open an unsigned module file (EPERM)"
for n in signed appended; do
	how="with its security.ima signature"
	[ $n = appended ] && how="with only its appended signature (an enforcing consumer accepts it)"
	line=$(result "guard-mod-$n")
	if [ -n "$line" ] && ! grep -qE '\| open |ERR EPERM' <<<"$line"; then
		ok "guard, enforce: insmod opens the module file $how (then: ${line##*-> })"
	else not_ok "guard, enforce: insmod opens the module file $how"; diag "got: ${line:-nothing}"; fi
done
expect guard-stop-enforce '-> OK' "guard: SIGTERM stops the enforcing guard"
expect guard-log '-> OK' "guard: restarted in log mode with a new state"
expect guard-log-unsigned '-> OK exit=0' "guard, log: the unsigned binary runs"
expect guard-stop-log '-> OK' "guard: SIGTERM stops the logging guard"
json=$(result guard-log-json | sed 's/^guard-log-json | //; s/ -> OK$//')
eq "guard, log: the JSON log has a would-deny BPRM_CHECK line for it" \
	"$(jq -r '[.decision, .consumer, .reason] | join(" ")' <<<"$json" 2>/dev/null)" "would-deny BPRM_CHECK unsigned"

# --- vouch on what the kernel measured ---------------------------------------------------
extract() { awk -v f="$1" '$0 == "RIG-FILE " f {on=1; next} /^RIG-END/ {on=0} on' "$T/console.txt" | base64 -d > "$T/$1"; }
extract binary_runtime_measurements
extract ascii_runtime_measurements
pcr_args=()
for alg in sha1 sha256 sha384 sha512; do
	extract "pcrs-$alg.txt"
	[ -s "$T/pcrs-$alg.txt" ] && pcr_args+=(--pcrs "$alg=$T/pcrs-$alg.txt")
done
eq "PCRs captured from all four banks" "${#pcr_args[@]}" 8
check "vouch log verify: the list replays to PCR 10 in every bank (sha384/512 padded SHA-1)" \
	"$VOUCH" log verify "${pcr_args[@]}" "$T/binary_runtime_measurements"
"$VOUCH" log show --ascii "$T/binary_runtime_measurements" > "$T/vouch-ascii" 2>"$T/.err"
check "vouch log show --ascii equals the kernel's ascii list byte for byte" cmp "$T/vouch-ascii" "$T/ascii_runtime_measurements"
"$VOUCH" log verify --json --verify-sigs -t "$T/ima-rsa.crt" "${pcr_args[@]}" "$T/binary_runtime_measurements" > "$T/sigs.json" 2>"$T/.err"
eq "sha256 bank replayed from sha256 template digests" "$(jq -r .sha256.mode "$T/sigs.json")" hashed
eq "sha384 bank: the kernel could not allocate sha384 and extended padded SHA-1" "$(jq -r .sha384.mode "$T/sigs.json")" padded-sha1
eq "sha512 bank: padded SHA-1 likewise" "$(jq -r .sha512.mode "$T/sigs.json")" padded-sha1
check "and the kernel said so" grep -aq 'ima: Can not allocate sha384' "$T/console.txt"
verdict() { jq -r --arg p "/mnt/test/bin/$1" '[.signatures[] | select(.name == $p) | .signature] | last // "none"' "$T/sigs.json"; }
eq "--verify-sigs: the signed binary verified, as the kernel ran it" "$(verdict hello-signed)" verified
eq "--verify-sigs: the wrong-key binary has an unknown key, as the kernel refused it" "$(verdict hello-wrongkey)" unknown-key
eq "--verify-sigs: the bad signature is bad, as the kernel refused it" "$(verdict hello-badsig)" bad
eq "--verify-sigs: the tampered binary is bad, as the kernel refused it" "$(verdict hello-tampered)" bad
done_testing
