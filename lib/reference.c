// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reference values from Debian packages: a .deb read through libarchive (the outer ar, the
 * control and data tar members in any of dpkg's compressions), every regular file hashed in
 * one pass with several algorithms, and the vouch-reference document (version 2) that lists
 * them with their origin.  The document format is described in include/vouch/reference.h and
 * docs/REFERENCE.md.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>

#include "internal.h"
#include "json-internal.h"
#include "reference-internal.h"
#include "vouch/digest.h"
#include "vouch/reference.h"

#define DEB_CONTROL_MAX ((size_t)4 << 20) /* control and conffiles members */
#define DEB_PATH_MAX 4096
#define DEB_MAX_ALGOS 8

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_hasher *, ref_hasher_freep, vouch_hasher_free)

/* --- canonical JSON ------------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = mem_realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s, size_t n)
{
	size_t start = 0;

	sb_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_put(b, s + start, i - start);
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_put(b, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sb_put(b, esc, 6);
		}
		start = i + 1;
	}
	sb_put(b, s + start, n - start);
	sb_put(b, "\"", 1);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* the keys of @o in byte order: a new array of @o's own strings */
static const char **sorted_keys(json_object *o, size_t *ret_n)
{
	size_t n = (size_t)json_object_object_length(o), i = 0;
	const char **keys = mem_reallocarray(NULL, n ? n : 1, sizeof(*keys));

	if (!keys)
		return NULL;
	json_object_object_foreach(o, k, v)
	{
		(void)v;
		keys[i++] = k;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	*ret_n = n;
	return keys;
}

static bool canon(struct sbuf *b, json_object *o, bool skip_id, int depth)
{
	char num[32];

	if (depth > 64)
		return false;
	switch (json_object_get_type(o)) {
	case json_type_null:
		sb_put(b, "null", 4);
		return true;
	case json_type_boolean:
		if (json_object_get_boolean(o))
			sb_put(b, "true", 4);
		else
			sb_put(b, "false", 5);
		return true;
	case json_type_int:
		snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(o));
		sb_put(b, num, strlen(num));
		return true;
	case json_type_string:
		sb_str(b, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		return true;
	case json_type_array:
		sb_put(b, "[", 1);
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			if (i)
				sb_put(b, ",", 1);
			if (!canon(b, json_object_array_get_idx(o, i), false, depth + 1))
				return false;
		}
		sb_put(b, "]", 1);
		return true;
	case json_type_object: {
		_cleanup_free_ const char **keys = NULL;
		bool first = true;
		size_t n = 0;

		keys = sorted_keys(o, &n);
		if (!keys) {
			b->oom = true;
			return false;
		}
		sb_put(b, "{", 1);
		for (size_t i = 0; i < n; i++) {
			json_object *v = NULL;

			if (skip_id && !strcmp(keys[i], "id"))
				continue;
			if (!first)
				sb_put(b, ",", 1);
			first = false;
			sb_str(b, keys[i], strlen(keys[i]));
			sb_put(b, ":", 1);
			json_object_object_get_ex(o, keys[i], &v);
			if (!canon(b, v, false, depth + 1))
				return false;
		}
		sb_put(b, "}", 1);
		return true;
	}
	default: /* doubles have no canonical form here */
		return false;
	}
}

char *reference_canonical(json_object *o, bool skip_id, size_t *ret_len)
{
	struct sbuf b = { 0 };

	if (!canon(&b, o, skip_id, 0) || b.oom) {
		free(b.p);
		return NULL;
	}
	if (!b.p)
		return NULL;
	*ret_len = b.len;
	return b.p;
}

/* the canonical JSON of @o as a text file (a newline after it): a new buffer in @ret_json */
static int canonical_text(vouch_ctx *ctx, json_object *o, char **ret_json, size_t *ret_len)
{
	size_t len = 0;
	char *s = reference_canonical(o, false, &len), *p;

	/* room for the newline: reference_canonical's buffer may be exact */
	p = s ? mem_realloc(s, len + 2) : NULL;
	if (!p) {
		free(s);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	p[len++] = '\n';
	p[len] = '\0';
	*ret_json = p;
	*ret_len = len;
	return 0;
}

static int content_id(vouch_ctx *ctx, json_object *root, char *buf, size_t size)
{
	_cleanup_free_ char *c = NULL;
	struct vouch_digest d;
	size_t len = 0;
	int r;

	if (size < 8 + 64 + 1)
		return -ENOBUFS;
	c = reference_canonical(root, true, &len);
	if (!c)
		return ctx_err(ctx, -ENOMEM, "cannot write the canonical form of the reference values");
	r = vouch_digest_buf(ctx, VOUCH_HASH_SHA256, c, len, &d);
	if (r < 0)
		return r;
	memcpy(buf, "sha256:", 7);
	return vouch_digest_to_hex(&d, buf + 7, size - 7);
}

/* --- validation ----------------------------------------------------------------------- */

static bool is_str(json_object *o)
{
	return json_object_is_type(o, json_type_string);
}

/* "ALGO:HEX" with a known algorithm and the digest size of it */
static bool digest_string_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	char algo[32];
	int a;

	if (!colon || (size_t)(colon - s) >= sizeof(algo))
		return false;
	memcpy(algo, s, (size_t)(colon - s));
	algo[colon - s] = '\0';
	a = vouch_hash_by_name(algo);
	if (a < 0 || strlen(colon + 1) != 2 * vouch_hash_info(a)->size)
		return false;
	for (const char *p = colon + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
			return false;
	return true;
}

static bool digest_list_ok(json_object *l)
{
	size_t n;

	if (!json_object_is_type(l, json_type_array))
		return false;
	n = json_object_array_length(l);
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(l, i);

		if (!is_str(s) || !digest_string_ok(json_object_get_string(s)))
			return false;
	}
	return true;
}

