// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
//
// vouch-rule: seccomp-filter
// vouch-summary: seccomp filter installation: callers of bpf_prog_create_from_user()
// vouch-tokens: bpf_prog_create_from_user
// vouch-scope: kernel/
//
// seccomp(SECCOMP_SET_MODE_FILTER) and prctl(PR_SET_SECCOMP) turn a user struct
// sock_fprog into a classic BPF program; nothing but no_new_privs / CAP_SYS_ADMIN
// guards it.

@consumer@
identifier fn;
expression E1, E2, E3, E4;
position p;
@@
fn(...) { <+... bpf_prog_create_from_user@p(E1, E2, E3, E4) ...+> }

@script:python@
fn << consumer.fn;
p << consumer.p;
@@
vouch_emit("consumer", p, fn=fn, callee="bpf_prog_create_from_user", takes="buffer")
