// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch reference: build reference values from Debian packages (.deb), the installed dpkg
 * set or a root tree; show, diff, merge, sign and verify them.  The reading, hashing and the
 * document are libvouch's (include/vouch/reference.h); this file parses options, runs one
 * worker thread per core and prints.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "walk.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_reference *, vouch_reference_freep, vouch_reference_free)

#define MAX_ALGOS 8

/* a growing list of strings (owned when @owned) */
struct strv {
	char **v;
	size_t n, cap;
};

static int strv_add(struct strv *s, const char *str)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = strdup(str);
	if (!s->v[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* cli_parse()'s other options of reference verify: -t PATH, any number of them */
static int strv_other(void *userdata, int c, const char *arg)
{
	if (c != 't')
		return cli_usage_error("reference verify", "invalid option");
	return strv_add(userdata, arg) < 0 ? EXIT_ERROR : 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every *.deb under @dir (an APT cache, or a mirror's pool/ tree), sorted by path */
static struct strv *deb_found;

static int deb_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	size_t n = strlen(path);

	(void)st;
	if (type == FTW_F && n > 4 && !strcmp(path + n - 4, ".deb") &&
	    path[ftw->base] != '.' && strv_add(deb_found, path) < 0)
		return -1;
	return 0;
}

static int add_deb_dir(struct strv *debs, const char *dir)
{
	struct strv found = { 0 };
	int r = 0;

	deb_found = &found;
	if (nftw(dir, deb_visit, 32, FTW_PHYS) != 0) {
		cli_error("cannot read directory '%s': %m", dir);
		strv_free(&found);
		return -EIO;
	}
	qsort(found.v, found.n, sizeof(char *), cmp_strp);
	for (size_t i = 0; r == 0 && i < found.n; i++)
		r = strv_add(debs, found.v[i]);
	strv_free(&found);
	if (r < 0)
		cli_error("out of memory");
	return r;
}

/* --- reading packages in parallel ------------------------------------------------------ */

struct job {
	char **paths;
	size_t n;
	atomic_size_t next;
	struct vouch_deb_options opts;
	vouch_deb **debs;
	int *errs;
	char **msgs;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	size_t i;

	if (vouch_ctx_new(&ctx) < 0)
		return NULL; /* the remaining packages are read by the other threads */
	while ((i = atomic_fetch_add(&j->next, 1)) < j->n) {
		int r = vouch_deb_read(ctx, j->paths[i], &j->opts, &j->debs[i]);

		j->errs[i] = r;
		if (r < 0)
			j->msgs[i] = strdup(vouch_ctx_last_error(ctx));
	}
	return NULL;
}

/* read every package; 0, or the exit code after printing each failure */
static int read_debs(char **paths, size_t n, const struct vouch_deb_options *opts,
		     unsigned jobs, vouch_deb ***ret)
{
	struct job j = { .paths = paths, .n = n, .opts = *opts };
	pthread_t *threads = NULL;
	unsigned started = 0;
	int exit_code = EXIT_OK;

	j.debs = calloc(n ? n : 1, sizeof(*j.debs));
	j.errs = calloc(n ? n : 1, sizeof(*j.errs));
	j.msgs = calloc(n ? n : 1, sizeof(*j.msgs));
	threads = calloc(jobs, sizeof(*threads));
	if (!j.debs || !j.errs || !j.msgs || !threads) {
		cli_error("out of memory");
		exit_code = EXIT_ERROR;
		goto out;
	}
	atomic_init(&j.next, 0);
	for (unsigned t = 0; t < jobs && t < n; t++)
		if (pthread_create(&threads[t], NULL, worker, &j) == 0)
			started++;
	if (!started)
		worker(&j);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	for (size_t i = 0; i < n; i++) {
		if (j.errs[i] < 0 || !j.debs[i]) {
			/* a package refused for what it holds is "not trusted", like a malformed one */
			int code = j.errs[i] == -EFBIG || j.errs[i] == -EOPNOTSUPP ? EXIT_UNTRUSTED
				   : j.errs[i] < 0				   ? cli_exit_for(j.errs[i])
										   : EXIT_ERROR;

			cli_error("%s", j.msgs[i] ? j.msgs[i] : "cannot read a package");
			if (code > exit_code)
				exit_code = code;
		}
		free(j.msgs[i]);
	}
out:
	if (exit_code != EXIT_OK && j.debs)
		for (size_t i = 0; i < n; i++)
			vouch_deb_free(j.debs[i]);
	free(threads);
	free(j.errs);
	free(j.msgs);
	if (exit_code == EXIT_OK)
		*ret = j.debs;
	else
		free(j.debs);
	return exit_code;
}

/* --- --dpkg ----------------------------------------------------------------------------- */

struct dpkg_find {
	struct strv *dirs;
	struct strv *debs;
	struct strv *want; /* "package version architecture" of each found .deb, in order */
	size_t installed, missing;
	bool quiet;
};

/* apt names a package file NAME_VERSION_ARCH.deb with the epoch's ':' as "%3a" */
static int dpkg_one(void *userdata, const char *pkg, const char *ver, const char *arch)
{
	struct dpkg_find *f = userdata;
	char name[NAME_MAX + 1], v[256], path[PATH_MAX], want[512];
	size_t o = 0;

	f->installed++;
	for (const char *p = ver; *p && o + 4 < sizeof(v); p++) {
		if (*p == ':') {
			memcpy(v + o, "%3a", 3);
			o += 3;
		} else {
			v[o++] = *p;
		}
	}
	v[o] = '\0';
	if (snprintf(name, sizeof(name), "%s_%s_%s.deb", pkg, v, arch) >= (int)sizeof(name))
		goto missing;
	for (size_t i = 0; i < f->dirs->n; i++) {
		struct stat st;

		if (snprintf(path, sizeof(path), "%s/%s", f->dirs->v[i], name) >= (int)sizeof(path))
			continue;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			snprintf(want, sizeof(want), "%s %s %s", pkg, ver, arch);
			if (strv_add(f->debs, path) < 0 || strv_add(f->want, want) < 0)
				return -ENOMEM;
			return 0;
		}
	}
missing:
	f->missing++;
	cli_warn("installed package %s %s %s: no %s in the package directories", pkg, ver, arch,
		 name);
	return 0;
}

/* --- --root ----------------------------------------------------------------------------- */

static struct {
	vouch_ctx *ctx;
	vouch_reference *ref;
	const char *root;
	size_t root_len;
	const int *algos;
	size_t n_algos;
	size_t files, symlinks;
	int err;
} tree;

static int tree_visit(const char *fpath, const struct stat *st, int type, struct FTW *ftw)
{
	struct vouch_digest d[MAX_ALGOS];
	char rel[PATH_MAX];
	bool signed_ = false;
	int r;

	(void)ftw;
	if (type == FTW_SL) {
		tree.symlinks++;
		return 0;
	}
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if (snprintf(rel, sizeof(rel), "/%s", fpath + tree.root_len) >= (int)sizeof(rel))
		return 0;
	for (char *p = rel; p[0] && p[1] == '/';) /* "//x" from a root given with a slash */
		memmove(p, p + 1, strlen(p));
	r = vouch_digest_file(tree.ctx, fpath, tree.algos, tree.n_algos, d);
	if (r < 0) {
		cli_error("cannot hash '%s': %s", fpath, strerror(-r));
		tree.err = r;
		return 1;
	}
	signed_ = lgetxattr(fpath, "security.ima", NULL, 0) > 0;
	r = vouch_reference_add_file(tree.ref, rel, d, tree.n_algos, tree.root, signed_);
	if (r < 0) {
		tree.err = r;
		return 1;
	}
	tree.files++;
	return 0;
}

/* --- create ----------------------------------------------------------------------------- */

static int parse_algos(vouch_ctx *ctx, const char *arg, int *algos, size_t *n)
{
	_cleanup_free_ char *copy = strdup(arg);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	*n = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int a = cli_parse_hash(ctx, "reference create", tok);

		if (a < 0)
			return -EINVAL;
		for (size_t i = 0; i < *n; i++)
			if (algos[i] == a)
				return cli_usage_error("reference create", "--algo lists '%s' twice", tok),
				       -EINVAL;
		if (*n == MAX_ALGOS)
			return cli_usage_error("reference create", "--algo: at most %d algorithms",
					       MAX_ALGOS),
			       -EINVAL;
		algos[(*n)++] = a;
	}
	if (!*n)
		return cli_usage_error("reference create", "--algo needs at least one algorithm"),
		       -EINVAL;
	return 0;
}

static int read_text(vouch_ctx *ctx, const char *path, char **ret, size_t *ret_len, bool optional)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0) {
		if (optional && errno == ENOENT) {
			*ret = NULL;
			*ret_len = 0;
			return 0;
		}
		cli_error("cannot open '%s': %m", path);
		return -errno;
	}
	(void)ctx;
	r = cli_read_fd_all(fd, SIZE_MAX / 2, ret, ret_len);
	if (r == -ENOMEM) {
		cli_error("out of memory");
		return r;
	}
	if (r < 0) {
		errno = -r;
		cli_error("cannot read '%s': %m", path);
		return -EIO;
	}
	return 0;
}

