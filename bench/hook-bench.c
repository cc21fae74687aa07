// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hook-bench: what one engine hook costs.  Cache hit (unchanged file, already measured and
 * appraised), cold appraisal (cache off: read + hash + one signature check), and the two
 * pieces alone (hash of the file through the fd, one security.ima verification) so that
 * "cold ~ hash + one verify" can be read off.  Used by bench/hook.
 *
 * Each figure is the best of 7 rounds (the machine is shared).
 *
 * With --durable, the durable measurement of new files (issue 20): N threads on one engine
 * whose state directory is on disk (appraise imasig + measure), each thread taking the
 * next of FILES distinct new signed files, so that every call appends a list entry that
 * must be durable and extended before it returns; new measured files per second and the
 * mean group size (entries per fdatasync), for each thread count in one run, the
 * one-at-a-time figure (1 thread) first.
 *
 * The group statistics are looked up at run time, so that the same binary runs against an
 * earlier libvouch (LD_LIBRARY_PATH) for a before/after comparison.
 *
 * Usage: hook-bench KEY CERT SIZE_BYTES
 *        hook-bench --durable DIR KEY CERT SIZE_BYTES FILES THREADS...
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <vouch/vouch.h>

#define XATTR "user.vouch-bench-ima"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best of several rounds: the machine is shared, the minimum is the cost. */
#define ROUNDS 7
#define BEST(var, count, body)                                                                     \
	do {                                                                                       \
		var = 1e9;                                                                         \
		for (int round_ = 0; round_ < ROUNDS; round_++) {                                  \
			double t0_ = now(), dt_;                                                   \
			for (int i = 0; i < (count); i++) {                                        \
				body;                                                              \
			}                                                                          \
			dt_ = (now() - t0_) / (count);                                             \
			if (dt_ < var)                                                             \
				var = dt_;                                                         \
		}                                                                                  \
	} while (0)

static vouch_engine *mk_state(vouch_ctx *ctx, vouch_cert *cert, uint32_t flags, bool measure,
			       const char *state_dir)
{
	struct vouch_engine_options o = VOUCH_ENGINE_OPTIONS_INIT;
	vouch_engine *e = NULL;
	vouch_policy *p = NULL;
	vouch_trust *t = NULL;
	static const char pol_m[] = "measure func=BPRM_CHECK\nappraise func=BPRM_CHECK appraise_type=imasig\n";
	static const char pol_a[] = "appraise func=BPRM_CHECK appraise_type=imasig\n";
	const char *pol = measure ? pol_m : pol_a;

	o.flags = flags;
	o.xattr_name = XATTR;
	o.state_dir = state_dir;
	if (vouch_engine_new(ctx, &o, &e) < 0 ||
	    vouch_policy_parse(ctx, pol, strlen(pol), NULL, &p, NULL) < 0 ||
	    vouch_trust_new(ctx, &t) < 0 || vouch_trust_add_cert(t, cert, ".ima") < 0)
		return NULL;
	vouch_engine_set_policy(e, p);
	vouch_engine_set_trust(e, VOUCH_KEYRING_IMA, t);
	return e;
}

static vouch_engine *mk(vouch_ctx *ctx, vouch_cert *cert, uint32_t flags, bool measure)
{
	return mk_state(ctx, cert, flags, measure, NULL);
}

/* ------------------------------------------------------------ --durable */

struct durable_run {
	vouch_engine *e;
	const char *dir;
	size_t n_files;
	atomic_size_t next;
	atomic_int fails;
};

static void *durable_worker(void *p)
{
	struct durable_run *run = p;
	struct vouch_engine_result res;
	char name[512];

	for (;;) {
		size_t i = atomic_fetch_add(&run->next, 1);
		int fd;

		if (i >= run->n_files)
			break;
		snprintf(name, sizeof(name), "%s/files/f%zu", run->dir, i);
		fd = open(name, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || vouch_engine_file_check(run->e, VOUCH_FUNC_BPRM_CHECK, fd, name,
						      VOUCH_MAY_EXEC, &res) < 0 ||
		    !res.measured || res.appraisal != 0)
			atomic_fetch_add(&run->fails, 1);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

typedef int (*group_stats_fn)(const vouch_engine *, uint64_t *, uint64_t *);

/* N_FILES distinct signed files of SIZE bytes in DIR/files (the signing is set-up, not
 * measured); the files of an earlier run in DIR are reused (profiling the runs alone) */
static int durable_files(vouch_ctx *ctx, vouch_key *key, const vouch_cert *cert, const char *dir,
			 size_t size, size_t n_files)
{
	struct vouch_ima_sign_options so = VOUCH_IMA_SIGN_OPTIONS_INIT;
	struct vouch_cert_info info;
	uint8_t *buf;
	char name[512];
	struct stat st;
	int r = 0;

	vouch_cert_get_info(cert, &info);
	so.keyid = info.ima_keyid;
	snprintf(name, sizeof(name), "%s/files", dir);
	mkdir(name, 0700);
	buf = malloc(size);
	if (!buf || !size || !n_files) {
		free(buf);
		return 3;
	}
	snprintf(name, sizeof(name), "%s/files/f%zu", dir, n_files - 1);
	if (stat(name, &st) == 0 && (size_t)st.st_size == size)
		n_files = 0;
	for (size_t i = 0; i < n_files && r == 0; i++) {
		uint8_t *sig = NULL;
		size_t sig_len;
		int fd;

		for (size_t k = 0; k < size; k++)
			buf[k] = (uint8_t)(k * 131 + i * 7 + (i >> 8));
		memcpy(buf, &i, sizeof(i));
		snprintf(name, sizeof(name), "%s/files/f%zu", dir, i);
		fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, buf, size) != (ssize_t)size ||
		    vouch_ima_sign_fd(ctx, key, &so, fd, &sig, &sig_len) < 0 ||
		    fsetxattr(fd, XATTR, sig, sig_len, 0) < 0) {
			fprintf(stderr, "hook-bench: cannot make '%s': %s\n", name,
				vouch_ctx_last_error(ctx));
			r = 3;
			continue;
		}
		vouch_free(sig);
		close(fd);
	}
	free(buf);
	return r;
}

