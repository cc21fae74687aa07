// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
//
// vouch audit-kernel: the context half that vouch appends to every rule in rules/.
// It reports, for every file a rule is run on, the function definitions, every call
// (caller -> callee, for the entry-point and hook searches) and every ".write =",
// ".store =" and ".unlocked_ioctl =" initializer (filesystem write handlers).  Records are tab-separated lines
// "VOUCH <kind> <file> <line> key=value...", printed through vouch_emit().
//
// Every field is percent-encoded on the way out: the bytes 0x21-0x7e other than '%' as
// they are, every other byte (of the UTF-8 form) as %XX.  A file name or an expression of
// the tree can hold tabs and newlines; encoded, it can never add a field or a record
// (vouch decodes strictly and rejects anything else).  Values are whitespace-normalized
// first (a type or an expression spanning lines, a NUL as a space); file names are kept
// exactly.

@initialize:python@
@@
import re
_vouch_plain = re.compile(r"[!-$&-~]*\Z")

def vouch_enc(s):
    s = str(s)
    if _vouch_plain.match(s):
        return s
    b = s.encode("utf-8", "surrogateescape")
    return "".join(chr(c) if 0x21 <= c <= 0x7e and c != 0x25 else "%%%02X" % c for c in b)

def vouch_emit(kind, p, **kw):
    out = "VOUCH\t%s\t%s\t%s" % (vouch_enc(kind), vouch_enc(p[0].file), vouch_enc(p[0].line))
    for k, v in kw.items():
        out += "\t%s=%s" % (vouch_enc(k), vouch_enc(" ".join(str(v).replace("\0", " ").split())))
    print(out)

@vouch_ctx_def@
identifier f;
position pf;
@@
f@pf(...) { ... }

@script:python@
f << vouch_ctx_def.f;
pf << vouch_ctx_def.pf;
@@
vouch_emit("def", pf, fn=f)

@vouch_ctx_call@
identifier g;
position pc;
@@
g@pc(...)

@script:python@
g << vouch_ctx_call.g;
pc << vouch_ctx_call.pc;
@@
vouch_emit("call", pc, fn=pc[0].current_element, callee=g)

@vouch_ctx_write@
identifier s, h, fld = {write, store, unlocked_ioctl};
position pw;
type T;
@@
T s@pw = { .fld = h, };

@script:python@
s << vouch_ctx_write.s;
h << vouch_ctx_write.h;
pw << vouch_ctx_write.pw;
T << vouch_ctx_write.T;
fld << vouch_ctx_write.fld;
@@
vouch_emit("write", pw, ops=s, fn=h, type=T, field=fld)