enum {
	OPT_DEB = 256, OPT_DEB_DIR, OPT_ROOT, OPT_ALGO, OPT_JOBS, OPT_DPKG, OPT_ADMINDIR,
	OPT_EXCLUDE, OPT_MAX_MEMBER, OPT_ALLOW_MISSING, OPT_QUIET, OPT_FOLLOW, OPT_KEYRING,
	OPT_FROM, OPT_WINDOW, OPT_NOW,
};

static const struct option create_opts[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "deb", required_argument, NULL, OPT_DEB },
	{ "deb-dir", required_argument, NULL, OPT_DEB_DIR },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "algo", required_argument, NULL, OPT_ALGO },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "dpkg", no_argument, NULL, OPT_DPKG },
	{ "admindir", required_argument, NULL, OPT_ADMINDIR },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "max-member", required_argument, NULL, OPT_MAX_MEMBER },
	{ "allow-missing", no_argument, NULL, OPT_ALLOW_MISSING },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "follow-symlinks", no_argument, NULL, OPT_FOLLOW },
	{ "keyring", required_argument, NULL, OPT_KEYRING },
	{ 0 },
};

static const struct option update_opts[] = {
	{ "from", required_argument, NULL, OPT_FROM },
	{ "out", required_argument, NULL, 'o' },
	{ "deb", required_argument, NULL, OPT_DEB },
	{ "deb-dir", required_argument, NULL, OPT_DEB_DIR },
	{ "algo", required_argument, NULL, OPT_ALGO },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "now", required_argument, NULL, OPT_NOW },
	{ 0 },
};

