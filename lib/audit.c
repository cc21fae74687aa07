// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Kernel consumer audit: run the Coccinelle rules of share/vouch/audit over a kernel
 * tree, then merge what they report into one row per consumer with its entry point,
 * the hooks on its path and a verdict (FORMATS.md section 9).
 *
 * The rules only find the consumer sites; each run also reports every function
 * definition, every call and every ".write ="/".store =" initializer of the files it
 * parsed (context.cocci).  The merge walks that call graph: up from the consumer to a
 * SYSCALL_DEFINE or a write handler (the entry point), down from it to the LSM/IMA
 * hooks it reaches.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit-internal.h"
#include "config.h"

extern char **environ;

#define MAX_KV 8
#define MAX_UP_DEPTH 6
#define MAX_DOWN_DEPTH 5
#define MAX_ENTRIES 8
#define FILES_PER_JOB 3
#define MAX_RULE_SIZE (1U << 20)
#define MAX_SOURCE_SIZE ((size_t)64 << 20)
#define MAX_TREE_DEPTH 64	/* linux 6.1 nests 9 deep */

enum rec_kind { REC_DEF, REC_CALL, REC_WRITE, REC_CONSUMER };

struct rec {
	enum rec_kind kind;
	uint32_t rule;
	uint32_t line;
	const char *file;
	const char *fn;
	const char *callee;	/* REC_CALL */
	size_t n_kv;
	const char *k[MAX_KV], *v[MAX_KV];
	char *raw;		/* owns the strings above */
};

struct vouch_audit {
	char *tree;
	struct rec *recs;
	size_t n_recs, cap_recs;
	/* indexes into recs, sorted for lookups */
	size_t *calls_by_fn, *calls_by_callee, *defs, *writes;
	size_t n_calls, n_defs, n_writes;
	struct vouch_audit_consumer *cons;
	char **cons_strings;	/* owned strings of cons[] */
	size_t n_cons, n_cons_strings;
	struct vouch_audit_rule_stat *rules;
	char **rule_strings;
	size_t n_rules;
	struct vouch_audit_stats stats;
	char **hook_names;	/* declared in include/linux/{security,ima}.h; NULL = by prefix */
	size_t n_hook_names;
	struct vouch_audit_skipped *skipped;	/* paths owned (escaped copies) */
	size_t n_skipped, cap_skipped;
};

static uint64_t now_msec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	size_t n;
	void *q;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	q = mem_reallocarray(*p, n, size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static const char *rec_get(const struct rec *r, const char *key)
{
	for (size_t i = 0; i < r->n_kv; i++)
		if (!strcmp(r->k[i], key))
			return r->v[i];
	return NULL;
}

/* --- result object ------------------------------------------------------------------ */

int audit_new(vouch_ctx *ctx, const char *tree, size_t n_rules, const char *const *names,
	      vouch_audit **ret)
{
	vouch_audit *a = mem_zalloc(sizeof(*a));

	if (!a)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	a->tree = mem_strdup(tree);
	a->rules = mem_reallocarray(NULL, n_rules ? n_rules : 1, sizeof(*a->rules));
	a->rule_strings = mem_reallocarray(NULL, 2 * (n_rules ? n_rules : 1), sizeof(char *));
	if (!a->tree || !a->rules || !a->rule_strings) {
		vouch_audit_free(a);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	memset(a->rules, 0, (n_rules ? n_rules : 1) * sizeof(*a->rules));
	memset(a->rule_strings, 0, 2 * (n_rules ? n_rules : 1) * sizeof(char *));
	a->n_rules = n_rules;
	for (size_t i = 0; i < n_rules; i++) {
		a->rule_strings[2 * i] = mem_strdup(names[i]);
		a->rule_strings[2 * i + 1] = mem_strdup("");
		if (!a->rule_strings[2 * i] || !a->rule_strings[2 * i + 1]) {
			vouch_audit_free(a);
			return ctx_err(ctx, -ENOMEM, "out of memory");
		}
		a->rules[i].name = a->rule_strings[2 * i];
		a->rules[i].summary = a->rule_strings[2 * i + 1];
	}
	*ret = a;
	return 0;
}

static int audit_set_summary(vouch_audit *a, size_t rule, const char *summary)
{
	char *s = mem_strdup(summary);

	if (!s)
		return -ENOMEM;
	free(a->rule_strings[2 * rule + 1]);
	a->rule_strings[2 * rule + 1] = s;
	a->rules[rule].summary = s;
	return 0;
}

VOUCH_EXPORT void vouch_audit_free(vouch_audit *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_recs; i++)
		free(a->recs[i].raw);
	free(a->recs);
	free(a->calls_by_fn);
	free(a->calls_by_callee);
	free(a->defs);
	free(a->writes);
	for (size_t i = 0; i < a->n_cons_strings; i++)
		free(a->cons_strings[i]);
	free(a->cons_strings);
	free(a->cons);
	for (size_t i = 0; i < 2 * a->n_rules; i++)
		free(a->rule_strings[i]);
	free(a->rule_strings);
	free(a->rules);
	for (size_t i = 0; i < a->n_hook_names; i++)
		free(a->hook_names[i]);
	free(a->hook_names);
	for (size_t i = 0; i < a->n_skipped; i++)
		free((char *)a->skipped[i].path);
	free(a->skipped);
	free(a->tree);
	free(a);
}

VOUCH_EXPORT size_t vouch_audit_consumer_count(const vouch_audit *a)
{
	return a ? a->n_cons : 0;
}

VOUCH_EXPORT const struct vouch_audit_consumer *vouch_audit_consumer_get(const vouch_audit *a,
									   size_t i)
{
	return a && i < a->n_cons ? &a->cons[i] : NULL;
}

VOUCH_EXPORT size_t vouch_audit_rule_count(const vouch_audit *a)
{
	return a ? a->n_rules : 0;
}

VOUCH_EXPORT const struct vouch_audit_rule_stat *vouch_audit_rule_get(const vouch_audit *a,
									size_t i)
{
	return a && i < a->n_rules ? &a->rules[i] : NULL;
}

VOUCH_EXPORT size_t vouch_audit_skipped_count(const vouch_audit *a)
{
	return a ? a->n_skipped : 0;
}

VOUCH_EXPORT const struct vouch_audit_skipped *vouch_audit_skipped_get(const vouch_audit *a,
									 size_t i)
{
	return a && i < a->n_skipped ? &a->skipped[i] : NULL;
}

/* Note that the audit could not look at @rel (of @len bytes): kept escaped, never parsed. */
static int audit_skip(vouch_audit *a, const char *rel, size_t len, const char *reason)
{
	size_t size = 4 * len + 4;
	char *esc;

	if (grow(&a->skipped, &a->cap_skipped, a->n_skipped + 1, sizeof(*a->skipped)) < 0)
		return -ENOMEM;
	esc = mem_alloc(size);
	if (!esc)
		return -ENOMEM;
	audit_escape(rel, len, esc, size);
	a->skipped[a->n_skipped++] = (struct vouch_audit_skipped){ .path = esc, .reason = reason };
	return 0;
}

VOUCH_EXPORT const struct vouch_audit_stats *vouch_audit_get_stats(const vouch_audit *a)
{
	return a ? &a->stats : NULL;
}

VOUCH_EXPORT const char *vouch_audit_verdict_name(int verdict)
{
	static const char *const names[] = {
		[VOUCH_AUDIT_MEASURED] = "measured",
		[VOUCH_AUDIT_MEASURED_ONLY] = "measured-only",
		[VOUCH_AUDIT_DENY_ONLY] = "deny-only",
		[VOUCH_AUDIT_NO_HOOK] = "no-hook",
	};

	if (verdict < 0 || verdict >= _VOUCH_AUDIT_VERDICT_MAX)
		return "unknown";
	return names[verdict];
}

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
	r.fn = rec_get(&r, "fn");
	r.callee = rec_get(&r, "callee");
	if (!r.fn || (r.kind == REC_CALL && !r.callee))
		return bad_record(ctx, "audit record without a function", line, len);
	if (grow(&a->recs, &a->cap_recs, a->n_recs + 1, sizeof(*a->recs)) < 0)
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

/* --- merge: call graph walks ----------------------------------------------------------- */

static const vouch_audit *sort_a;

static int cmp_by_fn(const void *x, const void *y)
{
	const struct rec *a = &sort_a->recs[*(const size_t *)x], *b = &sort_a->recs[*(const size_t *)y];

	return strcmp(a->fn, b->fn);
}

static int cmp_by_callee(const void *x, const void *y)
{
	const struct rec *a = &sort_a->recs[*(const size_t *)x], *b = &sort_a->recs[*(const size_t *)y];

	return strcmp(a->callee, b->callee);
}

/* [lo, hi) of the index array @idx whose key (fn or callee) equals @name */
static void range(const vouch_audit *a, const size_t *idx, size_t n, bool callee, const char *name,
		  size_t *lo, size_t *hi)
{
	size_t l = 0, h = n;

	while (l < h) {
		size_t m = l + (h - l) / 2;
		const struct rec *r = &a->recs[idx[m]];

		if (strcmp(callee ? r->callee : r->fn, name) < 0)
			l = m + 1;
		else
			h = m;
	}
	*lo = l;
	while (l < n && !strcmp(callee ? a->recs[idx[l]].callee : a->recs[idx[l]].fn, name))
		l++;
	*hi = l;
}

static int build_indexes(vouch_ctx *ctx, vouch_audit *a)
{
	size_t nc = 0, nd = 0, nw = 0;

	for (size_t i = 0; i < a->n_recs; i++) {
		nc += a->recs[i].kind == REC_CALL;
		nd += a->recs[i].kind == REC_DEF;
		nw += a->recs[i].kind == REC_WRITE;
	}
	a->calls_by_fn = mem_reallocarray(NULL, nc + 1, sizeof(size_t));
	a->calls_by_callee = mem_reallocarray(NULL, nc + 1, sizeof(size_t));
	a->defs = mem_reallocarray(NULL, nd + 1, sizeof(size_t));
	a->writes = mem_reallocarray(NULL, nw + 1, sizeof(size_t));
	if (!a->calls_by_fn || !a->calls_by_callee || !a->defs || !a->writes)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	for (size_t i = 0; i < a->n_recs; i++) {
		switch (a->recs[i].kind) {
		case REC_CALL:
			a->calls_by_fn[a->n_calls] = i;
			a->calls_by_callee[a->n_calls++] = i;
			break;
		case REC_DEF:
			a->defs[a->n_defs++] = i;
			break;
		case REC_WRITE:
			a->writes[a->n_writes++] = i;
			break;
		default:
			break;
		}
	}
	sort_a = a;
	qsort(a->calls_by_fn, a->n_calls, sizeof(size_t), cmp_by_fn);
	qsort(a->calls_by_callee, a->n_calls, sizeof(size_t), cmp_by_callee);
	qsort(a->defs, a->n_defs, sizeof(size_t), cmp_by_fn);
	qsort(a->writes, a->n_writes, sizeof(size_t), cmp_by_fn);
	sort_a = NULL;
	return 0;
}

/* a node of the call graph: a function in a file */
struct node {
	const char *file;
	const char *fn;
};

struct nodes {
	struct node *v;
	size_t n, cap;
};

static bool nodes_has(const struct nodes *s, const char *file, const char *fn)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].fn, fn) && !strcmp(s->v[i].file, file))
			return true;
	return false;
}

