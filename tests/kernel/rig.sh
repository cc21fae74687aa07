#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel rig: boot Debian's own 6.1 kernel under QEMU (TCG) with a swtpm TPM 2.0, on a
# test disk signed by vouch and an initramfs built by vouch, and check vouch against what the
# kernel decided, in both directions.  One boot, in this order (tests/kernel/init.sh):
# executables and modules; firmware (a test module built against Debian's linux-headers,
# FIRMWARE_CHECK) and the initramfs gap; kexec_file_load; EVM portable signatures; the guest
# attesting itself with vouch on its TPM (AK, two quotes); vouch guard (with its libraries in
# the initramfs) on a second disk that the kernel does not appraise; last, kexec -e into the
# signed kernel (booted with ima_policy=tcb|secure_boot), which loads a policy file signed by
# vouch and whose fresh list (tests/kernel/init2.sh) chains to the old one.  On the host:
# the list (keys, kexec command line, signatures), vouch policy simulate against what the
# kernel did, vouch attest verify on the guest's evidence.  The policy is tests/kernel/ima-policy.
# TAP output.
#
# RIG_CORRUPT=1 puts a deliberately wrong signature into each scenario: on every file that must
# be accepted (the binary on both disks, the firmware, the kexec initramfs, the EVM signature),
# on the keys scenario's certificate (its self-signature: the kernel refuses it into _ima), on
# the last kernel's policy file, on
# the guest's first quote (the AK's signature, as the host receives it) and on vouchd's server
# certificate (the guest's vouch-agent must refuse to talk to it).  The rig must then fail
# exactly there, and the simulation must still equal what the kernel did
# (tests/kernel/test-rig-can-fail.sh checks both).
. "$(dirname "$0")/../integration/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
require_peer qemu-system-x86_64 qemu-system-x86
require_peer swtpm swtpm
require_peer mke2fs e2fsprogs
require_peer debugfs e2fsprogs
require_peer /bin/busybox busybox-static
require_peer gcc gcc
require_peer sqlite3 sqlite3
require_peer setfattr attr
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
disk=$T/disk; mkdir -p "$disk/bin" "$disk/mod" "$disk/etc" "$T/sig"
echo "vouch kernel rig" > "$disk/etc/motd" # read before the guest's first quote, changed before its second
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
# the keys scenario's own certificate (nothing is signed with it): loaded into _ima after the
# RSA one; its must-fail twin, the same certificate with the last byte of its self-signature
# flipped, which the kernel refuses (x509_check_for_self_signed(), crypto/asymmetric_keys).
# With RIG_CORRUPT the guest loads the flipped one in its place; the host still expects the good one
"$VOUCH" key generate --type rsa --subject "/CN=vouch rig keys" --out "$T/keys" >/dev/null 2>&1
openssl x509 -in "$T/keys.crt" -outform DER -out "$T/keys.der"
cp "$T/keys.der" "$T/keys-bad.der"; flip_last "$T/keys-bad.der"
cp "$T/keys.der" "$T/keys-load.der"
[ "${RIG_CORRUPT:-}" = 1 ] && flip_last "$T/keys-load.der"
check "vouch generated the keys scenario's certificate" test -s "$T/keys.der" -a -s "$T/keys-bad.der"
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

# xset FILE SIGFILE: security.ima from a signature file on the host file (mke2fs -d and vouch
# initramfs create copy it); xflip FILE NAME: flip the last byte of an xattr
xset() { setfattr -n "${3:-security.ima}" -v "0x$(od -An -v -tx1 "$2" | tr -d ' \n')" "$1"; }
xget() { getfattr -n "$2" -e hex "$1" 2>/dev/null | sed -n "s/^$2=0x//p"; }
xflip() {
	local hex; hex=$(xget "$1" "$2")
	setfattr -n "$2" -v "0x${hex:0:-2}$(printf %02x $(( (0x${hex: -2} ^ 0xff) & 0xff )))" "$1"
}

# --- firmware: FIRMWARE_CHECK appraise imasig; the guest boots with firmware_class.path=/mnt/test/fw
mkdir -p "$disk/fw" "$T/fwsig"
for n in signed unsigned tampered wrongkey; do head -c 4096 /dev/urandom > "$disk/fw/vouch-fw-$n.bin"; done
fwsign() { "$VOUCH" ima sign -k "$1.key" -c "$1.crt" -a sha256 --sigfile "$2" >/dev/null && mv "$2.sig" "$T/fwsig/${2##*/}"; }
fwsign "$T/ima-rsa" "$disk/fw/vouch-fw-signed.bin"
fwsign "$T/ima-rsa" "$disk/fw/vouch-fw-tampered.bin"; printf 'x' >> "$disk/fw/vouch-fw-tampered.bin"
fwsign "$T/other" "$disk/fw/vouch-fw-wrongkey.bin"
[ "${RIG_CORRUPT:-}" = 1 ] && flip_last "$T/fwsig/vouch-fw-signed.bin"
for n in signed tampered wrongkey; do xset "$disk/fw/vouch-fw-$n.bin" "$T/fwsig/vouch-fw-$n.bin"; done
# the initramfs gap: a signed firmware file in its own archive (the METADATA!!! format carries
# its security.ima; this kernel unpacks it as a plain file and drops the xattr)
mkdir -p "$T/fwinit/lib/firmware"
head -c 4096 /dev/urandom > "$T/fwinit/lib/firmware/vouch-fw-initrd.bin"
fwsign "$T/ima-rsa" "$T/fwinit/lib/firmware/vouch-fw-initrd.bin"
xset "$T/fwinit/lib/firmware/vouch-fw-initrd.bin" "$T/fwsig/vouch-fw-initrd.bin"
check "vouch signed three firmware files and one for the initramfs" test -s "$T/fwsig/vouch-fw-signed.bin" \
	-a -s "$T/fwsig/vouch-fw-tampered.bin" -a -s "$T/fwsig/vouch-fw-wrongkey.bin" -a -s "$T/fwsig/vouch-fw-initrd.bin"