/* reference create's and update's options, then what they found */
struct create_args {
	struct strv debs, dirs, excludes, want, keyrings;
	const char *out, *root, *algo, *jobs_arg, *admindir, *max_arg, *from, *window_arg, *now_arg;
	struct vouch_deb_options dopts;
	int algos[MAX_ALGOS];
	size_t n_algos;
	bool dpkg, allow_missing, quiet;
	uint64_t max_member;
	uint32_t jobs;
	size_t symlinks, files, missing;
	uint64_t bytes;
};

#define CREATE_ARGS_INIT { .dopts = VOUCH_DEB_OPTIONS_INIT, .algos = { VOUCH_HASH_SHA256 }, .n_algos = 1 }

static void create_args_free(struct create_args *a)
{
	strv_free(&a->debs);
	strv_free(&a->dirs);
	strv_free(&a->excludes);
	strv_free(&a->want);
	strv_free(&a->keyrings);
}

/* One option of reference create: 0, or the exit code. */
static int create_option(const char *cmd, struct create_args *a, int c, const char *arg)
{
	const char **slot = c == 'o' ? &a->out : c == OPT_ROOT ? &a->root : c == OPT_ALGO ? &a->algo :
			    c == OPT_JOBS ? &a->jobs_arg : c == OPT_ADMINDIR ? &a->admindir :
			    c == OPT_MAX_MEMBER ? &a->max_arg : c == OPT_FROM ? &a->from :
			    c == OPT_WINDOW ? &a->window_arg : c == OPT_NOW ? &a->now_arg : NULL;
	struct strv *list = c == OPT_DEB ? &a->debs : c == OPT_DEB_DIR ? &a->dirs :
			    c == OPT_EXCLUDE ? &a->excludes : c == OPT_KEYRING ? &a->keyrings : NULL;

	if (slot)
		return cli_opt_once(cmd, slot, arg,
				    cli_opt_name(c == OPT_FROM || c == OPT_WINDOW || c == OPT_NOW ?
							 update_opts : create_opts, c));
	if (c == OPT_KEYRING && (!strchr(arg, '=') || arg[0] == '='))
		return cli_usage_error(cmd, "--keyring takes NAME=CERT.der");
	if (list)
		return strv_add(list, arg) < 0 ? EXIT_ERROR : 0;
	switch (c) {
	case OPT_DPKG:
		return cli_flag_once(cmd, &a->dpkg, "dpkg");
	case OPT_ALLOW_MISSING:
		a->allow_missing = true;
		return 0;
	case OPT_QUIET:
		a->quiet = true;
		return 0;
	case OPT_FOLLOW:
		a->dopts.flags |= VOUCH_DEB_FOLLOW_SYMLINKS;
		return 0;
	default:
		return cli_usage_error(cmd, "invalid option");
	}
}

/* create's and update's options (@opts), then the remaining arguments, which are packages
 * too ("--deb A.deb B.deb ..."): 0, or the exit code. */
static int create_getopt(const char *cmd, int argc, char **argv, const struct option *opts,
			 struct create_args *a)
{
	int c, r;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1)
		if ((r = create_option(cmd, a, c, optarg)))
			return r;
	for (int i = optind; i < argc; i++)
		if (strv_add(&a->debs, argv[i]) < 0)
			return EXIT_ERROR;
	return 0;
}

/* The options and what they may be combined with: 0, or the exit code. */
static int create_options(const char *cmd, int argc, char **argv, struct create_args *a)
{
	int r = create_getopt(cmd, argc, argv, create_opts, a);

	if (r)
		return r;
	if (!a->out)
		return cli_usage_error(cmd, "--out FILE is required");
	if (a->jobs_arg &&
	    (cli_parse_u32(a->jobs_arg, &a->jobs) < 0 || a->jobs == 0 || a->jobs > 1024))
		return cli_usage_error(cmd, "--jobs must be a number from 1 to 1024");
	if (a->max_arg && (cli_parse_u64(a->max_arg, &a->max_member) < 0 || a->max_member == 0))
		return cli_usage_error(cmd, "--max-member must be a positive number of bytes");
	if (a->allow_missing && !a->dpkg)
		return cli_usage_error(cmd, "--allow-missing is for --dpkg");
	if (a->admindir && !a->dpkg)
		return cli_usage_error(cmd, "--admindir is for --dpkg");
	if (a->dpkg && a->debs.n)
		return cli_usage_error(cmd, "--dpkg takes its packages from the status file, not "
					    "--deb; use --deb-dir to say where they are");
	if (!a->debs.n && !a->dirs.n && !a->root && !a->dpkg)
		return cli_usage_error(cmd, "nothing to read: give --deb, --deb-dir, --root or --dpkg");
	return 0;
}

