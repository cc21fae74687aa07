// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * JSON documents read from untrusted files: a whole object, nothing but whitespace after it,
 * read strictly.
 *
 * json-c, even in its strict mode, takes single-quoted keys, "00" and "-01", NaN and
 * Infinity, raw control characters, clamps integers past 64 bits, and keeps the last of two
 * equal keys.  So a small RFC 8259 scanner checks the grammar first and names the trick it
 * refuses; json-c then builds the tree; and the members the scanner counted must all be in
 * the tree, else some object named a key twice (found by a second walk, only then).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "json-internal.h"

struct scan {
	const char *s;
	size_t n, i;
	int depth, max_depth;
	uint64_t members; /* object members seen, all objects together */
	char *err;
	size_t err_size;
};

PRINTF_FMT(2, 3) static int scan_fail(struct scan *sc, const char *fmt, ...)
{
	va_list ap;
	size_t k;

	if (!sc->err_size)
		return -EBADMSG;
	va_start(ap, fmt);
	vsnprintf(sc->err, sc->err_size, fmt, ap);
	va_end(ap);
	k = strlen(sc->err);
	snprintf(sc->err + k, sc->err_size - k, " at byte %zu", sc->i);
	return -EBADMSG;
}

static int peek(const struct scan *sc)
{
	return sc->i < sc->n ? (unsigned char)sc->s[sc->i] : -1;
}

static int skip_ws(struct scan *sc)
{
	for (; sc->i < sc->n; sc->i++) {
		char c = sc->s[sc->i];

		if (c == '/' && sc->i + 1 < sc->n && (sc->s[sc->i + 1] == '*' || sc->s[sc->i + 1] == '/'))
			return scan_fail(sc, "comments are not JSON");
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
	}
	return 0;
}

static bool is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* a string; @ret_escaped: whether it has any backslash (so its raw bytes are not its value) */
static int scan_string(struct scan *sc, bool *ret_escaped)
{
	bool escaped = false;

	if (peek(sc) == '\'')
		return scan_fail(sc, "single quotes are not JSON");
	if (peek(sc) != '"')
		return scan_fail(sc, "a string expected");
	for (sc->i++; sc->i < sc->n; sc->i++) {
		unsigned char c = (unsigned char)sc->s[sc->i];

		if (c == '"') {
			sc->i++;
			if (ret_escaped)
				*ret_escaped = escaped;
			return 0;
		}
		if (c < 0x20)
			return scan_fail(sc, "control character 0x%02x in a string", c);
		if (c != '\\')
			continue;
		escaped = true;
		if (++sc->i >= sc->n)
			break;
		c = (unsigned char)sc->s[sc->i];
		if (c == 'u') {
			if (sc->n - sc->i < 5 || !is_hex(sc->s[sc->i + 1]) || !is_hex(sc->s[sc->i + 2]) ||
			    !is_hex(sc->s[sc->i + 3]) || !is_hex(sc->s[sc->i + 4]))
				return scan_fail(sc, "bad \\u escape");
			if (!memcmp(sc->s + sc->i + 1, "0000", 4))
				return scan_fail(sc, "NUL (\\u0000) in a string");
			sc->i += 4;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return scan_fail(sc, "bad escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
		}
	}
	return scan_fail(sc, "unterminated string");
}

/* RFC 8259 §6, and an integer must fit int64_t */
static int scan_number(struct scan *sc)
{
	size_t start = sc->i;
	bool neg = false, integer = true;
	uint64_t mag = 0, lim;

	if (peek(sc) == '-') {
		neg = true;
		sc->i++;
	}
	if (peek(sc) == '0' && sc->i + 1 < sc->n && sc->s[sc->i + 1] >= '0' && sc->s[sc->i + 1] <= '9')
		return scan_fail(sc, "leading zero in a number");
	if (!(peek(sc) >= '0' && peek(sc) <= '9'))
		return scan_fail(sc, "a digit expected");
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; peek(sc) >= '0' && peek(sc) <= '9'; sc->i++) {
		unsigned d = (unsigned)(peek(sc) - '0');

		if (mag > (lim - d) / 10) {
			/* a fraction or exponent may follow: then it is a double, checked by type */
			mag = UINT64_MAX;
			continue;
		}
		if (mag != UINT64_MAX)
			mag = mag * 10 + d;
	}
	if (peek(sc) == '.') {
		integer = false;
		sc->i++;
		if (!(peek(sc) >= '0' && peek(sc) <= '9'))
			return scan_fail(sc, "a digit expected after '.'");
		while (peek(sc) >= '0' && peek(sc) <= '9')
			sc->i++;
	}
	if (peek(sc) == 'e' || peek(sc) == 'E') {
		integer = false;
		sc->i++;
		if (peek(sc) == '+' || peek(sc) == '-')
			sc->i++;
		if (!(peek(sc) >= '0' && peek(sc) <= '9'))
			return scan_fail(sc, "a digit expected in the exponent");
		while (peek(sc) >= '0' && peek(sc) <= '9')
			sc->i++;
	}
	if (integer && mag == UINT64_MAX) {
		sc->i = start;
		return scan_fail(sc, "integer out of range");
	}
	return 0;
}