# --- kexec: Debian's kernel and a small initramfs, signed by vouch or not
gcc -static -O2 -o "$T/gh" "$HERE/guest-helper.c"
mkdir -p "$disk/kexec" "$disk/final" "$T/policy2"
for n in signed unsigned; do cp "$kroot/boot/vmlinuz-$kver" "$disk/kexec/vmlinuz-$n"; done
# the signed policy file, shown in the kernel the guest boots last with kexec -e, booted with
# ima_policy=tcb|secure_boot (Debian's 6.1 has IMA_WRITE_POLICY off and no appraise_tcb rule
# for POLICY_CHECK: secure_boot's builtin rules appraise it, imasig).  Its one rule in force
# shows: it measures a file owned by 4242, which the builtin rules do not.  Its must-fail twin,
# the same rules with the last byte of their signature flipped; with RIG_CORRUPT both are wrong
printf '%s\n' 'measure func=POLICY_CHECK' 'measure func=FILE_CHECK mask=MAY_READ fowner=4242' > "$T/policy2/ima-policy-signed"
cp "$T/policy2/ima-policy-signed" "$T/policy2/ima-policy-bad"
echo "read under the signed policy only" > "$T/policy2/marker"
for n in signed bad; do
	"$VOUCH" ima sign -k "$T/ima-rsa.key" -c "$T/ima-rsa.crt" -a sha256 --sigfile "$T/policy2/ima-policy-$n" >/dev/null
	printf '%s' "/etc/ima-policy-$n" > "$T/policy2/path-$n"
done
flip_last "$T/policy2/ima-policy-bad.sig"
[ "${RIG_CORRUPT:-}" = 1 ] && flip_last "$T/policy2/ima-policy-signed.sig"
check "vouch signed the policy file for the last kernel" test -s "$T/policy2/ima-policy-signed.sig"
# the initramfs of the kernel the guest finally boots with kexec -e: busybox, init2.sh, the
# helper, the certificate, the policy files and their signatures (cpio drops xattrs: the
# guest sets them)
{
	printf '%s\n' "dir /bin 0755 0 0" "dir /etc 0755 0 0" "dir /keys 0755 0 0" "file /init $HERE/init2.sh 0755 0 0" \
		"file /bin/busybox /bin/busybox 0755 0 0" "file /bin/gh $T/gh 0755 0 0" "file /keys/ima-rsa.der $T/ima-rsa.der 0644 0 0" \
		"file /etc/policy-marker $T/policy2/marker 0644 4242 0"
	for n in signed bad; do
		printf '%s\n' "file /etc/ima-policy-$n $T/policy2/ima-policy-$n 0644 0 0" \
			"file /keys/ima-policy-$n.sig $T/policy2/ima-policy-$n.sig 0644 0 0" "file /etc/policy-path-$n $T/policy2/path-$n 0644 0 0"
	done
} > "$T/kexec.list"
"$VOUCH" initramfs create --compress gzip -o "$disk/kexec/initrd-signed" --list "$T/kexec.list" >/dev/null
cp "$disk/kexec/initrd-signed" "$disk/kexec/initrd-unsigned"
# the same initramfs for the final kexec -e, signed apart: RIG_CORRUPT reaches the kexec
# scenario's initrd-signed, not the last kernel, whose signed policy file has its own.  EVM is
# on when the guest loads it (missing-HMAC otherwise): an EVM portable signature over its
# security.ima as well
cp "$disk/kexec/initrd-signed" "$disk/final/initrd"
"$VOUCH" ima sign -k "$T/ima-rsa.key" -c "$T/ima-rsa.crt" -a sha256 "$disk/final/initrd" >/dev/null
"$VOUCH" evm sign --portable -k "$T/ima-rsa.key" -c "$T/ima-rsa.crt" -a sha256 "$disk/final/initrd" >/dev/null
check "vouch signed the last kernel's initramfs, security.ima and a portable security.evm" \
	test "$(xget "$disk/final/initrd" security.ima | cut -c1-2)$(xget "$disk/final/initrd" security.evm | cut -c1-2)" = 0305
fwsign "$T/ima-rsa" "$disk/kexec/vmlinuz-signed"
fwsign "$T/ima-rsa" "$disk/kexec/initrd-signed"
# (RIG_CORRUPT: the initramfs, not the kernel: the kernel is read first, and a refused kernel
# would leave both initramfs files unread, which no simulation of the policy can predict)
[ "${RIG_CORRUPT:-}" = 1 ] && flip_last "$T/fwsig/initrd-signed"
for n in vmlinuz initrd; do xset "$disk/kexec/$n-signed" "$T/fwsig/$n-signed"; done
check "vouch signed the kexec kernel and initramfs" test -s "$T/fwsig/vmlinuz-signed" -a -s "$T/fwsig/initrd-signed"

# --- EVM: security.ima a digest, security.evm a vouch portable signature over it, owner and
# mode; then the owner, the mode or security.ima changed after signing; and a file with a
# valid IMA signature but no security.evm
mkdir -p "$disk/evm"
for n in evm mode owner ima; do
	f=$disk/evm/hello-$n
	cp "$T/hello" "$f"
	"$VOUCH" ima hash -a sha256 "$f" >/dev/null
	"$VOUCH" evm sign --portable -k "$T/ima-rsa.key" -c "$T/ima-rsa.crt" -a sha256 "$f" >/dev/null
