// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Synthetic bpf(2): BPF_PROG_LOAD goes to bpf_prog_load(); only LSM hooks see it.
static int bpf_prog_load(union bpf_attr *attr, bpfptr_t uattr)
{
	struct bpf_prog *prog = bpf_prog_alloc(attr->insn_cnt);
	int err = security_bpf_prog_alloc(prog->aux);

	if (err)
		return err;
	return copy_from_bpfptr(prog->insns, uattr, attr->insn_cnt);
}

static int __sys_bpf(int cmd, bpfptr_t uattr, unsigned int size)
{
	union bpf_attr attr;
	int err = security_bpf(cmd, &attr, size);

	if (err < 0)
		return err;
	switch (cmd) {
	case BPF_PROG_LOAD:
		err = bpf_prog_load(&attr, uattr);
		break;
	default:
		err = -EINVAL;
		break;
	}
	return err;
}

SYSCALL_DEFINE3(bpf, int, cmd, union bpf_attr __user *, uattr, unsigned int, size)
{
	return __sys_bpf(cmd, USER_BPFPTR(uattr), size);
}

/* negative: a different function with a similar name */
int neg_bpf_loader(void)
{
	return bpf_prog_load_xdp(0);
}