/* --dpkg: the installed packages' .debs from the status file, the diversions. */
static int create_dpkg(vouch_ctx *ctx, vouch_reference *ref, struct create_args *a)
{
	_cleanup_free_ char *status = NULL, *div = NULL;
	struct dpkg_find f = { .dirs = &a->dirs, .debs = &a->debs, .want = &a->want };
	const char *admindir = a->admindir ? a->admindir : "/var/lib/dpkg";
	char path[PATH_MAX];
	size_t len;
	int r;

	if (!a->dirs.n && strv_add(&a->dirs, "/var/cache/apt/archives") < 0)
		return EXIT_ERROR;
	snprintf(path, sizeof(path), "%s/diversions", admindir);
	if (read_text(ctx, path, &div, &len, true) < 0)
		return EXIT_ERROR;
	r = div ? vouch_reference_set_diversions(ref, div, len) : 0;
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/status", admindir);
		if (read_text(ctx, path, &status, &len, false) < 0)
			return EXIT_ERROR;
		r = vouch_dpkg_status_parse(ctx, status, len, dpkg_one, &f);
	}
	if (r < 0) {
		cli_lib_error(ctx, r, path);
		return cli_exit_for(r);
	}
	a->missing = f.missing;
	if (a->missing && !a->allow_missing) {
		cli_error("%zu of %zu installed packages have no .deb: nothing written "
			  "(--allow-missing writes the reference without them)",
			  a->missing, f.installed);
		return EXIT_UNTRUSTED;
	}
	return 0;
}

/* --keyring NAME=CERT and --exclude: into the reference. */
static int create_keyrings(vouch_ctx *ctx, vouch_reference *ref, struct create_args *a)
{
	int r;

	for (size_t i = 0; i < a->keyrings.n; i++) {
		char *eq = strchr(a->keyrings.v[i], '=');
		struct vouch_digest d[MAX_ALGOS];

		*eq = '\0';
		/* the kernel measures the key as loaded: the certificate's bytes */
		r = vouch_digest_file(ctx, eq + 1, a->algos, a->n_algos, d);
		if (r < 0) {
			cli_error("cannot read '%s': %s", eq + 1, strerror(-r));
			return EXIT_ERROR;
		}
		r = vouch_reference_add_keyring(ref, a->keyrings.v[i], d, a->n_algos);
		if (r < 0) {
			cli_lib_error(ctx, r, NULL);
			return EXIT_ERROR;
		}
	}
	for (size_t i = 0; i < a->excludes.n; i++) {
		r = vouch_reference_add_exclude(ref, a->excludes.v[i]);
		if (r < 0) {
			cli_lib_error(ctx, r, NULL);
			return EXIT_ERROR;
		}
	}
	return 0;
}

/* The packages, read in parallel, into the reference (with --dpkg: the versions installed). */
static int create_debs(vouch_ctx *ctx, vouch_reference *ref, struct create_args *a)
{
	vouch_deb **read = NULL;
	int r, ret = read_debs(a->debs.v, a->debs.n, &a->dopts, a->jobs, &read);

	for (size_t i = 0; ret == EXIT_OK && i < a->debs.n; i++) {
		struct vouch_deb_info info;
		char got[512];

		vouch_deb_get_info(read[i], &info);
		snprintf(got, sizeof(got), "%s %s %s", info.package, info.version, info.architecture);
		if (a->dpkg && strcmp(got, a->want.v[i])) {
			cli_error("'%s' is %s, but dpkg has %s installed: refusing", a->debs.v[i], got,
				  a->want.v[i]);
			ret = EXIT_UNTRUSTED;
			break;
		}
		r = vouch_reference_add_deb(ref, read[i]);
		if (r < 0) {
			cli_lib_error(ctx, r, a->debs.v[i]);
			ret = EXIT_ERROR;
			break;
		}
		a->symlinks += info.symlinks;
		a->files += info.files;
		a->bytes += info.bytes;
	}
	for (size_t i = 0; read && i < a->debs.n; i++)
		vouch_deb_free(read[i]);
	free(read);
	return ret;
}

/* --root: every regular file of a tree. */
static int create_tree(vouch_ctx *ctx, vouch_reference *ref, struct create_args *a)
{
	tree.ctx = ctx;
	tree.ref = ref;
	tree.root = a->root;
	tree.root_len = strlen(a->root);
	tree.algos = a->algos;
	tree.n_algos = a->n_algos;
	if (nftw(a->root, tree_visit, 64, FTW_PHYS) != 0) {
		if (!tree.err)
			cli_error("cannot walk '%s': %m", a->root);
		return EXIT_ERROR;
	}
	a->files += tree.files;
	a->symlinks += tree.symlinks;
	return 0;
}

/* Everything the options name into @ref: 0, or the exit code. */
static int create_fill(vouch_ctx *ctx, vouch_reference *ref, struct create_args *a)
{
	int r = 0;

	if (a->dpkg) {
		r = create_dpkg(ctx, ref, a);
	} else {
		for (size_t i = 0; r == 0 && i < a->dirs.n; i++)
			if (add_deb_dir(&a->debs, a->dirs.v[i]) < 0)
				r = EXIT_ERROR;
	}
	if (r == 0)
		r = create_keyrings(ctx, ref, a);
	if (r == 0)
		r = create_debs(ctx, ref, a);
	if (r == 0 && a->root)
		r = create_tree(ctx, ref, a);
	return r;
}

/* --algo and the default --jobs, once there is a context: 0, or the exit code. */
static int create_prepare(vouch_ctx *ctx, struct create_args *a)
{
	if (a->algo && parse_algos(ctx, a->algo, a->algos, &a->n_algos) < 0)
		return EXIT_USAGE;
	if (!a->jobs) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		a->jobs = cpus < 1 ? 1 : cpus > 64 ? 64 : (uint32_t)cpus;
	}
	a->dopts.algos = a->algos;
	a->dopts.n_algos = a->n_algos;
	return 0;
}

