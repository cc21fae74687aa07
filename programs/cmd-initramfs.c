// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch initramfs: create, list, extract and verify initramfs images that carry xattrs.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "walk.h"

/* ---------------------------------------------------------------------------------------- */
/* create                                                                                   */

struct xattr_buf {
	char *name;
	uint8_t *value;
	size_t len;
};

struct item {
	char *name;   /* archive name, no leading "/" */
	char *src;    /* regular file: where the data comes from */
	char *target; /* symlink target */
	uint32_t mode, uid, gid, nlink, rmaj, rmin;
	int64_t mtime;
	bool mtime_fixed; /* synthesized entry: takes the default mtime */
	uint64_t size;
	long group; /* hard-link group, -1 when none */
	bool carries_data;
	int root;	 /* regular file below a DIR input: index into create.roots, else -1 */
	dev_t sdev;	 /* the source as listed: reopened, it must still be this inode */
	ino_t sino;
	struct xattr_buf *xattrs;
	size_t n_xattrs;
};

struct create {
	struct item *items;
	size_t n, cap;
	long groups;
	bool no_xattrs;
	bool have_mtime;
	int64_t mtime;
	bool have_owner;
	uint32_t uid, gid;
	const char *base; /* -C: relative spec-list locations are resolved here */
	int *roots;	  /* O_DIRECTORY fds of the DIR inputs, files are reopened beneath them */
	size_t n_roots;
	bool private_src; /* a source file is not readable by others: the image is 0600 */
	/* pending "xattr" lines of a spec list, for its next object */
	struct xattr_buf *pend;
	size_t n_pend;
};

static struct item *item_new(struct create *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct item *it = reallocarray(c->items, cap, sizeof(*it));

		if (!it)
			return NULL;
		c->items = it;
		c->cap = cap;
	}
	memset(&c->items[c->n], 0, sizeof(c->items[0]));
	c->items[c->n].group = -1;
	c->items[c->n].root = -1;
	return &c->items[c->n++];
}

static void create_free(struct create *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct item *it = &c->items[i];

		free(it->name);
		free(it->src);
		free(it->target);
		for (size_t k = 0; k < it->n_xattrs; k++) {
			free(it->xattrs[k].name);
			free(it->xattrs[k].value);
		}
		free(it->xattrs);
	}
	free(c->items);
	for (size_t k = 0; k < c->n_pend; k++) {
		free(c->pend[k].name);
		free(c->pend[k].value);
	}
	free(c->pend);
	for (size_t i = 0; i < c->n_roots; i++)
		close(c->roots[i]);
	free(c->roots);
}

static bool has_xattr(const struct item *it, const char *name)
{
	for (size_t i = 0; i < it->n_xattrs; i++)
		if (!strcmp(it->xattrs[i].name, name))
			return true;
	return false;
}

