// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the kernel consumer audit: the spatch record parser and the merge
 * (entry points, hooks, verdicts) fed with records written by hand, without spatch.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit-internal.h"
#include "tap.h"

static const char *const names[] = { "kernel-read-file", "policy-write" };

/* a tiny call graph: see the comment on each record */
static const char records[] =
	/* finit_module -> kernel_read_file_from_fd (fs/krf.c) -> kernel_read_file -> hooks */
	"VOUCH\tdef\tkernel/module.c\t10\tfn=finit_module\n"
	"VOUCH\tcall\tkernel/module.c\t12\tfn=finit_module\tcallee=kernel_read_file_from_fd\n"
	"VOUCH\tdef\tfs/krf.c\t1\tfn=kernel_read_file_from_fd\n"
	"VOUCH\tcall\tfs/krf.c\t3\tfn=kernel_read_file_from_fd\tcallee=kernel_read_file\n"
	"VOUCH\tdef\tfs/krf.c\t5\tfn=kernel_read_file\n"
	"VOUCH\tcall\tfs/krf.c\t6\tfn=kernel_read_file\tcallee=security_kernel_read_file\n"
	"VOUCH\tcall\tfs/krf.c\t7\tfn=kernel_read_file\tcallee=security_kernel_post_read_file\n"
	"VOUCH\tconsumer\tkernel/module.c\t12\tfn=finit_module\tcall=kernel_read_file_from_fd\tid=READING_MODULE\ttakes=fd\n"
	/* the same site reported twice merges into one row */
	"VOUCH\tconsumer\tkernel/module.c\t12\tfn=finit_module\tid=READING_MODULE\ttakes=fd\n"
	/* a load_data caller, reached from a root function nobody calls */
	"VOUCH\tdef\tkernel/kexec.c\t3\tfn=kexec_check\n"
	"VOUCH\tcall\tkernel/kexec.c\t4\tfn=kexec_check\tcallee=security_kernel_load_data\n"
	"VOUCH\tcall\tkernel/kexec.c\t9\tfn=do_kexec\tcallee=kexec_check\n"
	"VOUCH\tdef\tkernel/kexec.c\t8\tfn=do_kexec\n"
	"VOUCH\tconsumer\tkernel/kexec.c\t4\tfn=kexec_check\tid=LOADING_KEXEC_IMAGE\ttakes=buffer\n"
	/* a policy write: the callee decides the hooks, not the sibling branch */
	"VOUCH\tdef\tsecurity/p.c\t20\tfn=policy_write\n"
	"VOUCH\tcall\tsecurity/p.c\t22\tfn=policy_write\tcallee=parse_rules\n"
	"VOUCH\tcall\tsecurity/p.c\t23\tfn=policy_write\tcallee=read_policy_file\n"
	"VOUCH\tdef\tsecurity/p.c\t30\tfn=read_policy_file\n"
	"VOUCH\tcall\tsecurity/p.c\t31\tfn=read_policy_file\tcallee=kernel_read_file\n"
	"VOUCH\tdef\tsecurity/p.c\t40\tfn=parse_rules\n"
	"VOUCH\tcall\tsecurity/p.c\t41\tfn=parse_rules\tcallee=helper\n"
	/* helper is static in p.c (no hook) and also exists in other.c (with a hook) */
	"VOUCH\tdef\tsecurity/p.c\t50\tfn=helper\n"
	"VOUCH\tdef\tsecurity/other.c\t5\tfn=helper\n"
	"VOUCH\tcall\tsecurity/other.c\t6\tfn=helper\tcallee=ima_post_key_create_or_update\n"
	"VOUCH\twrite\tsecurity/p.c\t60\tops=policy_ops\tfn=policy_write\ttype=const%20struct%20file_operations\tfield=write\n"
	"VOUCH\tconsumer\tsecurity/p.c\t21\tfn=policy_write\tcallee=parse_rules\ttakes=buffer\n"
	"VOUCH\tconsumer\tsecurity/p.c\t21\tfn=policy_write\tcallee=read_policy_file\ttakes=buffer\n"
	/* explicit entry from the rule; a key payload measured but not appraisable */
	"VOUCH\tdef\tsecurity/k.c\t1\tfn=key_create_or_update\n"
	"VOUCH\tcall\tsecurity/k.c\t2\tfn=key_create_or_update\tcallee=ima_post_key_create_or_update\n"
	"VOUCH\tconsumer\tsecurity/k.c\t9\tfn=add_key_ish\tcallee=key_create_or_update\tentry=setsockopt(X)\ttakes=buffer\n"
	"spatch says something unrelated on stdout\n";

