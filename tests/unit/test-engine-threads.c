// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The engine from several threads at once (issue 20, durable measurement): hooks on one
 * engine in parallel with configuration changes, group commit of the list entries, dedup
 * of the same measurement made by two threads at once, and a child killed with SIGKILL
 * in the middle of a stream of measurements: every entry a hook acknowledged must be in
 * the list the next start recovers, and the list must replay to the PCRs.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "tap.h"

#include "internal.h"
#include "openssl-internal.h"

#include "engine-fixture.h"

#define N_THREADS 8
#define PER_THREAD 30
#define SHARED 12
#define CRASH_THREADS 4
#define CRASH_ROUNDS 6
/* under valgrind (meson test --setup valgrind) the same checks, on fewer loads */
static int per_thread = PER_THREAD, crash_rounds = CRASH_ROUNDS;
#define MAX_ACKED 20000


static const char *path(const char *name)
{
	static __thread char buf[4][512];
	static __thread int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* @name with @content and a security.ima-style v2 signature in XATTR (as evmctl). */
static int make_signed(vouch_ctx *c, const char *name, const char *content)
{
	struct vouch_digest d;
	uint8_t v[9 + 512];
	size_t sl = sizeof(v) - 9;
	EVP_PKEY_CTX *pc;
	int fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return -errno;
	r = write_all(fd, content, strlen(content));
	close(fd);
	if (r < 0)
		return r;
	r = vouch_digest_file(c, path(name), (int[]){ VOUCH_HASH_SHA256 }, 1, &d);
	if (r < 0)
		return r;
	pc = EVP_PKEY_CTX_new(key_pkey(key), NULL);
	if (!pc || EVP_PKEY_sign_init(pc) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) <= 0 ||
	    EVP_PKEY_sign(pc, v + 9, &sl, d.bytes, d.len) <= 0) {
		EVP_PKEY_CTX_free(pc);
		return -EIO;
	}
	EVP_PKEY_CTX_free(pc);
	v[0] = 0x03;
	v[1] = 2;
	v[2] = VOUCH_HASH_SHA256;
	put_be32(v + 3, keyid);
	put_be16(v + 7, (uint16_t)sl);
	return setxattr(path(name), XATTR, v, 9 + sl, 0) < 0 ? -errno : 0;
}

static const char policy_text[] = "measure func=FILE_CHECK\n"
				  "appraise func=FILE_CHECK appraise_type=imasig\n";

static int set_config(vouch_ctx *c, vouch_engine *e)
{
	vouch_policy *p = NULL;
	vouch_trust *t = NULL;
	int r = vouch_policy_parse(c, policy_text, strlen(policy_text), NULL, &p, NULL);

	if (r == 0)
		r = vouch_engine_set_policy(e, p);
	if (r == 0)
		r = vouch_trust_new(c, &t);
	if (r == 0)
		r = vouch_trust_add_cert(t, cert, ".ima");
	if (r == 0)
		return vouch_engine_set_trust(e, VOUCH_KEYRING_IMA, t);
	vouch_trust_free(t);
	return r;
}

static int tails_recovered, entries_recovered;

/* Counts the starts that completed the extends of a durable tail. */
static void on_event(void *ud, const struct vouch_engine_event *ev)
{
	if (!strcmp(ev->action, "recover") && !strcmp(ev->reason, "durable tail entries extended"))
		tails_recovered++;
	else if (!strcmp(ev->action, "recover") &&
		 !strcmp(ev->reason, "durable tail entry extended"))
		entries_recovered++;
}

static vouch_engine *engine(vouch_ctx *c, const char *state)
{
	struct vouch_engine_options o = VOUCH_ENGINE_OPTIONS_INIT;
	vouch_engine *e = NULL;

	o.state_dir = path(state);
	o.xattr_name = XATTR;
	o.audit_fn = on_event;
	if (vouch_engine_new(c, &o, &e) < 0) {
		printf("# engine: %s\n", vouch_ctx_last_error(c));
		return NULL;
	}
	if (set_config(c, e) < 0) {
		printf("# config: %s\n", vouch_ctx_last_error(c));
		vouch_engine_free(e);
		return NULL;
	}
	return e;
}

