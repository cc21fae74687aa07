// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel audit's rules and prefilter: the Coccinelle rules of share/vouch/audit read and
 * checked, and the tree walked for the source files each rule could match (by the words it
 * needs), before any spatch run.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit-internal.h"

/* --- rules and the prefilter ------------------------------------------------------------ */

void audit_rule_done(struct rule *r)
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

int audit_load_rules(vouch_ctx *ctx, const char *data_dir, const char *scratch, struct run *run)
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
			if (audit_grow(&run->files, &run->cap_files, run->n_files + 1, sizeof(*run->files)) < 0)
				return -ENOMEM;
			run->files[run->n_files].path = mem_strdup(rel);
			if (!run->files[run->n_files].path)
				return -ENOMEM;
			run->files[run->n_files].size = len;
			idx = run->n_files++;
		}
		if (audit_grow(&ru->files, &ru->cap_files, ru->n_files + 1, sizeof(size_t)) < 0)
			return -ENOMEM;
		ru->files[ru->n_files++] = idx;
	}
	return 0;
}

/*
 * Walk the directory @fd (owned; @rel is its path in the tree) opening each entry relative
 * to its parent with O_NOFOLLOW: a symlink in the tree is never followed, at any depth.
 */
int audit_scan_dir(struct run *run, int fd, const char *rel, int depth)
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
			r = audit_scan_dir(run, sfd, sub, depth + 1);
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
