// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading a Debian package: a .deb read through libarchive (the outer ar, the control and data
 * tar members in any of dpkg's compressions), its control fields and conffiles, every regular
 * file hashed in one pass with several algorithms, symbolic links followed on request.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"
#include "reference-internal.h"
#include "vouch/digest.h"
#include "vouch/reference.h"

/* --- reading a .deb --------------------------------------------------------------------- */

VOUCH_EXPORT void vouch_deb_free(vouch_deb *deb)
{
	if (!deb)
		return;
	for (size_t i = 0; i < deb->n_files; i++)
		free(deb->files[i].path);
	for (size_t i = 0; i < deb->n_conffiles; i++)
		free(deb->conffiles[i]);
	free(deb->conffiles);
	for (size_t i = 0; i < 2 * deb->n_links; i++)
		free(deb->links[i]);
	free(deb->links);
	free(deb->slots);
	free(deb->files);
	free(deb->digests);
	free(deb->package);
	free(deb->version);
	free(deb->architecture);
	free(deb);
}

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_deb *, ref_deb_freep, vouch_deb_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(struct archive *, ref_archive_freep, archive_read_free)

/* what every message names */
struct deb_reader {
	vouch_ctx *ctx;
	const char *path;
	const char *member;
	vouch_deb *deb;
	uint64_t max_member;
	bool follow;
	vouch_hasher *hasher;
	uint8_t *buf; /* of BUF_SIZE bytes, for members read whole */
};

#define deb_err(rd, err, fmt, ...)                                                                 \
	ctx_err((rd)->ctx, err, "'%s' (package %s): member '%s': " fmt, (rd)->path,                \
		(rd)->deb->package ? (rd)->deb->package : "?", (rd)->member ? (rd)->member : "-",  \
		##__VA_ARGS__)

/*
 * Path @p from its components as "/a/b": empty and "." components dropped; ".." goes up
 * (never above /) with @dotdot_up, is -EBADMSG without.  -ENAMETOOLONG past @size.
 */
static int join_components(const char *p, bool dotdot_up, char *out, size_t size)
{
	size_t o = 0;

	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (!dotdot_up)
				return -EBADMSG;
			while (o > 0 && out[--o] != '/')
				;
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (o + 1 + n + 1 > size)
				return -ENAMETOOLONG;
			out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

/*
 * The installed path of a tar member: "./usr/bin/x", "usr/bin/x" and "./usr//bin/./x" are
 * "/usr/bin/x"; "." or "./" is "/".  -EBADMSG for an absolute name or a ".." component (dpkg
 * would write outside the root), or a name too long.
 */
static int normalise(const char *name, char *out, size_t size)
{
	if (name[0] == '/')
		return -EBADMSG;
	return join_components(name, false, out, size);
}

enum { COMP_NONE, COMP_GZ, COMP_XZ, COMP_ZST, COMP_BZ2 };

/* "data.tar.xz" with @prefix "data.tar": its compression, or -1 when unknown */
static int member_compression(const char *name, const char *prefix)
{
	static const struct {
		const char *suffix;
		int comp;
	} tab[] = { { "", COMP_NONE }, { ".gz", COMP_GZ }, { ".xz", COMP_XZ }, { ".zst", COMP_ZST },
		    { ".bz2", COMP_BZ2 } };
	size_t n = strlen(prefix);

	if (strncmp(name, prefix, n) != 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
		if (!strcmp(name + n, tab[i].suffix))
			return tab[i].comp;
	return -1;
}

static la_ssize_t inner_read(struct archive *inner, void *userdata, const void **buf)
{
	struct archive *outer = userdata;
	la_int64_t off;
	size_t n = 0;
	int r = archive_read_data_block(outer, buf, &n, &off);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
		archive_set_error(inner, EIO, "%s", archive_error_string(outer));
		return -1;
	}
	return (la_ssize_t)n;
}

static int open_inner(struct deb_reader *rd, struct archive *outer, int comp,
		      struct archive **ret)
{
	_cleanup_(ref_archive_freep) struct archive *a = archive_read_new();
	int r = ARCHIVE_OK;

	if (!a)
		return ctx_err(rd->ctx, -ENOMEM, "out of memory");
	archive_read_support_format_tar(a);
	switch (comp) {
	case COMP_GZ:
		r = archive_read_support_filter_gzip(a);
		break;
	case COMP_XZ:
		r = archive_read_support_filter_xz(a);
		break;
	case COMP_ZST:
		r = archive_read_support_filter_zstd(a);
		break;
	case COMP_BZ2:
		r = archive_read_support_filter_bzip2(a);
		break;
	default:
		break;
	}
	/* ARCHIVE_WARN: libarchive would run an external program; we do not want one */
	if (r != ARCHIVE_OK)
		return deb_err(rd, -EOPNOTSUPP, "this libarchive cannot decompress it");
	if (archive_read_open(a, outer, NULL, inner_read, NULL) != ARCHIVE_OK)
		return deb_err(rd, -EBADMSG, "%s", archive_error_string(a));
	*ret = TAKE_PTR(a);
	return 0;
}

/* the whole content of the current entry of @a, at most @max bytes: 0 and NUL-terminated */
static int read_entry_small(struct deb_reader *rd, struct archive *a, size_t max, char **ret,
			    size_t *ret_len)
{
	_cleanup_free_ char *buf = mem_alloc(max + 1);
	size_t len = 0;

	if (!buf)
		return ctx_err(rd->ctx, -ENOMEM, "out of memory");
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf + len, max + 1 - len);

		if (n < 0)
			return deb_err(rd, -EBADMSG, "truncated or corrupt: %s", archive_error_string(a));
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return deb_err(rd, -EFBIG, "control file over %zu bytes", max);
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* the value of field @name in a control paragraph (first line only), as a new string */
char *deb_control_field(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *v, *end;

		if (strncasecmp(l, name, n) != 0 || l[n] != ':')
			continue;
		v = l + n + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		end = strchr(v, '\n');
		if (!end)
			end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (end == v)
			return NULL;
		{
			char *out = mem_alloc((size_t)(end - v) + 1);

			if (out) {
				memcpy(out, v, (size_t)(end - v));
				out[end - v] = '\0';
			}
			return out;
		}
	}
	return NULL;
}

bool deb_field_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '/')
			return false;
	return true;
}