static int check(vouch_engine *e, const char *name, struct vouch_engine_result *res)
{
	int fd = open(path(name), O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = vouch_engine_file_check(e, VOUCH_FUNC_FILE_CHECK, fd, name, VOUCH_MAY_READ, res);
	close(fd);
	return r;
}

/* How often each name is in the list (names[i] -> counts[i]); -1 for a malformed list. */
static int list_count(vouch_engine *e, char **names, size_t n, int *counts, uint64_t *ret_total)
{
	const uint8_t *buf;
	size_t len;
	vouch_log_reader *rd = NULL;
	struct vouch_log_entry ent;
	uint64_t total = 0;
	int r = vouch_engine_get_list(e, &buf, &len);

	memset(counts, 0, n * sizeof(*counts));
	if (r == 0)
		r = vouch_log_reader_new(ctx, buf, len, NULL, &rd);
	while (r == 0 && (r = vouch_log_next(rd, &ent)) > 0) {
		const struct vouch_log_field *f = vouch_log_entry_find(&ent, VOUCH_LOG_FIELD_N_NG);

		r = 0;
		total++;
		for (size_t i = 0; f && i < n; i++)
			if (f->len == strlen(names[i]) + 1 && !memcmp(f->data, names[i], f->len))
				counts[i]++;
	}
	vouch_log_reader_free(rd);
	*ret_total = total;
	return r;
}

/* ------------------------------------------------------------ many threads, one engine */

struct worker_arg {
	vouch_engine *e;
	int id;
	int fails, unmeasured, shared_measured, shared_fails;
	char why[256];
};

static atomic_int stop_config;
static pthread_barrier_t shared_barrier;

static void *worker(void *p)
{
	struct worker_arg *a = p;

	for (int i = 0; i < per_thread; i++) {
		struct vouch_engine_result res;
		char nm[64];
		int r;

		snprintf(nm, sizeof(nm), "t%d-%d", a->id, i);
		r = check(a->e, nm, &res);
		if (r < 0) {
			if (!a->fails++)
				snprintf(a->why, sizeof(a->why), "%s: %d", nm, r);
		} else if (!res.measured || res.appraisal != 0) {
			a->unmeasured++;
		}
		/* every thread also loads the shared files: each is measured once in all */
		if (i < SHARED) {
			/*
			 * Every thread at the same file at the same moment: they race to append.
			 * Thread 0 starts a flush first (another file) so that the others queue
			 * their copies into one group, which must still append one entry.
			 */
			pthread_barrier_wait(&shared_barrier);
			if (a->id == 0) {
				snprintf(nm, sizeof(nm), "x-%d", i);
				if (check(a->e, nm, &res) < 0 || !res.measured)
					a->fails++;
			} else {
				usleep(100);
			}
			snprintf(nm, sizeof(nm), "shared-%d", i); /* all at once */
			r = check(a->e, nm, &res);
			if (r < 0)
				a->shared_fails++;
			else if (res.measured)
				a->shared_measured++;
		}
	}
	return NULL;
}

/* Changes the configuration while the hooks run (the same policy and trust each time). */
static void *configurer(void *p)
{
	vouch_engine *e = p;
	vouch_ctx *c = NULL;
	long n = 0;

	if (vouch_ctx_new(&c) < 0)
		return (void *)-1L;
	while (!stop_config) {
		if (set_config(c, e) < 0 || vouch_engine_set_mode(e, VOUCH_FUNC_FILE_CHECK,
								   VOUCH_MODE_ENFORCE) < 0)
			n = -1;
		else if (n >= 0)
			n++;
		(void)vouch_engine_entry_count(e);
		usleep(500);
	}
	vouch_ctx_free(c);
	return (void *)n;
}

static void test_threads(void)
{
	pthread_t th[N_THREADS], cfg;
	struct worker_arg a[N_THREADS];
	char *names[N_THREADS * PER_THREAD + 2 * SHARED];
	int counts[N_THREADS * PER_THREAD + 2 * SHARED];
	size_t n_names = 0;
	int fails = 0, unmeasured = 0, shared_measured = 0, shared_fails = 0, prep = 0;
	int missing = 0, twice = 0;
	uint64_t total = 0, groups = 0, grouped = 0, expect;
	void *cfg_ret = NULL;
	int r;
	vouch_engine *e;

	for (int t = 0; t < N_THREADS; t++)
		for (int i = 0; i < per_thread; i++) {
			char nm[64], content[128];

			snprintf(nm, sizeof(nm), "t%d-%d", t, i);
			snprintf(content, sizeof(content), "thread %d file %d\n", t, i);
			prep |= make_signed(ctx, nm, content);
			names[n_names++] = strdup(nm);
		}
	for (int i = 0; i < SHARED; i++) {
		char nm[64];

		snprintf(nm, sizeof(nm), "shared-%d", i);
		prep |= make_signed(ctx, nm, nm);
		names[n_names++] = strdup(nm);
		snprintf(nm, sizeof(nm), "x-%d", i);
		prep |= make_signed(ctx, nm, nm);
		names[n_names++] = strdup(nm);
	}
	ok(prep == 0, "%zu signed files prepared", n_names);

	e = engine(ctx, "threads");
	if (!ok(e, "engine on a state directory"))
		return;
	stop_config = 0;
	pthread_barrier_init(&shared_barrier, NULL, N_THREADS);
	pthread_create(&cfg, NULL, configurer, e);
	for (int t = 0; t < N_THREADS; t++) {
		memset(&a[t], 0, sizeof(a[t]));
		a[t].e = e;
		a[t].id = t;
		pthread_create(&th[t], NULL, worker, &a[t]);
	}
	for (int t = 0; t < N_THREADS; t++) {
		pthread_join(th[t], NULL);
		fails += a[t].fails;
		unmeasured += a[t].unmeasured;
		shared_measured += a[t].shared_measured;
		shared_fails += a[t].shared_fails;
		if (a[t].fails)
			printf("# thread %d: %s\n", t, a[t].why);
	}
	stop_config = 1;
	pthread_join(cfg, &cfg_ret);
	pthread_barrier_destroy(&shared_barrier);
	ok(fails == 0 && shared_fails == 0, "%d threads x %d loads: no failure (%d, %d)", N_THREADS,
	   per_thread, fails, shared_fails);
	ok(unmeasured == 0, "every distinct file measured and appraised by its thread (%d not)",
	   unmeasured);
	ok(shared_measured == SHARED,
	   "%d files loaded by several threads at once: each measured once (%d measurements)",
	   SHARED, shared_measured);
	ok((long)cfg_ret > 0, "policy, trust and mode replaced meanwhile (%ld times)",
	   (long)cfg_ret);
	expect = 1 + N_THREADS * per_thread + 2 * SHARED;
	ok(vouch_engine_entry_count(e) == expect, "entries = boot_aggregate + distinct files "
						 "(%llu, expected %llu)",
	   (unsigned long long)vouch_engine_entry_count(e), (unsigned long long)expect);
	r = list_count(e, names, n_names, counts, &total);
	ok(r == 0 && total == expect, "the list parses: %llu entries", (unsigned long long)total);
	for (size_t i = 0; i < n_names; i++) {
		missing += counts[i] == 0;
		twice += counts[i] > 1;
	}
	ok(missing == 0 && twice == 0, "every file in the list exactly once (%d missing, %d twice)",
	   missing, twice);
	ok(vouch_engine_verify_state(e) == 0, "the list replays to the software PCRs");
	r = vouch_engine_get_group_stats(e, &groups, &grouped);
	ok(r == 0 && grouped == expect && groups >= 1 && groups <= grouped,
	   "group statistics: %llu entries in %llu groups", (unsigned long long)grouped,
	   (unsigned long long)groups);
	printf("# mean group size %.2f\n", groups ? (double)grouped / (double)groups : 0.0);
	vouch_engine_free(e);

	e = engine(ctx, "threads");
	ok(e && vouch_engine_entry_count(e) == expect && vouch_engine_verify_state(e) == 0,
	   "the state opens again with every entry, replaying to its PCRs");
	vouch_engine_free(e);
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
}

/* ------------------------------------------------------------ a group that fails */

struct fail_arg {
	vouch_engine *e;
	int id, ok, measured, failed;
};

static void *fail_worker(void *p)
{
	struct fail_arg *a = p;

	for (int i = 0; i < 3; i++) {
		struct vouch_engine_result res;
		char nm[64];
		int r;

		snprintf(nm, sizeof(nm), "fsz-%d-%d", a->id, i);
		r = check(a->e, nm, &res);
		if (r < 0)
			a->failed++;
		else if (res.measured)
			a->measured++;
		else
			a->ok++;
	}
	return NULL;
}

static void run_fail_workers(vouch_engine *e, int *ret_measured, int *ret_failed)
{
	pthread_t th[4];
	struct fail_arg a[4];

	*ret_measured = *ret_failed = 0;
	for (int t = 0; t < 4; t++) {
		a[t] = (struct fail_arg){ .e = e, .id = t };
		pthread_create(&th[t], NULL, fail_worker, &a[t]);
	}
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		*ret_measured += a[t].measured;
		*ret_failed += a[t].failed;
	}
}

