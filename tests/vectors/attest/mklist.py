#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# mklist.py OUT ENTRY...: a little-endian binary IMA list, one ENTRY per record:
#   PCR:TEMPLATE:NAME:CONTENT[:SIGFILE]
# TEMPLATE is written as given (ima-sig or ima-buf); the fields are always d-ng|n-ng|sig
# with the file digest sha256(CONTENT) (CONTENT "@zero320" = 320 zero bytes, the
# boot_aggregate over all-zero PCRs 0-9) and SIGFILE's bytes as the third field (empty when
# absent).  The template name is not part of the template data, so relabelling an entry
# keeps its digests.  Prints "PCR sha256:HEX" per entry: what the kernel extends.
import hashlib, struct, sys

out, recs = sys.argv[1], b""
for spec in sys.argv[2:]:
    parts = spec.split(":")
    pcr, tmpl, name, content = int(parts[0]), parts[1], parts[2], parts[3]
    sig = open(parts[4], "rb").read() if len(parts) > 4 and parts[4] else b""
    body = b"\0" * 320 if content == "@zero320" else content.encode()
    d = b"sha256:\0" + hashlib.sha256(body).digest()
    n = name.encode() + b"\0"
    data = b"".join(struct.pack("<I", len(f)) + f for f in (d, n, sig))
    recs += struct.pack("<I", pcr) + hashlib.sha1(data).digest() + \
        struct.pack("<I", len(tmpl)) + tmpl.encode() + struct.pack("<I", len(data)) + data
    print(pcr, "sha256:" + hashlib.sha256(data).hexdigest())
open(out, "wb").write(recs)