done
chmod 0700 "$disk/evm/hello-mode"
chown 1000:1000 "$disk/evm/hello-owner"
"$VOUCH" ima sign -k "$T/ima-rsa.key" -c "$T/ima-rsa.crt" -a sha256 "$disk/evm/hello-ima" >/dev/null
cp "$T/hello" "$disk/evm/hello-noevm"
"$VOUCH" ima sign -k "$T/ima-rsa.key" -c "$T/ima-rsa.crt" -a sha256 "$disk/evm/hello-noevm" >/dev/null
[ "${RIG_CORRUPT:-}" = 1 ] && xflip "$disk/evm/hello-evm" security.evm
n_evm=0
for n in evm mode owner ima; do
	[ "$(xget "$disk/evm/hello-$n" security.evm | cut -c1-2)" = 05 ] && n_evm=$((n_evm + 1))
done
eq "vouch evm sign --portable wrote four type-5 security.evm signatures" "$n_evm" 4

rm -f "$T/disk.img"
mke2fs -q -t ext4 -U "$UUID" -d "$disk" "$T/disk.img" 96M >/dev/null 2>&1
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

# --- the firmware test module: built against Debian's linux-headers for this kernel ----------
kbuild=/usr/src/linux-headers-$kver
mkdir -p "$T/fwtest" && cp "$HERE/fwtest/fwtest.c" "$HERE/fwtest/Kbuild" "$T/fwtest/"
if [ ! -f "$kbuild/Makefile" ]; then
	not_ok "the firmware test module builds against linux-headers-$kver"
	diag "no $kbuild: install linux-headers-$kver (scripts/setup.sh installs linux-headers-amd64)"
elif make -s -C "$kbuild" M="$T/fwtest" modules >"$T/fwtest.log" 2>&1 && [ -s "$T/fwtest/fwtest.ko" ]; then
	ok "the firmware test module builds against linux-headers-$kver"
else
	not_ok "the firmware test module builds against linux-headers-$kver"; tail -5 "$T/fwtest.log" | sed 's/^/#   /'
fi

# --- vouchd on the host, vouch-agent in the guest over QEMU's user network (10.0.2.2 is the
# host's 127.0.0.1): a CA for vouchd's server certificate and the agents' client certificates
VOUCHD=${VOUCHD:-${VOUCH_BUILDDIR:-}/service/vouchd}
AGENT=${VOUCH_AGENT:-${VOUCH_BUILDDIR:-}/service/vouch-agent}
[ -x "$VOUCHD" ] && [ -x "$AGENT" ] || { VOUCHD=; AGENT=; }
if [ -n "$AGENT" ]; then
	P=$T/pki; mkdir -p "$P"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 2 \
		-subj "/CN=vouch rig CA" -addext basicConstraints=critical,CA:true \
		-addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1
	chmod 600 "$P/ca.key"
	openssl req -newkey rsa:2048 -nodes -keyout "$P/server.key" -out "$P/server.csr" -subj "/CN=vouchd" >/dev/null 2>&1
	openssl x509 -req -in "$P/server.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 2 \
		-extfile <(printf 'subjectAltName=IP:10.0.2.2,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') \
		-out "$P/server.crt" >/dev/null 2>&1
	# RIG_CORRUPT: vouchd's certificate with the last byte of the CA's signature flipped (vouchd
	# serves it all the same: a server does not check its own certificate's signature)
	if [ "${RIG_CORRUPT:-}" = 1 ]; then
		openssl x509 -in "$P/server.crt" -outform DER -out "$P/server.der" && flip_last "$P/server.der" &&
			openssl x509 -inform DER -in "$P/server.der" -out "$P/server.crt"
		check "RIG_CORRUPT: openssl verify finds vouchd's certificate signature bad" \
			grep -q 'certificate signature failure' <(openssl verify -CAfile "$P/ca.crt" "$P/server.crt" 2>&1)
	fi
	for _ in 1 2 3 4 5 6 7 8; do
		PORT=$((20001 + RANDOM % 20000))
		! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	done
	echo "https://10.0.2.2:$PORT" > "$T/vouchd-url"
fi

