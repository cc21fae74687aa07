#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# /init of the kernel the rig's guest boots with kexec -e: it starts a fresh measurement list
# (IMA_KEXEC is off) on a TPM whose PCR 10 was not reset.  Dump the new list and the sha256
# PCRs, then power off.
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security
echo "RIG2-BEGIN"
d=/sys/class/tpm/tpm0/pcr-sha256
for i in $(seq 0 23); do echo "PCR-$(printf %02d "$i"): $(cat "$d/$i")" >> /tmp/pcrs2-sha256.txt; done
cat /sys/kernel/security/ima/binary_runtime_measurements > /tmp/list2
for f in list2 pcrs2-sha256.txt; do echo "RIG-FILE $f"; base64 "/tmp/$f"; echo "RIG-END"; done
echo "RIG2-DONE"
poweroff -f
