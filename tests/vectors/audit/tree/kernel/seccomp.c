// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Synthetic seccomp: a user sock_fprog becomes a classic BPF program, no integrity hook.
static struct seccomp_filter *seccomp_prepare_filter(struct sock_fprog *fprog)
{
	struct seccomp_filter *sfilter = kzalloc(sizeof(*sfilter), GFP_KERNEL);
	int ret = bpf_prog_create_from_user(&sfilter->prog, fprog, seccomp_check_filter, false);

	return ret < 0 ? ERR_PTR(ret) : sfilter;
}

static long do_seccomp(unsigned int op, unsigned int flags, void __user *uargs)
{
	struct sock_fprog fprog;

	if (copy_from_user(&fprog, uargs, sizeof(fprog)))
		return -EFAULT;
	return PTR_ERR_OR_ZERO(seccomp_prepare_filter(&fprog));
}

SYSCALL_DEFINE3(seccomp, unsigned int, op, unsigned int, flags, void __user *, uargs)
{
	return do_seccomp(op, flags, uargs);
}

/* negative: the kernel-side filter constructor takes no user pointer */
int neg_kernel_filter(struct sock_fprog_kern *fprog)
{
	return bpf_prog_create(&global_prog, fprog);
}