static int add_xattr(struct item *it, const char *name, const uint8_t *v, size_t len)
{
	struct xattr_buf *x = reallocarray(it->xattrs, it->n_xattrs + 1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	it->xattrs = x;
	x = &it->xattrs[it->n_xattrs];
	x->name = strdup(name);
	x->value = malloc(len ? len : 1);
	if (!x->name || !x->value) {
		free(x->name);
		free(x->value);
		return -ENOMEM;
	}
	if (len)
		memcpy(x->value, v, len);
	x->len = len;
	it->n_xattrs++;
	return 0;
}

/*
 * The security.* xattrs of the object @fd refers to (an O_PATH fd is fine: a symlink's own),
 * sorted by name for reproducible output.  Read through /proc/self/fd, never by a path that
 * could have been swapped since the walk.
 */
static int read_xattrs(struct item *it, int fd)
{
	char list[65536], path[64];
	ssize_t n;
	char *names[256];
	size_t nn = 0;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = listxattr(path, list, sizeof(list));
	if (n < 0)
		return (errno == ENOTSUP || errno == ENODATA) ? 0 : -errno;
	for (char *p = list; p < list + n && nn < ARRAY_SIZE(names); p += strlen(p) + 1)
		if (!strncmp(p, "security.", 9) && !has_xattr(it, p))
			names[nn++] = p;
	for (size_t i = 1; i < nn; i++) /* insertion sort: a handful of names */
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (size_t i = 0; i < nn; i++) {
		uint8_t val[65536];
		ssize_t v = getxattr(path, names[i], val, sizeof(val));
		int r;

		if (v < 0)
			return -errno;
		r = add_xattr(it, names[i], val, (size_t)v);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_pending_xattrs(struct create *c, struct item *it)
{
	for (size_t k = 0; k < c->n_pend; k++) {
		int r = add_xattr(it, c->pend[k].name, c->pend[k].value, c->pend[k].len);

		if (r < 0)
			return r;
		free(c->pend[k].name);
		free(c->pend[k].value);
	}
	c->n_pend = 0;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

/* Walk @dir (relative path @rel under @root) collecting every object. */
static int walk_dir(struct create *c, const char *root, int root_idx, const char *rel, int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		cli_error("cannot read directory '%s/%s': %m", root, rel);
		close(dfd);
		return -1;
	}
	while (r == 0 && (errno = 0, de = readdir(d))) {
		_cleanup_free_ char *path = NULL, *name = NULL;
		struct item *it;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&name, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0 ||
		    asprintf(&path, "%s/%s", root, name) < 0)
			return -1;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			cli_error("cannot stat '%s': %m", path);
			r = -1;
			break;
		}
		if (strlen(name) + 1 > VOUCH_CPIO_NAME_MAX) {
			cli_error("'%s': name too long for an initramfs", path);
			r = -1;
			break;
		}
		it = item_new(c);
		if (!it)
			return -1;
		it->name = TAKE_PTR(name);
		it->mode = st.st_mode;
		it->uid = st.st_uid;
		it->gid = st.st_gid;
		it->mtime = st.st_mtime;
		it->nlink = 1;
		if (S_ISREG(st.st_mode)) {
			it->src = strdup(path);
			it->size = (uint64_t)st.st_size;
			it->carries_data = true;
			it->root = root_idx;
			it->sdev = st.st_dev;
			it->sino = st.st_ino;
			if (!(st.st_mode & S_IROTH))
				c->private_src = true;
			/* hard links: key on (dev, ino), resolved after sorting */
			if (st.st_nlink > 1) {
				it->rmaj = major(st.st_dev);
				it->rmin = minor(st.st_dev);
				it->group = (long)st.st_ino; /* provisional */
				it->nlink = 0;		     /* marks "link candidate" */
			}
		} else if (S_ISLNK(st.st_mode)) {
			char t[VOUCH_CPIO_NAME_MAX];
			ssize_t n = readlinkat(dirfd(d), de->d_name, t, sizeof(t) - 1);

			if (n < 0) {
				cli_error("cannot read symlink '%s': %m", path);
				r = -1;
				break;
			}
			t[n] = '\0';
			it->target = strdup(t);
			it->size = (uint64_t)n + 1;
		} else if (S_ISDIR(st.st_mode)) {
			it->nlink = 2;
			/* what is below a directory others cannot enter is private too */
			if (!(st.st_mode & S_IXOTH))
				c->private_src = true;
		} else if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)) {
			it->rmaj = major(st.st_rdev);
			it->rmin = minor(st.st_rdev);
		}
		if (!c->no_xattrs) {
			/* the object itself, by its fd: not a path through a swappable parent */
			_cleanup_close_ int ofd = openat(dirfd(d), de->d_name,
							 O_PATH | O_NOFOLLOW | O_CLOEXEC);
			struct stat ost;
			int k = ofd < 0 ? -errno : fstat(ofd, &ost) < 0 ? -errno : 0;

			if (k == 0 && (ost.st_dev != st.st_dev || ost.st_ino != st.st_ino))
				k = -ESTALE;
			if (k == 0)
				k = read_xattrs(it, ofd);
			if (k < 0) {
				cli_error("cannot read xattrs of '%s': %s", path, strerror(-k));
				r = -1;
				break;
			}
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
									O_CLOEXEC);

			if (sub < 0) {
				cli_error("cannot open directory '%s': %m", path);
				r = -1;
				break;
			}
			r = walk_dir(c, root, root_idx, c->items[c->n - 1].name, sub);
		}
	}
	if (r == 0 && errno) {
		cli_error("cannot read directory '%s/%s': %m", root, rel);
		r = -1;
	}
	closedir(d);
	return r;
}

static int add_dir(struct create *c, const char *dir)
{
	size_t first = c->n;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), wfd;
	int *nr;

	if (fd < 0) {
		cli_error("cannot open directory '%s': %m", dir);
		return -1;
	}
	/* kept open: regular files are reopened beneath it, never by their path */
	nr = reallocarray(c->roots, c->n_roots + 1, sizeof(*nr));
	if (!nr) {
		close(fd);
		return -1;
	}
	c->roots = nr;
	c->roots[c->n_roots++] = fd;
	{
		struct stat st;

		if (fstat(fd, &st) == 0 && !(st.st_mode & S_IXOTH))
			c->private_src = true;
	}
	wfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (wfd < 0 || walk_dir(c, dir, (int)c->n_roots - 1, "", wfd) < 0)
		return -1;
	qsort(c->items + first, c->n - first, sizeof(c->items[0]), item_cmp);
	/* hard links: group equal (dev, ino) among this input; data on the last in order */
	for (size_t i = first; i < c->n; i++) {
		struct item *it = &c->items[i];
		size_t count = 0, last = i;
		long key;
		uint32_t kmaj, kmin;

		if (it->nlink != 0)
			continue;
		key = it->group;
		kmaj = it->rmaj;
		kmin = it->rmin;
		for (size_t j = i; j < c->n; j++) {
			struct item *o = &c->items[j];

			if (o->nlink == 0 && o->group == key && o->rmaj == kmaj && o->rmin == kmin)
				count++, last = j;
		}
		c->groups++;
		for (size_t j = i; j < c->n; j++) {
			struct item *o = &c->items[j];

			if (!(o->nlink == 0 && o->group == key && o->rmaj == kmaj && o->rmin == kmin))
				continue;
			o->group = -2 - c->groups; /* final id, distinct from provisional inodes */
			o->nlink = (uint32_t)count;
			o->carries_data = j == last;
			o->rmaj = o->rmin = 0;
		}
	}
	for (size_t i = first; i < c->n; i++)
		if (c->items[i].group < -1)
			c->items[i].group = -c->items[i].group - 2;
	return 0;
}

