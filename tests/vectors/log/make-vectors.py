#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
# Rebuilds the FORMATS.md §13.9-13.11 lists byte for byte from the field values printed
# there, and the must-fail twins derived from them. Run in tests/vectors/log/.
import hashlib, struct

SIG = bytes.fromhex("0302043d0b89680100" +
 "1c1da881e5df7bc17ee4c39fcacedfa6baae3e615cdb1d4f617eb4ead5e720e5e823f9c8894ab2e16da7744f609d63d0ab1d2a93e026e395bf3c83337249b1d2a0f1cb4c2fa0d5bfde5a943a95876fd31fecbc43142946c2332f2d2fa3ed1aaf478a5690021718068f5028d934b4b1eb28a4e1689eb25c173be14a3c1ec1ea6f45d18a60a0630a5142d77e8eafe82d55955af00db1f2e00e59c340adbc73e82d6925e808e63b9ebac745db9a5808c7bbd4fb122044786a11e330579b2d7b8c39baf905a037458305c967bc85afd8c009c8e519f2e188e3af0594d3e1a443197b1d8fa725d7473e41ab587ae531558d40b5cf23c3b98eb2a9a03e593e3bac0f7a")
FILE = bytes.fromhex("3f865664cafc0007c6ef91f7e6caacd1797d92f9b707100170bf3a656331b6cf")
BOOT = bytes.fromhex("7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61")

def field(b): return struct.pack("<I", len(b)) + b
def dng(d): return b"sha256:\0" + d
def rec(name, fields, violation=False):
    td = b"".join(field(f) for f in fields)
    dig = b"\0" * 20 if violation else hashlib.sha1(td).digest()
    return struct.pack("<I", 10) + dig + struct.pack("<I", len(name)) + name + struct.pack("<I", len(td)) + td

recs = [
    rec(b"ima-ng", [dng(BOOT), b"boot_aggregate\0"]),
    rec(b"ima-ng", [dng(FILE), b"/tmp/tv/file.txt\0"]),
    rec(b"ima-sig", [dng(FILE), b"/tmp/tv/file.txt\0", SIG]),
    rec(b"ima-sig", [dng(FILE), b"/tmp/tv/file_with_space.txt\0", b""]),
    rec(b"ima-ng", [dng(b"\0" * 32), b"/tmp/tv/file.txt\0"], violation=True),
]
lst = b"".join(recs)
open("s13.9.bin", "wb").write(lst)
# §13.11: the same records behind struct ima_kexec_hdr
open("s13.11.kexec", "wb").write(struct.pack("<HHIQQ", 1, 0, 0, 24 + len(lst), len(recs)) + lst)
# §13.10: legacy "ima"
sha1file = bytes.fromhex("5614f3d0790458b86052ad60bd5879bf356ffd3e")
name = b"/tmp/tv/file.txt"
dig = hashlib.sha1(sha1file + name.ljust(256, b"\0")).digest()
open("s13.10.bin", "wb").write(struct.pack("<I", 10) + dig + struct.pack("<I", 3) + b"ima" + sha1file + struct.pack("<I", len(name)) + name)

# must-fail twins
b = bytearray(lst); off = len(recs[0]) + 4 + 20 + 4 + 6 + 4 + 4 + 8 + 5   # a byte of #2's file digest
b[off] ^= 1; open("bad-flipped-digest.bin", "wb").write(b)
open("bad-truncated.bin", "wb").write(lst[:-3])
b = bytearray(lst); o = len(recs[0]) + len(recs[1]) + 4 + 20 + 4 + 7   # #3 template_data_len
struct.pack_into("<I", b, o, 0x400); open("bad-length-past-end.bin", "wb").write(b)
struct.pack_into("<I", b, o, 0x7fffff00); open("bad-length-huge.bin", "wb").write(b)
b = bytearray(lst); o = len(recs[0]) + 4 + 20 + 4 + 6 + 4                # #2 d-ng field length
struct.pack_into("<I", b, o, 0x1000); open("bad-field-length.bin", "wb").write(b)
b = bytearray(lst); b[len(recs[0]) + 4 + 20 + 4: len(recs[0]) + 4 + 20 + 4 + 6] = b"ima-xx"
open("bad-unknown-template.bin", "wb").write(b)
open("short-list.bin", "wb").write(b"".join(recs[:3]))   # shorter than the PCR state
b = bytearray(struct.pack("<HHIQQ", 1, 0, 0, 24 + len(lst), len(recs) + 1) + lst)
open("bad-kexec-count.kexec", "wb").write(b)
# all 24 PCRs (evmctl reads them in order): 0-9 zero as in §13.9, PCR 10 as printed there
def pcrs(size, pcr10):
    return "".join("PCR-%02d: %s\n" % (i, pcr10.upper() if i == 10 else "00" * size) for i in range(24))
open("pcrs-s13.9-sha1.txt", "w").write(pcrs(20, "907be86361f3eabd2a1e26cf50a37757dcb36e30"))
open("pcrs-s13.9-sha256.txt", "w").write(pcrs(32, "8996b926daa141138fecd43093a11ff156c1c5956cdc04f9b1bd22bdd96f0981"))
