// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
//
// vouch-rule: load-data
// vouch-summary: callers of security_kernel_load_data() / security_kernel_post_load_data()
// vouch-tokens: security_kernel_load_data security_kernel_post_load_data
//
// Buffers that do not come from a file: the hook sees the enum kernel_load_data_id (and,
// for post_load_data, the bytes) but IMA can only deny them (FORMATS.md section 9).

@consumer@
identifier fn;
expression id, E1, E2;
position p;
@@
fn(...) {
<+...
(
security_kernel_load_data@p(id, E1)
|
security_kernel_post_load_data@p(E1, E2, id, ...)
)
...+>
}

@script:python@
fn << consumer.fn;
p << consumer.p;
id << consumer.id;
@@
vouch_emit("consumer", p, fn=fn, id=id, takes="buffer")
