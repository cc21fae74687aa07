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
#include <sys/xattr.h>
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

int load_file_parsed(vouch_ctx *ctx, const char *path, size_t max, const char *what,
		     int (*parse)(vouch_ctx *ctx, const char *text, size_t len, void *ret),
		     void *ret)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	r = read_file_all(ctx, path, max, &buf, &len);
	if (r < 0)
		return r;
	r = parse(ctx, (const char *)buf, len, ret);
	if (r == -EBADMSG) {
		/* the reason lives in the buffer ctx_err() writes: copy it first */
		char why[VOUCH_ERRMSG_SIZE];

		snprintf(why, sizeof(why), "%s", vouch_ctx_last_error(ctx));
		return ctx_err(ctx, r, "'%s' is not a valid %s: %s", path, what, why);
	}
	return r;
}

/*
 * A temporary file beside @path ("PATH.vouch-XXXXXX", its name in *@ret_tmp) holding the
 * @n pieces of @iov: its fd, or a negative errno with a message (no file is left).
 */
static int temp_beside(vouch_ctx *ctx, const char *path, const struct iovec *iov, size_t n,
		       char **ret_tmp)
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
	*ret_tmp = TAKE_PTR(tmp);
	return TAKE_FD(fd);
}

int write_file_atomic_iov(vouch_ctx *ctx, const char *path, const struct iovec *iov, size_t n,
			  unsigned mode)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	fd = temp_beside(ctx, path, iov, n, &tmp);
	if (fd < 0)
		return fd;
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

int open_stat(vouch_ctx *ctx, const char *path, struct stat *ret_st)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return ctx_err(ctx, -errno, "cannot open '%s': %m", path);
	if (fstat(fd, ret_st) < 0)
		return ctx_err(ctx, -errno, "cannot stat '%s': %m", path);
	return TAKE_FD(fd);
}

int write_file_atomic(vouch_ctx *ctx, const char *path, const void *buf, size_t len,
		      unsigned mode)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return write_file_atomic_iov(ctx, path, &iov, 1, mode);
}

int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The names of @fd's xattrs (NUL-separated) in *ret, or none when the fs has none. */
static int list_xattrs(vouch_ctx *ctx, int fd, const char *name, char **ret, size_t *ret_len)
{
	for (;;) {
		ssize_t n = flistxattr(fd, NULL, 0), m;
		char *buf;

		if (n < 0 && (errno == ENOTSUP || errno == ENOSYS)) {
			*ret = NULL;
			*ret_len = 0;
			return 0;
		}
		if (n < 0)
			return ctx_err(ctx, -errno, "cannot list the xattrs of '%s': %m", name);
		buf = mem_alloc((size_t)n + 1);
		if (!buf)
			return ctx_err(ctx, -ENOMEM, "out of memory");
		m = n ? flistxattr(fd, buf, (size_t)n) : 0;
		if (m < 0 && errno == ERANGE) { /* grew meanwhile */
			free(buf);
			continue;
		}
		if (m < 0) {
			free(buf);
			return ctx_err(ctx, -errno, "cannot list the xattrs of '%s': %m", name);
		}
		*ret = buf;
		*ret_len = (size_t)m;
		return 0;
	}
}

static bool name_in(const char *list, size_t len, const char *name)
{
	for (size_t i = 0; i < len; i += strlen(list + i) + 1)
		if (!strcmp(list + i, name))
			return true;
	return false;
}

/* Give @dst exactly @src's xattrs; every one that cannot be copied is an error. */
static int copy_xattrs(vouch_ctx *ctx, int src, int dst, const char *name)
{
	_cleanup_free_ char *names = NULL, *dnames = NULL;
	size_t len, dlen;
	int r;

	r = list_xattrs(ctx, src, name, &names, &len);
	if (r < 0)
		return r;
	/* what the new file got on creation (a default ACL, ...) and the original lacks */
	if (list_xattrs(ctx, dst, name, &dnames, &dlen) == 0)
		for (size_t i = 0; i < dlen; i += strlen(dnames + i) + 1)
			if (!name_in(names, len, dnames + i))
				(void)fremovexattr(dst, dnames + i);
	vouch_ctx_clear_error(ctx);
	for (size_t i = 0; i < len; i += strlen(names + i) + 1) {
		const char *x = names + i;
		_cleanup_free_ uint8_t *val = NULL;
		ssize_t n = fgetxattr(src, x, NULL, 0), m;

		if (n < 0)
			return ctx_err(ctx, -errno, "cannot read xattr %s of '%s': %m", x, name);
		val = mem_alloc((size_t)n + 1);
		if (!val)
			return ctx_err(ctx, -ENOMEM, "out of memory");
		m = fgetxattr(src, x, val, (size_t)n);
		if (m < 0)
			return ctx_err(ctx, -errno, "cannot read xattr %s of '%s': %m", x, name);
		if (fsetxattr(dst, x, val, (size_t)m, 0) < 0)
			return ctx_err(ctx, -errno,
				       "cannot keep xattr %s of '%s' (%m): refusing to write it in "
				       "place",
				       x, name);
	}
	return 0;
}

int write_file_inplace_iov(vouch_ctx *ctx, const char *path, const struct iovec *iov, size_t n)
{
	_cleanup_free_ char *real = NULL, *tmp = NULL;
	_cleanup_close_ int src = -1, fd = -1;
	struct stat st, now;
	int r;

	/* a symlink is followed: the real file gets the content, the link stays a link */
	real = realpath(path, NULL);
	if (!real)
		return ctx_err(ctx, -errno, "cannot resolve '%s': %m", path);
	src = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (src < 0)
		return ctx_err(ctx, -errno, "cannot open '%s': %m", real);
	if (fstat(src, &st) < 0)
		return ctx_err(ctx, -errno, "cannot stat '%s': %m", real);
	if (!S_ISREG(st.st_mode))
		return ctx_err(ctx, -EINVAL, "'%s' is not a regular file", path);
	if (st.st_nlink > 1)
		return ctx_err(ctx, -EMLINK,
			       "'%s' has %ju hard links: in place would change only this name; "
			       "refusing (write a copy with -o)",
			       path, (uintmax_t)st.st_nlink);
	fd = temp_beside(ctx, real, iov, n, &tmp);
	if (fd < 0)
		return fd;
	/* owner first (chown clears set-id bits), then the xattrs, then the mode */
	if (fchown(fd, st.st_uid, st.st_gid) < 0) {
		r = ctx_err(ctx, -errno,
			    "cannot keep the owner %ju:%ju of '%s' (%m): refusing to write it in place",
			    (uintmax_t)st.st_uid, (uintmax_t)st.st_gid, path);
		goto fail;
	}
	r = copy_xattrs(ctx, src, fd, path);
	if (r < 0)
		goto fail;
	if (fchmod(fd, st.st_mode & 07777) < 0 || fsync(fd) < 0) {
		r = ctx_err(ctx, -errno, "cannot write '%s': %m", tmp);
		goto fail;
	}
	if (close(TAKE_FD(fd)) < 0) {
		r = ctx_err(ctx, -errno, "cannot write '%s': %m", tmp);
		goto fail;
	}
	/* the file read is the file replaced: not swapped or linked meanwhile */
	if (lstat(real, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino ||
	    now.st_nlink > 1) {
		r = ctx_err(ctx, -EAGAIN, "'%s' changed while it was being written; left as it is",
			    path);
		goto fail;
	}
	if (rename(tmp, real) < 0) {
		r = ctx_err(ctx, -errno, "cannot rename over '%s': %m", real);
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	return r;
}