# --- the initramfs: built by vouch ----------------------------------------------------
for i in 1 2; do openssl rand -hex 20 > "$T/nonce$i"; done
rm -f "$T/dirs" "$T/libs"
order="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk crc16 mbcache jbd2 crc32c_generic ext4 failover net_failover virtio_net"
printf '%s\n' $order > "$T/modules.order"
cp "$HERE/ima-policy" "$T/ima-policy"
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
	echo "file /keys/keys.der $T/keys-load.der 0644 0 0"
	echo "file /keys/keys-bad.der $T/keys-bad.der 0644 0 0"
	echo "file /keys/fw-initrd.sig $T/fwsig/vouch-fw-initrd.bin 0644 0 0"
	echo "file /etc/nonce1 $T/nonce1 0644 0 0"
	echo "file /etc/nonce2 $T/nonce2 0644 0 0"
	[ -n "$AGENT" ] && echo "file /etc/vouchd-url $T/vouchd-url 0644 0 0" && echo "file /keys/vouchd-ca.pem $P/ca.crt 0644 0 0"
	[ -s "$T/fwtest/fwtest.ko" ] && echo "file /lib/modules/fwtest.ko $T/fwtest/fwtest.ko 0644 0 0"
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
	[ -n "$AGENT" ] && echo "file /bin/vouch-agent $AGENT 0755 0 0"
	# and tss2's device TCTI, which libtss2-tctildr loads at run time (ldd does not list it)
	tcti=$(ldconfig -p | awk '/libtss2-tcti-device\.so\.0 .*x86-64/ { print $NF; exit }')
	for lib in $({ ldd "$VOUCH"; [ -n "$AGENT" ] && ldd "$AGENT"; [ -n "$tcti" ] && { echo "$tcti"; ldd "$tcti"; }; } |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u); do
		case $lib in
		/lib/* | /lib64/* | /usr/lib/*) dst=$lib ;;
		*) dst=/lib/${lib##*/} ;;
		esac
		d=${dst%/*}
		while [ -n "$d" ] && ! grep -qx "$d" "$T/dirs" 2>/dev/null; do echo "$d" >>"$T/dirs"; d=${d%/*}; done
		# vouch and vouch-agent may reach one library by two paths (build/lib, build/service/../lib)
		grep -q "^file $dst " "$T/libs" 2>/dev/null && continue
		echo "file $dst $(readlink -f "$lib") 0755 0 0" >>"$T/libs"
	done
	sort "$T/dirs" | grep -vxE '/lib|/usr|/usr/lib' | sed 's/.*/dir & 0755 0 0/'
	cat "$T/libs"
} > "$T/guard.list"
check "vouch initramfs create builds vouch guard's part (uncompressed)" "$VOUCH" initramfs create --compress none \
	-o "$T/initrd-guard" --list "$T/guard.list"
# the signed firmware, in an archive of its own in the METADATA!!! format, which carries its
# security.ima: vouch appraises it before boot, the kernel unpacks the file without it
check "vouch initramfs create builds the firmware archive with its security.ima" "$VOUCH" initramfs create \
	--format metadata --compress none -o "$T/initrd-fw" "$T/fwinit"
check "initramfs gap, before boot: vouch initramfs verify appraises the signed firmware in the archive" \
	"$VOUCH" initramfs verify -t "$T/ima-rsa.crt" "$T/initrd-fw"
expect_rc 1 "initramfs gap, before boot: and refuses it against another key" \
	"$VOUCH" initramfs verify -t "$T/other.crt" "$T/initrd-fw"
cat "$T/initrd-guard" "$T/initrd-fw" "$T/initrd" > "$T/initrd-all"

# --- reference values of what the guest boots: the initramfs as vouch extracts it and the
# disk at /mnt/test (for the host's vouch attest verify and for vouchd)
ref=$T/refroot; rm -rf "$ref"; mkdir -p "$ref/mnt/test"
"$VOUCH" initramfs extract "$T/initrd-all" "$ref" >/dev/null 2>"$T/.err"
cp -a "$disk/." "$ref/mnt/test/"
cmdline_digest=$(printf '%s' "vouch-rig kexec=signed" | sha256sum | cut -c1-64)
# reference create has no option for a buffer: the command line goes in through a Keylime
# runtime policy's "ima-buf" map, out of vouch and back (the document's id stays right)
mkref() { # OUT [--keyring ...]: reference values of the guest's files, plus the kexec command line
	local out=$1; shift
	"$VOUCH" reference create --quiet --root "$ref" --out "$out.base" "$@" >/dev/null 2>"$T/.err" &&
		"$VOUCH" reference export --keylime --out "$out.kl" "$out.base" &&
		jq --arg d "$cmdline_digest" '.["ima-buf"] = {"kexec-cmdline": [$d]}' "$out.kl" > "$out.kl2" &&
		"$VOUCH" reference import --keylime --out "$out" "$out.kl2"
}
openssl x509 -in "$T/other.crt" -outform DER -out "$T/other.der"
mkref "$T/ref.json" --keyring "_ima=$T/ima-rsa.der" --keyring "_ima=$T/keys.der"
mkref "$T/ref-nokey.json"
mkref "$T/ref-otherkey.json" --keyring "_ima=$T/other.der"

# --- boot ------------------------------------------------------------------------------
mkdir -p "$T/tpm"
swtpm socket --tpm2 --tpmstate dir="$T/tpm" --ctrl type=unixio,path="$T/swtpm.sock" \
	--flags startup-clear --daemon --pid file="$T/swtpm.pid" --log file="$T/swtpm.log"
check "swtpm started" test -s "$T/swtpm.pid"
VPID=
if [ -n "$VOUCHD" ]; then
	"$VOUCHD" --listen "127.0.0.1:$PORT" --db "$T/vouchd.db" --tls-cert "$P/server.crt" --tls-key "$P/server.key" \
		--client-ca "$P/ca.crt" --agent-ca-cert "$P/ca.crt" --agent-ca-key "$P/ca.key" --allow-ek-public \
		--pcrs sha256:0-10 --reference "$T/ref.json" 2>"$T/vouchd.log" &
	VPID=$!
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
	if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then ok "vouchd listens for the guest on 127.0.0.1:$PORT"; else
		not_ok "vouchd listens for the guest on 127.0.0.1:$PORT"; sed 's/^/#   /' "$T/vouchd.log"; fi
fi
start=$(date +%s)
# TCG: this machine's /dev/kvm (nested) runs no guest: the serial port stays silent
timeout 300 qemu-system-x86_64 -M pc -accel tcg -m 1024 -smp 1 -display none -no-reboot -monitor none -nic user,model=virtio-net-pci \
	-serial file:"$T/console.log" \
	-kernel "$kroot/boot/vmlinuz-$kver" -initrd "$T/initrd-all" \
	-append "console=ttyS0 panic=-1 ima_hash=sha256 ima_template=ima-sig firmware_class.path=/mnt/test/fw" \
	-drive file="$T/disk.img",if=virtio,format=raw \
	-drive file="$T/gdisk.img",if=virtio,format=raw \
	-chardev socket,id=chrtpm,path="$T/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
	-device tpm-tis,tpmdev=tpm0 >/dev/null 2>&1