/* gen_init_cpio expands ${VAR} in file locations. */
static char *expand_env(const char *in)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	while (*in) {
		const char *end;

		if (in[0] == '$' && in[1] == '{' && (end = strchr(in + 2, '}'))) {
			_cleanup_free_ char *var = strndup(in + 2, (size_t)(end - in - 2));
			const char *v = var ? getenv(var) : NULL;

			if (v)
				fputs(v, f);
			in = end + 1;
		} else {
			fputc(*in++, f);
		}
	}
	fclose(f);
	return out;
}

/* --owner's UID or GID: decimal digits only, at most UINT32_MAX */
static int parse_id(const char *s, uint32_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++)
		if (*s < '0' || *s > '9' || (v = v * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
			return -1;
	*ret = (uint32_t)v;
	return 0;
}

/* A spec list's "xattr" line: pending until its next object. */
static int spec_xattr(struct create *c, const struct vouch_cpio_spec_line *l)
{
	struct xattr_buf *x = reallocarray(c->pend, c->n_pend + 1, sizeof(*x));

	if (!x)
		return -1;
	c->pend = x;
	x = &c->pend[c->n_pend];
	x->name = strdup(l->name);
	x->value = malloc(l->value_len + 1);
	if (!x->name || !x->value) {
		free(x->name);
		free(x->value);
		return -1;
	}
	memcpy(x->value, l->value, l->value_len);
	x->len = l->value_len;
	c->n_pend++;
	return 0;
}

/*
 * The location of a "file" line, ${VAR} expanded and relative to -C, opened: the location
 * itself is never followed (here and when its data is read): a symlink is refused, list
 * its target.  Directories on the way are the list author's and are followed.
 */
static int spec_open(struct create *c, const char *spec, unsigned lineno, const char *location,
		     char **ret_loc, struct stat *st)
{
	_cleanup_free_ char *loc = expand_env(location);
	int fd;

	if (!loc)
		return -1;
	if (c->base && loc[0] != '/') {
		char *abs = NULL;

		if (asprintf(&abs, "%s/%s", c->base, loc) < 0)
			return -1;
		free(loc);
		loc = abs;
	}
	fd = open(loc, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		int e = errno;

		cli_error("'%s' line %u: cannot read '%s': %s", spec, lineno, loc,
			  fd < 0 && e == ELOOP ? "a symbolic link (not followed; give its target)" :
			  fd < 0 ? strerror(e) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*ret_loc = TAKE_PTR(loc);
	return fd;
}

/* A spec list's "file" line: the file and its hard links, the last one carrying the data. */
static int spec_file(struct create *c, const char *spec, unsigned lineno,
		     const struct vouch_cpio_spec_line *l)
{
	_cleanup_free_ char *loc = NULL;
	_cleanup_close_ int fd = -1;
	struct item *it = NULL;
	struct stat st;

	fd = spec_open(c, spec, lineno, l->location, &loc, &st);
	if (fd < 0)
		return -1;
	if (!(st.st_mode & S_IROTH))
		c->private_src = true;
	c->groups++;
	for (size_t k = 0; k <= l->n_links; k++) {
		it = item_new(c);
		if (!it)
			return -1;
		it->name = strdup(k == 0 ? l->name : l->links[k - 1]);
		it->mode = l->mode;
		it->uid = l->uid;
		it->gid = l->gid;
		it->nlink = (uint32_t)(l->n_links + 1);
		it->mtime = st.st_mtime > UINT32_MAX ? UINT32_MAX : st.st_mtime;
		it->group = l->n_links ? c->groups : -1;
		if (k == l->n_links) {
			it->src = strdup(loc);
			it->size = (uint64_t)st.st_size;
			it->carries_data = true;
			it->sdev = st.st_dev;
			it->sino = st.st_ino;
		}
		if (!it->name || (it->carries_data && !it->src))
			return -1;
	}
	/* xattrs go with the link that carries the data (§11.6) */
	if (apply_pending_xattrs(c, it) < 0)
		return -1;
	if (!c->no_xattrs && read_xattrs(it, fd) < 0) {
		cli_error("cannot read xattrs of '%s': %m", loc);
		return -1;
	}
	return 0;
}

/* One parsed line of a spec list into the archive's items. */
static int spec_line(struct create *c, const char *spec, unsigned lineno,
		     const struct vouch_cpio_spec_line *l)
{
	struct item *it;

	switch (l->type) {
	case VOUCH_CPIO_SPEC_NONE:
		return 0;
	case VOUCH_CPIO_SPEC_XATTR:
		return spec_xattr(c, l);
	case VOUCH_CPIO_SPEC_FILE:
		return spec_file(c, spec, lineno, l);
	default:
		break;
	}
	it = item_new(c);
	if (!it)
		return -1;
	it->mode = l->mode;
	/* as gen_init_cpio: 2 for dir, pipe and sock, 1 for nod and slink */
	it->nlink = l->type == VOUCH_CPIO_SPEC_NOD || l->type == VOUCH_CPIO_SPEC_SLINK ? 1 : 2;
	it->rmaj = l->rmaj;
	it->rmin = l->rmin;
	if (l->type == VOUCH_CPIO_SPEC_SLINK) {
		it->target = strdup(l->location);
		if (!it->target)
			return -1;
		it->size = strlen(l->location) + 1; /* gen_init_cpio stores the NUL too */
	}
	it->name = strdup(l->name);
	if (!it->name)
		return -1;
	it->uid = l->uid;
	it->gid = l->gid;
	it->mtime_fixed = true;
	return apply_pending_xattrs(c, it);
}

/* A gen_init_cpio spec list ("-": stdin), each line parsed by the library. */
static int add_spec(struct create *c, vouch_ctx *ctx, const char *spec)
{
	_cleanup_fclose_ FILE *f = strcmp(spec, "-") ? fopen(spec, "re") : NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	FILE *in = f ? f : stdin;

	if (!f && strcmp(spec, "-")) {
		cli_error("cannot open spec list '%s': %m", spec);
		return -1;
	}
	while (getline(&line, &cap, in) >= 0) {
		struct vouch_cpio_spec_line l;

		lineno++;
		if (vouch_cpio_spec_parse_line(ctx, line, &l) < 0) {
			cli_error("'%s' line %u: %s", spec, lineno, vouch_ctx_last_error(ctx));
			return -1;
		}
		if (spec_line(c, spec, lineno, &l) < 0)
			return -1;
	}
	if (ferror(in)) {
		cli_error("cannot read spec list '%s': %m", spec);
		return -1;
	}
	if (c->n_pend) {
		cli_error("'%s': 'xattr' lines at the end apply to no object", spec);
		return -1;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int check_duplicates(struct create *c)
{
	_cleanup_free_ char **names = calloc(c->n ? c->n : 1, sizeof(char *));

	if (!names)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		if (!c->items[i].name[0]) {
			cli_error("empty member name, refusing");
			return -1;
		}
		names[i] = c->items[i].name;
	}
	qsort(names, c->n, sizeof(char *), name_cmp);
	for (size_t i = 1; i < c->n; i++)
		if (!strcmp(names[i - 1], names[i])) {
			cli_error("member '%s' given twice, refusing", names[i]);
			return -1;
		}
	return 0;
}

struct out {
	int fd;
	bool is_file;
	uint64_t written, flushed;
};

static int write_fd_cb(void *userdata, const uint8_t *buf, size_t len)
{
	struct out *o = userdata;
	int fd = o->fd;

	o->written += len;
	/* start writeback early so the final fsync has little left to wait for */
	if (o->is_file && o->written - o->flushed >= (8U << 20)) {
		sync_file_range(fd, (off_t)o->flushed, (off_t)(o->written - len - o->flushed),
				SYNC_FILE_RANGE_WRITE);
		o->flushed = o->written - len;
	}

	return cli_write_all(fd, buf, len);
}

static int emit_items(struct create *c, vouch_ctx *ctx, vouch_cpio_writer *w)
{
	uint32_t ino = 721; /* gen_init_cpio's first inode number */
	long *group_ino = calloc((size_t)c->groups + 1, sizeof(long));
	int ret = 0;

	if (!group_ino)
		return -1;
	for (size_t i = 0; i < c->n && ret == 0; i++) {
		struct item *it = &c->items[i];
		struct vouch_cpio_xattr xs[64];
		struct vouch_cpio_entry e = {
			.name = it->name,
			.mode = it->mode,
			.uid = c->have_owner ? c->uid : it->uid,
			.gid = c->have_owner ? c->gid : it->gid,
			.nlink = it->nlink,
			.mtime = it->mtime,
			.devmajor = 3,
			.devminor = 1,
		};
		int r;

		if (it->mtime_fixed)
			e.mtime = c->have_mtime ? c->mtime : 0;
		else if (c->have_mtime && e.mtime > c->mtime) /* clamp, as reproducible builds do */
			e.mtime = c->mtime;
		if (it->group >= 0 && it->group <= c->groups) {
			if (!group_ino[it->group])
				group_ino[it->group] = ino++;
			e.ino = (uint32_t)group_ino[it->group];
		} else {
			e.ino = ino++;
		}
		if (S_ISBLK(it->mode) || S_ISCHR(it->mode)) {
			e.rdevmajor = it->rmaj;
			e.rdevminor = it->rmin;
		}
		if (it->n_xattrs > ARRAY_SIZE(xs)) {
			cli_error("'%s': too many xattrs", it->name);
			ret = -1;
			break;
		}
		for (size_t k = 0; k < it->n_xattrs; k++)
			xs[k] = (struct vouch_cpio_xattr){ it->xattrs[k].name, it->xattrs[k].value,
							   it->xattrs[k].len };
		e.xattrs = xs;
		e.n_xattrs = it->n_xattrs;
		if (S_ISLNK(it->mode)) {
			e.size = it->size;
			r = vouch_cpio_writer_add(w, &e, (const uint8_t *)it->target, it->size);
		} else if (S_ISREG(it->mode) && it->carries_data && it->size) {
			const int of = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
			_cleanup_close_ int fd = -1;
			struct stat st;

			/* below a DIR input: beneath its fd, no symlink on the way (issue 14 item 4) */
			if (it->root >= 0) {
				fd = walk_open_beneath(c->roots[it->root], it->name, of);
				if (fd < 0)
					errno = -fd;
			} else {
				fd = open(it->src, of);
			}
			if (fd < 0 || fstat(fd, &st) < 0) {
				cli_error("cannot open '%s': %m%s", it->src,
					  errno == ELOOP || errno == EXDEV ?
						  " (a directory was replaced by a symlink since the walk, refusing)" : "");
				ret = -1;
				break;
			}
			if (!S_ISREG(st.st_mode) || st.st_dev != it->sdev || st.st_ino != it->sino) {
				cli_error("'%s' was replaced since it was listed, refusing", it->src);
				ret = -1;
				break;
			}
			if ((uint64_t)st.st_size != it->size) {
				cli_error("'%s' changed size while archiving", it->src);
				ret = -1;
				break;
			}
			posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
			e.size = it->size;
			r = vouch_cpio_writer_add_fd(w, &e, fd);
		} else {
			r = vouch_cpio_writer_add(w, &e, NULL, 0);
		}
		if (r < 0) {
			cli_lib_error(ctx, r, NULL);
			ret = -1;
		}
	}
	free(group_ino);
	return ret;
}

static const char *const format_names[] = { "newc", "crc", "newcx", "metadata" };
static const char *const compress_names[] = { "none", "gzip", "zstd", "xz" };

/* the index of @s in @names (the enum's value), or -1 */
static int name_index(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}

static const struct option create_longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'H' },
	{ "compress", required_argument, NULL, 'z' },
	{ "list", required_argument, NULL, 'l' },
	{ "mtime", required_argument, NULL, 'm' },
	{ "owner", required_argument, NULL, 'O' },
	{ "no-xattrs", no_argument, NULL, 'X' },
	{ "directory", required_argument, NULL, 'C' },
	{ 0 },
};

/* initramfs create's options that are not inputs */
struct create_args {
	const char *out, *fmt, *comp, *mt, *owner;
	size_t n_inputs;
};

/* The options; DIR and --list SPEC inputs are read in command-line order.  0 or exit code. */
static int create_options(vouch_ctx *ctx, int argc, char **argv, struct create *c,
			  struct create_args *a)
{
	const struct cli_slot slots[] = {
		CLI_STR('o', &a->out), CLI_STR('H', &a->fmt), CLI_STR('z', &a->comp),
		CLI_STR('m', &a->mt), CLI_STR('O', &a->owner), CLI_STR('C', &c->base),
		CLI_SLOTS_END,
	};
	int ch, r;

	/* "-": inputs come back in command-line order as option 1 */
	while ((ch = getopt_long(argc, argv, "-o:H:z:l:m:O:XC:", create_longopts, NULL)) != -1) {
		if (ch == 1 || ch == 'l') {
			a->n_inputs++;
			if ((ch == 1 ? add_dir(c, optarg) : add_spec(c, ctx, optarg)) < 0)
				return EXIT_ERROR;
			continue;
		}
		if (ch == 'X') {
			c->no_xattrs = true;
			continue;
		}
		r = cli_slot_option("initramfs create", create_longopts, slots, ch, optarg);
		if (r)
			return r > 0 ? r : cli_usage_error("initramfs create", "invalid option");
	}
	if (!a->out)
		return cli_usage_error("initramfs create", "-o OUT is required");
	if (!a->n_inputs)
		return cli_usage_error("initramfs create", "no input: give DIR or --list SPEC");
	return 0;
}

/* --format, --compress, --mtime (or SOURCE_DATE_EPOCH), --owner: 0 or the exit code. */
static int create_settings(const struct create_args *a, struct create *c,
			   struct vouch_cpio_writer_options *wo)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");

	wo->format = a->fmt ? name_index(a->fmt, format_names, ARRAY_SIZE(format_names))
			    : VOUCH_CPIO_NEWC;
	wo->compress = a->comp ? name_index(a->comp, compress_names, ARRAY_SIZE(compress_names))
			       : VOUCH_CPIO_COMPRESS_NONE;
	if (wo->format < 0)
		return cli_usage_error("initramfs create",
				       "unknown format '%s' (newc, crc, newcx, metadata)", a->fmt);
	if (wo->compress < 0)
		return cli_usage_error("initramfs create",
				       "unknown compression '%s' (none, gzip, zstd, xz)", a->comp);
	if (a->mt || (sde && *sde)) {
		uint64_t v;

		if (cli_parse_u64(a->mt ? a->mt : sde, &v) < 0 || v > (uint64_t)INT64_MAX ||
		    (wo->format != VOUCH_CPIO_NEWCX && v > UINT32_MAX))
			return cli_usage_error("initramfs create", "invalid %s '%s'",
					       a->mt ? "--mtime" : "SOURCE_DATE_EPOCH", a->mt ? a->mt : sde);
		c->have_mtime = true;
		c->mtime = (int64_t)v;
	}
	if (a->owner) {
		_cleanup_free_ char *u = strdup(a->owner);
		char *colon = u ? strchr(u, ':') : NULL;

		if (!colon || (*colon = 0, parse_id(u, &c->uid) < 0) || parse_id(colon + 1, &c->gid) < 0)
			return cli_usage_error("initramfs create", "invalid --owner '%s' (UID:GID)", a->owner);
		c->have_owner = true;
	}
	return 0;
}

/* The archive into @fd: 0, or -1 after printing. */
static int create_write(vouch_ctx *ctx, struct create *c,
			const struct vouch_cpio_writer_options *wo, int fd, const char *out)
{
	vouch_cpio_writer *w = NULL;
	struct out o = { .fd = fd };
	struct stat st;
	int r;

	o.is_file = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	r = vouch_cpio_writer_new(ctx, wo, write_fd_cb, &o, &w);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return -1;
	}
	if (emit_items(c, ctx, w) < 0) {
		vouch_cpio_writer_free(w);
		return -1;
	}
	r = vouch_cpio_writer_finish(w);
	vouch_cpio_writer_free(w);
	if (r < 0) {
		cli_lib_error(ctx, r, out);
		return -1;
	}
	return 0;
}

