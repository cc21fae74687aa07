// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
//
// vouch-rule: bpf-prog-load
// vouch-summary: bpf(BPF_PROG_LOAD): callers of bpf_prog_load()
// vouch-tokens: bpf_prog_load
// vouch-scope: kernel/
//
// The program is a buffer of instructions in union bpf_attr; only the security_bpf*()
// LSM hooks see it, IMA has no hook for it (FORMATS.md section 9).

@consumer@
identifier fn;
expression A, U;
position p;
@@
fn(...) { <+... bpf_prog_load@p(A, U) ...+> }

@script:python@
fn << consumer.fn;
p << consumer.p;
@@
vouch_emit("consumer", p, fn=fn, callee="bpf_prog_load", id="BPF_PROG_LOAD", takes="buffer")