static int reference_create(int argc, char **argv)
{
	static const char *cmd = "reference create";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_reference_freep) vouch_reference *ref = NULL;
	struct create_args a = CREATE_ARGS_INIT;
	struct vouch_reference_stats st;
	int r, ret;
	char id[80];

	ret = create_options(cmd, argc, argv, &a);
	if (ret)
		goto done;
	ret = EXIT_ERROR;
	if (cli_ctx_new(&ctx) < 0)
		goto done;
	ret = create_prepare(ctx, &a);
	if (ret)
		goto done;
	ret = EXIT_ERROR;
	a.dopts.max_member = a.max_member;
	r = vouch_reference_new(ctx, &ref);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		goto done;
	}
	ret = create_fill(ctx, ref, &a);
	if (ret)
		goto done;
	ret = EXIT_ERROR;
	r = vouch_reference_save(ref, a.out);
	if (r < 0) {
		cli_lib_error(ctx, r, a.out);
		goto done;
	}
	vouch_reference_id(ref, id, sizeof(id));
	vouch_reference_get_stats(ref, &st);
	if (!a.quiet)
		printf("%s: %zu packages, %zu files (%llu bytes) hashed, %zu paths, %zu shared by "
		       "several origins, %zu conffiles, %zu symlinks skipped%s; id %s\n",
		       a.out, a.debs.n, a.files, (unsigned long long)a.bytes, st.paths, st.shared,
		       st.conffiles, a.symlinks,
		       a.missing ? " (installed packages without .deb left out)" : "", id);
	ret = EXIT_OK;
done:
	create_args_free(&a);
	return ret;
}

/* --- show, diff, merge ------------------------------------------------------------------ */

static int load_ref(vouch_ctx *ctx, const char *path, vouch_reference **ret)
{
	int r = vouch_reference_load(ctx, path, ret);

	if (r < 0)
		cli_lib_error(ctx, r, NULL);
	return r;
}

static int reference_show(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_reference_freep) vouch_reference *ref = NULL;
	struct vouch_reference_stats st;
	bool json = false;
	const struct cli_slot slots[] = { CLI_SET('j', &json), CLI_SLOTS_END };
	char id[80];
	int r;

	if ((r = cli_parse("reference show", argc, argv, "", opts, slots, NULL, NULL)))
		return r;
	if (argc - optind != 1)
		return cli_usage_error("reference show", "one reference file expected");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = load_ref(ctx, argv[optind], &ref);
	if (r < 0)
		return cli_exit_for(r);
	vouch_reference_get_stats(ref, &st);
	if (vouch_reference_id(ref, id, sizeof(id)) < 0)
		return EXIT_ERROR;
	if (json) {
		_cleanup_(json_object_putp) json_object *o = json_object_new_object();

		if (!o)
			return EXIT_ERROR;
		json_object_object_add(o, "id", json_object_new_string(id));
		json_object_object_add(o, "packages", json_object_new_int64((int64_t)st.packages));
		json_object_object_add(o, "paths", json_object_new_int64((int64_t)st.paths));
		json_object_object_add(o, "entries", json_object_new_int64((int64_t)st.entries));
		json_object_object_add(o, "shared", json_object_new_int64((int64_t)st.shared));
		json_object_object_add(o, "conffiles", json_object_new_int64((int64_t)st.conffiles));
		json_object_object_add(o, "excludes", json_object_new_int64((int64_t)st.excludes));
		json_object_object_add(o, "keyrings", json_object_new_int64((int64_t)st.keyrings));
		cli_json_print(o);
	} else {
		printf("id: %s\npackages: %zu\npaths: %zu\nentries: %zu\nshared: %zu\n"
		       "conffiles: %zu\nexcludes: %zu\nkeyrings: %zu\n",
		       id, st.packages, st.paths, st.entries, st.shared, st.conffiles, st.excludes,
		       st.keyrings);
	}
	return EXIT_OK;
}

static int print_change(void *userdata, const char *path, int change)
{
	(void)userdata;
	printf("%c %s\n", change == VOUCH_REFERENCE_ADDED ? '+' : change == VOUCH_REFERENCE_REMOVED ? '-' : '~',
	       path);
	return 0;
}

static int reference_diff(int argc, char **argv)
{
	static const struct option opts[] = { { 0 } };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_reference_freep) vouch_reference *a = NULL, *b = NULL;
	size_t n = 0;
	int r;

	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return cli_usage_error("reference diff", "invalid option");
	if (argc - optind != 2)
		return cli_usage_error("reference diff", "two reference files expected");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if ((r = load_ref(ctx, argv[optind], &a)) < 0 || (r = load_ref(ctx, argv[optind + 1], &b)) < 0)
		return cli_exit_for(r);
	r = vouch_reference_diff(a, b, print_change, NULL, &n);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	return n ? EXIT_UNTRUSTED : EXIT_OK;
}