/* member @name where a "@prefix[.gz|.xz|.zst|.bz2]" must be: its compression, or an error */
static int tar_member(struct deb_reader *rd, const char *name, const char *prefix)
{
	int comp = member_compression(name, prefix);

	if (comp < 0 && strncmp(name, prefix, strlen(prefix)))
		return deb_err(rd, -EBADMSG, "expected %s here", prefix);
	if (comp < 0)
		return deb_err(rd, -EOPNOTSUPP, "unknown compression (gz, xz, zst, bz2 or none)");
	return comp;
}

static int read_control(struct deb_reader *rd, struct archive *outer, int comp)
{
	_cleanup_(ref_archive_freep) struct archive *a = NULL;
	struct archive_entry *e;
	bool have_control = false;
	int r;

	r = open_inner(rd, outer, comp, &a);
	if (r < 0)
		return r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		char norm[DEB_PATH_MAX];
		_cleanup_free_ char *text = NULL;
		size_t len;

		if (!name || normalise(name, norm, sizeof(norm)) < 0)
			return deb_err(rd, -EBADMSG, "bad control member name '%.200s'",
				       name ? name : "");
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		if (strcmp(norm, "/control") && strcmp(norm, "/conffiles"))
			continue;
		r = read_entry_small(rd, a, DEB_CONTROL_MAX, &text, &len);
		if (r < 0)
			return r;
		if (strlen(text) != len)
			return deb_err(rd, -EBADMSG, "'%s' holds a NUL byte", norm + 1);
		if (!strcmp(norm, "/control")) {
			vouch_deb *d = rd->deb;

			free(d->package);
			free(d->version);
			free(d->architecture);
			d->package = deb_control_field(text, "Package");
			d->version = deb_control_field(text, "Version");
			d->architecture = deb_control_field(text, "Architecture");
			if (!deb_field_ok(d->package) || !deb_field_ok(d->version) ||
			    !deb_field_ok(d->architecture))
				return deb_err(rd, -EBADMSG,
					       "control lacks a valid Package, Version or Architecture");
			have_control = true;
			continue;
		}
		for (char *l = text, *next; l && *l; l = next) {
			char *end = strchr(l, '\n');
			char **c;

			next = end ? end + 1 : NULL;
			if (end)
				*end = '\0';
			while (*l == ' ' || *l == '\t')
				l++;
			for (char *t = l + strlen(l); t > l && (t[-1] == ' ' || t[-1] == '\r');)
				*--t = '\0';
			/* dpkg ≥ 1.20.1: "remove-on-upgrade /etc/x" is a file that is no longer shipped */
			if (!*l || !strncmp(l, "remove-on-upgrade ", 18))
				continue;
			if (*l != '/')
				return deb_err(rd, -EBADMSG, "conffiles line '%.200s' is not an absolute path",
					       l);
			c = mem_reallocarray(rd->deb->conffiles, rd->deb->n_conffiles + 1, sizeof(*c));
			if (!c)
				return ctx_err(rd->ctx, -ENOMEM, "out of memory");
			rd->deb->conffiles = c;
			c[rd->deb->n_conffiles] = mem_strdup(l);
			if (!c[rd->deb->n_conffiles])
				return ctx_err(rd->ctx, -ENOMEM, "out of memory");
			rd->deb->n_conffiles++;
		}
	}
	if (r != ARCHIVE_EOF)
		return deb_err(rd, -EBADMSG, "truncated or corrupt: %s", archive_error_string(a));
	if (!have_control)
		return deb_err(rd, -EBADMSG, "no control file");
	return 0;
}