/*
 * Into @tmp beside @out, then renamed over it.  Images carry keys: the umask is honoured,
 * and a source that others may not read makes the image 0600 whatever the umask (dracut's
 * CVE-2012-4453).
 */
static int create_file(vouch_ctx *ctx, struct create *c,
		       const struct vouch_cpio_writer_options *wo, const char *out)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	mode_t um, mode;

	if (asprintf(&tmp, "%s.tmpXXXXXX", out) < 0)
		return EXIT_ERROR;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		cli_error("cannot create '%s': %m", tmp);
		return EXIT_ERROR;
	}
	if (create_write(ctx, c, wo, fd, out) < 0) {
		unlink(tmp);
		return EXIT_ERROR;
	}
	um = umask(0);
	umask(um);
	mode = (c->private_src ? 0600 : 0666) & ~um;
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || rename(tmp, out) < 0) {
		cli_error("cannot write '%s': %m", out);
		unlink(tmp);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int initramfs_create(int argc, char **argv)
{
	struct vouch_cpio_writer_options wo = VOUCH_CPIO_WRITER_OPTIONS_INIT;
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	struct create c = { 0 };
	struct create_args a = { 0 };
	int ret;

	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	ret = create_options(ctx, argc, argv, &c, &a);
	if (ret == 0)
		ret = create_settings(&a, &c, &wo);
	if (ret == 0 && check_duplicates(&c) < 0)
		ret = EXIT_ERROR;
	if (ret == 0) {
		walk_test_pause();
		if (!strcmp(a.out, "-"))
			ret = create_write(ctx, &c, &wo, STDOUT_FILENO, a.out) < 0 ? EXIT_ERROR : EXIT_OK;
		else
			ret = create_file(ctx, &c, &wo, a.out);
	}
	create_free(&c);
	return ret;
}

/* ---------------------------------------------------------------------------------------- */
/* list, extract, verify                                                                    */

static int open_archive(const char *path)
{
	int fd;

	if (!strcmp(path, "-"))
		return dup(STDIN_FILENO);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		cli_error("cannot open '%s': %m", path);
	return fd;
}

static void mode_string(uint32_t m, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' :
		 S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : S_ISREG(m) ? '-' : '?';
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (1U << (8 - i))) ? rwx[i] : '-';
	if (m & S_ISUID)
		out[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		out[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		out[9] = (m & S_IXOTH) ? 't' : 'T';
	out[10] = '\0';
}

static const char *format_name(int f)
{
	static const char *const n[] = { "newc", "crc", "newcx", "metadata" };

	return f >= 0 && f < 4 ? n[f] : "?";
}

static json_object *xattrs_json(json_object *obj, const struct vouch_cpio_entry *e)
{
	json_object *x = NULL;

	if (!json_object_object_get_ex(obj, "xattrs", &x)) {
		x = json_object_new_object();
		json_object_object_add(obj, "xattrs", x);
	}
	for (size_t i = 0; i < e->n_xattrs; i++)
		json_object_object_add(x, e->xattrs[i].name,
				       cli_json_hex(e->xattrs[i].value, e->xattrs[i].value_len));
	return x;
}

static void print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

static int initramfs_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *arr = NULL;
	_cleanup_close_ int fd = -1;
	vouch_cpio_reader *r = NULL;
	json_object *last = NULL;
	struct vouch_cpio_entry e;
	bool json = false;
	int c, k;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'j' && !json)
			json = true;
		else
			return cli_usage_error("initramfs list", c == 'j' ? "--json given twice, refusing" :
										    "invalid option");
	}
	if (optind + 1 != argc)
		return cli_usage_error("initramfs list", "expected one FILE");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	fd = open_archive(argv[optind]);
	if (fd < 0)
		return EXIT_ERROR;
	k = vouch_cpio_reader_new_fd(ctx, fd, &r);
	if (k < 0) {
		cli_lib_error(ctx, k, NULL);
		return EXIT_ERROR;
	}
	if (json)
		arr = json_object_new_array();
	while ((k = vouch_cpio_reader_next(r, &e)) > 0) {
		char target[VOUCH_CPIO_NAME_MAX + 1] = "";
		char ms[11];

		if (S_ISLNK(e.mode) && e.size <= VOUCH_CPIO_NAME_MAX) {
			size_t got, len = 0;

			while (len < e.size && (k = vouch_cpio_reader_read(r, (uint8_t *)target + len,
									   (size_t)e.size - len, &got)) == 0 && got)
				len += got;
			if (k < 0)
				break;
			target[len] = '\0';
		}
		if (e.metadata) {
			if (json && last)
				xattrs_json(last, &e);
			else if (!json)
				for (size_t i = 0; i < e.n_xattrs; i++) {
					printf("    xattr %s=0x", e.xattrs[i].name);
					print_hex(e.xattrs[i].value, e.xattrs[i].value_len);
					printf(" (METADATA!!!)\n");
				}
			continue;
		}
		mode_string(e.mode, ms);
		if (json) {
			json_object *o = json_object_new_object();
			char m[16];

			snprintf(m, sizeof(m), "%07o", e.mode);
			json_object_object_add(o, "name", json_object_new_string(e.name));
			json_object_object_add(o, "mode", json_object_new_string(m));
			json_object_object_add(o, "uid", json_object_new_int64(e.uid));
			json_object_object_add(o, "gid", json_object_new_int64(e.gid));
			json_object_object_add(o, "nlink", json_object_new_int64(e.nlink));
			json_object_object_add(o, "ino", json_object_new_int64(e.ino));
			json_object_object_add(o, "size", json_object_new_int64((int64_t)e.size));
			json_object_object_add(o, "mtime", json_object_new_int64(e.mtime));
			json_object_object_add(o, "format", json_object_new_string(format_name(e.format)));
			if (S_ISLNK(e.mode))
				json_object_object_add(o, "target", json_object_new_string(target));
			if (S_ISBLK(e.mode) || S_ISCHR(e.mode)) {
				json_object_object_add(o, "rdevmajor", json_object_new_int64(e.rdevmajor));
				json_object_object_add(o, "rdevminor", json_object_new_int64(e.rdevminor));
			}
			xattrs_json(o, &e);
			json_object_array_add(arr, o);
			last = o;
		} else {
			char t[64];

			cli_time_iso(e.mtime, t, sizeof(t));
			if (S_ISBLK(e.mode) || S_ISCHR(e.mode))
				printf("%s %u/%u %u,%u %s %s\n", ms, e.uid, e.gid, e.rdevmajor,
				       e.rdevminor, t, e.name);
			else
				printf("%s %u/%u %llu %s %s%s%s\n", ms, e.uid, e.gid,
				       (unsigned long long)e.size, t, e.name,
				       S_ISLNK(e.mode) ? " -> " : "", target);
			for (size_t i = 0; i < e.n_xattrs; i++) {
				printf("    xattr %s=0x", e.xattrs[i].name);
				print_hex(e.xattrs[i].value, e.xattrs[i].value_len);
				printf("\n");
			}
		}
	}
	if (k < 0) {
		fflush(stdout);
		cli_lib_error(ctx, k, argv[optind]);
		vouch_cpio_reader_free(r);
		return cli_exit_for(k);
	}
	vouch_cpio_reader_free(r);
	if (json)
		cli_json_print(arr);
	return EXIT_OK;
}

