// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Keylime runtime policies and vouch-reference documents, both ways: a Keylime policy's
 * digests and excludes read into a document, a document written as a Keylime policy.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"
#include "json-internal.h"
#include "reference-internal.h"
#include "vouch/digest.h"
#include "vouch/reference.h"

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
			return ref_digest_string_ok(out) ? 0 : -EBADMSG;
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

		if (!json_is_string(s) || json_object_get_string_len(s) > 2 * VOUCH_HASH_MAX_SIZE ||
		    keylime_digest(json_object_get_string(s), d, sizeof(d)) < 0)
			return ctx_err(ctx, -EBADMSG,
				       "keylime %s '%.200s': '%.140s' is not a SHA-1/SHA-2 hex digest",
				       what, name, json_is_string(s) ? json_object_get_string(s) : "(not a string)");
		/* lower case, as vouch writes digests */
		for (char *p = strchr(d, ':'); *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
		if (ref_add_unique(out, json_object_new_string(d)) < 0)
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
		if (ref_add_entry(ref, path, e) < 0)
			return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	if (json_object_object_get_ex(root, "excludes", &excludes)) {
		if (!json_object_is_type(excludes, json_type_array))
			return ctx_err(ctx, -EBADMSG, "keylime policy: \"excludes\" must be a list");
		for (size_t i = 0; i < json_object_array_length(excludes); i++) {
			json_object *s = json_object_array_get_idx(excludes, i);
			char glob[DEB_PATH_MAX];

			if (!json_is_string(s))
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
			if (!mine && !(mine = ref_member(ref->root, maps[m], json_type_object))) {
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
			const char *k = json_is_string(s) ? json_object_get_string(s) : NULL;

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
static int exclude_regex(const char *glob, struct strbuf *b)
{
	size_t n = strlen(glob);

	sb_add(b, "^", 1);
	for (size_t i = 0; i < n; i++) {
		char c = glob[i];

		if (c == '*')
			sb_add(b, ".*", 2);
		else if (c == '?')
			sb_add(b, ".", 1);
		else if (c == '[' || c == ']')
			return -EOPNOTSUPP; /* bracket expressions differ between the two */
		else if (c == '\\' && i + 1 < n) {
			char e[2] = { '\\', glob[++i] };

			sb_add(b, e, 2);
		} else if (strchr(".^$+(){}|\\", c)) {
			char e[2] = { '\\', c };

			sb_add(b, e, 2);
		} else {
			sb_add(b, &c, 1);
		}
	}
	/* a trailing '/' is a prefix (re.match needs no more); anything else is whole */
	if (!n || glob[n - 1] != '/')
		sb_add(b, "$", 1);
	return b->oom ? -ENOMEM : 0;
}

/* bare hex of the valid digests of @list's entries at @now into @to */
static int keylime_hexes(json_object *list, int64_t now, json_object *to)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i), *ds;

		if (json_is_string(e)) {
			ds = NULL;
		} else if (ref_entry_expired(e, now) || !json_object_object_get_ex(e, "digests", &ds)) {
			continue;
		}
		for (size_t k = 0; k < (ds ? json_object_array_length(ds) : 1); k++) {
			const char *s = json_object_get_string(ds ? json_object_array_get_idx(ds, k) : e);
			const char *colon = strchr(s, ':');

			if (!colon || ref_add_unique(to, json_object_new_string(colon + 1)) < 0)
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
	meta = ref_member(out, "meta", json_type_object);
	digests = ref_member(out, "digests", json_type_object);
	excludes = ref_member(out, "excludes", json_type_array);
	ima = ref_member(out, "ima", json_type_object);
	if (!meta || !digests || !excludes || !ima ||
	    json_object_object_add(meta, "version", json_object_new_int(1)) ||
	    json_object_object_add(out, "release", json_object_new_int(0)) ||
	    json_object_object_add(out, "verification-keys", json_object_new_string("")) ||
	    !ref_member(ima, "ignored_keyrings", json_type_array) ||
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
			struct strbuf b = { 0 };
			int r = exclude_regex(g, &b);

			if (r == 0 && b.s && ref_add_unique(excludes, json_object_new_string(b.s)) < 0)
				r = -ENOMEM;
			free(b.s);
			if (r == -EOPNOTSUPP)
				return ctx_err(ref->ctx, r,
					       "exclude '%.200s': a bracket expression has no exact "
					       "Keylime equivalent; refusing",
					       g);
			if (r < 0)
				return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		}
	for (size_t m = 0; m < ARRAY_SIZE(maps); m++) {
		json_object *to = ref_member(out, maps[m], json_type_object);

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

				if (ref_add_unique(l, json_object_new_string(colon ? colon + 1 : d)) < 0) {
					json_object_put(l);
					l = NULL;
				}
			}
			if (!l || json_object_object_add(to, kname, l))
				return ctx_err(ref->ctx, -ENOMEM, "out of memory");
		}
	}
	return ref_canonical_text(ref->ctx, out, ret_json, ret_len);
}