static size_t path_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return (size_t)h;
}

/* the index of the file @path of @deb, or -1 */
static int find_file(const vouch_deb *deb, const char *path)
{
	if (!deb->n_slots)
		return -1;
	for (size_t i = path_hash(path) & (deb->n_slots - 1);; i = (i + 1) & (deb->n_slots - 1)) {
		size_t k = deb->slots[i];

		if (!k)
			return -1;
		if (!strcmp(deb->files[k - 1].path, path))
			return (int)(k - 1);
	}
}

static void slot_insert(vouch_deb *deb, size_t idx)
{
	size_t i = path_hash(deb->files[idx].path) & (deb->n_slots - 1);

	while (deb->slots[i])
		i = (i + 1) & (deb->n_slots - 1);
	deb->slots[i] = idx + 1;
}

static int add_file(struct deb_reader *rd, const char *path, const struct vouch_digest *d)
{
	vouch_deb *deb = rd->deb;

	/* dpkg would install one of the two: allowing both digests would let either through */
	if (find_file(deb, path) >= 0)
		return deb_err(rd, -EBADMSG, "entry '%.300s' appears twice", path);
	if (deb->n_files > INT32_MAX / 2)
		return deb_err(rd, -EFBIG, "too many files");
	/* keep the table at most half full */
	if (2 * (deb->n_files + 1) > deb->n_slots) {
		size_t n = deb->n_slots ? 2 * deb->n_slots : 256;
		size_t *slots = mem_reallocarray(NULL, n, sizeof(*slots));

		if (!slots)
			return ctx_err(rd->ctx, -ENOMEM, "out of memory");
		memset(slots, 0, n * sizeof(*slots));
		free(deb->slots);
		deb->slots = slots;
		deb->n_slots = n;
		for (size_t i = 0; i < deb->n_files; i++)
			slot_insert(deb, i);
	}

	if (deb->n_files == deb->cap) {
		size_t cap = deb->cap ? 2 * deb->cap : 64;
		struct deb_file *f = mem_reallocarray(deb->files, cap, sizeof(*f));
		struct vouch_digest *dg;

		if (!f)
			return ctx_err(rd->ctx, -ENOMEM, "out of memory");
		deb->files = f;
		dg = mem_reallocarray(deb->digests, cap * deb->n_algos, sizeof(*dg));
		if (!dg)
			return ctx_err(rd->ctx, -ENOMEM, "out of memory");
		deb->digests = dg;
		deb->cap = cap;
	}
	deb->files[deb->n_files].path = mem_strdup(path);
	if (!deb->files[deb->n_files].path)
		return ctx_err(rd->ctx, -ENOMEM, "out of memory");
	deb->files[deb->n_files].conffile = false;
	memcpy(deb->digests + deb->n_files * deb->n_algos, d, deb->n_algos * sizeof(*d));
	slot_insert(deb, deb->n_files);
	deb->n_files++;
	return 0;
}