/*
 * The list cannot grow (disk full) while several threads append: every group fails as a
 * whole and is taken back out, so a reported failure means nothing was measured; once
 * the disk has room, the same loads are measured once each.
 */
static void test_failed_groups(void)
{
	struct rlimit old, lim;
	struct stat st0, st1;
	int measured, failed, prep = 0;
	uint64_t n0;
	vouch_engine *e;

	for (int t = 0; t < 4; t++)
		for (int i = 0; i < 3; i++) {
			char nm[64];

			snprintf(nm, sizeof(nm), "fsz-%d-%d", t, i);
			prep |= make_signed(ctx, nm, nm);
		}
	e = engine(ctx, "fsz");
	if (!ok(e && prep == 0, "engine and 12 signed files"))
		return;
	n0 = vouch_engine_entry_count(e);
	stat(path("fsz/measurements"), &st0);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)st0.st_size + 100; /* less than one record */
	setrlimit(RLIMIT_FSIZE, &lim);
	run_fail_workers(e, &measured, &failed);
	setrlimit(RLIMIT_FSIZE, &old);
	stat(path("fsz/measurements"), &st1);
	ok(failed == 12 && measured == 0, "disk full: 4 threads x 3 loads all fail (%d failed, %d "
					   "measured)",
	   failed, measured);
	ok(st1.st_size == st0.st_size && vouch_engine_entry_count(e) == n0 &&
		   vouch_engine_verify_state(e) == 0,
	   "and the list is as it was (%lld bytes, was %lld): nothing half measured",
	   (long long)st1.st_size, (long long)st0.st_size);
	run_fail_workers(e, &measured, &failed);
	ok(failed == 0 && measured == 12 && vouch_engine_entry_count(e) == n0 + 12 &&
		   vouch_engine_verify_state(e) == 0,
	   "with room again: each measured once (%d measured, %d failed)", measured, failed);
	vouch_engine_free(e);
	e = engine(ctx, "fsz");
	ok(e && vouch_engine_entry_count(e) == n0 + 12 && vouch_engine_verify_state(e) == 0,
	   "and the state opens again");
	vouch_engine_free(e);
}

