// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
//
// vouch-rule: kernel-read-file
// vouch-summary: callers of kernel_read_file*() and the enum kernel_read_file_id they pass
// vouch-tokens: kernel_read_file
//
// Every caller hands the kernel a file (or an fd / a path to one); kernel_read_file()
// calls security_kernel_read_file() and security_kernel_post_read_file(), so IMA can
// measure and appraise the contents (FORMATS.md section 9).  The wrappers themselves
// (kernel_read_file_from_fd/_path/_path_initns pass their own 'id' through) are the API,
// not consumers.

@consumer@
identifier fn;
expression id;
position p;
identifier krf = {kernel_read_file, kernel_read_file_from_path,
                  kernel_read_file_from_path_initns, kernel_read_file_from_fd};
@@
fn(...) { <+... krf@p(..., id) ...+> }

@script:python@
fn << consumer.fn;
p << consumer.p;
id << consumer.id;
krf << consumer.krf;
@@
takes = {"kernel_read_file_from_fd": "fd", "kernel_read_file": "file"}.get(krf, "path")
if not fn.startswith("kernel_read_file"):
    vouch_emit("consumer", p, fn=fn, call=krf, id=id, takes=takes)