static int hash_entry(struct deb_reader *rd, struct archive *a, const char *norm,
		      struct vouch_digest *d)
{
	uint64_t total = 0;
	int r;

	for (;;) {
		const void *block;
		size_t n;
		la_int64_t off;

		r = archive_read_data_block(a, &block, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return deb_err(rd, -EBADMSG, "entry '%.300s': truncated or corrupt: %s", norm,
				       archive_error_string(a));
		if (off < 0 || (uint64_t)off < total)
			return deb_err(rd, -EBADMSG, "entry '%.300s': data out of order", norm);
		/* a sparse hole reads as zeros, as tar -x writes it */
		while (total < (uint64_t)off) {
			static const uint8_t zeros[4096];
			size_t z = (uint64_t)off - total < sizeof(zeros) ? (size_t)((uint64_t)off - total)
									: sizeof(zeros);

			if (vouch_hasher_update(rd->hasher, zeros, z) < 0)
				return ctx_err(rd->ctx, -EIO, "digest failed");
			total += z;
		}
		total += n;
		if (total > rd->max_member)
			return deb_err(rd, -EFBIG, "entry '%.300s': over the size limit of %llu bytes", norm,
				       (unsigned long long)rd->max_member);
		if (vouch_hasher_update(rd->hasher, block, n) < 0)
			return ctx_err(rd->ctx, -EIO, "digest failed");
	}
	rd->deb->bytes += total;
	return vouch_hasher_final(rd->hasher, d) < 0 ? ctx_err(rd->ctx, -EIO, "digest failed") : 0;
}

/*
 * Where symlink @path -> @target leads, as the kernel resolves it inside the package's tree:
 * relative to @path's directory, ".." going up (never above /).  0, or -ENAMETOOLONG.
 */
static int resolve_link(const char *path, const char *target, char *out, size_t size)
{
	char buf[2 * DEB_PATH_MAX + 2];

	if (target[0] == '/')
		snprintf(buf, sizeof(buf), "%s", target);
	else {
		const char *slash = strrchr(path, '/');

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash ? slash - path : 0), path, target);
	}
	return join_components(buf, true, out, size);
}

/*
 * VOUCH_DEB_FOLLOW_SYMLINKS: list a symlink's path with the digests of the regular file it
 * leads to in the same package (through up to 8 links), for machines that measure a file
 * under a link's name (an initramfs built with copies, a path through a link).
 */