static const struct vouch_audit_consumer *find(const vouch_audit *a, const char *fn,
					       const char *callee)
{
	for (size_t i = 0; i < vouch_audit_consumer_count(a); i++) {
		const struct vouch_audit_consumer *c = vouch_audit_consumer_get(a, i);

		if (!strcmp(c->function, fn) && (!callee || !strcmp(c->callee, callee)))
			return c;
	}
	return NULL;
}

static int build(vouch_ctx *ctx, vouch_audit **ret)
{
	vouch_audit *a = NULL;
	int r = audit_new(ctx, "/nonexistent-tree", 2, names, &a);

	if (r == 0)
		r = audit_parse(ctx, a, 0, NULL, records, strlen(records));
	if (r == 0)
		r = audit_merge(ctx, a);
	if (r < 0) {
		vouch_audit_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

static void test_merge(vouch_ctx *ctx)
{
	vouch_audit *a = NULL;
	const struct vouch_audit_consumer *c;

	if (ok_ret(build(ctx, &a), "parse and merge hand-written records") < 0)
		return;
	ok(vouch_audit_consumer_count(a) == 5, "5 consumers (duplicates merged), got %zu",
	   vouch_audit_consumer_count(a));
	ok(vouch_audit_rule_get(a, 0)->matches == 6, "rule counts its raw matches");
	ok(vouch_audit_rule_count(a) == 2 && !vouch_audit_rule_get(a, 2), "rule table bounds");
	ok(!vouch_audit_consumer_get(a, 99), "consumer table bounds");

	c = find(a, "finit_module", NULL);
	ok(c && c->verdict == VOUCH_AUDIT_MEASURED, "kernel_read_file caller: measured");
	ok_streq(c ? c->hooks : NULL, "security_kernel_read_file security_kernel_post_read_file",
		 "hooks found two calls down, in another file");
	ok_streq(c ? c->id : NULL, "READING_MODULE", "id kept");
	ok_streq(c ? c->file : NULL, "kernel/module.c", "file name kept");
	ok_streq(c ? c->entry : NULL, "kernel-internal (finit_module)",
		 "no syscall text in a missing tree: kernel-internal");

	c = find(a, "kexec_check", NULL);
	ok(c && c->verdict == VOUCH_AUDIT_DENY_ONLY, "load_data caller: deny-only");
	ok_streq(c ? c->entry : NULL, "kernel-internal (do_kexec)", "walks up to the root caller");

	c = find(a, "policy_write", "parse_rules");
	ok(c && c->verdict == VOUCH_AUDIT_NO_HOOK,
	   "buffer parser: no hook (static helper resolved in its own file)");
	ok_streq(c ? c->entry : NULL, "write 'policy_ops'", "write handler is the entry point");
	c = find(a, "policy_write", "read_policy_file");
	ok(c && c->verdict == VOUCH_AUDIT_MEASURED, "same site, file branch: measured");

	c = find(a, "add_key_ish", NULL);
	ok(c && c->verdict == VOUCH_AUDIT_MEASURED_ONLY, "key payload: measured only");
	ok_streq(c ? c->entry : NULL, "setsockopt(X)", "rule-given entry wins");
	ok_streq(c ? c->rule : NULL, "kernel-read-file", "rule name");

	/* sorted by file then line (over several consumers: one is sorted whatever the code) */
	{
		size_t n = vouch_audit_consumer_count(a), i;

		for (i = 1; i < n; i++) {
			const struct vouch_audit_consumer *p = vouch_audit_consumer_get(a, i - 1);

			c = vouch_audit_consumer_get(a, i);
			if (strcmp(p->file, c->file) > 0 ||
			    (!strcmp(p->file, c->file) && p->line > c->line))
				break;
		}
		ok(n >= 2 && i == n, "%zu consumers sorted by file and line (first out of order: %zu)",
		   n, i);
	}
	vouch_audit_free(a);
}

static void test_malformed(vouch_ctx *ctx)
{
	static const struct {
		const char *rec;
		size_t len;	/* 0 = strlen */
	} bad[] = {
		{ "VOUCH\tdef\tfile.c\n", 0 },			  /* too few fields */
		{ "VOUCH\tdef\tfile.c\tx12\tfn=f\n", 0 },		  /* bad line number */
		{ "VOUCH\tdef\tfile.c\t-1\tfn=f\n", 0 },		  /* negative line */
		{ "VOUCH\tbogus\tfile.c\t1\tfn=f\n", 0 },		  /* unknown kind */
		{ "VOUCH\tconsumer\tfile.c\t1\tid=X\n", 0 },	  /* no function */
		{ "VOUCH\tcall\tfile.c\t1\tfn=f\n", 0 },		  /* call without callee */
		/* strict decoding: the fields of the rules are percent-encoded */
		{ "VOUCH\tdef\tfi le.c\t1\tfn=f\n", 0 },		  /* raw space in a name */
		{ "VOUCH\tdef\tfile.c\t1\tfn=f\ttype=a b\n", 0 },	  /* raw space in a value */
		{ "VOUCH\tdef\tf\x80.c\t1\tfn=f\n", 0 },		  /* raw byte above 0x7e */
		{ "VOUCH\tdef\tf\x1b[2J.c\t1\tfn=f\n", 0 },	  /* raw control byte */
		{ "VOUCH\tdef\tf%4.c\t1\tfn=f\n", 0 },		  /* short escape */
		{ "VOUCH\tdef\tf%zz.c\t1\tfn=f\n", 0 },		  /* not hex */
		{ "VOUCH\tdef\tf%0a.c\t1\tfn=f\n", 0 },		  /* lower-case hex */
		{ "VOUCH\tdef\tf%00.c\t1\tfn=f\n", 0 },		  /* encoded NUL */
		{ "VOUCH\tdef\tf.c%\t1\tfn=f\n", 0 },		  /* '%' at the end */
		{ "VOUCH\tdef\t\t1\tfn=f\n", 0 },			  /* empty file */
		{ "VOUCH\tdef\tf.c\t1\tfn=f\tfn=g\n", 0 },		  /* a key twice */
		{ "VOUCH\tdef\tf.c\t1\tfn=f\tjunk\n", 0 },		  /* a field without '=' */
		{ "VOUCH\tdef\tf.c\t1\tfn=f\t=v\n", 0 },		  /* an empty key */
		{ "VOUCH\tdef\tf.c\t1\tfn=f\ta=1\tb=2\tc=3\td=4\te=5\tf=6\tg=7\th=8\n", 0 }, /* > 8 */
		{ "VOUCH\tdef\tf.c\t1\tfn=f\t\n", 0 },		  /* an empty field */
		{ "VOUCHdef\tf.c\t1\tfn=f\n", 0 },			  /* starts like a record */
		{ "VOUCH\n", 0 },
		{ "VOUCH\tdef\tf.c\t1\tfn=f\0\tid=X\n", 25 },	  /* a NUL byte */
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		vouch_audit *a = NULL;
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].rec);

		if (audit_new(ctx, "/", 1, names, &a) < 0) {
			ok(0, "audit_new");
			continue;
		}
		ok_err(audit_parse(ctx, a, 0, NULL, bad[i].rec, len), -EBADMSG,
		       "malformed record %zu is -EBADMSG", i);
		ok(!strchr(vouch_ctx_last_error(ctx), '\n') && !strchr(vouch_ctx_last_error(ctx), '\x1b'),
		   "its message is one line without control bytes");
		vouch_audit_free(a);
	}
}

