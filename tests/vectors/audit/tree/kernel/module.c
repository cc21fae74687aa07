// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Synthetic module loading: finit_module reads an fd (kernel-read-file: measured),
// init_module copies a buffer behind load_data (load-data: deny-only).
SYSCALL_DEFINE3(finit_module, int, fd, const char __user *, uargs, int, flags)
{
	void *buf = NULL;
	int len;

	len = kernel_read_file_from_fd(fd, 0, &buf, INT_MAX, NULL, READING_MODULE);
	if (len < 0)
		return len;
	return load_module(buf, len, uargs, flags);
}

static int copy_module_from_user(const void __user *umod, unsigned long len, struct load_info *info)
{
	int err = security_kernel_load_data(LOADING_MODULE, true);

	if (err)
		return err;
	if (copy_from_user(info->hdr, umod, len))
		return -EFAULT;
	return security_kernel_post_load_data((char *)info->hdr, len, LOADING_MODULE, "init_module");
}

SYSCALL_DEFINE3(init_module, void __user *, umod, unsigned long, len, const char __user *, uargs)
{
	struct load_info info = { };

	return copy_module_from_user(umod, len, &info);
}

/* negative: only the id's name, no read */
const char *neg_id_name(enum kernel_read_file_id id)
{
	return kernel_read_file_id_str(id);
}