[ -f "$T/swtpm.pid" ] && kill "$(cat "$T/swtpm.pid")" 2>/dev/null
[ -n "$VPID" ] && { kill "$VPID" 2>/dev/null; wait "$VPID" 2>/dev/null; }
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
expect keyload-keys '-> OK' "keys: the keys scenario's certificate (CN=vouch rig keys) loads into _ima"
# (EINVAL: the flipped signature no longer decrypts to a padded block, and rsa-pkcs1pad's verify
# (crypto/rsa-pkcs1pad.c) answers -EINVAL before it looks for the 0x01 marker; the certificate
# differs from the one accepted above only in that last byte)
expect keyload-keys-bad '-> ERR (EKEYREJECTED|EBADMSG|EINVAL)' "keys, must fail: the same certificate with a wrong self-signature is refused"
expect policy-load '-> OK' "the appraisal policy loads"
expect policy-again '-> ERR' "the policy can be written once per boot"
expect exec-hello-signed '-> OK exit=0' "a binary signed by vouch runs"
for n in unsigned tampered wrongkey badsig hashonly ecdsa; do
	expect "exec-hello-$n" 'ERR EACCES' "hello-$n is denied (EACCES)"
done
expect mod-vouch '-> OK loaded' "the vouch-signed module loads"
expect taint-mod-vouch 'E' "and taints the kernel: its key is unknown to the kernel"
expect mod-badpkcs7 'ERR EBADMSG' "a broken PKCS#7 is refused with EBADMSG"

# firmware: the test module's load fails with the loader's error, which is ENOENT for a refusal
# too (drivers/base/firmware_loader/main.c: fw_get_filesystem_firmware() logs a failed read
# with dev_dbg and tries the next directory; the last one's -ENOENT is returned); the kernel's
# audit line names the file and the cause
expect fw-signed '-> OK loaded' "firmware signed by vouch loads (FIRMWARE_CHECK, imasig)"
audit() { grep -a "op=appraise_data" "$T/console.txt" | grep -a "name=\"$1\"" | tail -1; }
for n in unsigned tampered wrongkey; do
	expect "fw-$n" 'ERR ENOENT' "firmware $n is refused (the loader reports ENOENT)"
	line=$(audit "/mnt/test/fw/vouch-fw-$n.bin")
	if [ -n "$line" ]; then ok "firmware $n: the kernel's audit line says why (${line##*cause=})"; else
		not_ok "firmware $n: the kernel's audit line says why"; diag "no appraise_data line for /mnt/test/fw/vouch-fw-$n.bin"; fi
done
check "firmware: the loader says the direct load of the refused files failed" \
	grep -aq 'Direct firmware load for vouch-fw-unsigned.bin failed with error -2' "$T/console.txt"
# (the file is in /lib/firmware, the last directory the loader tries: its EACCES is returned)
expect fw-initrd 'ERR EACCES' "initramfs gap: the signed firmware from the initramfs is refused (cpio dropped its security.ima)"
expect fw-initrd-setxattr '-> OK' "initramfs gap: the guest sets the same security.ima on it"
expect fw-initrd-xattr '-> OK loaded' "initramfs gap: and then the same file loads"

# kexec_file_load.  Debian's 6.1 has KEXEC_SIG without KEXEC_SIG_FORCE, no IMA_KEXEC, no
# lockdown under SeaBIOS: kimage_file_prepare_segments() (kernel/kexec_file.c) reads the kernel
# with READING_KEXEC_IMAGE (IMA appraises it first), then kimage_validate_signature() checks the
# PE signature; Debian's signing key is only in the platform keyring, which a BIOS boot leaves
# empty, so that check fails with -ENOKEY and, not enforced and not locked down, only
# pr_debug()s and goes on; the initramfs is read next (READING_KEXEC_INITRAMFS), and only after
# both reads the command line is measured (ima_kexec_cmdline()).  With IMA_KEXEC off,
# ima_add_kexec_buffer() carries no list to the next kernel.
expect kexec-signed '-> OK loaded' "kexec: the kernel and initramfs signed by vouch load"
expect kexec-unsigned-kernel 'ERR EACCES' "kexec: an unsigned kernel is refused (EACCES)"
expect kexec-unsigned-initrd 'ERR EACCES' "kexec: an unsigned initramfs is refused (EACCES)"

# EVM: portable signatures made by vouch, the certificate in _evm, EVM_INIT_X509
expect keyload-evm '-> OK' "EVM: the vouch certificate loads into _evm"
expect evm-enable '-> OK' "EVM: enabled with the X.509 key (echo 2 > /sys/kernel/security/evm)"
expect evm-hello-evm '-> OK exit=0' "EVM: a file with a digest and a vouch portable signature runs"
for n in mode owner ima; do
	expect "evm-hello-$n" 'ERR EACCES' "EVM: a file whose $n changed after signing is refused"
done
expect evm-hello-noevm 'ERR EACCES' "EVM: a file with a valid IMA signature but no security.evm is refused"
# the kernel's reasons (security/integrity/ima/ima_appraise.c): a portable signature that no
# longer verifies is INTEGRITY_FAIL_IMMUTABLE, no security.evm at all is "missing-HMAC"
cause() { audit "/mnt/test/evm/hello-$1" | sed -n 's/.* cause=\([^ ]*\) .*/\1/p'; }
for n in mode owner ima; do
	eq "EVM: the audit line gives the $n change's cause" "$(cause $n)" invalid-fail-immutable
