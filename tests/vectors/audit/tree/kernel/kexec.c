// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Synthetic kexec_load: a buffer syscall that only load_data can deny (kexec rule and
// load-data rule).  neg_kexec_loader is a different name and must not match.
static int kexec_load_check(unsigned long nr_segments, unsigned long flags)
{
	return security_kernel_load_data(LOADING_KEXEC_IMAGE, false);
}

SYSCALL_DEFINE4(kexec_load, unsigned long, entry, unsigned long, nr_segments,
		struct kexec_segment __user *, segments, unsigned long, flags)
{
	int result = kexec_load_check(nr_segments, flags);

	if (result)
		return result;
	return do_kexec_load(entry, nr_segments, segments, flags);
}

int neg_kexec_loader(void)
{
	return 0;
}