static int reference_merge(int argc, char **argv)
{
	static const struct option opts[] = { { "out", required_argument, NULL, 'o' }, { 0 } };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_reference_freep) vouch_reference *ref = NULL;
	const char *out = NULL;
	const struct cli_slot slots[] = { CLI_STR('o', &out), CLI_SLOTS_END };
	int r;

	if ((r = cli_parse("reference merge", argc, argv, "o:", opts, slots, NULL, NULL)))
		return r;
	if (!out)
		return cli_usage_error("reference merge", "--out FILE is required");
	if (argc - optind < 1)
		return cli_usage_error("reference merge", "at least one reference file expected");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if ((r = vouch_reference_new(ctx, &ref)) < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	for (int i = optind; i < argc; i++) {
		_cleanup_(vouch_reference_freep) vouch_reference *o = NULL;

		if ((r = load_ref(ctx, argv[i], &o)) < 0)
			return cli_exit_for(r);
		if ((r = vouch_reference_merge(ref, o)) < 0) {
			cli_lib_error(ctx, r, NULL);
			return EXIT_ERROR;
		}
	}
	r = vouch_reference_save(ref, out);
	if (r < 0) {
		cli_lib_error(ctx, r, out);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* --- sign, verify ----------------------------------------------------------------------- */

static int reference_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		CLI_PASS_LONGOPTS,
		{ 0 },
	};
	static const char *cmd = "reference sign";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_reference_freep) vouch_reference *ref = NULL;
	_cleanup_(vouch_key_freep) vouch_key *key = NULL;
	_cleanup_(vouch_cert_freep) vouch_cert *cert = NULL;
	_cleanup_(vouch_modsig_signer_freep) vouch_modsig_signer *signer = NULL;
	struct cli_pass pass = CLI_PASS_INIT;
	const char *keypath = NULL, *certpath = NULL, *out = NULL;
	const struct cli_slot slots[] = {
		CLI_STR('k', &keypath), CLI_STR('c', &certpath), CLI_STR('o', &out), CLI_SLOTS_END,
	};
	char sigpath[PATH_MAX];
	int r;

	pass.cmd = cmd;
	if ((r = cli_parse(cmd, argc, argv, "k:c:o:", opts, slots, cli_pass_other, &pass)))
		return r;
	if (!keypath || !certpath)
		return cli_usage_error(cmd, "--key KEY and --cert CERT are required");
	if (argc - optind != 1)
		return cli_usage_error(cmd, "one reference file expected");
	if (snprintf(sigpath, sizeof(sigpath), "%s.p7s", argv[optind]) >= (int)sizeof(sigpath))
		return cli_usage_error(cmd, "file name too long");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	/* sign only what is a valid document (its id included) */
	if ((r = load_ref(ctx, argv[optind], &ref)) < 0)
		return cli_exit_for(r);
	pass.what = keypath;
	if (cli_load_key(ctx, keypath, &pass, &key) < 0)
		return EXIT_ERROR;
	r = vouch_cert_load(ctx, certpath, &cert);
	if (r < 0 || (r = vouch_modsig_signer_new(ctx, key, cert, NULL, &signer)) < 0 ||
	    (r = vouch_modsig_sign_file(signer, argv[optind], out ? out : sigpath,
					VOUCH_MODSIG_DETACHED, NULL)) < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int reference_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "sig", required_argument, NULL, 's' },
		{ 0 },
	};
	static const char *cmd = "reference verify";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_reference_freep) vouch_reference *ref = NULL;
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	struct vouch_modsig_result res;
	const char *sig = NULL;
	struct strv trusts = { 0 };
	const struct cli_slot slots[] = { CLI_STR('s', &sig), CLI_SLOTS_END };
	char sigpath[PATH_MAX], id[80];
	int r, ret = EXIT_ERROR;

	if ((r = cli_parse(cmd, argc, argv, "t:s:", opts, slots, strv_other, &trusts))) {
		strv_free(&trusts);
		return r;
	}
	if (!trusts.n || argc - optind != 1) {
		strv_free(&trusts);
		return cli_usage_error(cmd, "--trust CERT and one reference file expected");
	}
	if (snprintf(sigpath, sizeof(sigpath), "%s.p7s", argv[optind]) >= (int)sizeof(sigpath)) {
		strv_free(&trusts);
		return cli_usage_error(cmd, "file name too long");
	}
	if (cli_ctx_new(&ctx) < 0)
		goto out;
	if (cli_load_trust(ctx, (const char *const *)trusts.v, trusts.n, "reference", &trust))
		goto out;
	r = vouch_modsig_verify_file(ctx, trust, argv[optind], sig ? sig : sigpath, NULL, &res);
	if (r < 0) {
		cli_lib_error(ctx, r, argv[optind]);
		ret = cli_exit_for(r);
		goto out;
	}
	/* the signature holds; the document must also be well formed with a matching id */
	r = load_ref(ctx, argv[optind], &ref);
	if (r < 0) {
		ret = cli_exit_for(r);
		goto out;
	}
	vouch_reference_id(ref, id, sizeof(id));
	printf("%s: signature verified, id %s\n", argv[optind], id);
	ret = EXIT_OK;
out:
	strv_free(&trusts);
	return ret;
}

/* --- update, check ----------------------------------------------------------------------- */