static int nodes_add(struct nodes *s, const char *file, const char *fn)
{
	if (nodes_has(s, file, fn))
		return 0;
	if (grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v)) < 0)
		return -ENOMEM;
	s->v[s->n++] = (struct node){ file, fn };
	return 1;
}

/* Where is @fn defined?  The same file first (static functions), else everywhere. */
static int resolve(const vouch_audit *a, const char *file, const char *fn, struct nodes *out)
{
	size_t lo, hi;
	bool same = false;

	range(a, a->defs, a->n_defs, false, fn, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		if (!strcmp(a->recs[a->defs[i]].file, file))
			same = true;
	for (size_t i = lo; i < hi; i++) {
		const struct rec *d = &a->recs[a->defs[i]];

		if (same && strcmp(d->file, file))
			continue;
		if (nodes_add(out, d->file, fn) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* a string set that keeps insertion order */
struct strs {
	char **v;
	size_t n, cap;
};

static int strs_add(struct strs *s, const char *str)
{
	char *d;

	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return 0;
	if (grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v)) < 0)
		return -ENOMEM;
	d = mem_strdup(str);
	if (!d)
		return -ENOMEM;
	s->v[s->n++] = d;
	return 0;
}

static void strs_done(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct strs){ 0 };
}

static bool strs_has(const struct strs *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return true;
	return false;
}

/* Join with @sep into a new string. */
static char *strs_join(const struct strs *s, const char *sep)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->v[i]) + strlen(sep);
	out = mem_alloc(len);
	if (!out)
		return NULL;
	p = out;
	*p = '\0';
	for (size_t i = 0; i < s->n; i++) {
		size_t l = strlen(s->v[i]);

		if (i) {
			memcpy(p, sep, strlen(sep));
			p += strlen(sep);
		}
		memcpy(p, s->v[i], l);
		p += l;
	}
	*p = '\0';
	return out;
}

static bool is_hook(const vouch_audit *a, const char *name)
{
	if (!a->hook_names)
		return !strncmp(name, "security_", 9) || !strncmp(name, "ima_", 4) ||
		       !strncmp(name, "evm_", 4);
	for (size_t i = 0; i < a->n_hook_names; i++)
		if (!strcmp(a->hook_names[i], name))
			return true;
	return false;
}

/* Collect the hooks reachable from @start (calls, then the callees' definitions). */
static int find_hooks(const vouch_audit *a, struct nodes *todo, struct strs *hooks)
{
	size_t begin = 0;

	for (int depth = 0; depth <= MAX_DOWN_DEPTH && begin < todo->n; depth++) {
		size_t end = todo->n;

		for (size_t k = begin; k < end; k++) {
			struct node nd = todo->v[k];
			size_t lo, hi;

			range(a, a->calls_by_fn, a->n_calls, false, nd.fn, &lo, &hi);
			for (size_t i = lo; i < hi; i++) {
				const struct rec *c = &a->recs[a->calls_by_fn[i]];

				if (strcmp(c->file, nd.file))
					continue;
				if (is_hook(a, c->callee)) {
					if (strs_add(hooks, c->callee) < 0)
						return -ENOMEM;
					continue;
				}
				if (depth < MAX_DOWN_DEPTH && resolve(a, c->file, c->callee, todo) < 0)
					return -ENOMEM;
			}
		}
		begin = end;
	}
	return 0;
}

