// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vouch-reference document as JSON: its canonical form (keys in byte order, no
 * whitespace) and content id, and the validation of a document read from outside.
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

/* --- canonical JSON ------------------------------------------------------------------- */

static void canon_str(struct strbuf *b, const char *s, size_t n)
{
	size_t start = 0;

	sb_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_add(b, s + start, i - start);
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_add(b, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sb_add(b, esc, 6);
		}
		start = i + 1;
	}
	sb_add(b, s + start, n - start);
	sb_add(b, "\"", 1);
}

int ref_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* the keys of @o in byte order: a new array of @o's own strings */
const char **ref_sorted_keys(json_object *o, size_t *ret_n)
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
	qsort(keys, n, sizeof(*keys), ref_cmp_str);
	*ret_n = n;
	return keys;
}

static bool canon(struct strbuf *b, json_object *o, bool skip_id, int depth)
{
	char num[32];

	if (depth > 64)
		return false;
	switch (json_object_get_type(o)) {
	case json_type_null:
		sb_add(b, "null", 4);
		return true;
	case json_type_boolean:
		if (json_object_get_boolean(o))
			sb_add(b, "true", 4);
		else
			sb_add(b, "false", 5);
		return true;
	case json_type_int:
		snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(o));
		sb_add(b, num, strlen(num));
		return true;
	case json_type_string:
		canon_str(b, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		return true;
	case json_type_array:
		sb_add(b, "[", 1);
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			if (i)
				sb_add(b, ",", 1);
			if (!canon(b, json_object_array_get_idx(o, i), false, depth + 1))
				return false;
		}
		sb_add(b, "]", 1);
		return true;
	case json_type_object: {
		_cleanup_free_ const char **keys = NULL;
		bool first = true;
		size_t n = 0;

		keys = ref_sorted_keys(o, &n);
		if (!keys) {
			b->oom = true;
			return false;
		}
		sb_add(b, "{", 1);
		for (size_t i = 0; i < n; i++) {
			json_object *v = NULL;

			if (skip_id && !strcmp(keys[i], "id"))
				continue;
			if (!first)
				sb_add(b, ",", 1);
			first = false;
			canon_str(b, keys[i], strlen(keys[i]));
			sb_add(b, ":", 1);
			json_object_object_get_ex(o, keys[i], &v);
			if (!canon(b, v, false, depth + 1))
				return false;
		}
		sb_add(b, "}", 1);
		return true;
	}
	default: /* doubles have no canonical form here */
		return false;
	}
}

char *reference_canonical(json_object *o, bool skip_id, size_t *ret_len)
{
	struct strbuf b = { 0 };

	if (!canon(&b, o, skip_id, 0) || b.oom) {
		free(b.s);
		return NULL;
	}
	if (!b.s)
		return NULL;
	*ret_len = b.len;
	return b.s;
}

/* the canonical JSON of @o as a text file (a newline after it): a new buffer in @ret_json */
int ref_canonical_text(vouch_ctx *ctx, json_object *o, char **ret_json, size_t *ret_len)
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

int ref_content_id(vouch_ctx *ctx, json_object *root, char *buf, size_t size)
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

/* "ALGO:HEX" with a known algorithm and the digest size of it */
bool ref_digest_string_ok(const char *s)
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

		if (!json_is_string(s) || !ref_digest_string_ok(json_object_get_string(s)))
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
		if (json_object_object_get_ex(e, strings[i], &v) && !json_is_string(v))
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

	if (!json_object_object_get_ex(root, "format", &v) || !json_is_string(v) ||
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
			if (!json_is_string(json_object_array_get_idx(exclude, i)))
				return ctx_err(ctx, -EBADMSG, "exclude must be a list of patterns");
	}
	json_object_object_foreach(files, name, list)
	{
		bool ok = version == 1 ? json_is_string(list) || json_object_is_type(list, json_type_array)
				       : json_object_is_type(list, json_type_array);

		if (ok && !json_is_string(list) && json_object_array_length(list) == 0)
			return ctx_err(ctx, -EBADMSG, "reference for '%.200s' is an empty list", name);
		if (!ok)
			return ctx_err(ctx, -EBADMSG,
				       version == 1
					       ? "reference for '%.200s' must be a digest or a list of them"
					       : "reference for '%.200s' must be a list of entries",
				       name);
		if (json_is_string(list) && !ref_digest_string_ok(json_object_get_string(list)))
			return ctx_err(ctx, -EBADMSG,
				       "reference for '%.200s': not an ALGO:HEX digest of a known algorithm",
				       name);
		for (size_t i = 0; !json_is_string(list) && i < json_object_array_length(list); i++) {
			json_object *e = json_object_array_get_idx(list, i);

			if (version == 1 && !json_is_string(e))
				return ctx_err(ctx, -EBADMSG,
					       "reference for '%.200s' must be a digest or a list of them",
					       name);
			/* as in version 2: a digest that can never match is a broken document */
			if (version == 1 && !ref_digest_string_ok(json_object_get_string(e)))
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

		if (!json_is_string(v))
			return ctx_err(ctx, -EBADMSG, "\"id\" must be a string");
		r = ref_content_id(ctx, root, want, sizeof(want));
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