struct extract_ui {
	bool verbose;
};

static void extract_cb(void *userdata, const struct vouch_cpio_entry *e, const char *skipped)
{
	struct extract_ui *ui = userdata;

	if (skipped && strcmp(skipped, "the target directory itself"))
		cli_warn("skipped '%s': %s", e->name, skipped);
	else if (ui->verbose && !e->metadata)
		printf("%s\n", e->name);
}

static int initramfs_extract(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "devices", no_argument, NULL, 'D' },
		{ "no-xattrs", no_argument, NULL, 'X' },
		{ "xattrs", required_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct vouch_cpio_extract_options eo = VOUCH_CPIO_EXTRACT_OPTIONS_INIT;
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	_cleanup_free_ const char **names = NULL;
	struct extract_ui ui = { 0 };
	vouch_cpio_reader *r = NULL;
	uint32_t flags = 0;
	size_t n_names = 0;
	bool asked = false;
	int c, k;

	while ((c = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			flags |= VOUCH_CPIO_EXTRACT_DEVICES;
			break;
		case 'X':
			flags |= VOUCH_CPIO_EXTRACT_NO_XATTRS;
			break;
		case 'x': {
			/* --xattrs all | NAME | NAMESPACE. (repeatable): what the archive may set */
			const char **nn;

			asked = true;
			if (!strcmp(optarg, "all")) {
				flags |= VOUCH_CPIO_EXTRACT_ALL_XATTRS;
				break;
			}
			if (!*optarg || strchr(optarg, ','))
				return cli_usage_error("initramfs extract",
						       "--xattrs takes 'all', a name or a namespace ending in '.'");
			nn = reallocarray(names, n_names + 1, sizeof(*nn));
			if (!nn)
				return EXIT_ERROR;
			names = nn;
			names[n_names++] = optarg;
			break;
		}
		case 'v':
			ui.verbose = true;
			break;
		default:
			return cli_usage_error("initramfs extract", "invalid option");
		}
	}
	if (asked && (flags & VOUCH_CPIO_EXTRACT_NO_XATTRS))
		return cli_usage_error("initramfs extract", "--xattrs with --no-xattrs");
	if (optind + 2 != argc)
		return cli_usage_error("initramfs extract", "expected FILE DIR");
	if ((flags & VOUCH_CPIO_EXTRACT_DEVICES) && geteuid() != 0)
		return cli_usage_error("initramfs extract", "--devices needs root");
	if (geteuid() == 0) {
		flags |= VOUCH_CPIO_EXTRACT_OWNERS;
	} else if (!asked && !(flags & VOUCH_CPIO_EXTRACT_NO_XATTRS)) {
		/* security.* needs CAP_SYS_ADMIN: say so once instead of failing on every member */
		cli_warn("not root: xattrs are not restored (security.* needs CAP_SYS_ADMIN)");
		flags |= VOUCH_CPIO_EXTRACT_NO_XATTRS;
	}
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	fd = open_archive(argv[optind]);
	if (fd < 0)
		return EXIT_ERROR;
	if (mkdir(argv[optind + 1], 0755) < 0 && errno != EEXIST) {
		cli_error("cannot create '%s': %m", argv[optind + 1]);
		return EXIT_ERROR;
	}
	dfd = open(argv[optind + 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		cli_error("cannot open directory '%s': %m", argv[optind + 1]);
		return EXIT_ERROR;
	}
	k = vouch_cpio_reader_new_fd(ctx, fd, &r);
	eo.flags = flags;
	eo.xattrs = names;
	eo.n_xattrs = n_names;
	if (k >= 0)
		k = vouch_cpio_extract_opts(r, dfd, &eo, extract_cb, &ui);
	vouch_cpio_reader_free(r);
	if (k < 0) {
		fflush(stdout);
		cli_lib_error(ctx, k, argv[optind]);
		return cli_exit_for(k);
	}
	return EXIT_OK;
}

struct verify_ui {
	bool json;
	json_object *arr;
	size_t ok, bad;
};

static void verify_cb(void *userdata, const struct vouch_cpio_appraisal *a)
{
	struct verify_ui *ui = userdata;
	const struct vouch_hash_info *hi = a->algo >= 0 ? vouch_hash_info(a->algo) : NULL;

	if (a->result == 0)
		ui->ok++;
	else
		ui->bad++;
	if (ui->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(a->name));
		json_object_object_add(o, "ok", json_object_new_boolean(a->result == 0));
		json_object_object_add(o, "kind", a->kind ? json_object_new_string(a->kind) : NULL);
		json_object_object_add(o, "algo", hi ? json_object_new_string(hi->name) : NULL);
		if (a->kind && !strcmp(a->kind, "signature")) {
			char kid[9];

			snprintf(kid, sizeof(kid), "%08x", a->keyid);
			json_object_object_add(o, "keyid", json_object_new_string(kid));
		}
		json_object_object_add(o, "message", json_object_new_string(a->message));
		json_object_array_add(ui->arr, o);
		return;
	}
	if (a->result == 0) {
		printf("OK   %s (%s%s%s", a->name, a->kind ? a->kind : "", hi ? " " : "",
		       hi ? hi->name : "");
		if (a->kind && !strcmp(a->kind, "signature"))
			printf(", key id %08x", a->keyid);
		printf(")\n");
	} else {
		printf("FAIL %s: %s\n", a->name, a->message);
	}
}