static int follow_links(struct deb_reader *rd)
{
	vouch_deb *deb = rd->deb;
	struct vouch_digest d[DEB_MAX_ALGOS];

	for (size_t i = 0; i < deb->n_links; i++) {
		char cur[DEB_PATH_MAX], next[DEB_PATH_MAX];
		int k = -1, r;

		snprintf(cur, sizeof(cur), "%s", deb->links[2 * i]);
		r = resolve_link(cur, deb->links[2 * i + 1], next, sizeof(next));
		for (int hop = 0; r == 0 && hop < 8; hop++) {
			size_t j;

			k = find_file(deb, next);
			if (k >= 0)
				break;
			for (j = 0; j < deb->n_links && strcmp(deb->links[2 * j], next); j++)
				;
			if (j == deb->n_links)
				break;
			snprintf(cur, sizeof(cur), "%s", next);
			r = resolve_link(cur, deb->links[2 * j + 1], next, sizeof(next));
		}
		if (k < 0 || find_file(deb, deb->links[2 * i]) >= 0)
			continue;
		memcpy(d, deb->digests + (size_t)k * deb->n_algos, deb->n_algos * sizeof(*d));
		r = add_file(rd, deb->links[2 * i], d);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_data(struct deb_reader *rd, struct archive *outer, int comp)
{
	_cleanup_(ref_archive_freep) struct archive *a = NULL;
	struct vouch_digest d[DEB_MAX_ALGOS];
	struct archive_entry *e;
	int r;

	r = open_inner(rd, outer, comp, &a);
	if (r < 0)
		return r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e), *link = archive_entry_hardlink(e);
		char norm[DEB_PATH_MAX], target[DEB_PATH_MAX];
		int k;

		if (!name)
			return deb_err(rd, -EBADMSG, "an entry without a name");
		r = normalise(name, norm, sizeof(norm));
		if (r == -ENAMETOOLONG)
			return deb_err(rd, -EBADMSG, "entry name too long ('%.200s...')", name);
		if (r < 0)
			return deb_err(rd, -EBADMSG,
				       "entry '%.300s': %s, refusing (dpkg would write outside its root)",
				       name, name[0] == '/' ? "absolute name" : "'..' in the name");
		if (link) {
			r = normalise(link, target, sizeof(target));
			if (r < 0)
				return deb_err(rd, -EBADMSG, "entry '%.300s': hard link to '%.300s': %s",
					       norm, link,
					       r == -ENAMETOOLONG ? "name too long"
					       : link[0] == '/'	  ? "absolute name"
								  : "'..' in the name");
			k = find_file(rd->deb, target);
			if (k < 0)
				return deb_err(rd, -EBADMSG,
					       "entry '%.300s': hard link to '%.300s', which is not a "
					       "regular file before it",
					       norm, target);
			memcpy(d, rd->deb->digests + (size_t)k * rd->deb->n_algos,
			       rd->deb->n_algos * sizeof(*d));
			r = add_file(rd, norm, d);
			if (r < 0)
				return r;
			continue;
		}
		switch (archive_entry_filetype(e)) {
		case AE_IFREG:
			if (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
			    (uint64_t)archive_entry_size(e) > rd->max_member)
				return deb_err(rd, -EFBIG,
					       "entry '%.300s' is %lld bytes, over the size limit of %llu",
					       norm, (long long)archive_entry_size(e),
					       (unsigned long long)rd->max_member);
			r = hash_entry(rd, a, norm, d);
			if (r < 0)
				return r;
			r = add_file(rd, norm, d);
			if (r < 0)
				return r;
			break;
		case AE_IFLNK:
			rd->deb->symlinks++;
			if (rd->follow && archive_entry_symlink(e)) {
				char **l = mem_reallocarray(rd->deb->links, 2 * (rd->deb->n_links + 1),
							    sizeof(*l));

				if (!l)
					return ctx_err(rd->ctx, -ENOMEM, "out of memory");
				rd->deb->links = l;
				l[2 * rd->deb->n_links] = mem_strdup(norm);
				l[2 * rd->deb->n_links + 1] = mem_strdup(archive_entry_symlink(e));
				rd->deb->n_links++;
				if (!l[2 * rd->deb->n_links - 2] || !l[2 * rd->deb->n_links - 1])
					return ctx_err(rd->ctx, -ENOMEM, "out of memory");
			}
			break;
		default: /* directories, devices, fifos: nothing IMA measures by content */
			break;
		}
	}
	if (r != ARCHIVE_EOF)
		return deb_err(rd, -EBADMSG, "truncated or corrupt: %s", archive_error_string(a));
	r = follow_links(rd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < rd->deb->n_conffiles; i++) {
		int k = find_file(rd->deb, rd->deb->conffiles[i]);

		if (k >= 0)
			rd->deb->files[k].conffile = true;
	}
	return 0;
}