static int v2_entry_ok(vouch_ctx *ctx, const char *name, json_object *e)
{
	static const char *strings[] = { "package", "version", "architecture", "root" };
	static const char *bools[] = { "conffile", "ima_signed" };
	json_object *v;
	uint64_t u;

	if (!json_object_is_type(e, json_type_object))
		return ctx_err(ctx, -EBADMSG, "reference for '%.200s': an entry must be an object",
			       name);
	if (!json_object_object_get_ex(e, "digests", &v) || !digest_list_ok(v))
		return ctx_err(ctx, -EBADMSG,
			       "reference for '%.200s': \"digests\" must be a non-empty list of "
			       "ALGO:HEX digests",
			       name);
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++)
		if (json_object_object_get_ex(e, strings[i], &v) && !is_str(v))
			return ctx_err(ctx, -EBADMSG, "reference for '%.200s': \"%s\" must be a string",
				       name, strings[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
		if (json_object_object_get_ex(e, bools[i], &v) &&
		    !json_object_is_type(v, json_type_boolean))
			return ctx_err(ctx, -EBADMSG, "reference for '%.200s': \"%s\" must be true or false",
				       name, bools[i]);
	if (json_object_object_get_ex(e, "until", &v) && json_get_uint(v, INT64_MAX, &u) < 0)
		return ctx_err(ctx, -EBADMSG,
			       "reference for '%.200s': \"until\" must be seconds since the epoch", name);
	return 0;
}

int reference_validate(vouch_ctx *ctx, json_object *root)
{
	json_object *v, *files, *exclude;
	uint64_t version = 1;
	int r;

	if (!json_object_object_get_ex(root, "format", &v) || !is_str(v) ||
	    strcmp(json_object_get_string(v), "vouch-reference") != 0 ||
	    !json_object_object_get_ex(root, "files", &files) ||
	    !json_object_is_type(files, json_type_object))
		return ctx_err(ctx, -EBADMSG, "not a vouch-reference document");
	if (json_object_object_get_ex(root, "version", &v) &&
	    (json_get_uint(v, 1000, &version) < 0 || version < 1 || version > 2))
		return ctx_err(ctx, -EBADMSG, "vouch-reference version not supported (1 and 2 are)");
	if (json_object_object_get_ex(root, "exclude", &exclude)) {
		if (!json_object_is_type(exclude, json_type_array))
			return ctx_err(ctx, -EBADMSG, "exclude must be a list of patterns");
		for (size_t i = 0; i < json_object_array_length(exclude); i++)
			if (!is_str(json_object_array_get_idx(exclude, i)))
				return ctx_err(ctx, -EBADMSG, "exclude must be a list of patterns");
	}
	json_object_object_foreach(files, name, list)
	{
		bool ok = version == 1 ? is_str(list) || json_object_is_type(list, json_type_array)
				       : json_object_is_type(list, json_type_array);

		if (ok && !is_str(list) && json_object_array_length(list) == 0)
			return ctx_err(ctx, -EBADMSG, "reference for '%.200s' is an empty list", name);
		if (!ok)
			return ctx_err(ctx, -EBADMSG,
				       version == 1
					       ? "reference for '%.200s' must be a digest or a list of them"
					       : "reference for '%.200s' must be a list of entries",
				       name);
		if (is_str(list) && !digest_string_ok(json_object_get_string(list)))
			return ctx_err(ctx, -EBADMSG,
				       "reference for '%.200s': not an ALGO:HEX digest of a known algorithm",
				       name);
		for (size_t i = 0; !is_str(list) && i < json_object_array_length(list); i++) {
			json_object *e = json_object_array_get_idx(list, i);

			if (version == 1 && !is_str(e))
				return ctx_err(ctx, -EBADMSG,
					       "reference for '%.200s' must be a digest or a list of them",
					       name);
			/* as in version 2: a digest that can never match is a broken document */
			if (version == 1 && !digest_string_ok(json_object_get_string(e)))
				return ctx_err(ctx, -EBADMSG,
					       "reference for '%.200s': not an ALGO:HEX digest of a "
					       "known algorithm",
					       name);
			if (version == 2 && (r = v2_entry_ok(ctx, name, e)) < 0)
				return r;
		}
	}
	{
		static const char *maps[] = { "keyrings", "ima-buf" };

		for (size_t m = 0; m < ARRAY_SIZE(maps); m++) {
			json_object *o;

			if (!json_object_object_get_ex(root, maps[m], &o))
				continue;
			if (!json_object_is_type(o, json_type_object))
				return ctx_err(ctx, -EBADMSG, "\"%s\" must be an object", maps[m]);
			json_object_object_foreach(o, k, l)
			{
				if (!digest_list_ok(l))
					return ctx_err(ctx, -EBADMSG,
						       "%s '%.200s' must list ALGO:HEX digests", maps[m],
						       k);
			}
		}
		if (json_object_object_get_ex(root, "packages", &v) &&
		    !json_object_is_type(v, json_type_array))
			return ctx_err(ctx, -EBADMSG, "\"packages\" must be a list");
	}
	if (json_object_object_get_ex(root, "id", &v)) {
		char want[80];

		if (!is_str(v))
			return ctx_err(ctx, -EBADMSG, "\"id\" must be a string");
		r = content_id(ctx, root, want, sizeof(want));
		if (r == -ENOMEM)
			return r;
		if (r < 0 || strcmp(want, json_object_get_string(v)) != 0)
			return ctx_err(ctx, -EBADMSG,
				       "the id does not match the content (modified after it was made?)");
	}
	return 0;
}

int reference_parse_root(vouch_ctx *ctx, const char *json, size_t len, size_t max,
			 json_object **ret_root)
{
	json_object *root = NULL;
	char why[256];
	int r;

	r = json_parse_object(json, len, max, 32, &root, why, sizeof(why));
	if (r == -ENOMEM)
		return ctx_err(ctx, r, "out of memory");
	if (r < 0)
		return ctx_err(ctx, -EBADMSG, "not strict JSON: %s", why);
	r = reference_validate(ctx, root);
	if (r < 0) {
		json_object_put(root);
		return r;
	}
	*ret_root = root;
	return 0;
}

/* --- reading a .deb --------------------------------------------------------------------- */

struct deb_file {
	char *path;
	bool conffile;
};

struct vouch_deb {
	char *package, *version, *architecture;
	int algos[DEB_MAX_ALGOS];
	size_t n_algos;
	struct deb_file *files;
	struct vouch_digest *digests; /* n_algos per file */
	size_t n_files, cap;
	char **conffiles;
	size_t n_conffiles;
	size_t symlinks;
	char **links; /* VOUCH_DEB_FOLLOW_SYMLINKS: path, target pairs */
	size_t n_links;
	size_t *slots; /* open addressing over files by path: index + 1, 0 = empty */
	size_t n_slots;
	uint64_t bytes;
};

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
 * The installed path of a tar member: "./usr/bin/x", "usr/bin/x" and "./usr//bin/./x" are
 * "/usr/bin/x"; "." or "./" is "/".  -EBADMSG for an absolute name or a ".." component (dpkg
 * would write outside the root), or a name too long.
 */
static int normalise(const char *name, char *out, size_t size)
{
	size_t o = 0;
	const char *p = name;

	if (name[0] == '/')
		return -EBADMSG;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EBADMSG;
		if (n && !(n == 1 && p[0] == '.')) {
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
static char *control_field(const char *text, const char *name)
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

static bool field_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '/')
			return false;
	return true;
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
			d->package = control_field(text, "Package");
			d->version = control_field(text, "Version");
			d->architecture = control_field(text, "Architecture");
			if (!field_ok(d->package) || !field_ok(d->version) ||
			    !field_ok(d->architecture))
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
	size_t o = 0;
	const char *p;

	if (target[0] == '/')
		snprintf(buf, sizeof(buf), "%s", target);
	else {
		const char *slash = strrchr(path, '/');

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash ? slash - path : 0), path, target);
	}
	for (p = buf; *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
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
	for (size_t i = 0; i < ARRAY_SIZE(opts->reserved); i++)
		if (opts->reserved[i])
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
			comp = member_compression(name, "control.tar");
			if (comp < 0 && strncmp(name, "control.tar", 11))
				return deb_err(&rd, -EBADMSG, "expected control.tar here");
			if (comp < 0)
				return deb_err(&rd, -EOPNOTSUPP,
					       "unknown compression (gz, xz, zst, bz2 or none)");
			r = read_control(&rd, a, comp);
			if (r < 0)
				return r;
			state = WANT_DATA;
		} else if (state == WANT_DATA) {
			comp = member_compression(name, "data.tar");
			if (comp < 0 && strncmp(name, "data.tar", 8))
				return deb_err(&rd, -EBADMSG, "expected data.tar here");
			if (comp < 0)
				return deb_err(&rd, -EOPNOTSUPP,
					       "unknown compression (gz, xz, zst, bz2 or none)");
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

/* --- the document ----------------------------------------------------------------------- */

struct diversion {
	char *from, *to, *by;
};

struct vouch_reference {
	vouch_ctx *ctx;
	json_object *root;
	json_object *files; /* borrowed from root */
	struct diversion *div;
	size_t n_div;
};

static void free_diversions(vouch_reference *ref)
{
	for (size_t i = 0; i < ref->n_div; i++) {
		free(ref->div[i].from);
		free(ref->div[i].to);
		free(ref->div[i].by);
	}
	free(ref->div);
	ref->div = NULL;
	ref->n_div = 0;
}

VOUCH_EXPORT void vouch_reference_free(vouch_reference *ref)
{
	if (!ref)
		return;
	json_object_put(ref->root);
	free_diversions(ref);
	free(ref);
}

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_reference *, ref_freep, vouch_reference_free)