static int scan_value(struct scan *sc);

static int scan_container(struct scan *sc, char close)
{
	int r;

	if (++sc->depth > sc->max_depth)
		return scan_fail(sc, "nesting deeper than %d levels", sc->max_depth);
	sc->i++;
	if ((r = skip_ws(sc)) < 0)
		return r;
	if (peek(sc) == close) {
		sc->i++;
		sc->depth--;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if ((r = scan_string(sc, NULL)) < 0 || (r = skip_ws(sc)) < 0)
				return r;
			if (peek(sc) != ':')
				return scan_fail(sc, "':' expected after a key");
			sc->i++;
			sc->members++;
		}
		if ((r = skip_ws(sc)) < 0 || (r = scan_value(sc)) < 0 || (r = skip_ws(sc)) < 0)
			return r;
		if (peek(sc) == close) {
			sc->i++;
			sc->depth--;
			return 0;
		}
		if (peek(sc) != ',')
			return scan_fail(sc, "',' or '%c' expected", close);
		sc->i++;
		if ((r = skip_ws(sc)) < 0)
			return r;
		if (peek(sc) == close)
			return scan_fail(sc, "trailing comma");
	}
}

static int scan_literal(struct scan *sc, const char *word)
{
	size_t k = strlen(word);

	if (sc->n - sc->i < k || memcmp(sc->s + sc->i, word, k))
		return scan_fail(sc, "unexpected character");
	sc->i += k;
	return 0;
}

static int scan_value(struct scan *sc)
{
	int c = peek(sc);

	switch (c) {
	case '{':
		return scan_container(sc, '}');
	case '[':
		return scan_container(sc, ']');
	case '"':
	case '\'':
		return scan_string(sc, NULL);
	case 't':
		return scan_literal(sc, "true");
	case 'f':
		return scan_literal(sc, "false");
	case 'n':
		return scan_literal(sc, "null");
	case -1:
		return scan_fail(sc, "unexpected end");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return scan_number(sc);
		if (c >= 0x21 && c < 0x7f)
			return scan_fail(sc, "unexpected character '%c'", c);
		return scan_fail(sc, "unexpected byte 0x%02x", (unsigned)c);
	}
}

static uint64_t tree_members(json_object *o)
{
	uint64_t n = 0;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			n += 1 + tree_members(val);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += tree_members(json_object_array_get_idx(o, i));
	}
	return n;
}

/* past the white space, a ',' if there is one, and the white space after it */
static void skip_separator(struct scan *sc)
{
	skip_ws(sc);
	if (peek(sc) == ',')
		sc->i++;
	skip_ws(sc);
}

/*
 * Only when the counts differ: walk the text beside the tree to the first object that has
 * fewer members in the tree than in the text, and name its first key that is not where the
 * tree has it (json-c keeps a repeated key at its first place).  The grammar is known good.
 */
static int find_duplicate(struct scan *sc, json_object *node)
{
	int r;

	if (peek(sc) != '{' && peek(sc) != '[')
		return scan_value(sc);
	if (peek(sc) == '[') {
		size_t k = 0;

		sc->i++;
		skip_ws(sc);
		while (peek(sc) != ']') {
			if ((r = find_duplicate(sc, json_object_array_get_idx(node, k++))) < 0)
				return r;
			skip_separator(sc);
		}
		sc->i++;
		return 0;
	} else {
		struct json_object_iterator it, end;
		size_t at = sc->i, count = 0;
		struct scan sub = *sc;

		if (!json_object_is_type(node, json_type_object))
			return scan_fail(sc, "duplicate key");
		it = json_object_iter_begin(node);
		end = json_object_iter_end(node);

		/* how many members has this object in the text? */
		sub.err_size = 0;
		sub.depth = 0;
		sub.members = 0;
		sub.max_depth = INT32_MAX;
		sub.i++;
		skip_ws(&sub);
		while (peek(&sub) != '}') {
			scan_string(&sub, NULL);
			skip_ws(&sub);
			sub.i++;
			skip_ws(&sub);
			scan_value(&sub);
			skip_ws(&sub);
			if (peek(&sub) == ',')
				sub.i++;
			skip_ws(&sub);
			count++;
		}
		if (count != (size_t)json_object_object_length(node)) {
			/* name the first key out of place, when its bytes are its value */
			sc->i++;
			for (;;) {
				size_t k0, kn;
				bool escaped;

				skip_ws(sc);
				if (peek(sc) != '"') {
					sc->i = at;
					return scan_fail(sc, "duplicate key in the object");
				}
				k0 = sc->i + 1;
				scan_string(sc, &escaped);
				kn = sc->i - 1 - k0;
				if (json_object_iter_equal(&it, &end) ||
				    strlen(json_object_iter_peek_name(&it)) != kn ||
				    memcmp(json_object_iter_peek_name(&it), sc->s + k0, kn)) {
					sc->i = k0 - 1;
					if (escaped) {
						sc->i = at;
						return scan_fail(sc, "duplicate key (spelt with escapes) in the "
								     "object");
					}
					return scan_fail(sc, "duplicate key '%.*s'", (int)(kn > 200 ? 200 : kn),
							 sc->s + k0);
				}
				json_object_iter_next(&it);
				skip_ws(sc);
				sc->i++;
				skip_ws(sc);
				scan_value(sc);
				skip_ws(sc);
				sc->i++;
			}
		}
		sc->i++;
		skip_ws(sc);
		while (peek(sc) != '}') {
			scan_string(sc, NULL);
			skip_ws(sc);
			sc->i++;
			skip_ws(sc);
			if ((r = find_duplicate(sc, json_object_iter_peek_value(&it))) < 0)
				return r;
			json_object_iter_next(&it);
			skip_separator(sc);
		}
		sc->i++;
		return 0;
	}
}

