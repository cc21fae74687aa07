// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel audit's merge: the call graph of the records walked up from each consumer to its
 * entry point (a SYSCALL_DEFINE or a write handler, named from the source text around its
 * definition) and down to the LSM/IMA hooks it reaches; one row per consumer with a verdict.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "audit-internal.h"

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
	if (audit_grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v)) < 0)
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
	if (audit_grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v)) < 0)
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
	const char *ops = audit_rec_get(w, "ops");
	const char *type = audit_rec_get(w, "type");

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
		const char *fld = audit_rec_get(w, "field");

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

static char *keep_owned(vouch_audit *a, char *s, size_t *cap)
{
	if (!s)
		return NULL;
	if (audit_grow(&a->cons_strings, cap, a->n_cons_strings + 1, sizeof(char *)) < 0) {
		free(s);
		return NULL;
	}
	a->cons_strings[a->n_cons_strings++] = s;
	return s;
}

static char *keep(vouch_audit *a, const char *s, size_t *cap)
{
	return keep_owned(a, mem_strdup(s ? s : ""), cap);
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
		const char *related = audit_rec_get(rc, "related"), *entry = audit_rec_get(rc, "entry");
		const char *callee = audit_rec_get(rc, "callee");

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
		out->takes = keep(a, audit_rec_get(rc, "takes"), &cap_strings);
		out->id = keep(a, audit_rec_get(rc, "id"), &cap_strings);
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