/* @o[@key], created as an empty object or array when missing */
static json_object *member(json_object *o, const char *key, json_type type)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v))
		return v;
	v = type == json_type_array ? json_object_new_array() : json_object_new_object();
	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return NULL;
	}
	return v;
}

static int ref_wrap(vouch_ctx *ctx, json_object *root, vouch_reference **ret)
{
	vouch_reference *ref = mem_zalloc(sizeof(*ref));

	if (!ref) {
		json_object_put(root);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	ref->ctx = ctx;
	ref->root = root;
	ref->files = member(root, "files", json_type_object);
	if (!ref->files || !member(root, "exclude", json_type_array)) {
		vouch_reference_free(ref);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	*ret = ref;
	return 0;
}

VOUCH_EXPORT int vouch_reference_new(vouch_ctx *ctx, vouch_reference **ret_ref)
{
	json_object *root;

	if (!ctx || !ret_ref)
		return -EINVAL;
	root = json_object_new_object();
	if (!root || json_object_object_add(root, "format", json_object_new_string("vouch-reference")) ||
	    json_object_object_add(root, "version", json_object_new_int(2))) {
		json_object_put(root);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	return ref_wrap(ctx, root, ret_ref);
}

static json_object *digest_array(const struct vouch_digest *d, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++) {
		char s[16 + 2 * VOUCH_HASH_MAX_SIZE + 2];
		const struct vouch_hash_info *hi = vouch_hash_info(d[i].algo);

		if (!hi) {
			json_object_put(a);
			return NULL;
		}
		snprintf(s, sizeof(s), "%s:", hi->name);
		vouch_digest_to_hex(&d[i], s + strlen(s), sizeof(s) - strlen(s));
		if (json_object_array_add(a, json_object_new_string(s)) < 0) {
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

/* append @e (taken) to @list unless an equal entry is there */
static int add_unique(json_object *list, json_object *e)
{
	for (size_t i = 0; i < json_object_array_length(list); i++)
		if (json_object_equal(json_object_array_get_idx(list, i), e)) {
			json_object_put(e);
			return 0;
		}
	if (json_object_array_add(list, e) < 0) {
		json_object_put(e);
		return -ENOMEM;
	}
	return 0;
}

static int add_entry(vouch_reference *ref, const char *path, json_object *e)
{
	json_object *list = member(ref->files, path, json_type_array);

	if (!list) {
		json_object_put(e);
		return -ENOMEM;
	}
	return add_unique(list, e);
}

/* where dpkg installs @path of @package */
static const char *divert(const vouch_reference *ref, const char *path, const char *package)
{
	for (size_t i = 0; i < ref->n_div; i++)
		if (!strcmp(ref->div[i].from, path))
			return strcmp(ref->div[i].by, package) ? ref->div[i].to : path;
	return path;
}

VOUCH_EXPORT int vouch_reference_set_diversions(vouch_reference *ref, const char *text, size_t len)
{
	_cleanup_free_ char *copy = NULL;
	char *lines[3], *p, *end;
	size_t k = 0;

	if (!ref || (!text && len))
		return -EINVAL;
	free_diversions(ref);
	copy = mem_alloc(len + 1);
	if (!copy)
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (strlen(copy) != len)
		return ctx_err(ref->ctx, -EBADMSG, "diversions: a NUL byte");
	for (p = copy; *p; p = end + 1) {
		end = strchr(p, '\n');
		if (!end)
			return ctx_err(ref->ctx, -EBADMSG, "diversions: the last line is not terminated");
		*end = '\0';
		lines[k++] = p;
		if (k < 3)
			continue;
		k = 0;
		if (lines[0][0] != '/' || lines[1][0] != '/' || !lines[2][0])
			return ctx_err(ref->ctx, -EBADMSG,
				       "diversions: '%.200s' is not a path, a path and a package",
				       lines[0]);
		{
			struct diversion *d = mem_reallocarray(ref->div, ref->n_div + 1, sizeof(*d));

			if (!d)
				return ctx_err(ref->ctx, -ENOMEM, "out of memory");
			ref->div = d;
			d[ref->n_div] = (struct diversion){ mem_strdup(lines[0]), mem_strdup(lines[1]),
							    mem_strdup(lines[2]) };
			ref->n_div++;
			if (!d[ref->n_div - 1].from || !d[ref->n_div - 1].to || !d[ref->n_div - 1].by)
				return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		}
	}
	if (k)
		return ctx_err(ref->ctx, -EBADMSG, "diversions: lines do not come in threes");
	return 0;
}

static json_object *origin(const char *package, const char *version, const char *arch)
{
	json_object *o = json_object_new_object();

	if (!o || json_object_object_add(o, "package", json_object_new_string(package)) ||
	    json_object_object_add(o, "version", json_object_new_string(version)) ||
	    json_object_object_add(o, "architecture", json_object_new_string(arch))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

VOUCH_EXPORT int vouch_reference_add_deb(vouch_reference *ref, const vouch_deb *deb)
{
	json_object *pkgs, *p;

	if (!ref || !deb)
		return -EINVAL;
	for (size_t i = 0; i < deb->n_files; i++) {
		json_object *e = origin(deb->package, deb->version, deb->architecture);
		json_object *d = digest_array(deb->digests + i * deb->n_algos, deb->n_algos);

		if (!e || !d || json_object_object_add(e, "digests", d) ||
		    (deb->files[i].conffile &&
		     json_object_object_add(e, "conffile", json_object_new_boolean(1)))) {
			json_object_put(e);
			if (!e)
				json_object_put(d);
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		}
		if (add_entry(ref, divert(ref, deb->files[i].path, deb->package), e) < 0)
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	}
	pkgs = member(ref->root, "packages", json_type_array);
	p = origin(deb->package, deb->version, deb->architecture);
	if (!pkgs || !p || json_object_object_add(p, "files", json_object_new_int64((int64_t)deb->n_files)) ||
	    add_unique(pkgs, p) < 0)
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	return 0;
}

VOUCH_EXPORT int vouch_reference_add_file(vouch_reference *ref, const char *path,
					  const struct vouch_digest *digests, size_t n,
					  const char *root, bool ima_signed)
{
	json_object *e, *d;

	if (!ref || !path || path[0] != '/' || !digests || n == 0 || n > DEB_MAX_ALGOS || !root)
		return -EINVAL;
	e = json_object_new_object();
	d = digest_array(digests, n);
	if (!e || !d || json_object_object_add(e, "digests", d) ||
	    json_object_object_add(e, "root", json_object_new_string(root)) ||
	    (ima_signed && json_object_object_add(e, "ima_signed", json_object_new_boolean(1)))) {
		json_object_put(e);
		if (!e)
			json_object_put(d);
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	}
	return add_entry(ref, path, e) < 0 ? ctx_err(ref->ctx, -ENOMEM, "out of memory") : 0;
}

VOUCH_EXPORT int vouch_reference_add_keyring(vouch_reference *ref, const char *name,
					     const struct vouch_digest *digests, size_t n)
{
	json_object *map, *list, *d;

	if (!ref || !name || !*name || !digests || n == 0 || n > DEB_MAX_ALGOS)
		return -EINVAL;
	map = member(ref->root, "keyrings", json_type_object);
	list = map ? member(map, name, json_type_array) : NULL;
	d = digest_array(digests, n);
	if (!list || !d) {
		json_object_put(d);
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < json_object_array_length(d); i++)
		if (add_unique(list, json_object_get(json_object_array_get_idx(d, i))) < 0) {
			json_object_put(d);
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		}
	json_object_put(d);
	return 0;
}

VOUCH_EXPORT int vouch_reference_add_exclude(vouch_reference *ref, const char *pattern)
{
	json_object *ex;

	if (!ref || !pattern || !*pattern)
		return -EINVAL;
	ex = member(ref->root, "exclude", json_type_array);
	if (!ex || add_unique(ex, json_object_new_string(pattern)) < 0)
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	return 0;
}

/* a version 1 document as version 2: each path's digests one entry without an origin */
static int upgrade_v1(json_object *root)
{
	json_object *files, *v, *nf = json_object_new_object();

	if (!nf)
		return -ENOMEM;
	json_object_object_get_ex(root, "files", &files);
	json_object_object_foreach(files, name, list)
	{
		json_object *e = json_object_new_object(), *l = json_object_new_array(), *d;

		if (json_object_is_type(list, json_type_string)) {
			d = json_object_new_array();
			if (d)
				json_object_array_add(d, json_object_get(list));
		} else {
			d = json_object_get(list);
		}
		if (!e || !l || !d || json_object_object_add(e, "digests", d) ||
		    json_object_array_add(l, e) || json_object_object_add(nf, name, l)) {
			json_object_put(nf);
			return -ENOMEM;
		}
	}
	if (json_object_object_add(root, "files", nf) ||
	    json_object_object_add(root, "version", json_object_new_int(2)))
		return -ENOMEM;
	if (json_object_object_get_ex(root, "id", &v))
		json_object_object_del(root, "id");
	return 0;
}

VOUCH_EXPORT int vouch_reference_parse(vouch_ctx *ctx, const char *json, size_t len,
				       vouch_reference **ret_ref)
{
	_cleanup_(json_putp) json_object *root = NULL;
	json_object *v;
	int r;

	if (!ctx || (!json && len) || !ret_ref)
		return -EINVAL;
	r = reference_parse_root(ctx, json, len, REFERENCE_JSON_MAX, &root);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(root, "version", &v) || json_object_get_int64(v) == 1) {
		/* strict v1 lists of strings only; the validation above held */
		if (upgrade_v1(root) < 0)
			return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	return ref_wrap(ctx, TAKE_PTR(root), ret_ref);
}

static int parse_reference(vouch_ctx *ctx, const char *text, size_t len, void *ret)
{
	return vouch_reference_parse(ctx, text, len, ret);
}

VOUCH_EXPORT int vouch_reference_load(vouch_ctx *ctx, const char *path, vouch_reference **ret_ref)
{
	if (!ctx || !path || !ret_ref)
		return -EINVAL;
	return load_file_parsed(ctx, path, REFERENCE_JSON_MAX, "vouch-reference document",
				parse_reference, ret_ref);
}

/* every entry of the list @from added to @to (deep copies) */
static int merge_list(json_object *to, json_object *from)
{
	for (size_t i = 0; i < json_object_array_length(from); i++) {
		json_object *c = NULL;

		if (json_object_deep_copy(json_object_array_get_idx(from, i), &c, NULL) < 0 ||
		    add_unique(to, c) < 0)
			return -ENOMEM;
	}
	return 0;
}

VOUCH_EXPORT int vouch_reference_merge(vouch_reference *ref, const vouch_reference *other)
{
	static const char *maps[] = { "keyrings", "ima-buf" };
	json_object *v, *to;

	if (!ref || !other)
		return -EINVAL;
	json_object_object_foreach(other->files, name, list)
	{
		to = member(ref->files, name, json_type_array);
		if (!to || merge_list(to, list) < 0)
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	}
	if (json_object_object_get_ex(other->root, "exclude", &v) &&
	    ((to = member(ref->root, "exclude", json_type_array)) == NULL || merge_list(to, v) < 0))
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	if (json_object_object_get_ex(other->root, "packages", &v) &&
	    ((to = member(ref->root, "packages", json_type_array)) == NULL || merge_list(to, v) < 0))
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	for (size_t m = 0; m < ARRAY_SIZE(maps); m++) {
		json_object *mine;

		if (!json_object_object_get_ex(other->root, maps[m], &v))
			continue;
		mine = member(ref->root, maps[m], json_type_object);
		if (!mine)
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		json_object_object_foreach(v, k, l)
		{
			to = member(mine, k, json_type_array);
			if (!to || merge_list(to, l) < 0)
				return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		}
	}
	return 0;
}

VOUCH_EXPORT int vouch_reference_id(vouch_reference *ref, char *buf, size_t size)
{
	if (!ref || !buf)
		return -EINVAL;
	return content_id(ref->ctx, ref->root, buf, size);
}

VOUCH_EXPORT int vouch_reference_format(vouch_reference *ref, char **ret_json, size_t *ret_len)
{
	char id[80];
	int r;

	if (!ref || !ret_json || !ret_len)
		return -EINVAL;
	r = content_id(ref->ctx, ref->root, id, sizeof(id));
	if (r < 0)
		return r;
	if (json_object_object_add(ref->root, "id", json_object_new_string(id)))
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	return canonical_text(ref->ctx, ref->root, ret_json, ret_len);
}

VOUCH_EXPORT int vouch_reference_save(vouch_reference *ref, const char *path)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r;

	if (!ref || !path)
		return -EINVAL;
	r = vouch_reference_format(ref, &json, &len);
	if (r < 0)
		return r;
	return write_file_atomic(ref->ctx, path, json, len, 0644);
}

VOUCH_EXPORT int vouch_reference_get_stats(const vouch_reference *ref,
					   struct vouch_reference_stats *ret)
{
	json_object *v;

	if (!ref || !ret)
		return -EINVAL;
	*ret = (struct vouch_reference_stats){ 0 };
	json_object_object_foreach(ref->files, name, list)
	{
		size_t n = json_object_array_length(list);
		bool conf = false;

		(void)name;
		ret->paths++;
		ret->entries += n;
		ret->shared += n > 1;
		for (size_t i = 0; i < n; i++) {
			json_object *c;

			if (json_object_object_get_ex(json_object_array_get_idx(list, i), "conffile",
						      &c) &&
			    json_object_get_boolean(c))
				conf = true;
		}
		ret->conffiles += conf;
	}
	if (json_object_object_get_ex(ref->root, "packages", &v))
		ret->packages = json_object_array_length(v);
	if (json_object_object_get_ex(ref->root, "exclude", &v))
		ret->excludes = json_object_array_length(v);
	if (json_object_object_get_ex(ref->root, "keyrings", &v))
		ret->keyrings += (size_t)json_object_object_length(v);
	if (json_object_object_get_ex(ref->root, "ima-buf", &v))
		ret->keyrings += (size_t)json_object_object_length(v);
	return 0;
}

/* the allowed digests of @list, sorted and joined, for comparing two documents */
static char *digest_set(json_object *list)
{
	_cleanup_free_ const char **all = NULL;
	struct sbuf b = { 0 };
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *d;

		if (!json_object_object_get_ex(json_object_array_get_idx(list, i), "digests", &d))
			continue;
		for (size_t j = 0; j < json_object_array_length(d); j++) {
			if (n == cap) {
				const char **p = mem_reallocarray(all, cap ? 2 * cap : 8, sizeof(*p));

				if (!p)
					return NULL;
				all = p;
				cap = cap ? 2 * cap : 8;
			}
			all[n++] = json_object_get_string(json_object_array_get_idx(d, j));
		}
	}
	qsort(all, n, sizeof(*all), cmp_str);
	sb_put(&b, "", 0);
	for (size_t i = 0; i < n; i++)
		if (!i || strcasecmp(all[i], all[i - 1])) {
			sb_put(&b, all[i], strlen(all[i]));
			sb_put(&b, " ", 1);
		}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

VOUCH_EXPORT int vouch_reference_diff(const vouch_reference *a, const vouch_reference *b,
				      vouch_reference_diff_fn fn, void *userdata, size_t *ret_count)
{
	_cleanup_free_ const char **ka = NULL, **kb = NULL;
	size_t na = 0, nb = 0, i = 0, j = 0, count = 0;
	int r = 0;

	if (!a || !b || !fn)
		return -EINVAL;
	ka = sorted_keys(a->files, &na);
	kb = sorted_keys(b->files, &nb);
	if (!ka || !kb)
		return ctx_err(a->ctx, -ENOMEM, "out of memory");
	while (r == 0 && (i < na || j < nb)) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(ka[i], kb[j]);

		if (c < 0) {
			count++;
			r = fn(userdata, ka[i++], VOUCH_REFERENCE_REMOVED);
		} else if (c > 0) {
			count++;
			r = fn(userdata, kb[j++], VOUCH_REFERENCE_ADDED);
		} else {
			json_object *la = NULL, *lb = NULL;
			_cleanup_free_ char *sa = NULL, *sb = NULL;

			json_object_object_get_ex(a->files, ka[i], &la);
			json_object_object_get_ex(b->files, kb[j], &lb);
			sa = digest_set(la);
			sb = digest_set(lb);
			if (!sa || !sb)
				return ctx_err(a->ctx, -ENOMEM, "out of memory");
			if (strcmp(sa, sb)) {
				count++;
				r = fn(userdata, ka[i], VOUCH_REFERENCE_CHANGED);
			}
			i++;
			j++;
		}
	}
	if (ret_count)
		*ret_count = count;
	return r;
}

VOUCH_EXPORT int vouch_dpkg_status_parse(vouch_ctx *ctx, const char *text, size_t len,
					 vouch_dpkg_status_fn fn, void *userdata)
{
	_cleanup_free_ char *copy = NULL;
	char *p;

	if (!ctx || (!text && len) || !fn)
		return -EINVAL;
	copy = mem_alloc(len + 1);
	if (!copy)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (strlen(copy) != len)
		return ctx_err(ctx, -EBADMSG, "dpkg status: a NUL byte");
	for (p = copy; *p;) {
		char *end = strstr(p, "\n\n");
		_cleanup_free_ char *pkg = NULL, *ver = NULL, *arch = NULL, *status = NULL;
		size_t sl;
		int r;

		if (end)
			*end = '\0';
		pkg = control_field(p, "Package");
		status = control_field(p, "Status");
		ver = control_field(p, "Version");
		arch = control_field(p, "Architecture");
		p = end ? end + 2 : p + strlen(p);
		while (*p == '\n')
			p++;
		if (!pkg && !status)
			continue;
		if (!pkg || !status)
			return ctx_err(ctx, -EBADMSG, "dpkg status: a paragraph without Package or Status");
		/* "want flag status" (dpkg(1)): only the status word "installed" puts files on disk
		 * as the package ships them */
		sl = strlen(status);
		if (sl < 10 || strcmp(status + sl - 10, " installed"))
			continue;
		if (!field_ok(pkg) || !field_ok(ver) || !field_ok(arch))
			return ctx_err(ctx, -EBADMSG,
				       "dpkg status: package '%.100s' lacks a valid Version or Architecture",
				       pkg);
		r = fn(userdata, pkg, ver, arch);
		if (r)
			return r;
	}
	return 0;
}

static bool entry_expired(json_object *e, int64_t now)
{
	json_object *u;

	return json_object_is_type(e, json_type_object) &&
	       json_object_object_get_ex(e, "until", &u) && json_object_get_int64(u) < now;
}

/* drop the entries of @list whose window has passed; returns how many are left */
static size_t prune_list(json_object *list, int64_t now)
{
	for (size_t i = json_object_array_length(list); i-- > 0;)
		if (entry_expired(json_object_array_get_idx(list, i), now))
			json_object_array_del_idx(list, i, 1);
	return json_object_array_length(list);
}

VOUCH_EXPORT int vouch_reference_prune(vouch_reference *ref, int64_t now, size_t *ret_removed)
{
	_cleanup_free_ const char **keys = NULL;
	json_object *pk;
	size_t n = 0, removed = 0;

	if (!ref)
		return -EINVAL;
	keys = sorted_keys(ref->files, &n);
	if (!keys)
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *list = NULL;
		size_t before;

		json_object_object_get_ex(ref->files, keys[i], &list);
		before = json_object_array_length(list);
		if (prune_list(list, now) == 0) {
			removed += before;
			/* keys[i] belongs to the member deleted here: the last use of it */
			json_object_object_del(ref->files, keys[i]);
		} else {
			removed += before - json_object_array_length(list);
		}
	}
	if (json_object_object_get_ex(ref->root, "packages", &pk))
		prune_list(pk, now);
	if (ret_removed)
		*ret_removed = removed;
	return 0;
}

/* give @e an end of window at @until unless it has an earlier one */
static int set_until(json_object *e, int64_t until)
{
	json_object *u;

	if (json_object_object_get_ex(e, "until", &u) && json_object_get_int64(u) <= until)
		return 0;
	return json_object_object_add(e, "until", json_object_new_int64(until)) ? -ENOMEM : 0;
}

static bool same_package_other_version(json_object *e, const vouch_deb *deb)
{
	json_object *p, *a, *v;

	return json_object_is_type(e, json_type_object) &&
	       json_object_object_get_ex(e, "package", &p) &&
	       !strcmp(json_object_get_string(p), deb->package) &&
	       json_object_object_get_ex(e, "architecture", &a) &&
	       !strcmp(json_object_get_string(a), deb->architecture) &&
	       json_object_object_get_ex(e, "version", &v) &&
	       strcmp(json_object_get_string(v), deb->version) != 0;
}

VOUCH_EXPORT int vouch_reference_update(vouch_reference *ref, const vouch_deb *const *debs,
					size_t n, int64_t now, int64_t until)
{
	json_object *pk;
	int r;

	if (!ref || (n && !debs) || until < now)
		return -EINVAL;
	r = vouch_reference_prune(ref, now, NULL);
	if (r < 0)
		return r;
	for (size_t d = 0; d < n; d++) {
		json_object_object_foreach(ref->files, path, list)
		{
			(void)path;
			for (size_t i = 0; i < json_object_array_length(list); i++) {
				json_object *e = json_object_array_get_idx(list, i);

				if (same_package_other_version(e, debs[d]) && set_until(e, until) < 0)
					return ctx_err(ref->ctx, -ENOMEM, "out of memory");
			}
		}
		if (json_object_object_get_ex(ref->root, "packages", &pk))
			for (size_t i = 0; i < json_object_array_length(pk); i++) {
				json_object *e = json_object_array_get_idx(pk, i);

				if (same_package_other_version(e, debs[d]) && set_until(e, until) < 0)
					return ctx_err(ref->ctx, -ENOMEM, "out of memory");
			}
	}
	for (size_t d = 0; d < n; d++) {
		r = vouch_reference_add_deb(ref, debs[d]);
		if (r < 0)
			return r;
	}
	return 0;
}

VOUCH_EXPORT int vouch_reference_check(vouch_reference *ref, const char *path,
				       const struct vouch_digest *d, int64_t now)
{
	char want[16 + 2 * VOUCH_HASH_MAX_SIZE + 2];
	json_object *list, *ex;

	if (!ref || !path || !d || !vouch_hash_info(d->algo))
		return -EINVAL;
	if (json_object_object_get_ex(ref->root, "exclude", &ex))
		for (size_t i = 0; i < json_object_array_length(ex); i++) {
			const char *pat = json_object_get_string(json_object_array_get_idx(ex, i));
			size_t len = pat ? strlen(pat) : 0;

			if (len && (pat[len - 1] == '/' ? !strncmp(path, pat, len)
							: !fnmatch(pat, path, 0)))
				return 1;
		}
	snprintf(want, sizeof(want), "%s:", vouch_hash_info(d->algo)->name);
	vouch_digest_to_hex(d, want + strlen(want), sizeof(want) - strlen(want));
	/* as lib/attest.c: a file, else a keyring or buffer name of an ima-buf entry */
	if (!json_object_object_get_ex(ref->files, path, &list)) {
		static const char *maps[] = { "keyrings", "ima-buf" };

		for (size_t m = 0; m < ARRAY_SIZE(maps); m++) {
			json_object *map;

			if (!json_object_object_get_ex(ref->root, maps[m], &map) ||
			    !json_object_object_get_ex(map, path, &list))
				continue;
			for (size_t k = 0; k < json_object_array_length(list); k++)
				if (!strcasecmp(json_object_get_string(json_object_array_get_idx(list, k)),
						want))
					return 0;
			return -EKEYREJECTED;
		}
		return -ENOENT;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i), *ds;

		if (entry_expired(e, now) || !json_object_object_get_ex(e, "digests", &ds))
			continue;
		for (size_t k = 0; k < json_object_array_length(ds); k++)
			if (!strcasecmp(json_object_get_string(json_object_array_get_idx(ds, k)), want))
				return 0;
	}
	return -EKEYREJECTED;
}

/* --- Keylime runtime policies ------------------------------------------------------------ */

/* Keylime lists digests as bare hex; the length names the algorithm */
static int keylime_digest(const char *hex, char *out, size_t size)
{
	static const struct {
		size_t len;
		const char *name;
	} tab[] = { { 40, "sha1" }, { 64, "sha256" }, { 96, "sha384" }, { 128, "sha512" } };
	size_t n = strlen(hex);

	for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
		if (tab[i].len == n) {
			snprintf(out, size, "%s:%s", tab[i].name, hex);
			return digest_string_ok(out) ? 0 : -EBADMSG;
		}
	return -EBADMSG;
}

/* a list of bare hex digests as a new list of ALGO:HEX */
static int keylime_list(vouch_ctx *ctx, const char *what, const char *name, json_object *l,
			json_object **ret)
{
	_cleanup_(json_putp) json_object *out = NULL;

	if (!json_object_is_type(l, json_type_array))
		return ctx_err(ctx, -EBADMSG, "keylime %s '%.200s': not a list of digests", what, name);
	out = json_object_new_array();
	if (!out)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	for (size_t i = 0; i < json_object_array_length(l); i++) {
		json_object *s = json_object_array_get_idx(l, i);
		char d[16 + 2 * VOUCH_HASH_MAX_SIZE + 2];

		if (!is_str(s) || json_object_get_string_len(s) > 2 * VOUCH_HASH_MAX_SIZE ||
		    keylime_digest(json_object_get_string(s), d, sizeof(d)) < 0)
			return ctx_err(ctx, -EBADMSG,
				       "keylime %s '%.200s': '%.140s' is not a SHA-1/SHA-2 hex digest",
				       what, name, is_str(s) ? json_object_get_string(s) : "(not a string)");
		/* lower case, as vouch writes digests */
		for (char *p = strchr(d, ':'); *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
		if (add_unique(out, json_object_new_string(d)) < 0)
			return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	*ret = TAKE_PTR(out);
	return 0;
}

/*
 * A Keylime exclude is a Python regular expression matched at the start of the path
 * (re.match).  Only the forms that have an exact fnmatch equivalent are taken: literal
 * characters (a backslash escapes one), '.' (any character), '.*' (anything), an optional
 * leading '^' and trailing '$'.  Anything else is refused rather than guessed at: an exclude
 * read wider than written would let files through.
 */
static int keylime_exclude(const char *re, char *out, size_t size)
{
	size_t o = 0;
	const char *p = re;
	bool anchored_end = false;

	if (*p == '^')
		p++;
	while (*p) {
		char c = *p;

		if (o + 3 >= size)
			return -ENAMETOOLONG;
		if (c == '$' && p[1] == '\0') {
			anchored_end = true;
			break;
		}
		if (c == '\\') {
			char e = p[1];

			/* "\d", "\n", "\1"...: classes, control characters, back references */
			if (!e || (e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z'))
				return -EBADMSG;
			if (strchr("*?[]\\", e))
				out[o++] = '\\';
			out[o++] = e;
			p += 2;
			continue;
		}
		if (c == '.' && p[1] == '*') {
			out[o++] = '*';
			p += 2;
			continue;
		}
		if (c == '.') {
			out[o++] = '?';
			p++;
			continue;
		}
		if (strchr("*+?()[]{}|^$", c))
			return -EBADMSG;
		out[o++] = c;
		p++;
	}
	/* re.match: without '$' the pattern is a prefix */
	if (!anchored_end && (o == 0 || out[o - 1] != '*'))
		out[o++] = '*';
	out[o] = '\0';
	return 0;
}

VOUCH_EXPORT int vouch_reference_import_keylime(vouch_ctx *ctx, const char *json, size_t len,
						vouch_reference **ret_ref)
{
	_cleanup_(json_putp) json_object *root = NULL;
	_cleanup_(ref_freep) vouch_reference *ref = NULL;
	static const char *maps[] = { "keyrings", "ima-buf" };
	json_object *meta, *v, *digests, *excludes, *ima;
	char why[256];
	uint64_t version;
	int r;

	if (!ctx || (!json && len) || !ret_ref)
		return -EINVAL;
	r = json_parse_object(json, len, REFERENCE_JSON_MAX, 32, &root, why, sizeof(why));
	if (r == -ENOMEM)
		return ctx_err(ctx, r, "out of memory");
	if (r < 0)
		return ctx_err(ctx, -EBADMSG, "not strict JSON: %s", why);
	if (!json_object_object_get_ex(root, "meta", &meta) ||
	    !json_object_object_get_ex(meta, "version", &v) || json_get_uint(v, 1000, &version) < 0 ||
	    version != 1)
		return ctx_err(ctx, -EBADMSG, "not a Keylime runtime policy of meta version 1");
	if (!json_object_object_get_ex(root, "digests", &digests) ||
	    !json_object_is_type(digests, json_type_object))
		return ctx_err(ctx, -EBADMSG, "keylime policy: \"digests\" must be an object");
	r = vouch_reference_new(ctx, &ref);
	if (r < 0)
		return r;
	json_object_object_foreach(digests, path, list)
	{
		json_object *d = NULL, *e;

		if (!*path)
			return ctx_err(ctx, -EBADMSG, "keylime policy: an empty path");
		r = keylime_list(ctx, "digests of", path, list, &d);
		if (r < 0)
			return r;
		if (json_object_array_length(d) == 0) {
			/* an empty list allows nothing: leave the path out, which allows nothing too */
			json_object_put(d);
			continue;
		}
		e = json_object_new_object();
		if (!e || json_object_object_add(e, "digests", d)) {
			json_object_put(e);
			if (!e)
				json_object_put(d);
			return ctx_err(ctx, -ENOMEM, "out of memory");
		}
		if (add_entry(ref, path, e) < 0)
			return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	if (json_object_object_get_ex(root, "excludes", &excludes)) {
		if (!json_object_is_type(excludes, json_type_array))
			return ctx_err(ctx, -EBADMSG, "keylime policy: \"excludes\" must be a list");
		for (size_t i = 0; i < json_object_array_length(excludes); i++) {
			json_object *s = json_object_array_get_idx(excludes, i);
			char glob[DEB_PATH_MAX];

			if (!is_str(s))
				return ctx_err(ctx, -EBADMSG, "keylime policy: an exclude is not a string");
			if (keylime_exclude(json_object_get_string(s), glob, sizeof(glob)) < 0)
				return ctx_err(ctx, -EBADMSG,
					       "keylime exclude '%.200s': only literals, '.', '.*', '^' and a "
					       "final '$' have an exact glob equivalent; refusing",
					       json_object_get_string(s));
			r = vouch_reference_add_exclude(ref, glob);
			if (r < 0)
				return r;
		}
	}
	for (size_t m = 0; m < ARRAY_SIZE(maps); m++) {
		json_object *mine = NULL;

		if (!json_object_object_get_ex(root, maps[m], &v))
			continue;
		if (!json_object_is_type(v, json_type_object))
			return ctx_err(ctx, -EBADMSG, "keylime policy: \"%s\" must be an object", maps[m]);
		json_object_object_foreach(v, kname, klist)
		{
			json_object *d = NULL;

			r = keylime_list(ctx, maps[m], kname, klist, &d);
			if (r < 0)
				return r;
			if (json_object_array_length(d) == 0) {
				json_object_put(d);
				continue;
			}
			if (!mine && !(mine = member(ref->root, maps[m], json_type_object))) {
				json_object_put(d);
				return ctx_err(ctx, -ENOMEM, "out of memory");
			}
			if (json_object_object_add(mine, kname, d) < 0)
				return ctx_err(ctx, -ENOMEM, "out of memory");
		}
	}
	/* ignored keyrings: their buffer entries are not judged, as an exclude of the name */
	if (json_object_object_get_ex(root, "ima", &ima) &&
	    json_object_object_get_ex(ima, "ignored_keyrings", &v)) {
		if (!json_object_is_type(v, json_type_array))
			return ctx_err(ctx, -EBADMSG, "keylime policy: \"ignored_keyrings\" must be a list");
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *s = json_object_array_get_idx(v, i);
			const char *k = is_str(s) ? json_object_get_string(s) : NULL;

			if (!k || !*k || strpbrk(k, "*?[\\/"))
				return ctx_err(ctx, -EBADMSG,
					       "keylime policy: ignored keyring '%.100s' is not a keyring name",
					       k ? k : "(not a string)");
			r = vouch_reference_add_exclude(ref, k);
			if (r < 0)
				return r;
		}
	}
	*ret_ref = TAKE_PTR(ref);
	return 0;
}

/* a vouch exclude as a Python regular expression matched with re.match */
static int exclude_regex(const char *glob, struct sbuf *b)
{
	size_t n = strlen(glob);

	sb_put(b, "^", 1);
	for (size_t i = 0; i < n; i++) {
		char c = glob[i];

		if (c == '*')
			sb_put(b, ".*", 2);
		else if (c == '?')
			sb_put(b, ".", 1);
		else if (c == '[' || c == ']')
			return -EOPNOTSUPP; /* bracket expressions differ between the two */
		else if (c == '\\' && i + 1 < n) {
			char e[2] = { '\\', glob[++i] };

			sb_put(b, e, 2);
		} else if (strchr(".^$+(){}|\\", c)) {
			char e[2] = { '\\', c };

			sb_put(b, e, 2);
		} else {
			sb_put(b, &c, 1);
		}
	}
	/* a trailing '/' is a prefix (re.match needs no more); anything else is whole */
	if (!n || glob[n - 1] != '/')
		sb_put(b, "$", 1);
	return b->oom ? -ENOMEM : 0;
}

/* bare hex of the valid digests of @list's entries at @now into @to */
static int keylime_hexes(json_object *list, int64_t now, json_object *to)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i), *ds;

		if (is_str(e)) {
			ds = NULL;
		} else if (entry_expired(e, now) || !json_object_object_get_ex(e, "digests", &ds)) {
			continue;
		}
		for (size_t k = 0; k < (ds ? json_object_array_length(ds) : 1); k++) {
			const char *s = json_object_get_string(ds ? json_object_array_get_idx(ds, k) : e);
			const char *colon = strchr(s, ':');

			if (!colon || add_unique(to, json_object_new_string(colon + 1)) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

VOUCH_EXPORT int vouch_reference_export_keylime(vouch_reference *ref, int64_t now, char **ret_json,
						size_t *ret_len)
{
	_cleanup_(json_putp) json_object *out = json_object_new_object();
	static const char *maps[] = { "keyrings", "ima-buf" };
	json_object *meta, *digests, *excludes, *ima, *v;

	if (!ref || !ret_json || !ret_len)
		return -EINVAL;
	if (!out)
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	meta = member(out, "meta", json_type_object);
	digests = member(out, "digests", json_type_object);
	excludes = member(out, "excludes", json_type_array);
	ima = member(out, "ima", json_type_object);
	if (!meta || !digests || !excludes || !ima ||
	    json_object_object_add(meta, "version", json_object_new_int(1)) ||
	    json_object_object_add(out, "release", json_object_new_int(0)) ||
	    json_object_object_add(out, "verification-keys", json_object_new_string("")) ||
	    !member(ima, "ignored_keyrings", json_type_array) ||
	    json_object_object_add(ima, "log_hash_alg", json_object_new_string("sha1")) ||
	    json_object_object_add(ima, "dm_policy", NULL))
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	json_object_object_foreach(ref->files, path, list)
	{
		json_object *l = json_object_new_array();

		if (!l || keylime_hexes(list, now, l) < 0) {
			json_object_put(l);
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		}
		/* every entry past its window: the path allows nothing, and is left out */
		if (json_object_array_length(l) == 0) {
			json_object_put(l);
			continue;
		}
		if (json_object_object_add(digests, path, l))
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	}
	if (json_object_object_get_ex(ref->root, "exclude", &v))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			const char *g = json_object_get_string(json_object_array_get_idx(v, i));
			struct sbuf b = { 0 };
			int r = exclude_regex(g, &b);

			if (r == 0 && b.p && add_unique(excludes, json_object_new_string(b.p)) < 0)
				r = -ENOMEM;
			free(b.p);
			if (r == -EOPNOTSUPP)
				return ctx_err(ref->ctx, r,
					       "exclude '%.200s': a bracket expression has no exact "
					       "Keylime equivalent; refusing",
					       g);
			if (r < 0)
				return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		}
	for (size_t m = 0; m < ARRAY_SIZE(maps); m++) {
		json_object *to = member(out, maps[m], json_type_object);

		if (!to)
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		if (!json_object_object_get_ex(ref->root, maps[m], &v))
			continue;
		json_object_object_foreach(v, kname, klist)
		{
			json_object *l = json_object_new_array();

			for (size_t i = 0; l && i < json_object_array_length(klist); i++) {
				const char *d = json_object_get_string(json_object_array_get_idx(klist, i));
				const char *colon = strchr(d, ':');

				if (add_unique(l, json_object_new_string(colon ? colon + 1 : d)) < 0) {
					json_object_put(l);
					l = NULL;
				}
			}
			if (!l || json_object_object_add(to, kname, l))
				return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		}
	}
	return canonical_text(ref->ctx, out, ret_json, ret_len);
}
