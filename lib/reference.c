// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vouch-reference document (version 2): reference values from Debian packages (read by
 * reference-deb.c) listed with their origin, built, merged, diffed, pruned, loaded and saved.
 * Its canonical JSON and validation are in reference-json.c, Keylime policies in
 * reference-keylime.c.  The document format is described in include/vouch/reference.h and
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

#include <json-c/json.h>

#include "internal.h"
#include "json-internal.h"
#include "reference-internal.h"
#include "vouch/digest.h"
#include "vouch/reference.h"

/* --- the document ----------------------------------------------------------------------- */

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


/* @o[@key], created as an empty object or array when missing */
json_object *ref_member(json_object *o, const char *key, json_type type)
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
	ref->files = ref_member(root, "files", json_type_object);
	if (!ref->files || !ref_member(root, "exclude", json_type_array)) {
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
int ref_add_unique(json_object *list, json_object *e)
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

int ref_add_entry(vouch_reference *ref, const char *path, json_object *e)
{
	json_object *list = ref_member(ref->files, path, json_type_array);

	if (!list) {
		json_object_put(e);
		return -ENOMEM;
	}
	return ref_add_unique(list, e);
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
		if (ref_add_entry(ref, divert(ref, deb->files[i].path, deb->package), e) < 0)
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	}
	pkgs = ref_member(ref->root, "packages", json_type_array);
	p = origin(deb->package, deb->version, deb->architecture);
	if (!pkgs || !p || json_object_object_add(p, "files", json_object_new_int64((int64_t)deb->n_files)) ||
	    ref_add_unique(pkgs, p) < 0)
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
	return ref_add_entry(ref, path, e) < 0 ? ctx_err(ref->ctx, -ENOMEM, "out of memory") : 0;
}

VOUCH_EXPORT int vouch_reference_add_keyring(vouch_reference *ref, const char *name,
					     const struct vouch_digest *digests, size_t n)
{
	json_object *map, *list, *d;

	if (!ref || !name || !*name || !digests || n == 0 || n > DEB_MAX_ALGOS)
		return -EINVAL;
	map = ref_member(ref->root, "keyrings", json_type_object);
	list = map ? ref_member(map, name, json_type_array) : NULL;
	d = digest_array(digests, n);
	if (!list || !d) {
		json_object_put(d);
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < json_object_array_length(d); i++)
		if (ref_add_unique(list, json_object_get(json_object_array_get_idx(d, i))) < 0) {
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
	ex = ref_member(ref->root, "exclude", json_type_array);
	if (!ex || ref_add_unique(ex, json_object_new_string(pattern)) < 0)
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
		    ref_add_unique(to, c) < 0)
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
		to = ref_member(ref->files, name, json_type_array);
		if (!to || merge_list(to, list) < 0)
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	}
	if (json_object_object_get_ex(other->root, "exclude", &v) &&
	    ((to = ref_member(ref->root, "exclude", json_type_array)) == NULL || merge_list(to, v) < 0))
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	if (json_object_object_get_ex(other->root, "packages", &v) &&
	    ((to = ref_member(ref->root, "packages", json_type_array)) == NULL || merge_list(to, v) < 0))
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	for (size_t m = 0; m < ARRAY_SIZE(maps); m++) {
		json_object *mine;

		if (!json_object_object_get_ex(other->root, maps[m], &v))
			continue;
		mine = ref_member(ref->root, maps[m], json_type_object);
		if (!mine)
			return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		json_object_object_foreach(v, k, l)
		{
			to = ref_member(mine, k, json_type_array);
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
	return ref_content_id(ref->ctx, ref->root, buf, size);
}

VOUCH_EXPORT int vouch_reference_format(vouch_reference *ref, char **ret_json, size_t *ret_len)
{
	char id[80];
	int r;

	if (!ref || !ret_json || !ret_len)
		return -EINVAL;
	r = ref_content_id(ref->ctx, ref->root, id, sizeof(id));
	if (r < 0)
		return r;
	if (json_object_object_add(ref->root, "id", json_object_new_string(id)))
		return ctx_err(ref->ctx, -ENOMEM, "out of memory");
	return ref_canonical_text(ref->ctx, ref->root, ret_json, ret_len);
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
	struct strbuf b = { 0 };
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
	qsort(all, n, sizeof(*all), ref_cmp_str);
	sb_add(&b, "", 0);
	for (size_t i = 0; i < n; i++)
		if (!i || strcasecmp(all[i], all[i - 1])) {
			sb_add(&b, all[i], strlen(all[i]));
			sb_add(&b, " ", 1);
		}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

VOUCH_EXPORT int vouch_reference_diff(const vouch_reference *a, const vouch_reference *b,
				      vouch_reference_diff_fn fn, void *userdata, size_t *ret_count)
{
	_cleanup_free_ const char **ka = NULL, **kb = NULL;
	size_t na = 0, nb = 0, i = 0, j = 0, count = 0;
	int r = 0;

	if (!a || !b || !fn)
		return -EINVAL;
	ka = ref_sorted_keys(a->files, &na);
	kb = ref_sorted_keys(b->files, &nb);
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
		pkg = deb_control_field(p, "Package");
		status = deb_control_field(p, "Status");
		ver = deb_control_field(p, "Version");
		arch = deb_control_field(p, "Architecture");
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
		if (!deb_field_ok(pkg) || !deb_field_ok(ver) || !deb_field_ok(arch))
			return ctx_err(ctx, -EBADMSG,
				       "dpkg status: package '%.100s' lacks a valid Version or Architecture",
				       pkg);
		r = fn(userdata, pkg, ver, arch);
		if (r)
			return r;
	}
	return 0;
}

bool ref_entry_expired(json_object *e, int64_t now)
{
	json_object *u;

	return json_object_is_type(e, json_type_object) &&
	       json_object_object_get_ex(e, "until", &u) && json_object_get_int64(u) < now;
}

/* drop the entries of @list whose window has passed; returns how many are left */
static size_t prune_list(json_object *list, int64_t now)
{
	for (size_t i = json_object_array_length(list); i-- > 0;)
		if (ref_entry_expired(json_object_array_get_idx(list, i), now))
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
	keys = ref_sorted_keys(ref->files, &n);
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

		if (ref_entry_expired(e, now) || !json_object_object_get_ex(e, "digests", &ds))
			continue;
		for (size_t k = 0; k < json_object_array_length(ds); k++)
			if (!strcasecmp(json_object_get_string(json_object_array_get_idx(ds, k)), want))
				return 0;
	}
	return -EKEYREJECTED;
}