/* hooks that @fn in @file calls itself */
static int direct_hooks(const vouch_audit *a, const char *file, const char *fn, struct strs *hooks)
{
	size_t lo, hi;

	range(a, a->calls_by_fn, a->n_calls, false, fn, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		const struct rec *c = &a->recs[a->calls_by_fn[i]];

		if (!strcmp(c->file, file) && is_hook(a, c->callee) && strs_add(hooks, c->callee) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* --- entry points: text of the source around a definition ------------------------------ */

struct src_cache {
	char *path;
	uint8_t *buf;
	size_t len;
};

/*
 * Read the regular file @rel of @tree without following a symlink at any depth, without
 * '..' and without blocking on a FIFO: the tree is the attacker's, the reader is root.
 */
static int tree_read(vouch_ctx *ctx, const char *tree, const char *rel, size_t max,
		     uint8_t **ret_buf, size_t *ret_len)
{
	_cleanup_close_ int fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *p = rel;

	if (fd < 0)
		return ctx_err(ctx, -errno, "cannot open kernel tree '%s': %m", tree);
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char comp[256];
		int nfd;

		if (n == 0 || n >= sizeof(comp) || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return ctx_err(ctx, -EINVAL, "not a path inside the tree");
		memcpy(comp, p, n);
		comp[n] = '\0';
		nfd = openat(fd, comp, slash ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC :
					       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (nfd < 0)
			return ctx_err(ctx, -errno, "cannot open a file of the tree: %m");
		close(fd);
		fd = nfd;
		if (!slash)
			break;
		p = slash + 1;
	}
	return pread_fd_all(ctx, fd, "a file of the tree", max, ret_buf, ret_len);
}

static const char *src_text(vouch_ctx *ctx, const vouch_audit *a, struct src_cache *c,
			    const char *file, size_t *ret_len)
{
	if (c->path && !strcmp(c->path, file)) {
		*ret_len = c->len;
		return (const char *)c->buf;
	}
	free(c->path);
	free(c->buf);
	*c = (struct src_cache){ 0 };
	if (tree_read(ctx, a->tree, file, MAX_SOURCE_SIZE, &c->buf, &c->len) < 0) {
		vouch_ctx_clear_error(ctx);
		return NULL;
	}
	c->path = mem_strdup(file);
	if (!c->path)
		return NULL;
	*ret_len = c->len;
	return (const char *)c->buf;
}

/* the text of line @line (1-based) */
static const char *line_at(const char *t, size_t len, uint32_t line, size_t *ret_n)
{
	size_t off = 0;

	for (uint32_t l = 1; l < line && off < len; l++) {
		const char *nl = memchr(t + off, '\n', len - off);

		if (!nl)
			return NULL;
		off = (size_t)(nl - t) + 1;
	}
	if (off >= len)
		return NULL;
	{
		const char *nl = memchr(t + off, '\n', len - off);

		*ret_n = nl ? (size_t)(nl - (t + off)) : len - off;
	}
	return t + off;
}

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* first occurrence of identifier @word in [s, s+n) as a whole token */
static const char *find_word(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = s; p + wl <= s + n; p++) {
		p = memmem(p, (size_t)(s + n - p), word, wl);
		if (!p)
			return NULL;
		if ((p == s || !is_ident(p[-1])) && (p + wl == s + n || !is_ident(p[wl])))
			return p;
	}
	return NULL;
}

/* the first "string literal" in [s, s+n), copied into @out */
static bool first_literal(const char *s, size_t n, char *out, size_t size)
{
	const char *q = memchr(s, '"', n), *e;

	if (!q)
		return false;
	e = memchr(q + 1, '"', (size_t)(s + n - q - 1));
	if (!e || (size_t)(e - q - 1) >= size)
		return false;
	memcpy(out, q + 1, (size_t)(e - q - 1));
	out[e - q - 1] = '\0';
	return true;
}

/*
 * The last "literal" before @hit in the same statement or initializer (stops at ';',
 * '{' or '}'): securityfs_create_file("policy", ...,\n &ops) and { "load", &ops, ... }.
 */
static bool literal_before(const char *t, const char *hit, char *out, size_t size)
{
	const char *p = hit, *close = NULL;

	while (p > t && hit - p < 400) {
		p--;
		if (*p == ';' || *p == '{' || *p == '}')
			return false;
		if (*p != '"')
			continue;
		if (!close) {
			close = p;
			continue;
		}
		if ((size_t)(close - p - 1) >= size)
			return false;
		memcpy(out, p + 1, (size_t)(close - p - 1));
		out[close - p - 1] = '\0';
		return true;
	}
	return false;
}

/* The user-visible name of a write handler: the literal on the line that takes &ops. */
static void write_name_raw(vouch_ctx *ctx, const vouch_audit *a, struct src_cache *c,
			   const struct rec *w, char *out, size_t size)
{
	size_t len, off = 0;
	const char *t = src_text(ctx, a, c, w->file, &len);
	const char *ops = rec_get(w, "ops");
	const char *type = rec_get(w, "type");

	snprintf(out, size, "%s", ops ? ops : w->fn);
	if (!t || !ops)
		return;
	if (type && strstr(type, "attribute")) {
		/* struct bin_attribute x = { .attr = { .name = "data" ... */
		size_t n;
		const char *l = line_at(t, len, w->line, &n);

		if (l) {
			const char *nm = memmem(l, (size_t)(t + len - l) > 400 ? 400 : (size_t)(t + len - l),
						".name", 5);

			if (nm)
				first_literal(nm, (size_t)(t + len - nm) > 80 ? 80 : (size_t)(t + len - nm),
					      out, size);
		}
		return;
	}
	while (off < len) {
		const char *nl = memchr(t + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (t + off)) : len - off;
		const char *hit = find_word(t + off, n, ops);

		if (hit && hit > t + off && hit[-1] == '&' && literal_before(t, hit, out, size))
			return;
		off += n + 1;
	}
}

/*
 * The name comes from a string literal of the tree: any byte in it (a terminal escape,
 * bytes that are not UTF-8 and would make the JSON report invalid) is escaped.
 */
static void write_name(vouch_ctx *ctx, const vouch_audit *a, struct src_cache *c,
		       const struct rec *w, char *out, size_t size)
{
	char raw[256];

	write_name_raw(ctx, a, c, w, raw, sizeof(raw));
	audit_escape(raw, strlen(raw), out, size);
}

/* DEVICE_ATTR(name, mode, show, store) / DEVICE_ATTR_WO(name) naming @fn */
static bool sysfs_attr_name(const char *t, size_t len, const char *fn, char *out, size_t size)
{
	size_t off = 0;

	while (off < len) {
		const char *nl = memchr(t + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (t + off)) : len - off;
		const char *l = t + off;

		if (memmem(l, n, "_ATTR", 5) && find_word(l, n, fn)) {
			const char *open = memchr(l, '(', n), *end;

			if (open) {
				end = open + 1;
				while (end < l + n && is_ident(*end))
					end++;
				if ((size_t)(end - open - 1) < size && end > open + 1) {
					memcpy(out, open + 1, (size_t)(end - open - 1));
					out[end - open - 1] = '\0';
					return true;
				}
			}
		}
		off += n + 1;
	}
	return false;
}

/* Is @nd an entry point?  Adds its description to @entries. */
static int check_entry(vouch_ctx *ctx, const vouch_audit *a, struct src_cache *c,
		       const struct node *nd, struct strs *entries, bool *ret_is)
{
	char buf[320], name[256];
	size_t lo, hi, len;
	const char *t;

	*ret_is = false;
	range(a, a->defs, a->n_defs, false, nd->fn, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		const struct rec *d = &a->recs[a->defs[i]];
		size_t n;
		const char *l;

		if (strcmp(d->file, nd->file))
			continue;
		t = src_text(ctx, a, c, d->file, &len);
		l = t ? line_at(t, len, d->line, &n) : NULL;
		if (l && n >= 14 && (!memcmp(l, "SYSCALL_DEFINE", 14) ||
				     (n >= 21 && !memcmp(l, "COMPAT_SYSCALL_DEFINE", 21)))) {
			snprintf(buf, sizeof(buf), "%ssyscall %s", l[0] == 'C' ? "compat " : "",
				 nd->fn);
			*ret_is = true;
			return strs_add(entries, buf);
		}
	}
	range(a, a->writes, a->n_writes, false, nd->fn, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		const struct rec *w = &a->recs[a->writes[i]];

		if (strcmp(w->file, nd->file))
			continue;
		const char *fld = rec_get(w, "field");

		write_name(ctx, a, c, w, name, sizeof(name));
		snprintf(buf, sizeof(buf), "%s '%s'",
			 fld && !strcmp(fld, "unlocked_ioctl") ? "ioctl" : "write", name);
		*ret_is = true;
		if (strs_add(entries, buf) < 0)
			return -ENOMEM;
	}
	if (*ret_is)
		return 0;
	t = src_text(ctx, a, c, nd->file, &len);
	if (t && sysfs_attr_name(t, len, nd->fn, name, sizeof(name))) {
		snprintf(buf, sizeof(buf), "sysfs write '%s'", name);
		*ret_is = true;
		return strs_add(entries, buf);
	}
	return 0;
}

/* Walk up the callers of @start to the entry points userspace uses. */
static int find_entries(vouch_ctx *ctx, const vouch_audit *a, struct src_cache *c,
			struct node start, struct strs *entries)
{
	struct nodes seen = { 0 };
	struct strs roots = { 0 };
	size_t begin = 0;
	int r = 0;

	if (nodes_add(&seen, start.file, start.fn) < 0)
		return -ENOMEM;
	for (int depth = 0; depth <= MAX_UP_DEPTH && begin < seen.n && entries->n < MAX_ENTRIES;
	     depth++) {
		size_t end = seen.n;

		for (size_t k = begin; k < end && entries->n < MAX_ENTRIES; k++) {
			struct node nd = seen.v[k];
			size_t lo, hi, callers = 0;
			bool is, same = false;

			r = check_entry(ctx, a, c, &nd, entries, &is);
			if (r < 0)
				goto out;
			if (is)
				continue;
			range(a, a->calls_by_callee, a->n_calls, true, nd.fn, &lo, &hi);
			for (size_t i = lo; i < hi; i++)
				if (!strcmp(a->recs[a->calls_by_callee[i]].file, nd.file))
					same = true;
			for (size_t i = lo; i < hi; i++) {
				const struct rec *cl = &a->recs[a->calls_by_callee[i]];

				/* a static function is only called from its own file */
				if (same && strcmp(cl->file, nd.file))
					continue;
				callers++;
				if (depth < MAX_UP_DEPTH && nodes_add(&seen, cl->file, cl->fn) < 0) {
					r = -ENOMEM;
					goto out;
				}
			}
			if (!callers && strs_add(&roots, nd.fn) < 0) {
				r = -ENOMEM;
				goto out;
			}
		}
		begin = end;
	}
	if (!entries->n) {
		_cleanup_free_ char *j = strs_join(&roots, ", ");
		char buf[512];

		if (!j) {
			r = -ENOMEM;
			goto out;
		}
		snprintf(buf, sizeof(buf), "kernel-internal (%s)", roots.n ? j : start.fn);
		r = strs_add(entries, buf);
	}
out:
	free(seen.v);
	strs_done(&roots);
	return r;
}

static int verdict_for(const struct strs *hooks)
{
	static const char *const measured[] = { "security_kernel_post_read_file", "ima_post_read_file",
						"security_kernel_read_file", "ima_read_file" };
	static const char *const measured_only[] = { "ima_post_key_create_or_update",
						     "ima_measure_critical_data", "ima_kexec_cmdline" };
	static const char *const deny[] = { "security_kernel_load_data",
					    "security_kernel_post_load_data", "ima_load_data",
					    "ima_post_load_data" };

	for (size_t i = 0; i < ARRAY_SIZE(measured); i++)
		if (strs_has(hooks, measured[i]))
			return VOUCH_AUDIT_MEASURED;
	for (size_t i = 0; i < ARRAY_SIZE(measured_only); i++)
		if (strs_has(hooks, measured_only[i]))
			return VOUCH_AUDIT_MEASURED_ONLY;
	for (size_t i = 0; i < ARRAY_SIZE(deny); i++)
		if (strs_has(hooks, deny[i]))
			return VOUCH_AUDIT_DENY_ONLY;
	return VOUCH_AUDIT_NO_HOOK;
}

static char *keep(vouch_audit *a, const char *s, size_t *cap)
{
	char *d = mem_strdup(s ? s : "");

	if (!d)
		return NULL;
	if (grow(&a->cons_strings, cap, a->n_cons_strings + 1, sizeof(char *)) < 0) {
		free(d);
		return NULL;
	}
	a->cons_strings[a->n_cons_strings++] = d;
	return d;
}

static char *keep_owned(vouch_audit *a, char *s, size_t *cap)
{
	if (!s)
		return NULL;
	if (grow(&a->cons_strings, cap, a->n_cons_strings + 1, sizeof(char *)) < 0) {
		free(s);
		return NULL;
	}
	a->cons_strings[a->n_cons_strings++] = s;
	return s;
}

static int cmp_cons(const void *x, const void *y)
{
	const struct vouch_audit_consumer *a = x, *b = y;
	int r = strcmp(a->file, b->file);

	if (r)
		return r;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return strcmp(a->callee, b->callee);
}

/* Read the LSM and IMA hook names the tree declares, so SELinux's own security_*()
 * functions are not mistaken for hooks. */
static int load_hook_names(vouch_ctx *ctx, vouch_audit *a)
{
	static const char *const headers[] = { "include/linux/security.h", "include/linux/ima.h" };
	static const char *const prefixes[] = { "security_", "ima_" };
	struct strs names = { 0 };
	bool any = false;

	for (size_t h = 0; h < ARRAY_SIZE(headers); h++) {
		_cleanup_free_ uint8_t *buf = NULL;
		size_t len, plen = strlen(prefixes[h]);

		if (tree_read(ctx, a->tree, headers[h], MAX_SOURCE_SIZE, &buf, &len) < 0) {
			vouch_ctx_clear_error(ctx);
			continue;
		}
		any = true;
		for (const char *p = (const char *)buf, *end = (const char *)buf + len; p < end;) {
			const char *q = memmem(p, (size_t)(end - p), prefixes[h], plen);
			const char *e;
			char name[128];

			if (!q)
				break;
			e = q + plen;
			while (e < end && is_ident(*e))
				e++;
			if ((q == (const char *)buf || !is_ident(q[-1])) && e < end && *e == '(' &&
			    (size_t)(e - q) < sizeof(name)) {
				memcpy(name, q, (size_t)(e - q));
				name[e - q] = '\0';
				if (strs_add(&names, name) < 0) {
					strs_done(&names);
					return -ENOMEM;
				}
			}
			p = e;
		}
	}
	if (any) {
		a->hook_names = names.v;
		a->n_hook_names = names.n;
	} else {
		strs_done(&names);
	}
	return 0;
}

int audit_merge(vouch_ctx *ctx, vouch_audit *a)
{
	struct src_cache c = { 0 };
	size_t n = 0, cap_strings = a->n_cons_strings;
	int r;

	r = build_indexes(ctx, a);
	if (r < 0)
		return r;
	if (load_hook_names(ctx, a) < 0)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	for (size_t i = 0; i < a->n_recs; i++)
		n += a->recs[i].kind == REC_CONSUMER;
	free(a->cons);
	a->n_cons = 0;
	a->cons = mem_reallocarray(NULL, n + 1, sizeof(*a->cons));
	if (!a->cons)
		return ctx_err(ctx, -ENOMEM, "out of memory");

	for (size_t i = 0; i < a->n_recs; i++) {
		const struct rec *rc = &a->recs[i];
		struct vouch_audit_consumer *out = NULL;
		struct strs hooks = { 0 }, entries = { 0 };
		struct nodes todo = { 0 };
		const char *related = rec_get(rc, "related"), *entry = rec_get(rc, "entry");
		const char *callee = rec_get(rc, "callee");

		if (rc->kind != REC_CONSUMER)
			continue;
		/* one row per site: several matches at one line merge their ids */
		for (size_t k = 0; k < a->n_cons; k++)
			if (a->cons[k].line == rc->line && !strcmp(a->cons[k].file, rc->file) &&
			    !strcmp(a->cons[k].callee, callee ? callee : ""))
				out = &a->cons[k];
		if (out)
			continue;
		r = -ENOMEM;
		/*
		 * The hooks on the path: those the consumer's function calls itself, and
		 * everything reachable from where the data goes (the callee the rule named,
		 * else the function itself), so a sibling branch's hooks do not count.
		 */
		if (callee && *callee) {
			if (direct_hooks(a, rc->file, rc->fn, &hooks) < 0 ||
			    resolve(a, rc->file, callee, &todo) < 0)
				goto fail;
		} else if (nodes_add(&todo, rc->file, rc->fn) < 0) {
			goto fail;
		}
		if ((related && *related && resolve(a, rc->file, related, &todo) < 0) ||
		    find_hooks(a, &todo, &hooks) < 0)
			goto fail;
		if (entry && *entry) {
			if (strs_add(&entries, entry) < 0)
				goto fail;
		} else {
			r = find_entries(ctx, a, &c, (struct node){ rc->file, rc->fn }, &entries);
			if (r < 0)
				goto fail;
			r = -ENOMEM;
		}
		out = &a->cons[a->n_cons];
		*out = (struct vouch_audit_consumer){ .line = rc->line };
		out->rule = a->rules && rc->rule < a->n_rules ? a->rules[rc->rule].name : "";
		out->file = keep(a, rc->file, &cap_strings);
		out->function = keep(a, rc->fn, &cap_strings);
		out->callee = keep(a, callee, &cap_strings);
		out->takes = keep(a, rec_get(rc, "takes"), &cap_strings);
		out->id = keep(a, rec_get(rc, "id"), &cap_strings);
		out->hooks = keep_owned(a, strs_join(&hooks, " "), &cap_strings);
		out->entry = keep_owned(a, strs_join(&entries, ", "), &cap_strings);
		out->verdict = verdict_for(&hooks);
		if (!out->file || !out->function || !out->callee || !out->takes || !out->id || !out->hooks ||
		    !out->entry)
			goto fail;
		a->n_cons++;
		r = 0;
fail:
		free(todo.v);
		strs_done(&hooks);
		strs_done(&entries);
		if (r < 0)
			break;
	}
	free(c.path);
	free(c.buf);
	if (r < 0)
		return ctx_err(ctx, r, "cannot merge the audit results: %s", vouch_strerror(r));
	qsort(a->cons, a->n_cons, sizeof(*a->cons), cmp_cons);
	return 0;
}

/* --- rules and the prefilter ------------------------------------------------------------ */

struct rule {
	char *name;
	char *summary;
	char *sp_path;		/* rule + context, written to the scratch dir */
	char **tokens;
	size_t n_tokens;
	char **scopes;
	size_t n_scopes;
	size_t *files;		/* indexes into the candidate file table */
	size_t n_files, cap_files;
};

struct cand {
	char *path;		/* relative to the tree */
	uint64_t size;
};

struct run {
	vouch_ctx *ctx;
	const char *tree;
	vouch_audit *a;		/* where skipped paths go */
	const char *spatch;	/* the program, absolute when given with a '/' */
	struct rule *rules;
	size_t n_rules;
	struct cand *files;
	size_t n_files, cap_files;
	uint64_t scanned;
};

static void rule_done(struct rule *r)
{
	free(r->name);
	free(r->summary);
	if (r->sp_path)
		unlink(r->sp_path);
	free(r->sp_path);
	for (size_t i = 0; i < r->n_tokens; i++)
		free(r->tokens[i]);
	free(r->tokens);
	for (size_t i = 0; i < r->n_scopes; i++)
		free(r->scopes[i]);
	free(r->scopes);
	free(r->files);
}

/* split a header value on spaces into a new array */
static int split_words(const char *s, size_t n, char ***ret, size_t *ret_n)
{
	size_t off = 0;

	while (off < n) {
		size_t w;

		while (off < n && (s[off] == ' ' || s[off] == '\t'))
			off++;
		w = off;
		while (w < n && s[w] != ' ' && s[w] != '\t')
			w++;
		if (w > off) {
			char *d = mem_alloc(w - off + 1);
			char **v = mem_reallocarray(*ret, *ret_n + 1, sizeof(char *));

			if (!v) {
				free(d);
				return -ENOMEM;
			}
			*ret = v;
			if (!d)
				return -ENOMEM;
			memcpy(d, s + off, w - off);
			d[w - off] = '\0';
			v[(*ret_n)++] = d;
		}
		off = w;
	}
	return 0;
}

static const char *header_value(const char *text, size_t len, const char *key, size_t *ret_n)
{
	size_t kl = strlen(key);
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > kl + 3 && !memcmp(p, "// ", 3) && !memcmp(p + 3, key, kl)) {
			const char *v = p + 3 + kl;

			while (v < p + n && *v == ' ')
				v++;
			*ret_n = (size_t)(p + n - v);
			return v;
		}
		p += n + 1;
	}
	return NULL;
}

static int load_rule(vouch_ctx *ctx, const char *rules_dir, const char *fname, const uint8_t *ctx_text,
		     size_t ctx_len, const char *scratch, struct rule *r)
{
	_cleanup_free_ uint8_t *text = NULL;
	_cleanup_free_ char *path = NULL;
	size_t len, n, plen = strlen(rules_dir) + strlen(fname) + 2;
	const char *v;
	int fd, ret;
	char *sp;

	path = mem_alloc(plen);
	if (!path)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	snprintf(path, plen, "%s/%s", rules_dir, fname);
	ret = read_file_all(ctx, path, MAX_RULE_SIZE, &text, &len);
	if (ret < 0)
		return ret;
	v = header_value((const char *)text, len, "vouch-rule:", &n);
	if (!v || !n)
		return ctx_err(ctx, -EBADMSG, "rule '%s' has no 'vouch-rule:' header", path);
	r->name = mem_alloc(n + 1);
	if (!r->name)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	memcpy(r->name, v, n);
	r->name[n] = '\0';
	v = header_value((const char *)text, len, "vouch-summary:", &n);
	r->summary = mem_alloc((v ? n : 0) + 1);
	if (!r->summary)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	if (v)
		memcpy(r->summary, v, n);
	r->summary[v ? n : 0] = '\0';
	v = header_value((const char *)text, len, "vouch-tokens:", &n);
	if (!v || split_words(v, n, &r->tokens, &r->n_tokens) < 0 || !r->n_tokens)
		return ctx_err(ctx, v ? -ENOMEM : -EBADMSG,
			       "rule '%s' needs a 'vouch-tokens:' header (the prefilter)", path);
	v = header_value((const char *)text, len, "vouch-scope:", &n);
	if (v && split_words(v, n, &r->scopes, &r->n_scopes) < 0)
		return ctx_err(ctx, -ENOMEM, "out of memory");

	plen = strlen(scratch) + strlen(fname) + 2;
	sp = mem_alloc(plen);
	if (!sp)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	snprintf(sp, plen, "%s/%s", scratch, fname);
	r->sp_path = sp;
	fd = open(sp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ctx_err(ctx, -errno, "cannot create '%s': %m", sp);
	ret = write_all(fd, text, len);
	if (ret == 0)
		ret = write_all(fd, "\n", 1);
	if (ret == 0)
		ret = write_all(fd, ctx_text, ctx_len);
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret < 0)
		return ctx_err(ctx, ret, "cannot write '%s': %s", sp, strerror(-ret));
	return 0;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int load_rules(vouch_ctx *ctx, const char *data_dir, const char *scratch, struct run *run)
{
	_cleanup_free_ char *rules_dir = NULL, *ctx_path_s = NULL;
	_cleanup_free_ uint8_t *ctx_text = NULL;
	char **names = NULL;
	size_t n_names = 0, ctx_len, n = strlen(data_dir) + 16;
	DIR *d;
	struct dirent *de;
	int r = 0;

	rules_dir = mem_alloc(n);
	ctx_path_s = mem_alloc(n);
	if (!rules_dir || !ctx_path_s)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	snprintf(rules_dir, n, "%s/rules", data_dir);
	snprintf(ctx_path_s, n, "%s/context.cocci", data_dir);
	r = read_file_all(ctx, ctx_path_s, MAX_RULE_SIZE, &ctx_text, &ctx_len);
	if (r < 0)
		return r;
	d = opendir(rules_dir);
	if (!d)
		return ctx_err(ctx, -errno, "cannot open the audit rules '%s': %m", rules_dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **v;

		if (l < 7 || strcmp(de->d_name + l - 6, ".cocci") || de->d_name[0] == '.')
			continue;
		v = mem_reallocarray(names, n_names + 1, sizeof(char *));
		if (!v || !(v[n_names] = mem_strdup(de->d_name))) {
			names = v ? v : names;
			r = ctx_err(ctx, -ENOMEM, "out of memory");
			break;
		}
		names = v;
		n_names++;
	}
	closedir(d);
	if (r == 0 && !n_names)
		r = ctx_err(ctx, -ENOENT, "no rules (*.cocci) in '%s'", rules_dir);
	if (r == 0) {
		qsort(names, n_names, sizeof(char *), cmp_str);
		run->rules = mem_zalloc(n_names * sizeof(*run->rules));
		if (!run->rules)
			r = ctx_err(ctx, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; r == 0 && i < n_names; i++) {
		run->n_rules++;
		r = load_rule(ctx, rules_dir, names[i], ctx_text, ctx_len, scratch, &run->rules[i]);
	}
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	return r;
}

/* top-level directories of a kernel tree that hold userspace code, not the kernel */
static bool skip_top_dir(const char *name)
{
	static const char *const skip[] = { "tools", "scripts", "samples", "Documentation", "usr" };

	for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
		if (!strcmp(name, skip[i]))
			return true;
	return false;
}

/* strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF */
static bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;

	while (p < e) {
		unsigned char c = *p;
		size_t k;
		uint32_t cp, min;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if ((size_t)(e - p) <= k)
			return false;
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += k + 1;
	}
	return true;
}

/*
 * Why spatch cannot be given the file @rel, or NULL.  Names go to spatch in a file list
 * (--file-groups: one name a line, "name:lines" restricts the lines) and reach the rules'
 * Python as str, so a newline, a ':' or bytes that are not UTF-8 cannot be represented.
 */
static const char *unrepresentable(const char *rel)
{
	if (strchr(rel, '\n'))
		return "file name holds a newline: spatch cannot be given it";
	if (strchr(rel, ':'))
		return "file name holds ':': spatch cannot be given it";
	if (!utf8_valid(rel, strlen(rel)))
		return "file name is not UTF-8: spatch cannot be given it";
	return NULL;
}

static int scan_file(struct run *run, int dirfd, const char *name, const char *rel)
{
	/* never through a symlink, never blocked on a FIFO named *.c */
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
						       O_NOCTTY);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len, idx = SIZE_MAX;
	const char *why = NULL;
	int r;

	if (fd < 0)
		return 0;	/* vanished or unreadable: not a candidate */
	r = pread_fd_all(run->ctx, fd, rel, MAX_SOURCE_SIZE, &buf, &len);
	if (r < 0) {
		vouch_ctx_clear_error(run->ctx);
		if (r == -EFBIG)	/* its consumers would be missing without a word */
			return audit_skip(run->a, rel, strlen(rel), "larger than 64 MiB: not audited");
		return r == -ENOMEM ? r : 0;	/* not a regular file */
	}
	run->scanned++;
	for (size_t i = 0; i < run->n_rules; i++) {
		struct rule *ru = &run->rules[i];
		bool in_scope = !ru->n_scopes, hit = false;

		for (size_t s = 0; s < ru->n_scopes; s++)
			if (!strncmp(rel, ru->scopes[s], strlen(ru->scopes[s])))
				in_scope = true;
		if (!in_scope)
			continue;
		for (size_t t = 0; t < ru->n_tokens && !hit; t++)
			hit = memmem(buf, len, ru->tokens[t], strlen(ru->tokens[t])) != NULL;
		if (!hit)
			continue;
		if (idx == SIZE_MAX) {
			/* a candidate whose name cannot reach spatch is reported, not audited */
			why = unrepresentable(rel);
			if (why)
				return audit_skip(run->a, rel, strlen(rel), why);
			if (grow(&run->files, &run->cap_files, run->n_files + 1, sizeof(*run->files)) < 0)
				return -ENOMEM;
			run->files[run->n_files].path = mem_strdup(rel);
			if (!run->files[run->n_files].path)
				return -ENOMEM;
			run->files[run->n_files].size = len;
			idx = run->n_files++;
		}
		if (grow(&ru->files, &ru->cap_files, ru->n_files + 1, sizeof(size_t)) < 0)
			return -ENOMEM;
		ru->files[ru->n_files++] = idx;
	}
	return 0;
}

/*
 * Walk the directory @fd (owned; @rel is its path in the tree) opening each entry relative
 * to its parent with O_NOFOLLOW: a symlink in the tree is never followed, at any depth.
 */
static int scan_dir(struct run *run, int fd, const char *rel, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		r = -errno;
		close(fd);
		return ctx_err(run->ctx, r, "cannot read a directory of the tree: %s", strerror(-r));
	}
	while (r == 0 && (de = readdir(d))) {
		char sub[4096];
		size_t l = strlen(de->d_name);
		unsigned char type = de->d_type;
		int n;

		/*
		 * Hidden entries are walked too: kbuild compiles a ".x/evil.c" a Makefile names,
		 * and a walk that skipped them would hide its consumers without a word.
		 */
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n = snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			int sfd;

			if (depth == 0 && skip_top_dir(de->d_name))
				continue;
			if (n < 0 || (size_t)n >= sizeof(sub)) {
				r = audit_skip(run->a, sub, strlen(sub), "path too long: not audited");
				continue;
			}
			if (depth + 1 >= MAX_TREE_DEPTH) {
				r = audit_skip(run->a, sub, (size_t)n, "directory nested too deep: not audited");
				continue;
			}
			sfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (sfd < 0) {
				r = audit_skip(run->a, sub, (size_t)n, "cannot open the directory: not audited");
				continue;
			}
			r = scan_dir(run, sfd, sub, depth + 1);
		} else if (type == DT_REG && l > 2 && !strcmp(de->d_name + l - 2, ".c")) {
			if (n < 0 || (size_t)n >= sizeof(sub)) {
				r = audit_skip(run->a, sub, strlen(sub), "path too long: not audited");
				continue;
			}
			r = scan_file(run, dirfd(d), de->d_name, sub);
		}
	}
	closedir(d);
	if (r == -ENOMEM)
		return ctx_err(run->ctx, r, "out of memory");
	return r;
}

