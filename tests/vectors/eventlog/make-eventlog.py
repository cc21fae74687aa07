#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Write a synthetic TCG2 crypto-agile event log (sha1 + sha256 banks, PCR 0-9 events; with
# --locality a StartupLocality 3 event first) to argv[1].  The expected PCRs come from tpm2_eventlog (see README).
import hashlib, struct, sys

ALGS = [(0x0004, hashlib.sha1), (0x000b, hashlib.sha256)]

def header():
    spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, len(ALGS))
    for alg, h in ALGS:
        spec += struct.pack("<HH", alg, h().digest_size)
    spec += b"\0"
    return struct.pack("<II", 0, 3) + b"\0" * 20 + struct.pack("<I", len(spec)) + spec

def event(pcr, typ, data, digest_of=None, zero=False):
    out = struct.pack("<III", pcr, typ, len(ALGS))
    for alg, h in ALGS:
        d = b"\0" * h().digest_size if zero else h(data if digest_of is None else digest_of).digest()
        out += struct.pack("<H", alg) + d
    return out + struct.pack("<I", len(data)) + data

log = header()
if len(sys.argv) > 2 and sys.argv[2] == "--locality":
    log += event(0, 0x3, b"StartupLocality\0\x03", zero=True)
log += event(0, 0x8, "vouch test firmware 1.0".encode("utf-16-le") + b"\0\0")
log += event(0, 0x80000008, b"\x00" * 16, digest_of=b"firmware volume bytes")
log += event(1, 0x8000000b, b"handoff", digest_of=b"acpi tables")
name = "SecureBoot".encode("utf-16-le")
var = b"\x61\xdf\xe4\x8b\xca\x93\xd2\x11\xaa\x0d\x00\xe0\x98\x03\x2b\x8c"
var += struct.pack("<QQ", 10, 1) + name + b"\x01"
log += event(7, 0x80000001, var)
for pcr in range(0, 8):
    log += event(pcr, 0x4, b"\0\0\0\0")
log += event(4, 0x80000003, b"\0" * 32, digest_of=b"shimx64.efi image")
log += event(4, 0x80000003, b"\0" * 32, digest_of=b"grubx64.efi image")
# a type the digest does not cover: its data claims something else, only the digest counts
log += event(5, 0x80000007, b"Exit Boot Services Invocation")
log += event(8, 0xd, b"grub_cmd: linux /vmlinuz root=/dev/sda1\0")
log += event(9, 0xd, b"/boot/vmlinuz-6.1.0\0", digest_of=b"kernel image bytes")
log += event(9, 0x6, struct.pack("<II", 0x8F3B22EC, 13) + b"Linux initrd\0",
             digest_of=b"initrd bytes")
log += event(14, 0xd, b"MokList", digest_of=b"moklist")
open(sys.argv[1], "wb").write(log)
