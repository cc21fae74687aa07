/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: kernel consumer audit -- where does a kernel tree load user data, and which
 * integrity hook (if any) checks it.  Runs the Coccinelle rules shipped in
 * share/vouch/audit over a source tree.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_AUDIT_H
#define VOUCH_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>

#ifdef __cplusplus
extern "C" {
#endif

/** struct vouch_audit - the result of one audit run (opaque) */
typedef struct vouch_audit vouch_audit;

/**
 * enum vouch_audit_verdict - what guards a consumer
 * @VOUCH_AUDIT_MEASURED: the data reaches IMA with its file: measured and appraisable
 * @VOUCH_AUDIT_MEASURED_ONLY: IMA measures the buffer but cannot appraise it (keys, cmdline)
 * @VOUCH_AUDIT_DENY_ONLY: a hook without the data (load_data): it can only deny
 * @VOUCH_AUDIT_NO_HOOK: no integrity hook on the path (LSM hooks may still exist)
 */
enum vouch_audit_verdict {
	VOUCH_AUDIT_MEASURED = 0,
	VOUCH_AUDIT_MEASURED_ONLY = 1,
	VOUCH_AUDIT_DENY_ONLY = 2,
	VOUCH_AUDIT_NO_HOOK = 3,
	_VOUCH_AUDIT_VERDICT_MAX,
};

/**
 * struct vouch_audit_consumer - one place where the kernel takes user data
 * @rule: the rule that found it (file name of the rule without ".cocci")
 * @file: path relative to the tree
 * @line: line of the call that takes the data
 * @function: the function that contains it
 * @callee: the function the data is handed to, when the rule names one ("" otherwise)
 * @entry: how userspace reaches it ("syscall finit_module", "write 'load'",
 *	"setsockopt(IPT_SO_SET_REPLACE)", "kernel-internal (...)"), several joined by ", "
 * @takes: "fd", "path", "file" or "buffer"
 * @hooks: the LSM/IMA hooks found on its path, space separated ("" when none)
 * @id: the enum kernel_read_file_id / kernel_load_data_id or command it passes ("" if none)
 * @verdict: an enum vouch_audit_verdict
 */
struct vouch_audit_consumer {
	const char *rule;
	const char *file;
	uint32_t line;
	const char *function;
	const char *callee;
	const char *entry;
	const char *takes;
	const char *hooks;
	const char *id;
	int verdict;
};

/**
 * struct vouch_audit_rule_stat - what one rule cost and found
 * @name: rule name
 * @summary: one line from the rule's header
 * @files: candidate files that passed the token prefilter
 * @matches: consumers it reported (before merging)
 * @wall_msec: wall time of its spatch runs, summed
 * @cpu_msec: user+system CPU time of its spatch runs
 */
struct vouch_audit_rule_stat {
	const char *name;
	const char *summary;
	uint32_t files;
	uint32_t matches;
	uint64_t wall_msec;
	uint64_t cpu_msec;
};

/**
 * struct vouch_audit_stats - whole-run numbers
 * @files_scanned: .c files read by the prefilter
 * @candidates: distinct files handed to spatch
 * @spatch_runs: spatch processes started
 * @prefilter_msec: time of the token prefilter
 * @total_msec: wall time of the whole run
 */
struct vouch_audit_stats {
	uint64_t files_scanned;
	uint64_t candidates;
	uint64_t spatch_runs;
	uint64_t prefilter_msec;
	uint64_t total_msec;
};

/**
 * struct vouch_audit_skipped - a file or directory of the tree that was not audited
 * @path: its path relative to the tree, escaped for printing: printable ASCII as is, a
 *	backslash as two, every other byte as "\xNN" (the name itself is never handed on)
 * @reason: why, one line ("file name holds a newline: spatch cannot be given it")
 */
struct vouch_audit_skipped {
	const char *path;
	const char *reason;
};

#define VOUCH_AUDIT_OPTIONS_VERSION 1

/**
 * struct vouch_audit_options - how to run the audit
 * @version: VOUCH_AUDIT_OPTIONS_VERSION
 * @jobs: spatch processes at once; 0 = the number of online CPUs
 * @timeout: per-file spatch timeout in seconds; 0 = 120
 * @data_dir: directory with context.cocci and rules/NAME.cocci; NULL = the installed one
 * @spatch: the spatch program; NULL = "spatch" from PATH
 * @reserved: must be zero
 */
struct vouch_audit_options {
	uint32_t version;
	uint32_t jobs;
	uint32_t timeout;
	uint32_t reserved0;
	const char *data_dir;
	const char *spatch;
	uint64_t reserved[6];
};

#define VOUCH_AUDIT_OPTIONS_INIT { .version = VOUCH_AUDIT_OPTIONS_VERSION }

/**
 * vouch_audit_run() - run every rule over a kernel source tree and merge the matches
 * @ctx: the context
 * @tree: the top of the kernel tree (the directory that holds kernel/, security/ ...)
 * @opts: options, or NULL for the defaults
 * @ret_audit: the result, released with vouch_audit_free()
 *
 * Prefilters the tree's .c files by each rule's tokens, runs spatch on the candidates
 * in parallel, then derives each consumer's entry point, hooks and verdict from the
 * calls the rules report.  The tree is untrusted: spatch runs in a scratch directory with
 * no configuration but the rules, takes the tree's files from a list (never on its
 * command line), no symlink of the tree is followed, and a candidate whose name spatch
 * cannot be given is listed by vouch_audit_skipped_get() instead of audited.
 *
 * Return: 0; -EINVAL bad arguments or reserved fields; -ENOENT @tree, the rules or
 * spatch missing; -EIO a spatch run failed; -ENOMEM.
 * Since: 0.1
 */
int vouch_audit_run(vouch_ctx *ctx, const char *tree, const struct vouch_audit_options *opts,
		    vouch_audit **ret_audit);

/**
 * vouch_audit_free() - release an audit result; NULL is accepted
 * @audit: the result
 * Since: 0.1
 */
void vouch_audit_free(vouch_audit *audit);

/**
 * vouch_audit_consumer_count() - number of consumers found
 * @audit: the result
 * Return: the count (0 for NULL).
 * Since: 0.1
 */
size_t vouch_audit_consumer_count(const vouch_audit *audit);

/**
 * vouch_audit_consumer_get() - one consumer, sorted by file then line
 * @audit: the result
 * @i: index below vouch_audit_consumer_count()
 * Return: a pointer owned by @audit, or NULL when @i is out of range.
 * Since: 0.1
 */
const struct vouch_audit_consumer *vouch_audit_consumer_get(const vouch_audit *audit, size_t i);

/**
 * vouch_audit_rule_count() - number of rules that ran
 * @audit: the result
 * Return: the count (0 for NULL).
 * Since: 0.1
 */
size_t vouch_audit_rule_count(const vouch_audit *audit);

/**
 * vouch_audit_rule_get() - statistics of one rule, in name order
 * @audit: the result
 * @i: index below vouch_audit_rule_count()
 * Return: a pointer owned by @audit, or NULL when @i is out of range.
 * Since: 0.1
 */
const struct vouch_audit_rule_stat *vouch_audit_rule_get(const vouch_audit *audit, size_t i);

/**
 * vouch_audit_get_stats() - whole-run statistics
 * @audit: the result
 * Return: a pointer owned by @audit, or NULL for NULL.
 * Since: 0.1
 */
const struct vouch_audit_stats *vouch_audit_get_stats(const vouch_audit *audit);

/**
 * vouch_audit_skipped_count() - number of files and directories the audit could not look at
 * @audit: the result
 * Return: the count (0 for NULL).
 * Since: 0.1
 */
size_t vouch_audit_skipped_count(const vouch_audit *audit);

/**
 * vouch_audit_skipped_get() - one of them, in the order the tree was walked
 * @audit: the result
 * @i: index below vouch_audit_skipped_count()
 * Return: a pointer owned by @audit, or NULL when @i is out of range.
 * Since: 0.1
 */
const struct vouch_audit_skipped *vouch_audit_skipped_get(const vouch_audit *audit, size_t i);

/**
 * vouch_audit_verdict_name() - a short stable name for a verdict
 * @verdict: an enum vouch_audit_verdict
 * Return: "measured", "measured-only", "deny-only", "no-hook", or "unknown".
 * Since: 0.1
 */
const char *vouch_audit_verdict_name(int verdict);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_AUDIT_H */
