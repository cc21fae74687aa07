// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel audit's records: the output of one spatch run parsed into records
 * ("VOUCH\tkind\tfile\tline\tkey=value...", every field percent-encoded by the rules).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>

#include "audit-internal.h"

/* --- spatch output -------------------------------------------------------------------- */

/*
 * Write @n bytes of @s to @out (of @size, at least 1) for a one-line diagnostic or a report:
 * printable ASCII as is, '\' as "\\", every other byte as "\xNN".  Truncates with "...".
 */
void audit_escape(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	if (size < 4) {
		if (size)
			out[0] = '\0';
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[5];
		size_t l = 1;

		if (c == '\\') {
			memcpy(tmp, "\\\\", 2);
			l = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[0] = (char)c;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			l = 4;
		}
		/* room for this byte and for "..." and the NUL after it */
		if (o + l + 4 > size) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, tmp, l);
		o += l;
	}
	out[o] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The rules print every field percent-encoded (vouch_emit in context.cocci): a field holds
 * only the printable ASCII bytes 0x21-0x7e, and '%' followed by two upper-case hex digits
 * stands for one byte.  Tabs separate the fields and a newline ends the record, so no file
 * name, type or expression of the tree can add a field or a record.  Decode @s in place;
 * a raw byte outside that range, a bad escape or an encoded NUL is malformed.
 */
static int field_decode(char *s)
{
	char *w = s;

	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		int hi, lo;

		if (c < 0x21 || c > 0x7e)
			return -EBADMSG;
		if (c != '%') {
			*w++ = (char)c;
			continue;
		}
		hi = hexval(p[1]);
		lo = hi < 0 ? -1 : hexval(p[2]);
		if (lo < 0 || (hi | lo) == 0)
			return -EBADMSG;
		*w++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*w = '\0';
	return 0;
}

static int bad_record(vouch_ctx *ctx, const char *why, const char *line, size_t len)
{
	char esc[200];

	audit_escape(line, len, esc, sizeof(esc));
	return ctx_err(ctx, -EBADMSG, "%s: '%s'", why, esc);
}

static int parse_line(vouch_ctx *ctx, vouch_audit *a, size_t rule, const struct audit_files *given,
		      const char *line, size_t len)
{
	static const struct {
		const char *name;
		enum rec_kind kind;
	} kinds[] = {
		{ "def", REC_DEF },
		{ "call", REC_CALL },
		{ "write", REC_WRITE },
		{ "consumer", REC_CONSUMER },
	};
	struct rec r = { .rule = (uint32_t)rule };
	_cleanup_free_ char *raw = NULL;
	char *f[4 + MAX_KV];
	size_t nf = 0;
	uint32_t ln;
	char *p;
	bool known = false;

	if (memchr(line, '\0', len))
		return bad_record(ctx, "audit record with a NUL byte", line, len);
	raw = mem_alloc(len + 1);
	if (!raw)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	memcpy(raw, line, len);
	raw[len] = '\0';
	for (p = raw;;) {
		char *tab = strchr(p, '\t');

		if (nf == ARRAY_SIZE(f))
			return bad_record(ctx, "audit record with too many fields", line, len);
		f[nf++] = p;
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (nf < 4)
		return bad_record(ctx, "malformed audit record", line, len);
	for (size_t i = 1; i < 4; i++)
		if (field_decode(f[i]) < 0 || !*f[i])
			return bad_record(ctx, "malformed audit record", line, len);
	if (parse_u32(f[3], &ln) < 0)
		return bad_record(ctx, "malformed audit record", line, len);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(f[1], kinds[i].name)) {
			r.kind = kinds[i].kind;
			known = true;
		}
	if (!known)
		return bad_record(ctx, "unknown audit record kind", line, len);
	r.file = f[2];
	if (given) {
		/* a record names one of the files this run of spatch was given, nothing else */
		size_t pl = strlen(given->prefix);
		bool found = false;

		if (!strncmp(r.file, given->prefix, pl)) {
			for (size_t i = 0; i < given->n && !found; i++)
				found = !strcmp(r.file + pl, given->names[i]);
		}
		if (!found)
			return bad_record(ctx, "audit record about a file spatch was not given", line,
					  len);
		r.file += pl;
	}
	r.line = ln;
	for (size_t i = 4; i < nf; i++) {
		char *eq = strchr(f[i], '=');

		if (!eq || eq == f[i])
			return bad_record(ctx, "audit record with a field that is not key=value", line,
					  len);
		*eq = '\0';
		if (field_decode(f[i]) < 0 || field_decode(eq + 1) < 0)
			return bad_record(ctx, "malformed audit record", line, len);
		for (size_t k = 0; k < r.n_kv; k++)
			if (!strcmp(r.k[k], f[i]))
				return bad_record(ctx, "audit record with a key given twice", line, len);
		r.k[r.n_kv] = f[i];
		r.v[r.n_kv++] = eq + 1;
	}
	r.fn = audit_rec_get(&r, "fn");
	r.callee = audit_rec_get(&r, "callee");
	if (!r.fn || (r.kind == REC_CALL && !r.callee))
		return bad_record(ctx, "audit record without a function", line, len);
	if (audit_grow(&a->recs, &a->cap_recs, a->n_recs + 1, sizeof(*a->recs)) < 0)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	r.raw = TAKE_PTR(raw);
	a->recs[a->n_recs++] = r;
	if (r.kind == REC_CONSUMER && rule < a->n_rules)
		a->rules[rule].matches++;
	return 0;
}

int audit_parse(vouch_ctx *ctx, vouch_audit *a, size_t rule, const struct audit_files *given,
		const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;

		/*
		 * Anything else on stdout (spatch chatter) is not ours; but every line that
		 * starts like a record must be a well-formed one.
		 */
		if (n >= 5 && !memcmp(buf + off, "VOUCH", 5)) {
			int r;

			if (n == 5 || buf[off + 5] != '\t')
				return bad_record(ctx, "malformed audit record", buf + off, n);
			r = parse_line(ctx, a, rule, given, buf + off, n);
			if (r < 0)
				return r;
		}
		off += n + 1;
	}
	return 0;
}
