// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Parallel per-file walker shared by the ima and evm commands.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "walk.h"

/* Hard cap on the walk: one entry per file is kept until the results are printed. */
#define WALK_MAX_FILES (64U * 1024 * 1024)
#define WALK_MAX_DEPTH 256

/*
 * One listed file.  A file found below a directory argument is reopened at work time
 * beneath that directory's fd (never through a symlink) and must still be the inode that
 * was listed; a file named on the command line is reopened by its name (O_NOFOLLOW).
 */
struct item {
	char *path;
	int root;	/* index into walk.roots, or -1 for a file argument */
	size_t rel_off; /* path + rel_off: the name relative to the root */
	dev_t dev;
	ino_t ino;
	struct walk_result res;
};

struct walk {
	const struct walk_options *opts;
	struct item *items;
	size_t n, cap;
	int *roots; /* O_DIRECTORY fds of the directory arguments */
	size_t n_roots;
	/* notes and failures found while collecting, printed before the results */
	size_t skipped, failed;
	int exit_code;
	walk_fn fn;
	void *shared;
	atomic_size_t next;
	atomic_size_t done;
};

char *walk_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

void walk_fail(struct walk_result *res, int exit_code, const char *path, const char *msg)
{
	res->outcome = WALK_FAILED;
	res->exit_code = exit_code;
	free(res->err);
	res->err = walk_fmt("%s: %s: %s", program_name, path, msg);
}

static int worse(int a, int b)
{
	/* "could not check" (3) outranks "not trusted" (1) outranks ok (0) */
	if (a == EXIT_ERROR || b == EXIT_ERROR)
		return EXIT_ERROR;
	if (a == EXIT_USAGE || b == EXIT_USAGE)
		return EXIT_USAGE;
	return a > b ? a : b;
}

static int add_item(struct walk *w, const char *path, int root, size_t rel_off,
		    const struct stat *st)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		struct item *ni;

		if (cap > WALK_MAX_FILES)
			return -E2BIG;
		ni = reallocarray(w->items, cap, sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		w->items = ni;
		w->cap = cap;
	}
	memset(&w->items[w->n], 0, sizeof(w->items[0]));
	w->items[w->n].path = strdup(path);
	if (!w->items[w->n].path)
		return -ENOMEM;
	w->items[w->n].root = root;
	w->items[w->n].rel_off = rel_off;
	w->items[w->n].dev = st->st_dev;
	w->items[w->n].ino = st->st_ino;
	w->n++;
	return 0;
}

static const char *type_name(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link, not followed";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a regular file";
}

