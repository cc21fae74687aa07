#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest /init for the kernel rig: every step prints one "NAME | ... -> OK|ERR" line.
/bin/busybox mkdir -p /proc /sys /dev /mnt/test /run /tmp
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security
echo "RIG-BEGIN"
for m in $(cat /etc/modules.order); do
	insmod "/lib/modules/$m.ko" || echo "insmod-$m | insmod $m -> ERR"
done
if mount -t ext4 /dev/vda /mnt/test; then echo "mount | mount /dev/vda -> OK"; else echo "mount | mount /dev/vda -> ERR"; fi

gh keyload keyload-rsa _ima /keys/ima-rsa.der
gh keyload keyload-ecdsa _ima /keys/ima-ec.der
gh write policy-load /sys/kernel/security/ima/policy /etc/ima-policy
gh write policy-again /sys/kernel/security/ima/policy /etc/ima-policy

for f in /mnt/test/bin/*; do
	gh exec "exec-${f##*/}" "$f"
done
gh finit mod-vouch /mnt/test/mod/labmod-vouch.ko
echo "taint-mod-vouch | $(cat /sys/module/labmod/taint 2>/dev/null) -> OK"
rmmod labmod 2>/dev/null
gh finit mod-badpkcs7 /mnt/test/mod/labmod-badpkcs7.ko
rmmod labmod 2>/dev/null

# PCRs of every bank first, with nothing measured in between (reading a changed file for
# MAY_READ would add an entry); the list is read after, so it may run ahead of the PCRs and
# the host verifies that a prefix of it replays to them.
for alg in sha1 sha256 sha384 sha512; do
	d=/sys/class/tpm/tpm0/pcr-$alg
	[ -d "$d" ] || continue
	for i in $(seq 0 23); do echo "PCR-$(printf %02d "$i"): $(cat "$d/$i")" >> "/tmp/pcrs-$alg.txt"; done
done
cat /sys/kernel/security/ima/binary_runtime_measurements > /tmp/binary_runtime_measurements
cat /sys/kernel/security/ima/ascii_runtime_measurements > /tmp/ascii_runtime_measurements
dump() { echo "RIG-FILE $1"; base64 "/tmp/$1"; echo "RIG-END"; }
dump binary_runtime_measurements
dump ascii_runtime_measurements
for alg in sha1 sha256 sha384 sha512; do
	[ -f "/tmp/pcrs-$alg.txt" ] && dump "pcrs-$alg.txt"
done
echo "RIG-DONE"
sync
poweroff -f