VOUCH_EXPORT int vouch_deb_read(vouch_ctx *ctx, const char *path,
				const struct vouch_deb_options *opts, vouch_deb **ret_deb)
{
	static const struct vouch_deb_options defaults = VOUCH_DEB_OPTIONS_INIT;
	static const int sha256 = VOUCH_HASH_SHA256;
	_cleanup_(ref_archive_freep) struct archive *a = NULL;
	_cleanup_(ref_hasher_freep) vouch_hasher *h = NULL;
	_cleanup_(ref_deb_freep) vouch_deb *deb = NULL;
	struct deb_reader rd = { .ctx = ctx, .path = path };
	struct archive_entry *e;
	enum { WANT_BINARY, WANT_CONTROL, WANT_DATA, DONE } state = WANT_BINARY;
	int r;

	if (!opts)
		opts = &defaults;
	if (!ctx || !path || !ret_deb || opts->version != 1 ||
	    (opts->flags & ~VOUCH_DEB_FOLLOW_SYMLINKS) ||
	    (opts->n_algos && !opts->algos) || opts->n_algos > DEB_MAX_ALGOS)
		return -EINVAL;
	if (!mem_is_zero(opts->reserved, sizeof(opts->reserved)))
		return -EINVAL;
	deb = mem_zalloc(sizeof(*deb));
	if (!deb)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	deb->n_algos = opts->n_algos ? opts->n_algos : 1;
	memcpy(deb->algos, opts->n_algos ? opts->algos : &sha256, deb->n_algos * sizeof(int));
	r = vouch_hasher_new(ctx, deb->algos, deb->n_algos, &h);
	if (r < 0)
		return r;
	rd.deb = deb;
	rd.hasher = h;
	rd.max_member = opts->max_member ? opts->max_member : VOUCH_DEB_MAX_MEMBER_DEFAULT;
	rd.follow = opts->flags & VOUCH_DEB_FOLLOW_SYMLINKS;

	a = archive_read_new();
	if (!a)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	archive_read_support_format_ar(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		/* an I/O error is the system's; anything else says the bytes are no package */
		int en = archive_errno(a);
		int err = en == ENOENT || en == EACCES || en == EPERM || en == EISDIR || en == EIO ||
				  en == ENOTDIR || en == ELOOP || en == ENOMEM
			  ? -en
			  : -EBADMSG;

		return ctx_err(ctx, err, "'%s': cannot read it as a Debian package: %s", path,
			       archive_error_string(a));
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		int comp;

		rd.member = name ? name : "";
		/* dpkg ignores members whose name starts with '_' (deb(5)) */
		if (name && name[0] == '_')
			continue;
		if (state == WANT_BINARY) {
			char *text = NULL;
			size_t len;

			if (!name || strcmp(name, "debian-binary"))
				return deb_err(&rd, -EBADMSG, "the first member must be debian-binary");
			r = read_entry_small(&rd, a, 64, &text, &len);
			if (r < 0)
				return r;
			r = len >= 4 && !strncmp(text, "2.", 2) && text[len - 1] == '\n';
			free(text);
			if (!r)
				return deb_err(&rd, -EBADMSG, "not format 2.x");
			state = WANT_CONTROL;
		} else if (state == WANT_CONTROL) {
			comp = tar_member(&rd, name, "control.tar");
			if (comp < 0)
				return comp;
			r = read_control(&rd, a, comp);
			if (r < 0)
				return r;
			state = WANT_DATA;
		} else if (state == WANT_DATA) {
			comp = tar_member(&rd, name, "data.tar");
			if (comp < 0)
				return comp;
			r = read_data(&rd, a, comp);
			if (r < 0)
				return r;
			state = DONE;
		} else {
			return deb_err(&rd, -EBADMSG, "unexpected member after data.tar");
		}
	}
	rd.member = NULL;
	if (r != ARCHIVE_EOF)
		return deb_err(&rd, -EBADMSG, "truncated or corrupt: %s", archive_error_string(a));
	if (state != DONE)
		return deb_err(&rd, -EBADMSG, "truncated: no %s member",
			       state == WANT_BINARY ? "debian-binary"
			       : state == WANT_CONTROL ? "control.tar"
						       : "data.tar");
	*ret_deb = TAKE_PTR(deb);
	return 0;
}

VOUCH_EXPORT int vouch_deb_get_info(const vouch_deb *deb, struct vouch_deb_info *ret_info)
{
	size_t conf = 0;

	if (!deb || !ret_info)
		return -EINVAL;
	for (size_t i = 0; i < deb->n_files; i++)
		conf += deb->files[i].conffile;
	*ret_info = (struct vouch_deb_info){ .package = deb->package,
					     .version = deb->version,
					     .architecture = deb->architecture,
					     .files = deb->n_files,
					     .symlinks = deb->symlinks,
					     .conffiles = conf,
					     .bytes = deb->bytes };
	return 0;
}

VOUCH_EXPORT int vouch_deb_get_file(const vouch_deb *deb, size_t i, const char **ret_path,
				    const struct vouch_digest **ret_digests, size_t *ret_n,
				    bool *ret_conffile)
{
	if (!deb || !ret_path || !ret_digests || !ret_n)
		return -EINVAL;
	if (i >= deb->n_files)
		return -ERANGE;
	*ret_path = deb->files[i].path;
	*ret_digests = deb->digests + i * deb->n_algos;
	*ret_n = deb->n_algos;
	if (ret_conffile)
		*ret_conffile = deb->files[i].conffile;
	return 0;
}
