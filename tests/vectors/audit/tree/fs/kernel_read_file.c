// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Synthetic kernel_read_file(): the API carries the hooks; its wrappers pass 'id' through
// and must NOT be reported as consumers (negative for kernel-read-file).
ssize_t kernel_read_file(struct file *file, loff_t offset, void **buf, size_t buf_size,
			 size_t *file_size, enum kernel_read_file_id id)
{
	int ret = security_kernel_read_file(file, id, true);

	if (ret)
		return ret;
	ret = do_read(file, buf, buf_size);
	return security_kernel_post_read_file(file, *buf, ret, id);
}

ssize_t kernel_read_file_from_fd(int fd, loff_t offset, void **buf, size_t buf_size,
				 size_t *file_size, enum kernel_read_file_id id)
{
	struct fd f = fdget(fd);

	return kernel_read_file(f.file, offset, buf, buf_size, file_size, id);
}