/* ------------------------------------------------------------ SIGKILL in the middle */

struct crash_arg {
	vouch_engine *e;
	int id, round, fd;
};

static void *crash_worker(void *p)
{
	struct crash_arg *a = p;
	vouch_ctx *c = NULL;

	if (vouch_ctx_new(&c) < 0)
		return NULL;
	for (int i = 0;; i++) {
		struct vouch_engine_result res;
		char nm[64], line[80];
		int n;

		snprintf(nm, sizeof(nm), "c%d-%d-%d", a->round, a->id, i);
		if (make_signed(c, nm, nm) < 0 || check(a->e, nm, &res) < 0 || !res.measured)
			break;
		/* acknowledged: the answer came back, the entry must survive anything now */
		n = snprintf(line, sizeof(line), "%s\n", nm);
		if (write(a->fd, line, (size_t)n) != n)
			break;
	}
	vouch_ctx_free(c);
	return NULL;
}

static void crash_child(int round, int fd)
{
	pthread_t th[CRASH_THREADS];
	struct crash_arg a[CRASH_THREADS];
	vouch_ctx *c = NULL;
	vouch_engine *e;

	if (vouch_ctx_new(&c) < 0)
		_exit(3);
	e = engine(c, "crash");
	if (!e)
		_exit(4);
	for (int t = 0; t < CRASH_THREADS; t++) {
		a[t] = (struct crash_arg){ .e = e, .id = t, .round = round, .fd = fd };
		pthread_create(&th[t], NULL, crash_worker, &a[t]);
	}
	for (int t = 0; t < CRASH_THREADS; t++)
		pthread_join(th[t], NULL);
	_exit(5); /* a worker stopped: the parent reports it */
}

