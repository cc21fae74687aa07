#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# /init of the kernel the rig's guest boots with kexec -e: it starts a fresh measurement list
# (IMA_KEXEC is off) on a TPM whose PCR 10 was not reset.  It loads a signed policy file, then
# dumps the new list and the sha256 PCRs, and powers off.
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security
echo "RIG2-BEGIN"
# the signed policy file (ima_policy=secure_boot appraises POLICY_CHECK, imasig): the vouch
# certificate into _ima, security.ima on both copies (the initramfs dropped it), the wrongly
# signed copy first: a refused write does not use up the one write IMA_WRITE_POLICY=n allows.
# Then the file the new policy's rule measures is read.
gh keyload policy2-keyload _ima /keys/ima-rsa.der
for n in bad signed; do
	gh setxattr "policy2-setxattr-$n" "/etc/ima-policy-$n" security.ima "/keys/ima-policy-$n.sig"
	gh write "policy2-$n" /sys/kernel/security/ima/policy "/etc/policy-path-$n"
done
cat /etc/policy-marker > /dev/null
d=/sys/class/tpm/tpm0/pcr-sha256
for i in $(seq 0 23); do echo "PCR-$(printf %02d "$i"): $(cat "$d/$i")" >> /tmp/pcrs2-sha256.txt; done
cat /sys/kernel/security/ima/binary_runtime_measurements > /tmp/list2
for f in list2 pcrs2-sha256.txt; do echo "RIG-FILE $f"; base64 "/tmp/$f"; echo "RIG-END"; done
echo "RIG2-DONE"
poweroff -f
