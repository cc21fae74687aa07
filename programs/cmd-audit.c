// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch audit-kernel: every place a kernel tree loads user data, and which integrity
 * hook (if any) checks it.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vouch/audit.h>

#include "commands.h"
#include "config.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_audit *, vouch_audit_freep, vouch_audit_free)

static const char *verdict_text(int v)
{
	switch (v) {
	case VOUCH_AUDIT_MEASURED:
		return "measured and appraisable";
	case VOUCH_AUDIT_MEASURED_ONLY:
		return "measured, not appraisable";
	case VOUCH_AUDIT_DENY_ONLY:
		return "hook without data: can only deny";
	default:
		return "no integrity hook";
	}
}

/* --data-dir, then $VOUCH_AUDIT_DIR, then the installed rules, then the source tree's */
static const char *pick_data_dir(const char *given)
{
	const char *env = getenv("VOUCH_AUDIT_DIR");
	struct stat st;

	if (given)
		return given;
	if (env && *env)
		return env;
	if (stat(VOUCH_AUDIT_DATADIR "/context.cocci", &st) == 0)
		return VOUCH_AUDIT_DATADIR;
	return VOUCH_AUDIT_SRCDIR;
}

/*
 * Print a string of the tree's (a file name, a function, an expression) on one line:
 * printable ASCII as is, a backslash as two, every other byte as \xNN, so no name can
 * start a line of its own or send a terminal escape.
 */
