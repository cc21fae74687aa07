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
# every refusal is an audit line in the kernel's log (the host compares them with vouch policy
# simulate): no printk rate limit
echo 0 > /proc/sys/kernel/printk_ratelimit
for m in $(cat /etc/modules.order); do
	insmod "/lib/modules/$m.ko" || echo "insmod-$m | insmod $m -> ERR"
done
if [ -f /etc/vouchd-url ]; then
	if ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2; then
		echo "net-up | eth0 10.0.2.15 -> OK"; else echo "net-up | eth0 10.0.2.15 -> ERR"; fi
fi
if mount -t ext4 /dev/vda /mnt/test; then echo "mount | mount /dev/vda -> OK"; else echo "mount | mount /dev/vda -> ERR"; fi

gh keyload keyload-rsa _ima /keys/ima-rsa.der
gh keyload keyload-ecdsa _ima /keys/ima-ec.der
gh keyload keyload-keys _ima /keys/keys.der
gh keyload keyload-keys-bad _ima /keys/keys-bad.der
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

# firmware (FIRMWARE_CHECK): the test module requests one file and fails to load when the
# loader refuses it (ENOENT: the loader treats IMA's EACCES as a miss and tries the next
# firmware directory)
for n in signed unsigned tampered wrongkey; do
	gh finit "fw-$n" /lib/modules/fwtest.ko "name=vouch-fw-$n.bin"
	rmmod fwtest 2>/dev/null
done
# the initramfs gap: the signed file from the initramfs has lost its security.ima ...
gh finit fw-initrd /lib/modules/fwtest.ko name=vouch-fw-initrd.bin
rmmod fwtest 2>/dev/null
# ... until the guest puts the same signature back
gh setxattr fw-initrd-setxattr /lib/firmware/vouch-fw-initrd.bin security.ima /keys/fw-initrd.sig
gh finit fw-initrd-xattr /lib/modules/fwtest.ko name=vouch-fw-initrd.bin
rmmod fwtest 2>/dev/null

# kexec_file_load (KEXEC_KERNEL_CHECK, KEXEC_INITRAMFS_CHECK, KEXEC_CMDLINE)
K=/mnt/test/kexec
gh kexec kexec-signed $K/vmlinuz-signed $K/initrd-signed "vouch-rig kexec=signed"
gh kexec kexec-unsigned-kernel $K/vmlinuz-unsigned $K/initrd-signed "vouch-rig kexec=unsigned-kernel"
gh kexec kexec-unsigned-initrd $K/vmlinuz-signed $K/initrd-unsigned "vouch-rig kexec=unsigned-initrd"

# a guest that attests itself: vouch, with the guest's TPM, creates an AK and quotes twice,
# before and after a file on the disk changed.  The evidence goes to a ramfs, which the
# policy does not measure (dont_measure fsmagic=0x858458f6): writing and dumping it adds
# nothing to the list between the quotes.
mkdir -p /out && mount -t ramfs ramfs /out
TCTI=device:/dev/tpmrm0
cat /mnt/test/etc/motd > /dev/null
if vouch tpm ak create --tcti $TCTI --out /out/ak > /out/ak.log 2>&1; then echo "attest-ak | vouch tpm ak create -> OK"; else
	echo "attest-ak | vouch tpm ak create -> ERR $(tail -1 /out/ak.log)"; fi
quote() {
	if vouch attest quote --tcti $TCTI --nonce "$(cat "/etc/nonce$1")" --pcrs sha256:0-10 --out "/out/ev$1" > /out/q.log 2>&1; then
		echo "attest-quote$1 | vouch attest quote -> OK"; else echo "attest-quote$1 | vouch attest quote -> ERR $(tail -1 /out/q.log)"; fi
}
# vouch-agent --once: enrolls with vouchd on the host first (no certificate yet), then one
# round; its exit status is vouchd's verdict (0 trusted, 1 not).  Before EVM is on: EVM
# refuses the chmod of the new key file on a file system without xattrs (ramfs)
agent() {
	[ -f /etc/vouchd-url ] || return 0
	vouch-agent --server "$(cat /etc/vouchd-url)" --id rig-guest --cert /out/agent.crt --key /out/agent.key \
		--cacert /keys/vouchd-ca.pem --tpm $TCTI --once 2> /out/agent.log
	echo "agent-round$1 | vouch-agent --once -> OK exit=$?"
	sed 's/^/AGENT: /' /out/agent.log
}
quote 1
agent 1
# EVM last: once it is on, every appraised file without security.evm fails
gh keyload keyload-evm _evm /keys/ima-rsa.der
if echo 2 > /sys/kernel/security/evm; then echo "evm-enable | echo 2 > evm -> OK $(cat /sys/kernel/security/evm)"; else
	echo "evm-enable | echo 2 > evm -> ERR"; fi