/*
 * Issue 14 item 3: a file name with tabs and newlines made the old records carry fields
 * and records of its own (a forged consumer).  Encoded by the rules, the same name is one
 * field that decodes to exactly that name; and a record must name a file spatch was given.
 */
static void test_encoded_names(vouch_ctx *ctx)
{
	/* the attack name: x\t1\tfn=a\tcallee=b\nVOUCH\tconsumer\tkernel/forged.c\t7\t... */
	static const char rec[] =
		"VOUCH\tconsumer\tt/x%091%09fn=a%09callee=b%0AVOUCH%09consumer%09kernel/forged.c"
		"%097%09fn=forged%0AVOUCH%09def%09y.c\t3\tfn=real\tid=READING%20MODULE\ttakes=fd\n"
		"VOUCH\tdef\tt/x%091%09fn=a%09callee=b%0AVOUCH%09consumer%09kernel/forged.c"
		"%097%09fn=forged%0AVOUCH%09def%09y.c\t2\tfn=real\n";
	static const char name[] = "x\t1\tfn=a\tcallee=b\nVOUCH\tconsumer\tkernel/forged.c\t7\t"
				   "fn=forged\nVOUCH\tdef\ty.c";
	const char *const given_names[] = { "kernel/other.c", name };
	struct audit_files given = { .prefix = "t/", .names = given_names, .n = 2 };
	const struct vouch_audit_consumer *c;
	vouch_audit *a = NULL;

	if (audit_new(ctx, "/nonexistent-tree", 1, names, &a) < 0) {
		ok(0, "audit_new");
		return;
	}
	ok_ret(audit_parse(ctx, a, 0, &given, rec, strlen(rec)), "encoded attack name parses");
	ok_ret(audit_merge(ctx, a), "and merges");
	ok(vouch_audit_consumer_count(a) == 1, "one consumer, none forged (got %zu)",
	   vouch_audit_consumer_count(a));
	c = vouch_audit_consumer_get(a, 0);
	ok_streq(c ? c->file : NULL, name, "its file is the exact name, tabs and newlines kept");
	ok_streq(c ? c->function : NULL, "real", "its function is the real one");
	ok_streq(c ? c->id : NULL, "READING MODULE", "values decode");
	vouch_audit_free(a);

	{
		static const char *const stray[] = {
			"VOUCH\tdef\tt/kernel/forged.c\t1\tfn=f\n",	/* not given */
			"VOUCH\tdef\tkernel/other.c\t1\tfn=f\n",	/* without the prefix */
			"VOUCH\tdef\tt/../etc/shadow\t1\tfn=f\n",	/* outside the tree */
			"VOUCH\tdef\tt/kernel/other.c/\t1\tfn=f\n",
			"VOUCH\tdef\tt/\t1\tfn=f\n",
		};

		for (size_t i = 0; i < ARRAY_SIZE(stray); i++) {
			if (audit_new(ctx, "/nonexistent-tree", 1, names, &a) < 0) {
				ok(0, "audit_new");
				continue;
			}
			ok_err(audit_parse(ctx, a, 0, &given, stray[i], strlen(stray[i])), -EBADMSG,
			       "a record about a file spatch was not given (%zu) is -EBADMSG", i);
			vouch_audit_free(a);
		}
	}
	{
		static const char ok_rec[] = "VOUCH\tdef\tt/kernel/other.c\t1\tfn=f\n";

		if (audit_new(ctx, "/nonexistent-tree", 1, names, &a) == 0) {
			ok_ret(audit_parse(ctx, a, 0, &given, ok_rec, strlen(ok_rec)),
			       "a record about a given file is taken");
			vouch_audit_free(a);
		}
	}
}