/* one row of the table: NT threads load the files into a new state directory; its rate in
 * *ret_rate; 0, or the exit code */
static int durable_row(vouch_ctx *ctx, vouch_cert *cert, const char *dir, int a, int nt,
		       size_t n_files, group_stats_fn group_stats, double *ret_rate)
{
	struct durable_run run = { .dir = dir, .n_files = n_files };
	pthread_t th[256];
	uint64_t groups = 0, grouped = 0, before = 0, before_groups = 0;
	double t0, dt, rate, cpu;
	struct rusage ru0, ru1;
	char state[600];

	if (nt < 1 || nt > 256)
		return 2;
	snprintf(state, sizeof(state), "%s/state-%d-%d", dir, a, nt);
	run.e = mk_state(ctx, cert, 0, true, state);
	if (!run.e) {
		fprintf(stderr, "hook-bench: engine: %s\n", vouch_ctx_last_error(ctx));
		return 3;
	}
	if (group_stats) /* the boot_aggregate's group */
		group_stats(run.e, &before_groups, &before);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now();
	for (int t = 0; t < nt; t++)
		pthread_create(&th[t], NULL, durable_worker, &run);
	for (int t = 0; t < nt; t++)
		pthread_join(th[t], NULL);
	dt = now() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
	      (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
	      (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
	      (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	if (group_stats)
		group_stats(run.e, &groups, &grouped);
	groups -= before_groups;
	grouped -= before;
	if (run.fails || vouch_engine_entry_count(run.e) != n_files + 1 ||
	    vouch_engine_verify_state(run.e) < 0) {
		fprintf(stderr, "hook-bench: %d loads failed or the list is wrong: %s\n",
			run.fails, vouch_ctx_last_error(ctx));
		return 4;
	}
	vouch_engine_free(run.e);
	rate = (double)n_files / dt;
	printf("%8d %12.0f %10.1f %11.2f %8llu %10.2f %12.1f\n", nt, rate,
	       dt * 1e6 / (double)n_files, groups ? (double)grouped / (double)groups : 0.0,
	       (unsigned long long)groups, cpu / dt, cpu * 1e6 / (double)n_files);
	fflush(stdout);
	*ret_rate = rate;
	return 0;
}

static int durable(int argc, char **argv)
{
	group_stats_fn group_stats = (group_stats_fn)dlsym(RTLD_DEFAULT,
							   "vouch_engine_get_group_stats");
	vouch_ctx *ctx = NULL;
	vouch_key *key = NULL;
	vouch_cert *cert = NULL;
	const char *dir;
	size_t size, n_files;
	struct statfs sfs;
	double best = 0, one = 0;
	int r;

	if (argc < 8 || vouch_ctx_new(&ctx) < 0)
		return 2;
	dir = argv[2];
	size = strtoul(argv[5], NULL, 10);
	n_files = strtoul(argv[6], NULL, 10);
	if (vouch_key_load(ctx, argv[3], NULL, NULL, &key) < 0 ||
	    vouch_cert_load(ctx, argv[4], &cert) < 0) {
		fprintf(stderr, "hook-bench: %s\n", vouch_ctx_last_error(ctx));
		return 3;
	}
	r = durable_files(ctx, key, cert, dir, size, n_files);
	if (r)
		return r;
	sync(); /* the files' own write-back is not the engine's cost */
	statfs(dir, &sfs);
	printf("durable measurement: %zu new signed %zu-byte files per run, appraise imasig + "
	       "measure,\nstate directory on disk (%s, f_type 0x%lx), %ld cores online, "
	       "libvouch %s%s\n",
	       n_files, size, dir, (unsigned long)sfs.f_type, sysconf(_SC_NPROCESSORS_ONLN),
	       vouch_version(), group_stats ? "" : " (no group commit: group size not known)");
	printf("%8s %12s %10s %11s %8s %10s %12s\n", "threads", "files/s", "us/file", "mean group",
	       "groups", "cpu cores", "cpu us/file");
	for (int a = 7; a < argc; a++) {
		int nt = (int)strtoul(argv[a], NULL, 10);
		double rate = 0;

		r = durable_row(ctx, cert, dir, a, nt, n_files, group_stats, &rate);
		if (r)
			return r;
		if (nt == 1)
			one = rate;
		if (rate > best)
			best = rate;
	}
	if (one > 0)
		printf("best %.0f new measured files/s, %.1fx the one-at-a-time figure; goal >= 5000: "
		       "%s\n",
		       best, best / one, best >= 5000 ? "met" : "not met");
	vouch_key_free(key);
	vouch_cert_free(cert);
	vouch_ctx_free(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	struct vouch_ima_sign_options so = VOUCH_IMA_SIGN_OPTIONS_INIT;
	struct vouch_engine_result res;
	vouch_ctx *ctx = NULL;
	vouch_key *key = NULL;
	vouch_cert *cert = NULL;
	vouch_engine *hot, *cold, *coldm;
	vouch_trust *t = NULL;
	char path[] = "/tmp/vouch-hook-bench.XXXXXX";
	uint8_t *sig = NULL, *buf;
	size_t sig_len, size;
	struct vouch_digest d;
	int fd, n;
	double hit, coldt, coldmt, hash, verify;

	if (argc > 1 && !strcmp(argv[1], "--durable"))
		return durable(argc, argv);
	if (argc != 4 || vouch_ctx_new(&ctx) < 0)
		return 2;
	size = strtoul(argv[3], NULL, 10);
	if (vouch_key_load(ctx, argv[1], NULL, NULL, &key) < 0 ||
	    vouch_cert_load(ctx, argv[2], &cert) < 0) {
		fprintf(stderr, "hook-bench: %s\n", vouch_ctx_last_error(ctx));
		return 3;
	}
	{
		struct vouch_cert_info info;

		vouch_cert_get_info(cert, &info);
		so.keyid = info.ima_keyid;
	}
	fd = mkstemp(path);
	buf = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	if (fd < 0 || !buf || write(fd, buf, size) != (ssize_t)size)
		return 3;
	if (vouch_ima_sign_fd(ctx, key, &so, fd, &sig, &sig_len) < 0 ||
	    fsetxattr(fd, XATTR, sig, sig_len, 0) < 0) {
		fprintf(stderr, "hook-bench: cannot sign: %s\n", vouch_ctx_last_error(ctx));
		return 3;
	}
	hot = mk(ctx, cert, 0, true);
	cold = mk(ctx, cert, VOUCH_ENGINE_NO_CACHE, false);
	coldm = mk(ctx, cert, VOUCH_ENGINE_NO_CACHE, true);
	if (!hot || !cold || !coldm || vouch_engine_file_check(hot, VOUCH_FUNC_BPRM_CHECK, fd, path,
						     VOUCH_MAY_EXEC, &res) < 0 ||
	    res.appraisal != 0) {
		fprintf(stderr, "hook-bench: first load failed: %s\n", vouch_ctx_last_error(ctx));
		return 3;
	}

	n = 30000;
	BEST(hit, n, if (vouch_engine_file_check(hot, VOUCH_FUNC_BPRM_CHECK, fd, path,
						 VOUCH_MAY_EXEC, &res) < 0 ||
			 !res.cached) return 4);

	n = size > (1 << 19) ? 5 : 40;
	BEST(coldt, n, if (vouch_engine_file_check(cold, VOUCH_FUNC_BPRM_CHECK, fd, path,
						   VOUCH_MAY_EXEC, &res) < 0 ||
			   res.cached) return 4);
	BEST(coldmt, n, if (vouch_engine_file_check(coldm, VOUCH_FUNC_BPRM_CHECK, fd, path,
						    VOUCH_MAY_EXEC, &res) < 0 ||
			    res.cached) return 4);
	BEST(hash, n, if (pread(fd, buf, size, 0) != (ssize_t)size) return 4;
	     vouch_digest_buf(ctx, VOUCH_HASH_SHA256, buf, size, &d));

	vouch_trust_new(ctx, &t);
	vouch_trust_add_cert(t, cert, ".ima");
	BEST(verify, n, if (vouch_ima_verify_digest(ctx, t, NULL, sig, sig_len, &d, NULL) < 0) return 4);

	printf("file size            %zu bytes\n", size);
	printf("cache hit            %.2f us per call\n", hit * 1e6);
	printf("cold appraisal       %.1f us per call\n", coldt * 1e6);
	printf("  read+hash alone    %.1f us\n", hash * 1e6);
	printf("  one verify alone   %.1f us\n", verify * 1e6);
	printf("  cold / (hash+verify) = %.2f\n", coldt / (hash + verify));
	printf("cold measure+appraise %.1f us per call (in-memory list entry, two template digests)\n",
	       coldmt * 1e6);
	unlink(path);
	vouch_trust_free(t);
	vouch_engine_free(hot);
	vouch_engine_free(cold);
	vouch_engine_free(coldm);
	vouch_free(sig);
	free(buf);
	vouch_key_free(key);
	vouch_cert_free(cert);
	vouch_ctx_free(ctx);
	close(fd);
	return 0;
}
