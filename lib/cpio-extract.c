// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Safe extraction of cpio archives: every path is walked one component at a time below the
 * target directory with O_NOFOLLOW, names with ".." or a leading "/" are refused, and an
 * existing entry is unlinked (never opened) before it is replaced, so nothing is written
 * through a symlink or outside the target.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cpio-internal.h"
#include "internal.h"

struct link_rec {
	uint32_t devmajor, devminor, ino, type;
	char *name;
	dev_t dev; /* the regular file this extraction wrote: links go to it or nowhere */
	ino_t inode;
};

struct dir_rec {
	char *name;
	uint32_t mode, uid, gid;
	int64_t mtime;
};

struct extract {
	vouch_ctx *ctx;
	int dirfd;
	uint32_t flags;
	struct link_rec *links;
	size_t n_links, cap_links;
	unsigned archive_no;
	struct dir_rec *dirs;
	size_t n_dirs, cap_dirs;
	uint8_t *buf;
	const char *const *xattrs; /* to restore; NULL: security.ima, security.evm */
	size_t n_xattrs;
	/* the object the previous member created: a METADATA!!! member applies to it only */
	bool have_last;
	dev_t last_dev;
	ino_t last_ino;
};

static const char *const default_xattrs[] = { "security.ima", "security.evm" };

/* Is @name to be restored?  Entries ending in "." are namespaces. */
static bool xattr_wanted(const struct extract *ex, const char *name)
{
	const char *const *l = ex->xattrs ? ex->xattrs : default_xattrs;
	size_t n = ex->xattrs ? ex->n_xattrs : ARRAY_SIZE(default_xattrs);

	if (ex->flags & VOUCH_CPIO_EXTRACT_ALL_XATTRS)
		return true;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(l[i]);

		if (len && l[i][len - 1] == '.' ? !strncmp(name, l[i], len) : !strcmp(name, l[i]))
			return true;
	}
	return false;
}

/*
 * Split @name into components and check it: no leading "/", no "..".  "." and empty
 * components are dropped.  Returns the number of components written to @comp (pointers
 * into @copy), 0 for the root itself.
 */