done
eq "EVM: the audit line gives the missing security.evm's cause" "$(cause noevm)" missing-HMAC

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
extract dmesg.txt
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
"$VOUCH" log show --json "$T/binary_runtime_measurements" > "$T/show.json" 2>"$T/.err"
# the verdict on a file's signature; "none" when it is listed without one, "absent" if not listed
fwverdict() {
	jq -r --arg p "$1" --slurpfile l "$T/show.json" '[.signatures[] | select(.name == $p) | .signature] | last //
		(if [$l[0][] | select(.name == $p)] | length > 0 then "none" else "absent" end)' "$T/sigs.json"
}
eq "firmware: the list has the signed firmware, verified" "$(fwverdict /mnt/test/fw/vouch-fw-signed.bin)" verified
eq "firmware: the refused unsigned firmware is measured too, without a signature" "$(fwverdict /mnt/test/fw/vouch-fw-unsigned.bin)" none
eq "firmware: the tampered firmware's signature is bad" "$(fwverdict /mnt/test/fw/vouch-fw-tampered.bin)" bad
eq "firmware: the wrong-key firmware has an unknown key" "$(fwverdict /mnt/test/fw/vouch-fw-wrongkey.bin)" unknown-key
eq "kexec: the list has the signed kernel, verified" "$(fwverdict /mnt/test/kexec/vmlinuz-signed)" verified
eq "kexec: and the signed initramfs, verified" "$(fwverdict /mnt/test/kexec/initrd-signed)" verified
eq "kexec: the refused unsigned kernel is measured, without a signature" "$(fwverdict /mnt/test/kexec/vmlinuz-unsigned)" none

# the list as vouch shows it: kexec command lines and the certificates in _ima decoded
eq "kexec: one kexec-cmdline (ima-buf) entry, the signed load's command line, decoded by vouch" \
	"$(jq -r '.[] | select(.name == "kexec-cmdline") | "\(.template) \(.cmdline)"' "$T/show.json")" "ima-buf vouch-rig kexec=signed"
"$VOUCH" log show "$T/binary_runtime_measurements" > "$T/show.txt" 2>"$T/.err"
check "kexec: vouch log show prints that command line" grep -q ' kexec-cmdline cmdline "vouch-rig kexec=signed"$' "$T/show.txt"