static void note_skip(struct walk *w, const char *path, const char *why)
{
	fprintf(stderr, "%s: skipping '%s': %s\n", program_name, path, why);
	w->skipped++;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect the regular files below the directory @dfd (named @path); symlinks never followed. */
static int collect_dir(struct walk *w, int dfd, const char *path, int root, size_t rel_off,
		       unsigned depth)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (depth > WALK_MAX_DEPTH) {
		fprintf(stderr, "%s: %s: directories nested too deep, refusing\n", program_name,
			path);
		w->failed++;
		w->exit_code = worse(w->exit_code, EXIT_ERROR);
		close(dfd);
		return 0;
	}
	d = fdopendir(dfd);
	if (!d) {
		fprintf(stderr, "%s: cannot read directory '%s': %m\n", program_name, path);
		close(dfd);
		w->failed++;
		w->exit_code = worse(w->exit_code, EXIT_ERROR);
		return 0;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nn = reallocarray(names, cap ? cap * 2 : 64, sizeof(*nn));

			if (!nn) {
				r = -ENOMEM;
				goto out;
			}
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	/* deterministic order, whatever readdir returns */
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *child = walk_fmt("%s/%s", path, names[i]);
		struct stat st;

		if (!child) {
			r = -ENOMEM;
			break;
		}
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			fprintf(stderr, "%s: cannot stat '%s': %m\n", program_name, child);
			w->failed++;
			w->exit_code = worse(w->exit_code, EXIT_ERROR);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int cfd = openat(dirfd(d), names[i],
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (cfd < 0) {
				fprintf(stderr, "%s: cannot open directory '%s': %m\n",
					program_name, child);
				w->failed++;
				w->exit_code = worse(w->exit_code, EXIT_ERROR);
				continue;
			}
			r = collect_dir(w, cfd, child, root, rel_off, depth + 1);
		} else if (!S_ISREG(st.st_mode)) {
			note_skip(w, child, type_name(st.st_mode));
		} else if (w->opts->skip_suffix && has_suffix(child, w->opts->skip_suffix)) {
			/* PATH.sig files hold the signatures themselves: not part of the tree */
		} else {
			r = add_item(w, child, root, rel_off, &st);
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

static int collect(struct walk *w, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		fprintf(stderr, "%s: cannot open '%s': %m\n", program_name, path);
		w->failed++;
		w->exit_code = worse(w->exit_code, EXIT_ERROR);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		int dfd;

		if (!w->opts->recursive) {
			fprintf(stderr, "%s: '%s' is a directory (use -r)\n", program_name, path);
			w->failed++;
			w->exit_code = worse(w->exit_code, EXIT_ERROR);
			return 0;
		}
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0) {
			fprintf(stderr, "%s: cannot open directory '%s': %m\n", program_name, path);
			w->failed++;
			w->exit_code = worse(w->exit_code, EXIT_ERROR);
			return 0;
		}
		/* kept open: the files below are reopened beneath it, not by their path */
		{
			int *nr = reallocarray(w->roots, w->n_roots + 1, sizeof(*nr));
			int wfd;

			if (!nr) {
				close(dfd);
				return -ENOMEM;
			}
			w->roots = nr;
			w->roots[w->n_roots++] = dfd;
			wfd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
			if (wfd < 0)
				return -errno;
			return collect_dir(w, wfd, path, (int)w->n_roots - 1, strlen(path) + 1, 0);
		}
	}
	if (!S_ISREG(st.st_mode)) {
		note_skip(w, path, type_name(st.st_mode));
		return 0;
	}
	return add_item(w, path, -1, 0, &st);
}

/* openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS); -ENOSYS where the kernel lacks it */
static int openat2_beneath(int dfd, const char *rel, int flags)
{
#ifdef SYS_openat2
	struct open_how how = {
		.flags = (uint64_t)flags,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dfd, rel, &how, sizeof(how));

	if (fd < 0)
		return errno == EAGAIN ? -EAGAIN : -errno;
	return (int)fd;
#else
	(void)dfd, (void)rel, (void)flags;
	return -ENOSYS;
#endif
}

int walk_open_beneath(int dfd, const char *rel, int flags)
{
	_cleanup_free_ char *copy = NULL;
	char *p, *save = NULL, *next;
	int fd, r;

	if (rel[0] == '/')
		return -EXDEV;
	/* VOUCH_TEST_NO_OPENAT2: the tests exercise the fallback on kernels that have openat2 */
	r = -ENOSYS;
	for (int tries = 0; tries < 8 && !getenv("VOUCH_TEST_NO_OPENAT2"); tries++) {
		r = openat2_beneath(dfd, rel, flags | O_NOFOLLOW | O_CLOEXEC);
		if (r != -EAGAIN)
			break;
	}
	if (r != -ENOSYS && r != -EPERM)
		return r;
	/* no openat2 (or a seccomp filter refuses it): one component at a time */
	copy = strdup(rel);
	if (!copy)
		return -ENOMEM;
	fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	for (p = strtok_r(copy, "/", &save); p; p = next) {
		int nfd;

		next = strtok_r(NULL, "/", &save);
		if (!strcmp(p, "..")) {
			close(fd);
			return -EXDEV;
		}
		nfd = openat(fd, p, (next ? O_RDONLY | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
		r = -errno;
		close(fd);
		if (nfd < 0)
			return r;
		fd = nfd;
	}
	return fd;
}

void walk_test_pause(void)
{
	const char *p = getenv("VOUCH_TEST_WALK_PAUSE");
	char b[64];
	int fd;

	if (!p || !*p)
		return;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		ssize_t k = read(fd, b, sizeof(b));

		if (k > 0 || (k < 0 && errno == EINTR))
			continue;
		break;
	}
	close(fd);
}

static void run_one(struct walk *w, vouch_ctx *ctx, struct item *it)
{
	const int oflags = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	_cleanup_close_ int fd = -1, pfd = -1;
	struct walk_file f = { .path = it->path, .dirfd = AT_FDCWD, .name = it->path };
	char msg[256];
	struct stat st;

	if (it->root >= 0) {
		/* below a directory argument: the parent is opened beneath the root, no symlinks */
		const char *rel = it->path + it->rel_off, *slash = strrchr(rel, '/');
		_cleanup_free_ char *dir = slash ? strndup(rel, (size_t)(slash - rel)) : NULL;

		if (slash && !dir) {
			walk_fail(&it->res, EXIT_ERROR, it->path, "out of memory");
			return;
		}
		pfd = dir ? walk_open_beneath(w->roots[it->root], dir, O_RDONLY | O_DIRECTORY) :
			    fcntl(w->roots[it->root], F_DUPFD_CLOEXEC, 3);
		if (pfd < 0) {
			int e = dir ? -pfd : errno;

			snprintf(msg, sizeof(msg), "cannot open its directory: %s%s", strerror(e),
				 e == ELOOP || e == EXDEV ?
					 " (a directory was replaced by a symlink since the walk, refusing)" : "");
			walk_fail(&it->res, EXIT_ERROR, it->path, msg);
			return;
		}
		f.dirfd = pfd;
		f.name = slash ? slash + 1 : rel;
	}
	fd = openat(f.dirfd, f.name, oflags);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		walk_fail(&it->res, EXIT_ERROR, it->path, msg);
		return;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(msg, sizeof(msg), "cannot stat: %s", strerror(errno));
		walk_fail(&it->res, EXIT_ERROR, it->path, msg);
		return;
	}
	/* what was opened must be what was listed: not swapped since the walk */
	if (!S_ISREG(st.st_mode) || st.st_dev != it->dev || st.st_ino != it->ino) {
		walk_fail(&it->res, EXIT_ERROR, it->path,
			  "replaced since the tree was listed (not the same file), refusing");
		return;
	}
	f.fd = fd;
	vouch_ctx_clear_error(ctx);
	w->fn(w->shared, ctx, &f, &it->res);
}

static void *worker(void *arg)
{
	struct walk *w = arg;
	vouch_ctx *ctx = NULL;

	if (vouch_ctx_new(&ctx) < 0)
		ctx = NULL;
	for (;;) {
		size_t i = atomic_fetch_add(&w->next, 1);

		if (i >= w->n)
			break;
		if (!ctx)
			walk_fail(&w->items[i].res, EXIT_ERROR, w->items[i].path, "out of memory");
		else
			run_one(w, ctx, &w->items[i]);
		atomic_fetch_add(&w->done, 1);
	}
	vouch_ctx_free(ctx);
	return NULL;
}

static void progress(size_t done, size_t total)
{
	int width = 40, fill = total ? (int)(done * (size_t)width / total) : width;

	fprintf(stderr, "\r[%.*s%*s] %zu/%zu", fill, "########################################",
		width - fill, "", done, total);
	fflush(stderr);
}

int walk_run(const struct walk_options *opts, char **paths, size_t n_paths, walk_fn fn,
	     void *shared)
{
	struct walk w = { .opts = opts, .fn = fn, .shared = shared };
	_cleanup_(json_object_putp) json_object *arr = NULL;
	size_t n_done = 0, n_skipped, n_failed;
	pthread_t *tids = NULL;
	unsigned nthreads = opts->threads;
	bool tty = isatty(STDERR_FILENO), bar;
	int r;

	for (size_t i = 0; i < n_paths; i++) {
		r = collect(&w, paths[i]);
		if (r < 0) {
			cli_error("%s: cannot collect the files: %s", opts->cmd, strerror(-r));
			w.exit_code = EXIT_ERROR;
			goto out;
		}
	}
	walk_test_pause();
	if (nthreads == 0) {
		const char *env = getenv("VOUCH_THREADS");
		uint32_t v = 0;
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		/* VOUCH_THREADS caps the workers (benchmarks, shared machines) */
		if (env && cli_parse_u32(env, &v) == 0 && v > 0 && v <= 1024)
			nthreads = v;
		else
			nthreads = c > 0 ? (unsigned)c : 1;
	}
	if (nthreads > w.n)
		nthreads = w.n ? (unsigned)w.n : 1;
	tids = calloc(nthreads, sizeof(*tids));
	if (!tids) {
		w.exit_code = EXIT_ERROR;
		goto out;
	}
	atomic_init(&w.next, 0);
	atomic_init(&w.done, 0);
	bar = tty && w.n > 1;
	/*
	 * With a progress bar every worker gets a thread and this one draws; without, this
	 * thread is one of the workers.
	 */
	for (unsigned t = bar ? 0 : 1; t < nthreads; t++)
		if (pthread_create(&tids[t], NULL, worker, &w) != 0) {
			if (t == 0)
				bar = false;
			nthreads = t;
			break;
		}
	if (bar) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		while (atomic_load(&w.done) < w.n) {
			progress(atomic_load(&w.done), w.n);
			nanosleep(&ts, NULL);
		}
		progress(w.n, w.n);
		fputs("\r\033[K", stderr);
	} else {
		worker(&w);
	}
	for (unsigned t = bar ? 0 : 1; t < nthreads; t++)
		pthread_join(tids[t], NULL);

	if (opts->json)
		arr = json_object_new_array();
	for (size_t i = 0; i < w.n; i++) {
		struct walk_result *res = &w.items[i].res;

		if (res->out)
			fputs(res->out, stdout);
		if (res->err)
			fprintf(stderr, "%s\n", res->err);
		if (arr && res->json)
			json_object_array_add(arr, TAKE_PTR(res->json));
		if (res->outcome == WALK_DONE)
			n_done++;
		else if (res->outcome == WALK_SKIPPED)
			w.skipped++;
		else {
			w.failed++;
			w.exit_code = worse(w.exit_code, res->exit_code ? res->exit_code : EXIT_ERROR);
		}
	}
	if (arr)
		cli_json_print(arr);
	n_skipped = w.skipped;
	n_failed = w.failed;
	fflush(stdout);
	if (opts->recursive || n_paths > 1 || n_skipped)
		fprintf(stderr, "%s %s: %zu %s, %zu skipped, %zu failed\n", program_name, opts->cmd,
			n_done, opts->done_verb, n_skipped, n_failed);
	if (fflush(stdout) != 0) {
		cli_error("cannot write the output: %m");
		w.exit_code = EXIT_ERROR;
	}
out:
	for (size_t i = 0; i < w.n; i++) {
		free(w.items[i].path);
		free(w.items[i].res.out);
		free(w.items[i].res.err);
		json_object_put(w.items[i].res.json);
	}
	free(w.items);
	for (size_t i = 0; i < w.n_roots; i++)
		close(w.roots[i]);
	free(w.roots);
	free(tids);
	return w.exit_code;
}