static int initramfs_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "allow-digest", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	_cleanup_(json_object_putp) json_object *arr = NULL;
	_cleanup_close_ int fd = -1;
	struct verify_ui ui = { 0 };
	vouch_cpio_reader *r = NULL;
	uint32_t flags = 0;
	int c, k;

	if (cli_ctx_new(&ctx) < 0 || vouch_trust_new(ctx, &trust) < 0)
		return EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "t:", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			k = vouch_trust_add_path(trust, optarg, "_ima");
			if (k < 0) {
				cli_lib_error(ctx, k, optarg);
				return EXIT_ERROR;
			}
			break;
		case 'd':
			flags |= VOUCH_CPIO_APPRAISE_ALLOW_DIGEST;
			break;
		case 'j':
			if (cli_flag_once("initramfs verify", &ui.json, "json"))
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error("initramfs verify", "invalid option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("initramfs verify", "expected one FILE");
	if (!vouch_trust_count(trust) && !(flags & VOUCH_CPIO_APPRAISE_ALLOW_DIGEST))
		return cli_usage_error("initramfs verify", "-t TRUST is required");
	fd = open_archive(argv[optind]);
	if (fd < 0)
		return EXIT_ERROR;
	if (ui.json)
		ui.arr = arr = json_object_new_array();
	k = vouch_cpio_reader_new_fd(ctx, fd, &r);
	if (k >= 0)
		k = vouch_cpio_appraise(r, trust, flags, verify_cb, &ui);
	vouch_cpio_reader_free(r);
	if (ui.json)
		cli_json_print(arr);
	fflush(stdout);
	if (k < 0 && !(vouch_error_is_verdict(k) && ui.bad)) {
		/* the archive itself is bad, or a member could not be checked */
		cli_lib_error(ctx, k, argv[optind]);
		return cli_exit_for(k);
	}
	if (ui.bad) {
		cli_error("'%s': %zu of %zu members failed appraisal", argv[optind], ui.bad,
			  ui.bad + ui.ok);
		return EXIT_UNTRUSTED;
	}
	if (!ui.ok) {
		cli_error("'%s': no regular files to appraise", argv[optind]);
		return EXIT_UNTRUSTED;
	}
	return EXIT_OK;
}

static const struct command initramfs_commands[] = {
	{ "create", initramfs_create, 0,
	  "Build an initramfs from directories and gen_init_cpio spec lists, reproducibly",
	  "initramfs create -o OUT [--format newc|crc|newcx|metadata] [--compress none|gzip|zstd|xz] "
	  "[--mtime T] [--owner UID:GID] [--no-xattrs] [-C DIR] (DIR | --list SPEC)..." },
	{ "list", initramfs_list, 0,
	  "List members with modes, sizes and xattrs (compressed and concatenated archives too)",
	  "initramfs list [--json] FILE" },
	{ "extract", initramfs_extract, 0,
	  "Extract safely below DIR (no '..', no absolute names, never through a symlink)",
	  "initramfs extract [-v] [--devices] [--no-xattrs | --xattrs all|NAME|NS.]... FILE DIR" },
	{ "verify", initramfs_verify, 0,
	  "Appraise every member's security.ima against its content",
	  "initramfs verify -t TRUST... [--allow-digest] [--json] FILE" },
};

CLI_FAMILY(cmd_initramfs, "initramfs", initramfs_commands)