static void test_crash(void)
{
	static char *acked[MAX_ACKED];
	static int counts[MAX_ACKED];
	size_t n_acked = 0;
	int bad_open = 0, bad_replay = 0, lost = 0, dup = 0, early = 0;
	uint64_t total = 0;

	srand((unsigned)time(NULL));
	for (int round = 0; round < crash_rounds; round++) {
		int pfd[2];
		pid_t pid;
		char buf[4096], part[128] = "";
		size_t got_round = 0, want = 10 + (size_t)(rand() % 100);
		int status;
		vouch_engine *e;
		uint64_t t_end;

		if (pipe(pfd) < 0)
			abort();
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			crash_child(round, pfd[1]);
		}
		close(pfd[1]);
		/* read acknowledgements until @want of them, then kill; then drain the pipe */
		t_end = (uint64_t)time(NULL) + 60;
		for (bool killed = false;;) {
			struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
			ssize_t k;

			if (!killed && (got_round >= want || (uint64_t)time(NULL) > t_end)) {
				kill(pid, SIGKILL);
				killed = true;
			}
			if (poll(&pf, 1, 1000) <= 0)
				continue;
			k = read(pfd[0], buf, sizeof(buf) - 1);
			if (k <= 0)
				break;
			buf[k] = '\0';
			for (char *s = buf, *nl; *s; s = nl + 1) {
				nl = strchr(s, '\n');
				if (!nl) {
					strncat(part, s, sizeof(part) - strlen(part) - 1);
					break;
				}
				*nl = '\0';
				if (n_acked < MAX_ACKED) {
					char full[128];

					snprintf(full, sizeof(full), "%.60s%.60s", part, s);
					acked[n_acked++] = strdup(full);
					got_round++;
				}
				part[0] = '\0';
			}
		}
		close(pfd[0]);
		waitpid(pid, &status, 0);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
			early++;
			printf("# round %d: the child ended by itself (status %#x)\n", round, status);
		}
		e = engine(ctx, "crash");
		if (!e) {
			bad_open++;
			continue;
		}
		if (vouch_engine_verify_state(e) != 0)
			bad_replay++;
		printf("# round %d: %zu acknowledged, %llu entries\n", round, got_round,
		       (unsigned long long)vouch_engine_entry_count(e));
		vouch_engine_free(e);
	}
	ok(early == 0, "%d children killed with SIGKILL in the middle of their loads",
	   crash_rounds);
	ok(bad_open == 0, "every start after a SIGKILL recovers the state (%d refused)", bad_open);
	ok(bad_replay == 0, "and its list replays to the PCRs (%d do not)", bad_replay);
	printf("# starts that completed a tail of several entries: %d, of one entry: %d\n",
	       tails_recovered, entries_recovered);
	{
		vouch_engine *e = engine(ctx, "crash");
		int r = e ? list_count(e, acked, n_acked, counts, &total) : -1;

		ok(r == 0,
		   "the list after %d crashes parses (%llu entries)", crash_rounds,
		   (unsigned long long)total);
		for (size_t i = 0; i < n_acked; i++) {
			lost += counts[i] == 0;
			dup += counts[i] > 1;
		}
		ok(n_acked > 0 && lost == 0,
		   "every acknowledged entry is in the list (%zu acknowledged, %d lost)", n_acked,
		   lost);
		ok(dup == 0, "none twice (%d)", dup);
		vouch_engine_free(e);
	}
	for (size_t i = 0; i < n_acked; i++)
		free(acked[i]);
}

int main(void)
{
	int r = fixture_setup("vouch-test-engine-threads");

	if (r != 0)
		return r < 0 ? 0 : r;
	if (getenv("VOUCH_TEST_VALGRIND")) {
		per_thread = SHARED; /* every worker loads the shared files in its first SHARED */
		crash_rounds = 2;
		printf("# under valgrind: %d loads a thread, %d crash rounds\n", per_thread,
		       crash_rounds);
	}
	test_threads();
	test_failed_groups();
	test_crash();
	return fixture_done();
}
