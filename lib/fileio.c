// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * File helpers: bounded whole-file reads and crash-safe writes (temp file, fsync, rename).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* read_fd_all() and pread_fd_all(): @positional reads a regular file with pread from 0 */
static int fd_read_all(vouch_ctx *ctx, int fd, const char *name, size_t max, bool positional,
		       uint8_t **ret_buf, size_t *ret_len)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return ctx_err(ctx, -errno, "cannot stat '%s': %m", name);
	if (positional && !S_ISREG(st.st_mode))
		return ctx_err(ctx, -EINVAL, "'%s' is not a regular file", name);
	if (S_ISDIR(st.st_mode))
		return ctx_err(ctx, -EISDIR, "'%s' is a directory", name);
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max)
			return ctx_err(ctx, -EFBIG, "'%s' is too large (%llu bytes, limit %zu)",
				       name, (unsigned long long)st.st_size, max);
		cap = (size_t)st.st_size + 1;
	}
	if (cap < 4096)
		cap = 4096;
	buf = mem_alloc(cap);
	if (!buf)
		return ctx_err(ctx, -ENOMEM, "out of memory reading '%s'", name);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			uint8_t *nb;

			if (cap >= max + 1)
				return ctx_err(ctx, -EFBIG, "'%s' is too large (limit %zu)", name,
					       max);
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			nb = mem_realloc(buf, cap);
			if (!nb)
				return ctx_err(ctx, -ENOMEM, "out of memory reading '%s'", name);
			buf = nb;
		}
		n = positional ? pread(fd, buf + len, cap - len, (off_t)len) :
				 read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ctx_err(ctx, -errno, "cannot read '%s': %m", name);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		return ctx_err(ctx, -EFBIG, "'%s' is too large (limit %zu)", name, max);
	*ret_buf = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int read_fd_all(vouch_ctx *ctx, int fd, const char *name, size_t max, uint8_t **ret_buf,
		size_t *ret_len)
{
	return fd_read_all(ctx, fd, name, max, false, ret_buf, ret_len);
}

int pread_fd_all(vouch_ctx *ctx, int fd, const char *name, size_t max, uint8_t **ret_buf,
		 size_t *ret_len)
{
	return fd_read_all(ctx, fd, name, max, true, ret_buf, ret_len);
}

int read_file_all(vouch_ctx *ctx, const char *path, size_t max, uint8_t **ret_buf,
		  size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return ctx_err(ctx, -errno, "cannot open '%s': %m", path);
	return read_fd_all(ctx, fd, path, max, ret_buf, ret_len);
}

int write_file_atomic_iov(vouch_ctx *ctx, const char *path, const struct iovec *iov, size_t n,
			  unsigned mode)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	size_t plen = strlen(path);
	int r;

	tmp = mem_alloc(plen + 16);
	if (!tmp)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".vouch-XXXXXX", 14);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return ctx_err(ctx, -errno, "cannot create a temporary file beside '%s': %m",
			       path);
	for (size_t i = 0; i < n; i++) {
		r = write_all(fd, iov[i].iov_base, iov[i].iov_len);
		if (r < 0) {
			unlink(tmp);
			errno = -r;
			return ctx_err(ctx, r, "cannot write '%s': %m", tmp);
		}
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		r = -errno;
		unlink(tmp);
		errno = -r;
		return ctx_err(ctx, r, "cannot write '%s': %m", tmp);
	}
	if (close(TAKE_FD(fd)) < 0) {
		r = -errno;
		unlink(tmp);
		errno = -r;
		return ctx_err(ctx, r, "cannot write '%s': %m", tmp);
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		errno = -r;
		return ctx_err(ctx, r, "cannot rename over '%s': %m", path);
	}
	return 0;
}

int write_file_atomic(vouch_ctx *ctx, const char *path, const void *buf, size_t len,
		      unsigned mode)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return write_file_atomic_iov(ctx, path, &iov, 1, mode);
}