/* --- running spatch ---------------------------------------------------------------------- */

struct job {
	size_t rule;
	size_t *files;
	size_t n_files;
	uint64_t bytes;
	pid_t pid;
	uint64_t start;
	char out[64], err[64];
};

static int cmp_job(const void *x, const void *y)
{
	const struct job *a = x, *b = y;

	return a->bytes < b->bytes ? 1 : a->bytes > b->bytes ? -1 : 0;
}

/*
 * spatch runs in the scratch directory, never in the tree: it reads .cocciconfig (options,
 * "--python PROG" among them) from $HOME, from its working directory and from the
 * directories above a directory argument, and its Python imports from the working
 * directory.  So HOME is the scratch directory too, and the tree's files reach spatch only
 * through a file list there ("t/NAME" lines, t being a symlink to the tree): nothing the
 * tree names is ever on spatch's command line, where it could be taken as an option.
 */
#define TREE_LINK "t"

static int spawn_job(struct run *run, const struct vouch_audit_options *o, const char *scratch,
		     char *const *envp, size_t no, struct job *j)
{
	posix_spawn_file_actions_t fa;
	char timeout[16], list[4200], out[4200], err[4200];
	const char *argv[12];
	_cleanup_close_ int fd = -1;
	size_t n = 0;
	int r = 0;

	snprintf(j->out, sizeof(j->out), "job%zu.out", no);
	snprintf(j->err, sizeof(j->err), "job%zu.err", no);
	snprintf(list, sizeof(list), "%s/job%zu.list", scratch, no);
	fd = open(list, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ctx_err(run->ctx, -errno, "cannot create '%s': %m", list);
	for (size_t i = 0; i < j->n_files && r == 0; i++) {
		const char *path = run->files[j->files[i]].path;

		r = write_all(fd, TREE_LINK "/", strlen(TREE_LINK "/"));
		if (r == 0)
			r = write_all(fd, path, strlen(path));
		if (r == 0)
			r = write_all(fd, "\n", 1);
	}
	if (close(TAKE_FD(fd)) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		return ctx_err(run->ctx, r, "cannot write '%s': %s", list, strerror(-r));

	snprintf(timeout, sizeof(timeout), "%u", o->timeout ? o->timeout : 120);
	argv[n++] = run->spatch;
	argv[n++] = "--very-quiet";
	argv[n++] = "--no-show-diff";
	argv[n++] = "--timeout";
	argv[n++] = timeout;
	argv[n++] = "--sp-file";
	argv[n++] = run->rules[j->rule].sp_path;
	argv[n++] = "--file-groups";
	argv[n++] = list;
	argv[n] = NULL;

	snprintf(out, sizeof(out), "%s/%s", scratch, j->out);
	snprintf(err, sizeof(err), "%s/%s", scratch, j->err);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addchdir_np(&fa, scratch);
	j->start = now_msec();
	r = posix_spawnp(&j->pid, argv[0], &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return ctx_err(run->ctx, r == ENOENT ? -ENOENT : -r, "cannot run '%s': %s",
			       o->spatch ? o->spatch : "spatch", strerror(r));
	return 0;
}

static int finish_job(struct run *run, vouch_audit *a, const char *scratch, struct job *j,
		      int status, const struct rusage *ru)
{
	_cleanup_free_ uint8_t *buf = NULL;
	const char *names[FILES_PER_JOB];
	struct audit_files given = { .prefix = TREE_LINK "/", .names = names, .n = j->n_files };
	const char *exn = NULL;
	char path[4200], first[256];
	size_t len;
	int r;

	a->rules[j->rule].wall_msec += now_msec() - j->start;
	a->rules[j->rule].cpu_msec += (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
				      (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
	snprintf(path, sizeof(path), "%s/%s", scratch, j->err);
	if (read_file_all(run->ctx, path, 1 << 20, &buf, &len) < 0) {
		buf = NULL;
		len = 0;
	}
	vouch_ctx_clear_error(run->ctx);
	/*
	 * Given a file list, spatch reports a file it could not process ("EXN: ... in FILES",
	 * a Python exception of a rule among them) on stderr and still exits 0: that file's
	 * consumers would be missing without a word, so it fails the run as an exit would.
	 */
	for (size_t off = 0; off < len && !exn; off++) {
		if ((off == 0 || buf[off - 1] == '\n') && len - off >= 5 && !memcmp(buf + off, "EXN: ", 5))
			exn = (const char *)buf + off;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || exn) {
		char msg[256] = "";
		size_t s, e;

		if (exn) {
			/* the first failure it reports */
			s = (size_t)(exn - (const char *)buf);
			e = s;
			while (e < len && buf[e] != '\n')
				e++;
		} else {
			/* the last non-empty line of stderr says why */
			e = len;
			while (e > 0 && (buf[e - 1] == '\n' || buf[e - 1] == ' '))
				e--;
			s = e;
			while (s > 0 && buf[s - 1] != '\n')
				s--;
		}
		/* it may quote the tree: escaped */
		audit_escape((const char *)buf + s, e - s, msg, sizeof(msg));
		audit_escape(run->files[j->files[0]].path, strlen(run->files[j->files[0]].path), first,
			     sizeof(first));
		return ctx_err(run->ctx, -EIO, "spatch failed running rule '%s' on '%s'%s: %s",
			       run->rules[j->rule].name, first, j->n_files > 1 ? " and others" : "",
			       msg[0] ? msg : WIFEXITED(status) ? "non-zero exit" : "killed");
	}
	free(buf);
	buf = NULL;
	snprintf(path, sizeof(path), "%s/%s", scratch, j->out);
	r = read_file_all(run->ctx, path, (size_t)1 << 30, &buf, &len);
	if (r < 0)
		return r;
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", scratch, j->err);
	unlink(path);
	for (size_t i = 0; i < j->n_files; i++)
		names[i] = run->files[j->files[i]].path;
	return audit_parse(run->ctx, a, j->rule, &given, (const char *)buf, len);
}

static int run_jobs(struct run *run, const struct vouch_audit_options *o, const char *scratch,
		    char *const *envp, vouch_audit *a)
{
	struct job *jobs = NULL;
	size_t n_jobs = 0, cap = 0, next = 0, running = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t width = o->jobs ? o->jobs : cpus > 0 ? (size_t)cpus : 1;
	int r = 0;

	for (size_t i = 0; i < run->n_rules; i++) {
		struct rule *ru = &run->rules[i];

		a->rules[i].files = (uint32_t)ru->n_files;
		for (size_t f = 0; f < ru->n_files; f += FILES_PER_JOB) {
			struct job *j;

			if (grow(&jobs, &cap, n_jobs + 1, sizeof(*jobs)) < 0) {
				free(jobs);
				return ctx_err(run->ctx, -ENOMEM, "out of memory");
			}
			j = &jobs[n_jobs++];
			*j = (struct job){ .rule = i, .files = ru->files + f, .pid = -1 };
			j->n_files = ru->n_files - f < FILES_PER_JOB ? ru->n_files - f : FILES_PER_JOB;
			for (size_t k = 0; k < j->n_files; k++)
				j->bytes += run->files[j->files[k]].size;
		}
	}
	/* biggest first: the two cores finish together */
	qsort(jobs, n_jobs, sizeof(*jobs), cmp_job);

	while (next < n_jobs || running > 0) {
		struct rusage ru;
		int status;
		pid_t pid;

		while (r == 0 && next < n_jobs && running < width) {
			r = spawn_job(run, o, scratch, envp, next, &jobs[next]);
			if (r == 0) {
				running++;
				a->stats.spatch_runs++;
			}
			next++;
		}
		if (running == 0)
			break;
		pid = wait4(-1, &status, 0, &ru);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			if (r == 0)
				r = ctx_err(run->ctx, -errno, "cannot wait for spatch: %m");
			break;
		}
		for (size_t i = 0; i < n_jobs; i++) {
			if (jobs[i].pid != pid)
				continue;
			jobs[i].pid = -1;
			running--;
			if (r == 0)
				r = finish_job(run, a, scratch, &jobs[i], status, &ru);
			if (r < 0)
				next = n_jobs;	/* start nothing new; reap the rest */
		}
	}
	free(jobs);
	return r;
}

static int rm_scratch(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			char p[4200];

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	return rmdir(dir);
}

/*
 * The environment of spatch: ours with HOME pointing at the scratch directory, so no
 * ~/.cocciconfig adds options either.  Returns a NULL-terminated array; only the array
 * and @home are allocated.
 */
static char **spatch_env(const char *scratch, char **ret_home)
{
	size_t n = 0, k = 0, hl = strlen(scratch) + 6;
	char **env, *home;

	while (environ && environ[n])
		n++;
	env = mem_reallocarray(NULL, n + 2, sizeof(char *));
	home = mem_alloc(hl);
	if (!env || !home) {
		free(env);
		free(home);
		return NULL;
	}
	snprintf(home, hl, "HOME=%s", scratch);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "HOME=", 5))
			env[k++] = environ[i];
	env[k++] = home;
	env[k] = NULL;
	*ret_home = home;
	return env;
}

VOUCH_EXPORT int vouch_audit_run(vouch_ctx *ctx, const char *tree,
				 const struct vouch_audit_options *opts, vouch_audit **ret_audit)
{
	static const struct vouch_audit_options defaults = VOUCH_AUDIT_OPTIONS_INIT;
	const struct vouch_audit_options *o = opts ? opts : &defaults;
	struct run run = { .ctx = ctx, .tree = tree };
	vouch_audit *a = NULL;
	char scratch[] = "/tmp/vouch-audit-XXXXXX";
	char link[sizeof(scratch) + 8];
	const char **names = NULL;
	_cleanup_free_ char *abs_tree = NULL, *home = NULL, *abs_spatch = NULL;
	_cleanup_free_ char **envp = NULL;
	struct stat st;
	uint64_t t0 = now_msec(), t1;
	int tfd = -1;
	bool made = false;
	int r;

	if (!ctx || !tree || !ret_audit)
		return -EINVAL;
	if (o->version != VOUCH_AUDIT_OPTIONS_VERSION || o->reserved0)
		return ctx_err(ctx, -EINVAL, "unsupported audit options version %u", o->version);
	for (size_t i = 0; i < ARRAY_SIZE(o->reserved); i++)
		if (o->reserved[i])
			return ctx_err(ctx, -EINVAL, "reserved audit option fields must be zero");
	if (stat(tree, &st) < 0)
		return ctx_err(ctx, -errno, "cannot open kernel tree '%s': %m", tree);
	if (!S_ISDIR(st.st_mode))
		return ctx_err(ctx, -ENOTDIR, "kernel tree '%s' is not a directory", tree);
	abs_tree = realpath(tree, NULL);
	if (!abs_tree)
		return ctx_err(ctx, -errno, "cannot resolve kernel tree '%s': %m", tree);
	/* spatch starts in the scratch directory: "./bin/spatch" means the caller's */
	run.spatch = o->spatch ? o->spatch : "spatch";
	if (run.spatch[0] != '/' && strchr(run.spatch, '/')) {
		abs_spatch = realpath(run.spatch, NULL);
		if (!abs_spatch)
			return ctx_err(ctx, -errno, "cannot run '%s': %m", run.spatch);
		run.spatch = abs_spatch;
	}
	if (!mkdtemp(scratch))
		return ctx_err(ctx, -errno, "cannot create a scratch directory: %m");
	made = true;
	snprintf(link, sizeof(link), "%s/" TREE_LINK, scratch);
	if (symlink(abs_tree, link) < 0) {
		r = ctx_err(ctx, -errno, "cannot create '%s': %m", link);
		goto out;
	}
	envp = spatch_env(scratch, &home);
	if (!envp) {
		r = ctx_err(ctx, -ENOMEM, "out of memory");
		goto out;
	}
	r = load_rules(ctx, o->data_dir ? o->data_dir : VOUCH_AUDIT_DATADIR, scratch, &run);
	if (r < 0)
		goto out;
	names = mem_reallocarray(NULL, run.n_rules + 1, sizeof(char *));
	if (!names) {
		r = ctx_err(ctx, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < run.n_rules; i++)
		names[i] = run.rules[i].name;
	r = audit_new(ctx, tree, run.n_rules, names, &a);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < run.n_rules; i++)
		if (audit_set_summary(a, i, run.rules[i].summary) < 0) {
			r = ctx_err(ctx, -ENOMEM, "out of memory");
			goto out;
		}
	run.a = a;
	tfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0) {
		r = ctx_err(ctx, -errno, "cannot open kernel tree '%s': %m", tree);
		goto out;
	}
	r = scan_dir(&run, tfd, "", 0);	/* closes tfd */
	if (r < 0)
		goto out;
	t1 = now_msec();
	a->stats.files_scanned = run.scanned;
	a->stats.candidates = run.n_files;
	a->stats.prefilter_msec = t1 - t0;
	r = run_jobs(&run, o, scratch, envp, a);
	if (r < 0)
		goto out;
	r = audit_merge(ctx, a);
	if (r < 0)
		goto out;
	a->stats.total_msec = now_msec() - t0;
	*ret_audit = a;
	a = NULL;
out:
	free(names);
	vouch_audit_free(a);
	for (size_t i = 0; i < run.n_rules; i++)
		rule_done(&run.rules[i]);
	free(run.rules);
	for (size_t i = 0; i < run.n_files; i++)
		free(run.files[i].path);
	free(run.files);
	if (made)
		rm_scratch(scratch);
	return r;
}
