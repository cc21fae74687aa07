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
 * This file holds the result object and the runs of spatch, in parallel jobs; the records
 * are parsed in audit-records.c, merged in audit-merge.c, and the rules and the files each
 * may match are found in audit-rules.c.
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

static uint64_t now_msec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int audit_grow(void *pp, size_t *cap, size_t need, size_t size)
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

const char *audit_rec_get(const struct rec *r, const char *key)
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
int audit_skip(vouch_audit *a, const char *rel, size_t len, const char *reason)
{
	size_t size = 4 * len + 4;
	char *esc;

	if (audit_grow(&a->skipped, &a->cap_skipped, a->n_skipped + 1, sizeof(*a->skipped)) < 0)
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

			if (audit_grow(&jobs, &cap, n_jobs + 1, sizeof(*jobs)) < 0) {
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
	if (check_reserved(ctx, o->reserved, sizeof(o->reserved),
			   "reserved audit option fields must be zero") < 0)
		return -EINVAL;
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
	r = audit_load_rules(ctx, o->data_dir ? o->data_dir : VOUCH_AUDIT_DATADIR, scratch, &run);
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
	r = audit_scan_dir(&run, tfd, "", 0);	/* closes tfd */
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
		audit_rule_done(&run.rules[i]);
	free(run.rules);
	for (size_t i = 0; i < run.n_files; i++)
		free(run.files[i].path);
	free(run.files);
	if (made)
		rm_scratch(scratch);
	return r;
}