/* reference update's options: 0, or the exit code. */
static int update_options(const char *cmd, int argc, char **argv, struct create_args *a,
			  uint64_t *window, uint64_t *now)
{
	int r = create_getopt(cmd, argc, argv, update_opts, a);

	if (r)
		return r;
	if (!a->from || !a->out || !a->window_arg)
		return cli_usage_error(cmd, "--from OLD, --out NEW and --window DAYS are required");
	if (cli_parse_u64(a->window_arg, window) < 0 || *window > 36500)
		return cli_usage_error(cmd, "--window must be a number of days from 0 to 36500");
	if (a->now_arg && (cli_parse_u64(a->now_arg, now) < 0 || *now > (uint64_t)INT64_MAX / 2))
		return cli_usage_error(cmd, "--now must be seconds since the epoch");
	if (a->jobs_arg &&
	    (cli_parse_u32(a->jobs_arg, &a->jobs) < 0 || a->jobs == 0 || a->jobs > 1024))
		return cli_usage_error(cmd, "--jobs must be a number from 1 to 1024");
	return 0;
}

/* Prune, add the packages read, save: 0, or the exit code. */
static int update_apply(vouch_ctx *ctx, vouch_reference *ref, struct create_args *a,
			uint64_t now, uint64_t window, size_t *removed)
{
	vouch_deb **read = NULL;
	int r, ret = read_debs(a->debs.v, a->debs.n, &a->dopts, a->jobs, &read);

	if (ret != EXIT_OK)
		return ret;
	r = vouch_reference_prune(ref, (int64_t)now, removed);
	if (r == 0)
		r = vouch_reference_update(ref, (const vouch_deb *const *)read, a->debs.n,
					   (int64_t)now, (int64_t)(now + window * 86400));
	if (r == 0)
		r = vouch_reference_save(ref, a->out);
	if (r < 0)
		cli_lib_error(ctx, r, a->out);
	for (size_t i = 0; read && i < a->debs.n; i++)
		vouch_deb_free(read[i]);
	free(read);
	return r < 0 ? EXIT_ERROR : EXIT_OK;
}

static int reference_update(int argc, char **argv)
{
	static const char *cmd = "reference update";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_reference_freep) vouch_reference *ref = NULL;
	struct create_args a = CREATE_ARGS_INIT;
	uint64_t window = 0, now = (uint64_t)time(NULL);
	size_t removed = 0;
	int r, ret;
	char id[80];

	ret = update_options(cmd, argc, argv, &a, &window, &now);
	if (ret)
		goto done;
	ret = EXIT_ERROR;
	if (cli_ctx_new(&ctx) < 0)
		goto done;
	ret = create_prepare(ctx, &a);
	for (size_t i = 0; ret == 0 && i < a.dirs.n; i++)
		if (add_deb_dir(&a.debs, a.dirs.v[i]) < 0)
			ret = EXIT_ERROR;
	if (ret)
		goto done;
	if ((r = load_ref(ctx, a.from, &ref)) < 0) {
		ret = cli_exit_for(r);
		goto done;
	}
	ret = update_apply(ctx, ref, &a, now, window, &removed);
	if (ret)
		goto done;
	vouch_reference_id(ref, id, sizeof(id));
	printf("%s: %zu packages added, older versions kept for %llu days, %zu expired entries "
	       "removed; id %s\n",
	       a.out, a.debs.n, (unsigned long long)window, removed, id);
done:
	create_args_free(&a);
	return ret;
}

/* ALGO:HEX */
static int parse_digest(vouch_ctx *ctx, const char *s, struct vouch_digest *d)
{
	const char *colon = strchr(s, ':');
	char name[32];
	size_t len;
	int a;

	if (!colon || (size_t)(colon - s) >= sizeof(name))
		return -EINVAL;
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	a = vouch_hash_by_name(name);
	(void)ctx;
	if (a < 0 || vouch_hex_decode(colon + 1, strlen(colon + 1), d->bytes, sizeof(d->bytes), &len) < 0 ||
	    len != vouch_hash_info(a)->size)
		return -EINVAL;
	d->algo = a;
	d->len = len;
	return 0;
}

static int reference_check(int argc, char **argv)
{
	static const struct option opts[] = { { "now", required_argument, NULL, 'n' }, { 0 } };
	static const char *cmd = "reference check";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_reference_freep) vouch_reference *ref = NULL;
	const char *now_arg = NULL;
	uint64_t now = (uint64_t)time(NULL);
	const struct cli_slot slots[] = { CLI_STR('n', &now_arg), CLI_SLOTS_END };
	int r, ret = EXIT_OK;

	if ((r = cli_parse(cmd, argc, argv, "", opts, slots, NULL, NULL)))
		return r;
	if (now_arg && (cli_parse_u64(now_arg, &now) < 0 || now > (uint64_t)INT64_MAX))
		return cli_usage_error(cmd, "--now must be seconds since the epoch");
	if (argc - optind < 3 || (argc - optind) % 2 != 1)
		return cli_usage_error(cmd, "REF.json and pairs of PATH ALGO:HEX expected");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	for (int i = optind + 1; i < argc; i += 2) {
		struct vouch_digest d;

		/* a path, or a keyring or buffer name for ima-buf entries */
		if (!argv[i][0] || parse_digest(ctx, argv[i + 1], &d) < 0)
			return cli_usage_error(cmd, "'%s %s' is not a name and ALGO:HEX",
					       argv[i], argv[i + 1]);
	}
	if ((r = load_ref(ctx, argv[optind], &ref)) < 0)
		return cli_exit_for(r);
	for (int i = optind + 1; i < argc; i += 2) {
		struct vouch_digest d;

		parse_digest(ctx, argv[i + 1], &d);
		r = vouch_reference_check(ref, argv[i], &d, (int64_t)now);
		printf("%s: %s\n", argv[i],
		       r == 0 ? "allowed" : r == 1 ? "excluded"
			       : r == -ENOENT ? "not in the reference values"
					      : "digest not in the reference values");
		if (r < 0)
			ret = EXIT_UNTRUSTED;
	}
	return ret;
}