int json_parse_object(const char *json, size_t len, size_t max, int depth, json_object **ret,
		      char *err, size_t err_size)
{
	struct scan sc = { .s = json, .n = len, .max_depth = depth, .err = err, .err_size = err_size };
	struct json_tokener *tok;
	json_object *root;
	int r;

	if (err_size)
		err[0] = 0;
	*ret = NULL;
	if (len > max || len > INT32_MAX)
		return scan_fail(&sc, "document of %zu bytes larger than %zu", len, max);
	if ((r = skip_ws(&sc)) < 0)
		return r;
	if (peek(&sc) != '{')
		return scan_fail(&sc, "not a JSON object");
	if ((r = scan_value(&sc)) < 0 || (r = skip_ws(&sc)) < 0)
		return r;
	if (sc.i < len)
		return scan_fail(&sc, "data after the object");

	tok = json_tokener_new_ex(depth + 1);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (!root) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		/* the grammar is good: what json-c refuses here is bad UTF-8, or memory */
		sc.i = json_tokener_get_parse_end(tok);
		json_tokener_free(tok);
		return scan_fail(&sc, "%s", json_tokener_error_desc(e));
	}
	json_tokener_free(tok);
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		sc.i = 0;
		return scan_fail(&sc, "not a JSON object");
	}
	if (tree_members(root) != sc.members) {
		struct scan again = { .s = json, .n = len, .max_depth = depth, .err = err,
				      .err_size = err_size };

		skip_ws(&again);
		r = find_duplicate(&again, root);
		json_object_put(root);
		if (r == 0) {
			again.i = 0;
			return scan_fail(&again, "duplicate key");
		}
		return r;
	}
	*ret = root;
	return 0;
}

int json_get_uint(json_object *v, uint64_t max, uint64_t *ret)
{
	int64_t i;

	if (!json_object_is_type(v, json_type_int))
		return -EBADMSG;
	/* the scanner refused integers outside int64_t, so this is the number written */
	i = json_object_get_int64(v);
	if (i < 0 || (uint64_t)i > max)
		return -ERANGE;
	*ret = (uint64_t)i;
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode_strict(const char *s, size_t n, uint8_t **ret, size_t *ret_len)
{
	size_t pad = 0, out = 0;
	uint8_t *buf;

	if (n % 4)
		return -EBADMSG;
	if (n && s[n - 1] == '=')
		pad = n >= 2 && s[n - 2] == '=' ? 2 : 1;
	buf = mem_alloc(n / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t v = 0;
		size_t k = i + 4 == n ? 4 - pad : 4;

		for (size_t j = 0; j < 4; j++) {
			int d = j < k ? b64_value(s[i + j]) : 0;

			if (d < 0) {
				free(buf);
				return -EBADMSG;
			}
			v = v << 6 | (uint32_t)d;
		}
		/* the bits past the last whole byte must be zero: one encoding per byte string */
		if ((k == 2 && (v & 0xffff)) || (k == 3 && (v & 0xff))) {
			free(buf);
			return -EBADMSG;
		}
		buf[out++] = (uint8_t)(v >> 16);
		if (k > 2)
			buf[out++] = (uint8_t)(v >> 8);
		if (k > 3)
			buf[out++] = (uint8_t)v;
	}
	*ret = buf;
	*ret_len = out;
	return 0;
}

VOUCH_EXPORT int vouch_base64_decode(const char *s, size_t n, uint8_t **ret, size_t *ret_len)
{
	if ((!s && n) || !ret || !ret_len)
		return -EINVAL;
	return base64_decode_strict(s, n, ret, ret_len);
}