for n in evm mode owner ima noevm; do
	gh exec "evm-hello-$n" /mnt/test/evm/hello-$n
done

# after EVM: the file changes, the second quote and round
echo changed >> /mnt/test/etc/motd
cat /mnt/test/etc/motd > /dev/null
quote 2
agent 2

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
dmesg > /tmp/dmesg.txt
dump binary_runtime_measurements
dump ascii_runtime_measurements
dump dmesg.txt
for alg in sha1 sha256 sha384 sha512; do
	[ -f "/tmp/pcrs-$alg.txt" ] && dump "pcrs-$alg.txt"
done
for f in ak.pub ev1 ev2; do
	[ -f "/out/$f" ] && { echo "RIG-FILE $f"; base64 "/out/$f"; echo "RIG-END"; }
done

# vouch guard on a second disk that the kernel does not appraise: the guard alone decides.
# After the dumps above, so that nothing here reaches the kernel's list the host checks.
printf '%s\n' 'appraise func=BPRM_CHECK appraise_type=imasig' \
	'appraise func=MMAP_CHECK appraise_type=imasig' \
	'appraise func=MODULE_CHECK appraise_type=imasig' > /tmp/guard-policy
G=/mnt/guard
mkdir -p $G
if mount -t ext4 /dev/vdb $G; then echo "guard-mount | mount /dev/vdb -> OK"; else echo "guard-mount | mount /dev/vdb -> ERR"; fi
# start_guard STATE ARGS...: in the background, ready once it says "guarding" (TCG is slow:
# the deadline is generous, so that no answer is the deadline's default)
start_guard() {
	state=$1; shift
	: > /tmp/guard.err
	vouch guard --policy /tmp/guard-policy --trust /keys/ima-rsa.pem --state-dir "$state" \
		--mount $G --deadline 60s "$@" 2>> /tmp/guard.err &
	GPID=$!
	for i in $(seq 600); do
		grep -q '^vouch guard: guarding' /tmp/guard.err && return 0
		kill -0 $GPID 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
stop_guard() {
	kill -TERM $GPID; wait $GPID; rc=$?
	if [ $rc = 0 ]; then echo "guard-stop-$1 | SIGTERM -> OK"; else echo "guard-stop-$1 | SIGTERM -> ERR exit=$rc"; fi
	sed 's/^/GUARD: /' /tmp/guard.err
}

E="--mode BPRM_CHECK=enforce --mode MMAP_CHECK=enforce --mode MODULE_CHECK=enforce"
# shellcheck disable=SC2086 # $E is three options
if start_guard /tmp/guard-enforce $E; then echo "guard-enforce | vouch guard $E -> OK"; else
	echo "guard-enforce | vouch guard $E -> ERR"; fi
for n in signed unsigned tampered wrongkey; do
	gh exec "guard-hello-$n" $G/bin/hello-$n
done
gh exec guard-lib-signed $G/libok/prog
gh exec guard-lib-unsigned $G/libbad/prog
# the loader's own message names the last directory it searched: the open itself, directly
gh open guard-lib-open $G/libbad/libvt.so
# the helper named insmod, as kmod's insmod: open, then finit_module()
for n in unsigned signed appended; do
	/usr/lib/rig/insmod finit "guard-mod-$n" "$G/mod/labmod-$n.ko"
	rmmod labmod 2>/dev/null
done
stop_guard enforce

# log mode needs a new state: enforce latched the first one
if start_guard /tmp/guard-log --mode log --log-json /tmp/guard.json; then echo "guard-log | vouch guard --mode log -> OK"; else
	echo "guard-log | vouch guard --mode log -> ERR"; fi
gh exec guard-log-unsigned $G/bin/hello-unsigned
stop_guard log
echo "guard-log-json | $(grep -m1 "\"$G/bin/hello-unsigned\"" /tmp/guard.json) -> OK"
umount $G

# last, kexec -e into the signed kernel (its initramfs runs init2.sh): the list as it stands
# once the kernel is loaded (nothing is measured after: /out is not measured, the programs
# ran before) goes out first
gh kexec-keep kexec-final $K/vmlinuz-signed /mnt/test/final/initrd \
	"console=ttyS0 panic=-1 ima_hash=sha256 ima_template=ima-sig ima_policy=tcb|secure_boot"
cat /sys/kernel/security/ima/binary_runtime_measurements > /out/list1
echo "RIG-FILE list1"; base64 /out/list1; echo "RIG-END"
echo "RIG-DONE"
sync
gh kexec-exec kexec-exec
poweroff -f
