// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
//
// vouch-rule: kexec
// vouch-summary: kexec_load (user segments) and kexec_file_load (kernel/initrd fds, cmdline)
// vouch-tokens: kexec_load kexec_file_load
// vouch-scope: kernel/
//
// The system calls themselves: kexec_load copies the segments from userspace (only
// security_kernel_load_data(LOADING_KEXEC_IMAGE) can deny it); kexec_file_load reads
// the kernel and initramfs through kernel_read_file_from_fd (measured and appraisable).

@consumer@
identifier fn = {kexec_load, kexec_file_load, compat_kexec_load};
position p;
@@
fn@p(...) { ... }

@script:python@
fn << consumer.fn;
p << consumer.p;
@@
takes = "fd" if fn == "kexec_file_load" else "buffer"
vouch_emit("consumer", p, fn=fn, takes=takes)