static void put_esc(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			fputs("\\\\", stdout);
		else if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

static void print_json(const vouch_audit *a, const char *tree)
{
	_cleanup_(json_object_putp) json_object *root = json_object_new_object();
	json_object *rules = json_object_new_array(), *cons = json_object_new_array();
	json_object *skipped = json_object_new_array();
	json_object *stats = json_object_new_object();
	const struct vouch_audit_stats *st = vouch_audit_get_stats(a);

	cli_json_add_str(root, "tree", tree);
	json_object_object_add(stats, "files_scanned", json_object_new_int64((int64_t)st->files_scanned));
	json_object_object_add(stats, "candidates", json_object_new_int64((int64_t)st->candidates));
	json_object_object_add(stats, "spatch_runs", json_object_new_int64((int64_t)st->spatch_runs));
	json_object_object_add(stats, "prefilter_seconds",
			       json_object_new_double((double)st->prefilter_msec / 1000));
	json_object_object_add(stats, "total_seconds",
			       json_object_new_double((double)st->total_msec / 1000));
	json_object_object_add(root, "stats", stats);
	for (size_t i = 0; i < vouch_audit_rule_count(a); i++) {
		const struct vouch_audit_rule_stat *r = vouch_audit_rule_get(a, i);
		json_object *o = json_object_new_object();

		cli_json_add_str(o, "name", r->name);
		cli_json_add_str(o, "summary", r->summary);
		json_object_object_add(o, "files", json_object_new_int64(r->files));
		json_object_object_add(o, "matches", json_object_new_int64(r->matches));
		json_object_object_add(o, "seconds", json_object_new_double((double)r->wall_msec / 1000));
		json_object_object_add(o, "cpu_seconds",
				       json_object_new_double((double)r->cpu_msec / 1000));
		json_object_array_add(rules, o);
	}
	json_object_object_add(root, "rules", rules);
	for (size_t i = 0; i < vouch_audit_consumer_count(a); i++) {
		const struct vouch_audit_consumer *c = vouch_audit_consumer_get(a, i);
		json_object *o = json_object_new_object(), *hooks = json_object_new_array();
		char buf[256];
		const char *p = c->hooks;

		cli_json_add_str(o, "file", c->file);
		json_object_object_add(o, "line", json_object_new_int64(c->line));
		cli_json_add_str(o, "function", c->function);
		cli_json_add_str(o, "callee", c->callee);
		cli_json_add_str(o, "rule", c->rule);
		cli_json_add_str(o, "entry", c->entry);
		cli_json_add_str(o, "takes", c->takes);
		while (*p) {
			size_t n = strcspn(p, " ");

			if (n && n < sizeof(buf)) {
				memcpy(buf, p, n);
				buf[n] = '\0';
				json_object_array_add(hooks, json_object_new_string(buf));
			}
			p += n;
			p += strspn(p, " ");
		}
		json_object_object_add(o, "hooks", hooks);
		cli_json_add_str(o, "id", c->id);
		cli_json_add_str(o, "verdict", vouch_audit_verdict_name(c->verdict));
		cli_json_add_str(o, "verdict_text", verdict_text(c->verdict));
		json_object_array_add(cons, o);
	}
	json_object_object_add(root, "consumers", cons);
	for (size_t i = 0; i < vouch_audit_skipped_count(a); i++) {
		const struct vouch_audit_skipped *sk = vouch_audit_skipped_get(a, i);
		json_object *o = json_object_new_object();

		cli_json_add_str(o, "path", sk->path);
		cli_json_add_str(o, "reason", sk->reason);
		json_object_array_add(skipped, o);
	}
	json_object_object_add(root, "skipped", skipped);
	cli_json_print(root);
}

static void print_table(const vouch_audit *a)
{
	const struct vouch_audit_stats *st = vouch_audit_get_stats(a);
	size_t counts[_VOUCH_AUDIT_VERDICT_MAX] = { 0 };

	for (size_t i = 0; i < vouch_audit_consumer_count(a); i++) {
		const struct vouch_audit_consumer *c = vouch_audit_consumer_get(a, i);

		put_esc(c->file);
		printf(":%u  ", c->line);
		put_esc(c->function);
		printf("()%s", *c->callee ? " -> " : "");
		put_esc(c->callee);
		printf("%s  [", *c->callee ? "()" : "");
		put_esc(c->rule);
		printf("]\n    entry:   ");
		put_esc(c->entry);
		printf("\n    takes:   ");
		put_esc(c->takes);
		printf("%s", *c->id ? "   id: " : "");
		put_esc(c->id);
		printf("\n    hooks:   ");
		put_esc(*c->hooks ? c->hooks : "-");
		printf("\n    verdict: %s\n", verdict_text(c->verdict));
		if (c->verdict >= 0 && c->verdict < _VOUCH_AUDIT_VERDICT_MAX)
			counts[c->verdict]++;
	}
	for (size_t i = 0; i < vouch_audit_skipped_count(a); i++) {
		const struct vouch_audit_skipped *sk = vouch_audit_skipped_get(a, i);

		printf("NOT AUDITED: %s: %s\n", sk->path, sk->reason);
	}
	printf("\n%zu consumers: %zu measured and appraisable, %zu measured only, "
	       "%zu hook without data, %zu no integrity hook\n",
	       vouch_audit_consumer_count(a), counts[VOUCH_AUDIT_MEASURED],
	       counts[VOUCH_AUDIT_MEASURED_ONLY], counts[VOUCH_AUDIT_DENY_ONLY],
	       counts[VOUCH_AUDIT_NO_HOOK]);
	printf("\n%-18s %6s %8s %9s %9s  %s\n", "RULE", "FILES", "MATCHES", "SECONDS", "CPU-SEC",
	       "SUMMARY");
	for (size_t i = 0; i < vouch_audit_rule_count(a); i++) {
		const struct vouch_audit_rule_stat *r = vouch_audit_rule_get(a, i);

		printf("%-18s %6u %8u %9.2f %9.2f  %s\n", r->name, r->files, r->matches,
		       (double)r->wall_msec / 1000, (double)r->cpu_msec / 1000, r->summary);
	}
	printf("\nprefilter: %llu .c files in %.2f s, %llu candidates; %llu spatch runs; "
	       "total %.2f s\n",
	       (unsigned long long)st->files_scanned, (double)st->prefilter_msec / 1000,
	       (unsigned long long)st->candidates, (unsigned long long)st->spatch_runs,
	       (double)st->total_msec / 1000);
}

int cmd_audit_kernel(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "spatch", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_audit_freep) vouch_audit *a = NULL;
	struct vouch_audit_options o = VOUCH_AUDIT_OPTIONS_INIT;
	const char *data_dir = NULL;
	bool json = false, jobs_set = false;
	int c, r;

	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (cli_flag_once("audit-kernel", &json, "json"))
				return EXIT_USAGE;
			break;
		case 'J':
			if (jobs_set)
				return cli_given_twice("audit-kernel", "--jobs");
			if (cli_parse_u32(optarg, &o.jobs) < 0 || o.jobs == 0 || o.jobs > 256)
				return cli_usage_error("audit-kernel", "invalid --jobs '%s'", optarg);
			jobs_set = true;
			break;
		case 'd':
			if (cli_opt_once("audit-kernel", &data_dir, optarg, "data-dir"))
				return EXIT_USAGE;
			break;
		case 's':
			if (cli_opt_once("audit-kernel", &o.spatch, optarg, "spatch"))
				return EXIT_USAGE;
			break;
		case 'h':
			printf("Usage: vouch audit-kernel [--json] [--jobs N] [--data-dir DIR] "
			       "[--spatch PROG] KERNEL_TREE\n\n"
			       "List every place the kernel tree loads a file or buffer from userspace,\n"
			       "its entry point, the LSM/IMA hooks on its path and a verdict, by running\n"
			       "the Coccinelle rules in DIR (default: the installed share/vouch/audit).\n");
			return EXIT_OK;
		default:
			return cli_usage_error("audit-kernel", "invalid option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("audit-kernel", "no kernel tree given");
	if (optind + 1 < argc)
		return cli_usage_error("audit-kernel", "unexpected argument '%s'", argv[optind + 1]);
	o.data_dir = pick_data_dir(data_dir);
	r = vouch_audit_run(ctx, argv[optind], &o, &a);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	if (vouch_audit_skipped_count(a))
		cli_warn("%zu files or directories of '%s' were not audited (listed in the report)",
			 vouch_audit_skipped_count(a), argv[optind]);
	if (json)
		print_json(a, argv[optind]);
	else
		print_table(a);
	if (fflush(stdout) != 0) {
		cli_error("cannot write the output: %m");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}