# keys (KEY_CHECK keyrings=_ima template=ima-buf): the certificates the kernel took are listed,
# those it refused (EC: no ECDSA in this kernel; the wrong self-signature) are not
imabufs() { jq -r '.[] | select(.name == "_ima") | "\(.template) \(.fields.buf)"' "$T/show.json"; }
for k in ima-rsa keys; do
	what="the RSA certificate"; [ $k = keys ] && what="the keys scenario's certificate"
	eq "keys: an _ima entry (ima-buf) whose buffer is $what, byte for byte" \
		"$(imabufs | grep -cx "ima-buf $(xxd -p "$T/$k.der" | tr -d '\n')")" 1
	subject=$(openssl x509 -inform DER -in "$T/$k.der" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
	check "keys: vouch log show names $what (\"$subject\")" \
		grep -q " _ima certificate \"$subject\" key id [0-9a-f]\{8\}$" "$T/show.txt"
done
eq "keys, must fail: no other _ima entry (the refused EC certificate and wrongly signed copy are not listed)" \
	"$(imabufs | grep -cvxE "ima-buf ($(xxd -p "$T/ima-rsa.der" | tr -d '\n')|$(xxd -p "$T/keys.der" | tr -d '\n'))")" 0

# --- simulation equals reality: vouch policy simulate over the files of the rig's disk image
# (copied out with debugfs rdump, their security.ima and security.evm with ea_get) with the
# rig's policy predicts which files the kernel measured and which IMA refused (an audit
# appraise_data line).  The engine knows no file-system UUID, and every file here is on the
# disk of that UUID: the fsuuid= condition is dropped for the simulation (the rule is otherwise
# the same).  EVM is not simulated: the evm/ files, appraised only once EVM is on, are left out
# (their decisions are asserted above).
# The simulation has no signature of its own: it reads the same security.ima values the kernel
# appraises, from the same image.  With RIG_CORRUPT the signed binary, firmware and kexec
# initramfs carry wrong signatures: the kernel refuses them, and the simulation, judging the
# same bytes with the same key, must predict exactly those refusals; so the comparison must
# still hold (test-rig-can-fail.sh checks that it does, with three more refusals).
sim=$T/simroot; rm -rf "$sim"; mkdir -p "$sim"
debugfs -R "rdump / $sim" "$T/disk.img" >/dev/null 2>&1
(cd "$disk" && find . -type f | sed 's|^\./||') | sort > "$T/disk.files"
while read -r rel; do
	for x in security.ima security.evm; do
		rm -f "$T/xv"
		debugfs -R "ea_get -f $T/xv /$rel $x" "$T/disk.img" >/dev/null 2>&1
		[ -s "$T/xv" ] && xset "$sim/$rel" "$T/xv" "$x"
	done
done < "$T/disk.files"
sed "s/ fsuuid=$UUID//" "$T/ima-policy" > "$T/sim-policy"
predict() { # TRUST OUT: what vouch policy simulate predicts, one line per file
	"$VOUCH" policy simulate -p "$T/sim-policy" -t "$1" --root "$sim" --map 'fw/*=FIRMWARE_CHECK' \
		--map 'kexec/vmlinuz-*=KEXEC_KERNEL_CHECK' --map 'kexec/initrd-*=KEXEC_INITRAMFS_CHECK' --json > "$T/sim.json" 2>"$T/sim.err"
	jq -r '.files[] | select(.file | test("^(bin|mod|fw|kexec)/")) | "\(.file) \(.func) measured=\(.measured) refused=\(.would_deny)"' \
		"$T/sim.json" | sort > "$2"
}
predict "$T/other.crt" "$T/predicted-other"
predict "$T/ima-rsa.crt" "$T/predicted"
jq -r '.[].name' "$T/show.json" | sort -u > "$T/listed"
while read -r file func _; do
	m=false; r=false
	grep -qx "/mnt/test/$file" "$T/listed" && m=true
	grep -aq "op=appraise_data .*name=\"/mnt/test/$file\"" "$T/dmesg.txt" && r=true
	echo "$file $func measured=$m refused=$r"
done < "$T/predicted" > "$T/real"
eq "simulation equals reality: vouch policy simulate covers the appraised files of the disk" \
	"$(wc -l < "$T/predicted")" "$(grep -cE '^(bin|mod|fw|kexec)/' "$T/disk.files")"
if [ -s "$T/predicted" ] && cmp -s "$T/predicted" "$T/real"; then
	ok "simulation equals reality: $(wc -l < "$T/predicted") files, $(grep -c 'refused=true' "$T/real") refused, as vouch policy simulate predicted"
else
	not_ok "simulation equals reality: what vouch policy simulate predicted is what the kernel did"
	diff "$T/predicted" "$T/real" | sed 's/^</predicted:/; s/^>/kernel:   /' | grep -v '^---\|^[0-9]' | sed 's/^/#   /'
	sed 's/^/#   simulate: /' "$T/sim.err"
fi
want=false; [ "${RIG_CORRUPT:-}" = 1 ] && want=true
eq "simulation: the signed binary, firmware and kexec initramfs predicted refused=$want, as the kernel did" \
	"$(grep -hE '^(bin/hello-signed|fw/vouch-fw-signed.bin|kexec/initrd-signed) ' "$T/predicted" "$T/real" | grep -c "refused=$want$")" 6
if [ -s "$T/predicted-other" ] && ! cmp -s "$T/predicted-other" "$T/real"; then
	ok "simulation equals reality, must fail: simulated with another key it predicts refusals the kernel did not make"
else not_ok "simulation equals reality, must fail: simulated with another key it predicts refusals the kernel did not make"; fi

# --- a guest that attests itself: its AK and two quotes with the list and SeaBIOS's event log,
# verified on the host against reference values built from what the guest booted (the
# initramfs, extracted by vouch) and the disk mounted at /mnt/test, with the _ima certificate
# expected and the one kexec command line the guest ran
expect attest-ak '-> OK' "attest: vouch in the guest creates an AK on /dev/tpmrm0 (tss2's device TCTI copied in)"
expect attest-quote1 '-> OK' "attest: vouch in the guest quotes PCRs 0-10 with its list and event log"
expect attest-quote2 '-> OK' "attest: and quotes again after a file on the disk changed"
extract ak.pub; extract ev1; extract ev2
# RIG_CORRUPT: the first quote's signature (the AK's, a TPMT_SIGNATURE) with its last byte
# changed on its way to the host: the verdict must turn not trusted there, and only there
if [ "${RIG_CORRUPT:-}" = 1 ]; then
	jq '.quote.signature |= (.[:-2] + (if .[-2:] == "00" then "01" else "00" end))' "$T/ev1" > "$T/ev1.bad" &&
		mv "$T/ev1.bad" "$T/ev1"
fi
# no -t: the list holds the files the kernel refused, with their bad signatures, by design;
# the reference values judge every entry
attest() { # REF EVIDENCE NONCE-FILE -> exit code; the JSON in $T/attest.json
	"$VOUCH" attest verify --ak "$T/ak.pub" --nonce "$(cat "$3")" --pcrs sha256:0-10 --reference "$1" \
		--json "$2" > "$T/attest.json" 2>"$T/attest.err"
}
check_result() { jq -r --arg c "$1" '.checks[] | select(.check == $c) | "\(.result): \(.detail)"' "$T/attest.json"; }
attest "$T/ref.json" "$T/ev1" "$T/nonce1"; rc=$?
if [ $rc = 0 ]; then ok "attest: the host trusts the guest's first quote (vouch attest verify, exit 0)"; else
	not_ok "attest: the host trusts the guest's first quote (vouch attest verify, exit $rc)"
	jq -c . "$T/attest.json" 2>/dev/null | cut -c1-1500 | sed 's/^/#   /'; sed 's/^/#   /' "$T/attest.err"; fi
line=$(check_result eventlog)
if [[ $line == "pass: "*" events replay to the quoted PCRs"* ]]; then
	ok "attest: the evidence carries SeaBIOS's TCG2 event log, which replays (${line#pass: })"
else not_ok "attest: the evidence carries SeaBIOS's TCG2 event log, which replays"; diag "got: ${line:-no eventlog check}"; fi
line=$(check_result boot_aggregate)
eq "attest: the list's boot_aggregate matches the quoted PCRs 0-9" "${line%%:*}" pass
attest "$T/ref.json" "$T/ev2" "$T/nonce2"; rc=$?
if [ $rc = 1 ] && [[ $(check_result reference) == "fail: "*"/mnt/test/etc/motd"* ]]; then
	ok "attest, must fail: the second quote is not trusted: /mnt/test/etc/motd changed"
else not_ok "attest, must fail: the second quote is not trusted: /mnt/test/etc/motd changed (exit $rc)"
	jq -c . "$T/attest.json" 2>/dev/null | cut -c1-1500 | sed 's/^/#   /'; fi
attest "$T/ref.json" "$T/ev1" "$T/nonce2"; rc=$?
eq "attest, must fail: the first quote with the second nonce is not trusted" "$rc" 1
for k in nokey otherkey; do
	what="no key"; [ $k = otherkey ] && what="another key"
	attest "$T/ref-$k.json" "$T/ev1" "$T/nonce1"; rc=$?
	if [ $rc = 1 ] && [[ $(check_result reference) == "fail: "*"'_ima'"* ]]; then
		ok "keys, must fail: the attestation refuses the _ima certificate when told to expect $what"
	else not_ok "keys, must fail: the attestation refuses the _ima certificate when told to expect $what (exit $rc)"
		jq -c . "$T/attest.json" 2>/dev/null | cut -c1-800 | sed 's/^/#   /'; fi
done

# --- kexec -e: the guest boots the signed kernel last.  It starts a fresh list (IMA_KEXEC is
# off) while PCR 10 keeps the old kernel's extends: the new list alone does not replay, the
# old list (read just before kexec -e) followed by the new one does
expect kexec-final '-> OK loaded' "kexec -e: the signed kernel with the second initramfs loads"
if ! grep -q '^RIG2-DONE' "$T/console.txt"; then
	not_ok "kexec -e: the second kernel booted and dumped its list (the list checks after kexec -e not run)"
else
	ok "kexec -e: the second kernel booted and dumped its list"
	extract list1; extract list2; extract pcrs2-sha256.txt
	eq "kexec -e: the second kernel's list starts with its own boot_aggregate" \
		"$("$VOUCH" log show "$T/list2" 2>/dev/null | awk 'NR == 1 {print $5}')" boot_aggregate
	expect_rc 1 "kexec -e, must fail: the new list alone does not replay to PCR 10" \
		"$VOUCH" log verify --pcrs "sha256=$T/pcrs2-sha256.txt" "$T/list2"
	check "kexec -e: vouch log verify --previous chains the old list and the new one: they replay to PCR 10" \
		"$VOUCH" log verify --pcrs "sha256=$T/pcrs2-sha256.txt" --previous "$T/list1" "$T/list2"
	# the signed policy file, in the last kernel (tests/kernel/init2.sh)
	expect policy2-keyload '-> OK' "signed policy: the last kernel (ima_policy=tcb|secure_boot) takes the vouch certificate into _ima"
	expect policy2-bad 'ERR EACCES' "signed policy, must fail: the policy file with a wrong signature is refused (EACCES)"
	expect policy2-signed '-> OK' "signed policy: then the policy file signed by vouch loads (the refused write did not use up the one write)"
	# (the kernel's read of the policy files is not in the new list, whose builtin rules measured
	# none of the initramfs' files: vouch judges the same signature files the guest set)
	check "signed policy: vouch ima verify verifies the policy file's signature, as the kernel did" \
		"$VOUCH" ima verify -t "$T/ima-rsa.crt" --sigfile "$T/policy2/ima-policy-signed"
	expect_rc 1 "signed policy, must fail: and refuses the one the kernel refused" \
		"$VOUCH" ima verify -t "$T/ima-rsa.crt" --sigfile "$T/policy2/ima-policy-bad"
	eq "signed policy: its rule is in force: the file it names (fowner=4242) is measured" \
		"$("$VOUCH" log show --json "$T/list2" 2>/dev/null | jq -r '[.[] | select(.name == "/etc/policy-marker")] | length')" 1
fi

# vouchd's verdicts, as vouch-agent --once reports them (exit 0 trusted, 1 not; with RIG_CORRUPT
# the agent refuses vouchd's certificate, whose signature is wrong, and exits 3: no verdict)
if [ -n "$AGENT" ]; then
	expect net-up '-> OK' "agent: the guest's network is up (virtio_net, QEMU's user network)"
	expect agent-round1 '-> OK exit=0' "agent: vouch-agent in the guest enrolls with vouchd on the host (EK, AK, credential activation) and vouchd trusts it"
	expect agent-round2 '-> OK exit=1' "agent, must fail: after /mnt/test/etc/motd changed, vouchd does not trust the guest"
	grep -q '^agent-round1 | .* exit=0$' "$T/console.txt" || grep -a '^AGENT: ' "$T/console.txt" | head -4 | sed 's/^/#   /'
	eq "agent: vouchd stored the two verdicts" \
		"$(sqlite3 "$T/vouchd.db" "SELECT verdict FROM results WHERE agent = 'rig-guest' ORDER BY seq" 2>&1 | tr '\n' ' ')" "trusted untrusted "
	# (json-c writes / as \/)
	check "agent: vouchd's second result names the changed file" grep -qE '\\?/mnt\\?/test\\?/etc\\?/motd' \
		<(sqlite3 "$T/vouchd.db" "SELECT body FROM results WHERE agent = 'rig-guest' ORDER BY seq DESC LIMIT 1" 2>&1)
else
	skip "vouchd and vouch-agent: not built (VOUCH_BUILDDIR/service)"
fi

# EVM in the list: the digest-only file's sig field holds its security.evm (type 0x05)
eq "EVM: the list's sig field of the EVM-signed file is named an EVM portable signature" \
	"$(fwverdict /mnt/test/evm/hello-evm)" evm-portable
done_testing