static void test_escape(void)
{
	char buf[64], tiny[8];

	audit_escape("a\tb\n\\\x1b\xff", 7, buf, sizeof(buf));
	ok_streq(buf, "a\\x09b\\x0a\\\\\\x1b\\xff", "escape: control bytes, backslash, high bytes");
	audit_escape("abcdefghijkl", 12, tiny, sizeof(tiny));
	ok_streq(tiny, "abcd...", "escape truncates with '...'");
	audit_escape("\n\n\n", 3, tiny, sizeof(tiny));
	ok_streq(tiny, "\\x0a...", "escape never splits an escape");
}

static void test_args(vouch_ctx *ctx)
{
	struct vouch_audit_options o = VOUCH_AUDIT_OPTIONS_INIT;
	vouch_audit *a = NULL;

	ok_err(vouch_audit_run(NULL, "/", NULL, &a), -EINVAL, "NULL ctx");
	ok_err(vouch_audit_run(ctx, NULL, NULL, &a), -EINVAL, "NULL tree");
	ok_err(vouch_audit_run(ctx, "/", NULL, NULL), -EINVAL, "NULL result");
	o.version = 2;
	ok_err(vouch_audit_run(ctx, "/", &o, &a), -EINVAL, "unknown options version");
	o.version = VOUCH_AUDIT_OPTIONS_VERSION;
	o.reserved[3] = 1;
	ok_err(vouch_audit_run(ctx, "/", &o, &a), -EINVAL, "non-zero reserved field");
	o.reserved[3] = 0;
	ok_err(vouch_audit_run(ctx, "/nonexistent-tree", &o, &a), -ENOENT, "missing tree");
	ok(strstr(vouch_ctx_last_error(ctx), "/nonexistent-tree") != NULL, "message names the tree");
	o.data_dir = "/nonexistent-rules";
	ok_err(vouch_audit_run(ctx, "/", &o, &a), -ENOENT, "missing rules");
	ok(a == NULL, "no result on failure");
	ok_streq(vouch_audit_verdict_name(VOUCH_AUDIT_DENY_ONLY), "deny-only", "verdict name");
	ok_streq(vouch_audit_verdict_name(42), "unknown", "unknown verdict name");
	ok(vouch_audit_consumer_count(NULL) == 0 && !vouch_audit_get_stats(NULL), "NULL result");
	vouch_audit_free(NULL);
}

static void test_alloc_failures(vouch_ctx *ctx)
{
	int bad = 0, n;

	for (n = 1; n < 2000; n++) {
		vouch_audit *a = NULL;
		int r;

		mem_fail_at(n);
		r = build(ctx, &a);
		mem_fail_at(0);
		if (r < 0 && r != -ENOMEM)
			bad++;
		vouch_audit_free(a);
		if (r == 0)
			break;
	}
	ok(bad == 0, "allocation failures give -ENOMEM (%d other)", bad);
	ok(n < 2000, "the walk reached a successful run (%d allocations)", n);
}

int main(void)
{
	vouch_ctx *ctx = NULL;

	if (vouch_ctx_new(&ctx) < 0)
		return 1;
	test_merge(ctx);
	test_malformed(ctx);
	test_encoded_names(ctx);
	test_escape();
	test_args(ctx);
	test_alloc_failures(ctx);
	vouch_ctx_free(ctx);
	return tap_done();
}
