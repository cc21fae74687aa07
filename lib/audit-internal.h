/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of the kernel consumer audit (libvouch-audit: audit.c, audit-records.c,
 * audit-merge.c, audit-rules.c), shared with the unit test: the record parser and the merge
 * step can be fed spatch output without running spatch.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_AUDIT_INTERNAL_H
#define VOUCH_LIB_AUDIT_INTERNAL_H

#include "internal.h"
#include <vouch/audit.h>

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

/* Grow array *@pp of *@cap elements of @size bytes to hold @need: 0 or -ENOMEM. */
int audit_grow(void *pp, size_t *cap, size_t need, size_t size);
/* The value of @key in record @r, or NULL. */
const char *audit_rec_get(const struct rec *r, const char *key);
/* List @rel (@len bytes) as a path the audit could not look at, for @reason. */
int audit_skip(vouch_audit *a, const char *rel, size_t len, const char *reason);

/* Read and check the rules of @data_dir, written with the context rule into @scratch. */
int audit_load_rules(vouch_ctx *ctx, const char *data_dir, const char *scratch, struct run *run);
/* Release what a rule holds (and its file in the scratch directory). */
void audit_rule_done(struct rule *r);
/* Walk directory @fd (@rel in the tree, @depth deep): the candidate files of each rule. */
int audit_scan_dir(struct run *run, int fd, const char *rel, int depth);

/* Allocate an empty result with @n_rules rule slots named @names. */
int audit_new(vouch_ctx *ctx, const char *tree, size_t n_rules, const char *const *names,
	      vouch_audit **ret);
/* The files one spatch run was given, each as @prefix followed by a name in @names. */
struct audit_files {
	const char *prefix;
	const char *const *names;
	size_t n;
};

/*
 * Parse the stdout of one spatch run of rule @rule: records
 * "VOUCH\tkind\tfile\tline\tkey=value...", every field percent-encoded by the rules
 * (only bytes 0x21-0x7e, '%XX' for any other byte).  With @given, every record must name
 * one of the given files (the prefix is dropped); NULL takes the names as they are (tests).
 * Return: 0; -EBADMSG a line starting with "VOUCH" that is not a well-formed record; -ENOMEM.
 */
int audit_parse(vouch_ctx *ctx, vouch_audit *a, size_t rule, const struct audit_files *given,
		const char *buf, size_t len);
/* Printable ASCII for a diagnostic: other bytes as \xNN, '\' as "\\", truncated with "...". */
void audit_escape(const char *s, size_t n, char *out, size_t size);
/* Derive entries, hooks and verdicts; sort the consumers. */
int audit_merge(vouch_ctx *ctx, vouch_audit *a);

#endif /* VOUCH_LIB_AUDIT_INTERNAL_H */