static int split_name(vouch_ctx *ctx, const char *name, char *copy, size_t size, char **comp,
		      size_t max)
{
	size_t n = 0;
	char *p, *save = NULL;

	if (name[0] == '/')
		return ctx_err(ctx, -EPERM, "member '%s': absolute name, refusing", name);
	if (strlen(name) >= size)
		return ctx_err(ctx, -EPERM, "member '%s': name too long", name);
	memcpy(copy, name, strlen(name) + 1);
	for (p = strtok_r(copy, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (!strcmp(p, "."))
			continue;
		if (!strcmp(p, ".."))
			return ctx_err(ctx, -EPERM, "member '%s': '..' in the name, refusing", name);
		if (n == max)
			return ctx_err(ctx, -EPERM, "member '%s': too deep", name);
		comp[n++] = p;
	}
	return (int)n;
}

/*
 * Open the parent directory of @name below ex->dirfd, creating missing directories 0755,
 * never following a symlink.  Returns the fd and points *ret_leaf at the last component.
 */
static int walk_parent(struct extract *ex, const char *name, bool create, char *copy,
		       size_t size, const char **ret_leaf)
{
	char *comp[VOUCH_CPIO_NAME_MAX / 2];
	int n = split_name(ex->ctx, name, copy, size, comp, ARRAY_SIZE(comp));
	int fd;

	if (n <= 0)
		return n < 0 ? n : -ENOENT;
	fd = fcntl(ex->dirfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return ctx_err(ex->ctx, -errno, "cannot duplicate the target directory: %m");
	for (int i = 0; i < n - 1; i++) {
		int nfd = openat(fd, comp[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp[i], 0755) < 0 && errno != EEXIST) {
				int e = -errno;

				close(fd);
				return ctx_err(ex->ctx, e, "member '%s': cannot create directory '%s': %s",
					       name, comp[i], strerror(-e));
			}
			nfd = openat(fd, comp[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0) {
			int e = errno;
			struct stat st;

			if ((e == ELOOP || e == ENOTDIR) &&
			    fstatat(fd, comp[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
				close(fd);
				return ctx_err(ex->ctx, -EPERM,
					       "member '%s': '%s' is a symlink, refusing to write through it",
					       name, comp[i]);
			}
			close(fd);
			return ctx_err(ex->ctx, -e, "member '%s': cannot open directory '%s': %s", name,
				       comp[i], strerror(e));
		}
		close(fd);
		fd = nfd;
	}
	*ret_leaf = comp[n - 1];
	return fd;
}

/* Remove whatever is at @leaf unless it is a directory we may keep. */
static int clear_leaf(struct extract *ex, int pfd, const char *leaf, const char *name,
		      bool keep_dir)
{
	struct stat st;

	if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ctx_err(ex->ctx, -errno, "member '%s': cannot stat: %m", name);
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 1;
		if (unlinkat(pfd, leaf, AT_REMOVEDIR) < 0)
			return ctx_err(ex->ctx, -errno, "member '%s': cannot replace directory: %m", name);
		return 0;
	}
	if (unlinkat(pfd, leaf, 0) < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot replace existing file: %m", name);
	return 0;
}

/* Set xattrs on @leaf in @pfd without following it (through /proc/self/fd). */
static int set_xattrs_at(struct extract *ex, int pfd, const char *leaf, int fd, const char *name,
			 const struct vouch_cpio_xattr *x, size_t n)
{
	char path[64 + VOUCH_CPIO_NAME_MAX];

	if (ex->flags & VOUCH_CPIO_EXTRACT_NO_XATTRS)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", pfd, leaf);
	for (size_t i = 0; i < n; i++) {
		int k;

		/* an archive is not trusted to grant capabilities: only what was asked for */
		if (!xattr_wanted(ex, x[i].name))
			continue;
		k = fd >= 0 ? fsetxattr(fd, x[i].name, x[i].value, x[i].value_len, 0) :
				  lsetxattr(path, x[i].name, x[i].value, x[i].value_len, 0);

		if (k < 0)
			return ctx_err(ex->ctx, -errno, "member '%s': cannot set xattr '%s': %m", name,
				       x[i].name);
	}
	return 0;
}

static struct link_rec *link_find(struct extract *ex, const struct vouch_cpio_entry *e)
{
	for (size_t i = 0; i < ex->n_links; i++) {
		struct link_rec *l = &ex->links[i];

		if (l->ino == e->ino && l->devmajor == e->devmajor && l->devminor == e->devminor &&
		    l->type == (e->mode & S_IFMT))
			return l;
	}
	return NULL;
}

static int link_add(struct extract *ex, const struct vouch_cpio_entry *e, const struct stat *st)
{
	if (mem_grow(&ex->links, &ex->cap_links, ex->n_links + 1, sizeof(*ex->links), 16) < 0)
		return -ENOMEM;
	ex->links[ex->n_links] = (struct link_rec){ e->devmajor, e->devminor, e->ino,
						    e->mode & S_IFMT, mem_strdup(e->name),
						    st->st_dev, st->st_ino };
	if (!ex->links[ex->n_links].name)
		return -ENOMEM;
	ex->n_links++;
	return 0;
}

static void links_clear(struct extract *ex)
{
	for (size_t i = 0; i < ex->n_links; i++)
		free(ex->links[i].name);
	ex->n_links = 0;
}

static int copy_data(struct extract *ex, vouch_cpio_reader *r, int fd, const char *name)
{
	for (;;) {
		size_t got;
		int k = vouch_cpio_reader_read(r, ex->buf, 1 << 20, &got);

		if (k < 0)
			return k;
		if (!got)
			return 0;
		if (write_all(fd, ex->buf, got) < 0)
			return ctx_err(ex->ctx, -errno, "member '%s': cannot write: %m", name);
	}
}

static int extract_file(struct extract *ex, vouch_cpio_reader *r, const struct vouch_cpio_entry *e,
			int pfd, const char *leaf)
{
	_cleanup_close_ int fd = -1;
	struct link_rec *l = e->nlink >= 2 ? link_find(ex, e) : NULL;
	struct timespec ts[2] = { { e->mtime, 0 }, { e->mtime, 0 } };
	int k = clear_leaf(ex, pfd, leaf, e->name, false);

	if (k < 0)
		return k;
	if (l) {
		char copy[VOUCH_CPIO_NAME_MAX + 1];
		const char *oleaf;
		_cleanup_close_ int opfd = walk_parent(ex, l->name, false, copy, sizeof(copy), &oleaf);
		struct stat st;

		if (opfd < 0)
			return opfd;
		/*
		 * The first link may have been replaced by a later member (a FIFO, whose open
		 * for writing would block forever; a device; a symlink): link only to the
		 * regular file this extraction wrote.
		 */
		if (fstatat(opfd, oleaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_dev != l->dev || st.st_ino != l->inode)
			return ctx_err(ex->ctx, -EPERM,
				       "member '%s': hard link target '%s' is no longer the file extracted "
				       "under that name, refusing", e->name, l->name);
		/* flags 0: a symlink that replaced the first link is linked, never followed */
		if (linkat(opfd, oleaf, pfd, leaf, 0) < 0)
			return ctx_err(ex->ctx, -errno, "member '%s': cannot link to '%s': %m", e->name,
				       l->name);
		fd = openat(pfd, leaf, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != l->dev ||
				st.st_ino != l->inode))
			return ctx_err(ex->ctx, -EPERM,
				       "member '%s': hard link to '%s' is not the file extracted, refusing",
				       e->name, l->name);
		if (fd >= 0 && e->size && ftruncate(fd, 0) < 0)
			return ctx_err(ex->ctx, -errno, "member '%s': cannot truncate: %m", e->name);
	} else {
		struct stat st;

		fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 && e->nlink >= 2) {
			if (fstat(fd, &st) < 0)
				return ctx_err(ex->ctx, -errno, "member '%s': cannot stat: %m", e->name);
			k = link_add(ex, e, &st);
			if (k < 0)
				return k;
		}
	}
	if (fd < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot create: %m", e->name);
	k = copy_data(ex, r, fd, e->name);
	if (k < 0)
		return k;
	if ((ex->flags & VOUCH_CPIO_EXTRACT_OWNERS) && fchown(fd, e->uid, e->gid) < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot chown: %m", e->name);
	k = set_xattrs_at(ex, pfd, leaf, fd, e->name, e->xattrs, e->n_xattrs);
	if (k < 0)
		return k;
	if (fchmod(fd, e->mode & 07777) < 0 || futimens(fd, ts) < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot set mode or time: %m", e->name);
	return 0;
}

/* Owner (with VOUCH_CPIO_EXTRACT_OWNERS) and xattrs of a member created at @pfd/@leaf. */
static int own_and_xattrs_at(struct extract *ex, int pfd, const char *leaf,
			     const struct vouch_cpio_entry *e)
{
	if ((ex->flags & VOUCH_CPIO_EXTRACT_OWNERS) &&
	    fchownat(pfd, leaf, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot chown: %m", e->name);
	return set_xattrs_at(ex, pfd, leaf, -1, e->name, e->xattrs, e->n_xattrs);
}

static int extract_symlink(struct extract *ex, vouch_cpio_reader *r,
			   const struct vouch_cpio_entry *e, int pfd, const char *leaf)
{
	char target[VOUCH_CPIO_NAME_MAX + 1];
	struct timespec ts[2] = { { e->mtime, 0 }, { e->mtime, 0 } };
	size_t got, len = 0;
	int k;

	if (e->size == 0 || e->size > VOUCH_CPIO_NAME_MAX)
		return ctx_err(ex->ctx, -EBADMSG, "member '%s': symlink target size %llu out of range",
			       e->name, (unsigned long long)e->size);
	while (len < e->size) {
		k = vouch_cpio_reader_read(r, (uint8_t *)target + len, (size_t)e->size - len, &got);
		if (k < 0)
			return k;
		len += got;
	}
	target[len] = '\0';
	if (!target[0])
		return ctx_err(ex->ctx, -EBADMSG, "member '%s': empty symlink target", e->name);
	k = clear_leaf(ex, pfd, leaf, e->name, false);
	if (k < 0)
		return k;
	if (symlinkat(target, pfd, leaf) < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot create symlink: %m", e->name);
	k = own_and_xattrs_at(ex, pfd, leaf, e);
	if (k < 0)
		return k;
	if (utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot set time: %m", e->name);
	return 0;
}

static int extract_dir(struct extract *ex, const struct vouch_cpio_entry *e, int pfd,
		       const char *leaf)
{
	struct dir_rec *d;
	int k = clear_leaf(ex, pfd, leaf, e->name, true);

	if (k < 0)
		return k;
	if (k == 0 && mkdirat(pfd, leaf, 0700) < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot create directory: %m", e->name);
	k = set_xattrs_at(ex, pfd, leaf, -1, e->name, e->xattrs, e->n_xattrs);
	if (k < 0)
		return k;
	/* mode, owner and time last, so a read-only directory can still be filled */
	if (mem_grow(&ex->dirs, &ex->cap_dirs, ex->n_dirs + 1, sizeof(*ex->dirs), 16) < 0)
		return -ENOMEM;
	d = &ex->dirs[ex->n_dirs];
	*d = (struct dir_rec){ mem_strdup(e->name), e->mode, e->uid, e->gid, e->mtime };
	if (!d->name)
		return -ENOMEM;
	ex->n_dirs++;
	return 0;
}

static int extract_node(struct extract *ex, const struct vouch_cpio_entry *e, int pfd,
			const char *leaf, const char **skipped)
{
	struct timespec ts[2] = { { e->mtime, 0 }, { e->mtime, 0 } };
	dev_t dev = 0;
	int k;

	if (S_ISBLK(e->mode) || S_ISCHR(e->mode)) {
		if (!(ex->flags & VOUCH_CPIO_EXTRACT_DEVICES)) {
			*skipped = "device node (not asked to create devices)";
			return 0;
		}
		if (geteuid() != 0) {
			*skipped = "device node (not root)";
			return 0;
		}
		dev = makedev(e->rdevmajor, e->rdevminor);
	} else if (!S_ISFIFO(e->mode) && !S_ISSOCK(e->mode)) {
		return ctx_err(ex->ctx, -EBADMSG, "member '%s': unknown file type 0%o", e->name,
			       e->mode & S_IFMT);
	}
	k = clear_leaf(ex, pfd, leaf, e->name, false);
	if (k < 0)
		return k;
	if (mknodat(pfd, leaf, (e->mode & S_IFMT) | 0600, dev) < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot create node: %m", e->name);
	k = own_and_xattrs_at(ex, pfd, leaf, e);
	if (k < 0)
		return k;
	if (fchmodat(pfd, leaf, e->mode & 07777, 0) < 0 ||
	    utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot set mode or time: %m", e->name);
	return 0;
}

static int finish_dirs(struct extract *ex)
{
	for (size_t i = ex->n_dirs; i-- > 0;) {
		struct dir_rec *d = &ex->dirs[i];
		struct timespec ts[2] = { { d->mtime, 0 }, { d->mtime, 0 } };
		char copy[VOUCH_CPIO_NAME_MAX + 1];
		const char *leaf;
		_cleanup_close_ int pfd = walk_parent(ex, d->name, false, copy, sizeof(copy), &leaf);
		_cleanup_close_ int fd = -1;

		if (pfd < 0)
			return pfd;
		fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) /* replaced by a later member: nothing to apply */
			continue;
		if ((ex->flags & VOUCH_CPIO_EXTRACT_OWNERS) && fchown(fd, d->uid, d->gid) < 0)
			return ctx_err(ex->ctx, -errno, "member '%s': cannot chown: %m", d->name);
		if (fchmod(fd, d->mode & 07777) < 0 || futimens(fd, ts) < 0)
			return ctx_err(ex->ctx, -errno, "member '%s': cannot set mode or time: %m",
				       d->name);
	}
	return 0;
}

static int extract_one(struct extract *ex, vouch_cpio_reader *r, const struct vouch_cpio_entry *e,
		       const char **skipped)
{
	char copy[VOUCH_CPIO_NAME_MAX + 1];
	const char *leaf, *name = e->metadata ? e->metadata_for : e->name;
	_cleanup_close_ int pfd = -1;
	struct stat st;
	int k;

	if (!e->metadata)
		ex->have_last = false;
	if (e->metadata && !name)
		return ctx_err(ex->ctx, -EBADMSG, "METADATA!!! member with no object before it");
	pfd = walk_parent(ex, name, !e->metadata, copy, sizeof(copy), &leaf);
	if (pfd == -ENOENT) { /* the root itself ("." or "./") */
		*skipped = "the target directory itself";
		return 0;
	}
	if (pfd < 0)
		return pfd;
	if (e->metadata) {
		_cleanup_close_ int fd = -1;

		/*
		 * Only for the object this extraction created a moment ago: not for a member
		 * that was skipped (a device node without --devices), whatever is at that path.
		 */
		if (!ex->have_last) {
			*skipped = "METADATA!!! of a member that was not extracted";
			return 0;
		}
		/* set on the link itself, never through it */
		if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return ctx_err(ex->ctx, -errno, "METADATA!!! for '%s': %m", name);
		if (st.st_dev != ex->last_dev || st.st_ino != ex->last_ino)
			return ctx_err(ex->ctx, -EPERM,
				       "METADATA!!! for '%s': not the object just extracted, refusing", name);
		if (S_ISREG(st.st_mode)) {
			fd = openat(pfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return ctx_err(ex->ctx, -errno, "METADATA!!! for '%s': %m", name);
		}
		return set_xattrs_at(ex, pfd, leaf, fd, name, e->xattrs, e->n_xattrs);
	}
	switch (e->mode & S_IFMT) {
	case S_IFREG:
		k = extract_file(ex, r, e, pfd, leaf);
		break;
	case S_IFLNK:
		k = extract_symlink(ex, r, e, pfd, leaf);
		break;
	case S_IFDIR:
		k = extract_dir(ex, e, pfd, leaf);
		break;
	default:
		k = extract_node(ex, e, pfd, leaf, skipped);
		break;
	}
	if (k < 0 || *skipped)
		return k;
	/* remember what was created, for a METADATA!!! member that follows */
	if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ctx_err(ex->ctx, -errno, "member '%s': cannot stat: %m", e->name);
	ex->have_last = true;
	ex->last_dev = st.st_dev;
	ex->last_ino = st.st_ino;
	return 0;
}

VOUCH_EXPORT int vouch_cpio_extract(vouch_cpio_reader *r, int dirfd, uint32_t flags,
				    vouch_cpio_extract_fn fn, void *userdata)
{
	struct vouch_cpio_extract_options o = VOUCH_CPIO_EXTRACT_OPTIONS_INIT;

	o.flags = flags;
	return vouch_cpio_extract_opts(r, dirfd, &o, fn, userdata);
}

VOUCH_EXPORT int vouch_cpio_extract_opts(vouch_cpio_reader *r, int dirfd,
					 const struct vouch_cpio_extract_options *opts,
					 vouch_cpio_extract_fn fn, void *userdata)
{
	struct extract ex = { .dirfd = dirfd };
	struct vouch_cpio_entry e;
	int k;

	if (!r || dirfd < 0 || !opts || opts->version != 1 || (opts->flags & ~15U) ||
	    (opts->n_xattrs && !opts->xattrs) || !mem_is_zero(opts->reserved, sizeof(opts->reserved)))
		return -EINVAL;
	ex.flags = opts->flags;
	ex.xattrs = opts->xattrs;
	ex.n_xattrs = opts->n_xattrs;
	ex.ctx = cpio_reader_ctx(r);
	ex.buf = mem_alloc(1 << 20);
	if (!ex.buf)
		return -ENOMEM;
	while ((k = vouch_cpio_reader_next(r, &e)) > 0) {
		const char *skipped = NULL;

		if (cpio_reader_archive_no(r) != ex.archive_no) {
			links_clear(&ex);
			ex.have_last = false;
			ex.archive_no = cpio_reader_archive_no(r);
		}
		k = extract_one(&ex, r, &e, &skipped);
		if (k < 0)
			break;
		if (fn)
			fn(userdata, &e, skipped);
	}
	if (k == 0)
		k = finish_dirs(&ex);
	links_clear(&ex);
	free(ex.links);
	for (size_t i = 0; i < ex.n_dirs; i++)
		free(ex.dirs[i].name);
	free(ex.dirs);
	free(ex.buf);
	return k;
}
