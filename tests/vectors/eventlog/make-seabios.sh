#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Capture a real firmware event log: boot Debian's 6.1 kernel (the kernel rig's cached
# package) under QEMU with SeaBIOS and a swtpm TPM 2.0, and from inside the guest dump
# /sys/kernel/security/tpm0/binary_bios_measurements and PCRs 0-23 of every bank.  While
# the guest waits, the host stores the swtpm's volatile state (PCRs included), stops QEMU,
# resumes the same TPM state on a TCP swtpm and quotes PCRs 0-7 there with a
# fresh AK (vouch attest quote, tpm2_pcrread as the peer's view of the same PCRs).
#
#   VOUCH=build/programs/vouch tests/vectors/eventlog/make-seabios.sh OUTDIR   (a new directory)
#
# Writes to OUTDIR: seabios.bin (the log), seabios-pcrs-ALG.txt (the guest's sysfs PCRs),
# seabios-tpm2_pcrread.txt, seabios-ak.{pub,pem,name}, seabios.ev (evidence: a quote over
# PCRs 0-7 of the sha256, sha384 and sha512 banks, nonce 5eab1050, with the log; sha1 is left
# out of the quote because attest verify refuses it by default, the log still carries it).
set -eu
OUT=$(realpath "${1:?usage: make-seabios.sh OUTDIR}")
VOUCH=$(realpath "${VOUCH:-build/programs/vouch}")
CACHE=${VOUCH_CACHE:-/var/cache/vouch}/kernel
NONCE=5eab1050
T=$(mktemp -d /tmp/vouch-seabios.XXXXXX)
QPID=''
SPID=''
cleanup() {
	[ -n "$QPID" ] && kill "$QPID" 2>/dev/null
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# the kernel the rig uses (tests/kernel/rig.sh downloads and caches it)
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
kver=${pkg#linux-image-}
kernel=$CACHE/$pkg/root/boot/vmlinuz-$kver
[ -f "$kernel" ] || { echo "make-seabios.sh: $kernel missing: run tests/kernel/rig.sh once" >&2; exit 3; }

cat >"$T/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security
for alg in sha1 sha256 sha384 sha512; do
	d=/sys/class/tpm/tpm0/pcr-$alg
	[ -d "$d" ] || continue
	for i in $(seq 0 23); do echo "PCR-$(printf %02d "$i"): $(cat "$d/$i")" >> "/tmp/pcrs-$alg.txt"; done
done
dump() { echo "CAP-FILE $2"; base64 "$1"; echo "CAP-END"; }
dump /sys/kernel/security/tpm0/binary_bios_measurements seabios.bin
for alg in sha1 sha256 sha384 sha512; do
	[ -f "/tmp/pcrs-$alg.txt" ] && dump "/tmp/pcrs-$alg.txt" "seabios-pcrs-$alg.txt"
done
echo "CAP-DONE"
while :; do sleep 60; done
EOF
{
	echo "dir /bin 0755 0 0"; echo "dir /dev 0755 0 0"; echo "nod /dev/console 0600 0 0 c 5 1"
	echo "file /init $T/init 0755 0 0"; echo "file /bin/busybox /bin/busybox 0755 0 0"
} >"$T/list"
"$VOUCH" initramfs create --compress gzip -o "$T/initrd" --list "$T/list"

mkdir -p "$T/tpm"
swtpm socket --tpm2 --tpmstate dir="$T/tpm" --ctrl type=unixio,path="$T/ctrl.sock" \
	--flags startup-clear --pid file="$T/swtpm.pid" --log file="$T/swtpm.log" &
SPID=$!
for _ in $(seq 50); do [ -S "$T/ctrl.sock" ] && break; sleep 0.1; done
qemu-system-x86_64 -M pc -m 512 -smp 1 -display none -no-reboot -monitor none -nic none \
	-serial file:"$T/console.log" -kernel "$kernel" -initrd "$T/initrd" \
	-append "console=ttyS0 panic=-1 quiet" \
	-chardev socket,id=chrtpm,path="$T/ctrl.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
	-device tpm-tis,tpmdev=tpm0 >/dev/null 2>&1 &
QPID=$!
for _ in $(seq 600); do grep -q CAP-DONE "$T/console.log" 2>/dev/null && break; sleep 0.5; done
grep -q CAP-DONE "$T/console.log" || { echo "make-seabios.sh: the guest did not finish" >&2; exit 1; }
# the guest is idle: stop QEMU without a TPM2_Shutdown (QEMU holds the control channel), then
# snapshot the TPM's volatile state (PCRs) and stop swtpm
kill -9 "$QPID"; wait "$QPID" 2>/dev/null || true; QPID=
swtpm_ioctl --unix "$T/ctrl.sock" -v
swtpm_ioctl --unix "$T/ctrl.sock" -s 2>/dev/null || kill "$SPID"
wait "$SPID" 2>/dev/null || true; SPID=

mkdir -p "$OUT"
tr -d '\r' <"$T/console.log" >"$T/console.txt"
for f in $(awk '/^CAP-FILE / {print $2}' "$T/console.txt"); do
	awk -v f="$f" '$0 == "CAP-FILE " f {on=1; next} /^CAP-END/ {on=0} on' "$T/console.txt" |
		base64 -d >"$OUT/$f"
done

# resume the same TPM state on a TCP swtpm (swtpm_ioctl -i loads the volatile state)
port=$((20000 + (RANDOM % 20000) * 2))
swtpm socket --tpm2 --tpmstate dir="$T/tpm" --server type=tcp,port="$port",bindaddr=127.0.0.1 \
	--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --pid file="$T/swtpm2.pid" \
	>"$T/swtpm2.log" 2>&1 &
SPID=$!
sleep 1
swtpm_ioctl --tcp 127.0.0.1:$((port + 1)) -i
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port" VOUCH_TCTI="swtpm:host=127.0.0.1,port=$port"
tpm2_pcrread sha1:0,1,2,3,4,5,6,7+sha256:0,1,2,3,4,5,6,7+sha384:0,1,2,3,4,5,6,7+sha512:0,1,2,3,4,5,6,7 \
	>"$OUT/seabios-tpm2_pcrread.txt"
"$VOUCH" tpm ak create --out "$OUT/seabios-ak"
"$VOUCH" attest quote --nonce "$NONCE" --pcrs sha256:0-7+sha384:0-7+sha512:0-7 \
	--no-ima --eventlog "$OUT/seabios.bin" --out "$OUT/seabios.ev"
kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=
ls -l "$OUT"