/* --- Keylime ---------------------------------------------------------------------------- */

static int reference_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keylime", no_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ 0 },
	};
	static const char *cmd = "reference import";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_reference_freep) vouch_reference *ref = NULL;
	_cleanup_free_ char *text = NULL;
	const char *out = NULL;
	bool keylime = false;
	const struct cli_slot slots[] = { CLI_SET('k', &keylime), CLI_STR('o', &out), CLI_SLOTS_END };
	size_t len;
	int r;

	if ((r = cli_parse(cmd, argc, argv, "o:", opts, slots, NULL, NULL)))
		return r;
	if (!keylime || !out || argc - optind != 1)
		return cli_usage_error(cmd, "--keylime, --out REF.json and one policy file expected");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if (read_text(ctx, argv[optind], &text, &len, false) < 0)
		return EXIT_ERROR;
	r = vouch_reference_import_keylime(ctx, text, len, &ref);
	if (r == 0)
		r = vouch_reference_save(ref, out);
	if (r < 0) {
		cli_lib_error(ctx, r, argv[optind]);
		return cli_exit_for(r);
	}
	return EXIT_OK;
}

static int reference_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keylime", no_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "now", required_argument, NULL, 'n' },
		{ 0 },
	};
	static const char *cmd = "reference export";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_reference_freep) vouch_reference *ref = NULL;
	_cleanup_free_ char *json = NULL;
	const char *out = NULL, *now_arg = NULL;
	uint64_t now = (uint64_t)time(NULL);
	bool keylime = false;
	const struct cli_slot slots[] = {
		CLI_SET('k', &keylime), CLI_STR('o', &out), CLI_STR('n', &now_arg), CLI_SLOTS_END,
	};
	size_t len;
	int r;

	if ((r = cli_parse(cmd, argc, argv, "o:", opts, slots, NULL, NULL)))
		return r;
	if (!keylime || !out || argc - optind != 1)
		return cli_usage_error(cmd, "--keylime, --out POLICY.json and one reference file expected");
	if (now_arg && (cli_parse_u64(now_arg, &now) < 0 || now > (uint64_t)INT64_MAX))
		return cli_usage_error(cmd, "--now must be seconds since the epoch");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if ((r = load_ref(ctx, argv[optind], &ref)) < 0)
		return cli_exit_for(r);
	r = vouch_reference_export_keylime(ref, (int64_t)now, &json, &len);
	if (r < 0) {
		cli_lib_error(ctx, r, argv[optind]);
		return r == -EOPNOTSUPP ? EXIT_UNTRUSTED : cli_exit_for(r);
	}
	r = cli_write_atomic_at(AT_FDCWD, out, json, len, -1);
	if (r < 0) {
		cli_error("cannot write '%s': %s", out, strerror(-r));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static const struct command reference_commands[] = {
	{ "create", reference_create, 0,
	  "Reference values from .deb packages, the installed dpkg set or a root tree",
	  "reference create --out REF.json [--deb FILE]... [--deb-dir DIR]... [--dpkg "
	  "[--admindir DIR] [--allow-missing]] [--root DIR] [--algo sha256,sha512] [--jobs N] "
	  "[--exclude PATTERN]... [--max-member BYTES] [--follow-symlinks] [--keyring NAME=CERT]... [--quiet] [FILE.deb...]" },
	{ "update", reference_update, 0,
	  "Add new package versions, keep the older ones' digests for an upgrade window",
	  "reference update --from OLD.json --out NEW.json --window DAYS [--now EPOCH] "
	  "[--deb FILE]... [--deb-dir DIR]... [--algo ALGOS] [--jobs N] [FILE.deb...]" },
	{ "check", reference_check, 0,
	  "Judge files as attestation does: PATH ALGO:HEX pairs (exit 1 if one is not allowed)",
	  "reference check [--now EPOCH] REF.json PATH ALGO:HEX..." },
	{ "import", reference_import, 0, "A Keylime runtime policy as a vouch-reference document",
	  "reference import --keylime --out REF.json POLICY.json" },
	{ "export", reference_export, 0, "A vouch-reference document as a Keylime runtime policy",
	  "reference export --keylime --out POLICY.json [--now EPOCH] REF.json" },
	{ "show", reference_show, 0, "Counts and id of a reference document",
	  "reference show [--json] REF.json" },
	{ "diff", reference_diff, 0,
	  "Paths added (+), removed (-) or with other digests (~) from A to B (exit 1 if any)",
	  "reference diff A.json B.json" },
	{ "merge", reference_merge, 0, "One document with everything of several",
	  "reference merge --out OUT.json REF.json..." },
	{ "sign", reference_sign, 0, "A detached PKCS#7 over a reference document (REF.json.p7s)",
	  "reference sign --key KEY --cert CERT [--out SIG] [--pass-fd N|--pass-file F] REF.json" },
	{ "verify", reference_verify, 0,
	  "Check a reference document's detached signature and its id (exit 1 if either fails)",
	  "reference verify --trust CERT... [--sig SIG] REF.json" },
};

CLI_FAMILY(cmd_reference, "reference", reference_commands)
