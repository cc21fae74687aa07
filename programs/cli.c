// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The toolkit every vouch subcommand (and vouch guard) uses: diagnostics and exit codes,
 * number parsing, the command tables' dispatch, the option toolkit (options given once,
 * slot tables, cli_parse), passphrases, keys and trust stores, JSON output, the "[--json]
 * FILE..." show loop, the atomic file writer, text lines and blacklist files.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cli.h"

const char *program_name = "vouch";
bool cli_completing;

#undef getopt_long
int cli_getopt_long(int argc, char *const argv[], const char *optstring,
		    const struct option *longopts, int *longindex)
{
	if (!cli_completing)
		return getopt_long(argc, argv, optstring, longopts, longindex);
	for (const char *p = optstring; *p; p++)
		if (*p != ':' && *p != '-' && *p != '+')
			printf("-%c\n", *p);
	for (const struct option *o = longopts; o && o->name; o++)
		printf("--%s\n", o->name);
	return '?';
}

static void __attribute__((format(printf, 2, 0))) vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", program_name, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", program_name, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", program_name, cmd);
	return EXIT_USAGE;
}

void cli_lib_error(vouch_ctx *ctx, int r, const char *what)
{
	const char *msg = ctx ? vouch_ctx_last_error(ctx) : "";

	if (!msg || !*msg)
		msg = vouch_strerror(r);
	if (what)
		cli_error("%s: %s", what, msg);
	else
		cli_error("%s", msg);
}

int cli_exit_for(int r)
{
	if (r >= 0)
		return EXIT_OK;
	return vouch_error_is_verdict(r) ? EXIT_UNTRUSTED : EXIT_ERROR;
}

static void log_stderr(void *userdata, int level, const char *msg)
{
	fprintf(stderr, "%s: %s%s\n", program_name, level <= VOUCH_LOG_WARNING ? "warning: " : "",
		msg);
}

int cli_ctx_new(vouch_ctx **ret)
{
	const char *dbg = getenv("VOUCH_DEBUG");
	int r = vouch_ctx_new(ret);

	if (r < 0) {
		cli_error("cannot create a library context: %s", vouch_strerror(r));
		return r;
	}
	vouch_ctx_set_log_fn(*ret, log_stderr, NULL,
			     dbg && *dbg && strcmp(dbg, "0") ? VOUCH_LOG_DEBUG : VOUCH_LOG_WARNING);
	return 0;
}

int cli_parse_hash(vouch_ctx *ctx, const char *cmd, const char *name)
{
	int a = vouch_hash_by_name(name);

	if (a >= 0 && vouch_hash_available(ctx, a))
		return a;
	fprintf(stderr, "%s %s: %s hash algorithm '%s'; known: ", program_name, cmd,
		a >= 0 ? "unavailable" : "unknown", name);
	for (int i = 0, first = 1; i < _VOUCH_HASH_MAX; i++) {
		if (!vouch_hash_available(ctx, i))
			continue;
		fprintf(stderr, "%s%s", first ? "" : ", ", vouch_hash_info(i)->name);
		first = 0;
	}
	fputc('\n', stderr);
	return -1;
}

int cli_parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int cli_parse_hex(const char *s, uint8_t *out, size_t size, size_t *ret_len)
{
	size_t n = strlen(s);

	if (n == 0 || vouch_hex_decode(s, n, out, size, ret_len) < 0)
		return -EINVAL;
	return 0;
}

int cli_parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;

	if (cli_parse_u64(s, &v) < 0 || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

bool cli_wants_help(int argc, char **argv)
{
	return argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
}

void cli_print_help(const struct command *cmd)
{
	printf("Usage: %s %s\n\n%s\n", program_name, cmd->usage, cmd->summary);
}

/* --- dispatch ------------------------------------------------------------------------ */

const struct command *cli_find_command(const struct command *cmds, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, cmds[i].name))
			return &cmds[i];
	return NULL;
}

/* A family's sub-table: "vouch FAMILY" alone (stderr, EXIT_USAGE) or with --help. */
static int family_usage(const char *family, const struct command *cmds, size_t n, int argc)
{
	FILE *f = argc < 2 ? stderr : stdout;

	fprintf(f, "Usage: %s %s SUBCOMMAND [ARGS...]\n\n", program_name, family);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %s %s\n      %s\n", program_name, cmds[i].usage, cmds[i].summary);
	return argc < 2 ? EXIT_USAGE : EXIT_OK;
}

int cli_dispatch(const char *family, const struct command *cmds, size_t n, int argc,
		 char **argv)
{
	const struct command *c;

	if (family && cli_completing && argc < 2) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", cmds[i].name);
		printf("--help\n");
		return EXIT_OK;
	}
	if (family && (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return family_usage(family, cmds, n, argc);
	c = cli_find_command(cmds, n, argv[1]);
	if (!c) {
		if (family)
			fprintf(stderr, "%s %s: unknown subcommand '%s'\nTry '%s %s --help'.\n",
				program_name, family, argv[1], program_name, family);
		else
			fprintf(stderr, "%s: unknown command '%s'\nTry '%s --help'.\n", program_name,
				argv[1], program_name);
		return EXIT_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1) && !(c->flags & CMD_FAMILY)) {
		cli_print_help(c);
		return EXIT_OK;
	}
	if ((c->flags & CMD_NEEDS_ROOT) && geteuid() != 0 && !cli_completing) {
		if (family)
			cli_error("'%s %s' needs root", family, c->name);
		else
			cli_error("'%s' needs root", c->name);
		return EXIT_ERROR;
	}
	return c->fn(argc - 1, argv + 1);
}

/* --- options ------------------------------------------------------------------------- */

int cli_given_twice(const char *cmd, const char *opt)
{
	return cli_usage_error(cmd, "%s given twice, refusing", opt);
}

int cli_opt_once(const char *cmd, const char **slot, const char *arg, const char *name)
{
	if (*slot)
		return cli_usage_error(cmd, "--%s given twice, refusing", name);
	*slot = arg;
	return 0;
}

int cli_parse_handle(const char *cmd, const char *arg, uint32_t *ret)
{
	if (cli_parse_u32(arg, ret) < 0 || *ret < 0x81000000U || *ret > 0x81ffffffU)
		return cli_usage_error(cmd, "invalid persistent handle '%s' (0x81000000-0x81ffffff)",
				       arg);
	return 0;
}

int cli_slot_option(const char *cmd, const struct option *longopts, const struct cli_slot *slots,
		    int c, const char *arg)
{
	for (const struct cli_slot *s = slots; s->ptr; s++) {
		bool given;

		if (s->val != c)
			continue;
		given = s->kind == CLI_SLOT_STR ? *(const char **)s->ptr != NULL :
			s->kind == CLI_SLOT_HANDLE ? *(uint32_t *)s->ptr != 0 :
			s->kind == CLI_SLOT_FLAG ? *(bool *)s->ptr : false;
		if (given)
			return s->as ? cli_given_twice(cmd, s->as) :
				       cli_usage_error(cmd, "--%s given twice, refusing",
						       cli_opt_name(longopts, c));
		if (s->kind == CLI_SLOT_STR)
			*(const char **)s->ptr = arg;
		else if (s->kind == CLI_SLOT_HANDLE)
			return cli_parse_handle(cmd, arg, s->ptr) ? EXIT_USAGE : 0;
		else
			*(bool *)s->ptr = true;
		return 0;
	}
	return -1;
}

int cli_parse(const char *cmd, int argc, char **argv, const char *shortopts,
	      const struct option *longopts, const struct cli_slot *slots, cli_other_fn other,
	      void *userdata)
{
	int c, r;

	while ((c = cli_getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		r = cli_slot_option(cmd, longopts, slots, c, optarg);
		if (r < 0)
			r = other ? other(userdata, c, optarg) :
				    cli_usage_error(cmd, "invalid option");
		if (r)
			return r;
	}
	return 0;
}

const char *cli_opt_name(const struct option *longopts, int val)
{
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "option";
}

int cli_flag_once(const char *cmd, bool *flag, const char *name)
{
	if (*flag)
		return cli_usage_error(cmd, "--%s given twice, refusing", name);
	*flag = true;
	return 0;
}

/* --- passphrases, keys, trust stores ----------------------------------------------- */

ssize_t cli_read_retry(int fd, void *buf, size_t len)
{
	ssize_t k;

	do
		k = read(fd, buf, len);
	while (k < 0 && errno == EINTR);
	return k < 0 ? -errno : k;
}

int cli_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static int read_pass_fd(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n < size) {
		ssize_t k = cli_read_retry(fd, buf + n, size - n);

		if (k < 0)
			return (int)k;
		if (k == 0)
			break;
		n += (size_t)k;
		if (memchr(buf + n - (size_t)k, '\n', (size_t)k))
			break;
	}
	/* the passphrase is the first line */
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r') {
			n = i;
			break;
		}
	return (int)n;
}

int cli_pass_cb(void *userdata, char *buf, size_t size)
{
	struct cli_pass *p = userdata;
	int r;

	if (p->fd >= 0)
		return read_pass_fd(p->fd, buf, size);
	if (p->file) {
		_cleanup_close_ int fd = open(p->file, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		return read_pass_fd(fd, buf, size);
	}
	{
		_cleanup_close_ int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
		struct termios old, noecho;
		char prompt[512];

		if (tty < 0)
			return -ENOKEY;
		snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", p->what ? p->what : "key");
		if (write(tty, prompt, strlen(prompt)) < 0)
			return -errno;
		if (tcgetattr(tty, &old) == 0) {
			noecho = old;
			noecho.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(tty, TCSAFLUSH, &noecho);
			r = read_pass_fd(tty, buf, size);
			tcsetattr(tty, TCSAFLUSH, &old);
		} else {
			r = read_pass_fd(tty, buf, size);
		}
		if (write(tty, "\n", 1) < 0) {
			/* nothing to do: the prompt is cosmetic */
		}
		return r;
	}
}

int cli_pass_option(const char *cmd, struct cli_pass *p, int opt, const char *arg)
{
	uint32_t fd;

	if (p->fd >= 0 || p->file)
		return cli_usage_error(cmd, "--pass-fd and --pass-file given more than once, refusing");
	if (opt == 'F') {
		if (cli_parse_u32(arg, &fd) < 0 || fd > INT32_MAX)
			return cli_usage_error(cmd, "invalid file descriptor '%s'", arg);
		p->fd = (int)fd;
	} else {
		p->file = arg;
	}
	return 0;
}

int cli_pass_other(void *userdata, int c, const char *arg)
{
	struct cli_pass *p = userdata;

	if (c != 'F' && c != 'P')
		return cli_usage_error(p->cmd, "invalid option");
	return cli_pass_option(p->cmd, p, c, arg);
}

int cli_load_key(vouch_ctx *ctx, const char *path, struct cli_pass *pass, vouch_key **ret)
{
	char what[512];
	int r;

	snprintf(what, sizeof(what), "'%s'", path);
	pass->what = what;
	r = vouch_key_load(ctx, path, cli_pass_cb, pass, ret);
	if (r < 0)
		cli_lib_error(ctx, r, NULL);
	return r;
}

int cli_load_cert(vouch_ctx *ctx, const char *path, vouch_cert **ret)
{
	int r = vouch_cert_load(ctx, path, ret);

	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	return 0;
}

int cli_load_signer(vouch_ctx *ctx, const char *keypath, const char *certpath,
		    struct cli_pass *pass, vouch_key **ret_key, uint32_t *ret_keyid)
{
	_cleanup_(vouch_cert_freep) vouch_cert *cert = NULL;
	vouch_key *key = NULL;
	int r;

	if (certpath && cli_load_cert(ctx, certpath, &cert))
		return EXIT_ERROR;
	if (cli_load_key(ctx, keypath, pass, &key) < 0)
		return EXIT_ERROR;
	r = vouch_ima_keyid(ctx, key, cert, ret_keyid);
	if (r < 0) {
		cli_lib_error(ctx, r, certpath);
		vouch_key_free(key);
		return EXIT_ERROR;
	}
	*ret_key = key;
	return 0;
}

int cli_load_trust(vouch_ctx *ctx, const char *const *paths, size_t n, const char *keyring,
		   vouch_trust **ret)
{
	vouch_trust *t = NULL;
	int r = vouch_trust_new(ctx, &t);

	for (size_t i = 0; r == 0 && i < n; i++)
		r = vouch_trust_add_path(t, paths[i], keyring);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		vouch_trust_free(t);
		return EXIT_ERROR;
	}
	*ret = t;
	return 0;
}

/* --- output -------------------------------------------------------------------------- */

int cli_show_files(const char *cmd, int argc, char **argv, const char *none, bool json_once,
		   cli_show_fn fn)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *arr = NULL;
	bool json = false;
	int c, ret = EXIT_OK;

	while ((c = cli_getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j')
			return cli_usage_error(cmd, "invalid option");
		if (json_once && cli_flag_once(cmd, &json, "json"))
			return EXIT_USAGE;
		json = true;
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "%s", none);
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if (json)
		arr = json_object_new_array();
	for (int i = optind; i < argc; i++) {
		int r = fn(ctx, argv[i], arr);

		if (r != EXIT_OK && ret == EXIT_OK)
			ret = r;
	}
	if (json)
		cli_json_print(arr);
	return ret;
}

void cli_json_print(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE |
							 JSON_C_TO_STRING_SPACED));
}

void cli_json_add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

json_object *cli_json_hex(const uint8_t *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	_cleanup_free_ char *s = malloc(2 * len + 1);
	json_object *o;

	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[buf[i] >> 4];
		s[2 * i + 1] = digits[buf[i] & 15];
	}
	s[2 * len] = '\0';
	o = json_object_new_string(s);
	return o;
}

/* --- files --------------------------------------------------------------------------- */

int cli_read_fd_all(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *p;

			if (cap >= max + 1)
				return -EFBIG;
			cap = cap ? cap * 2 : 4096;
			if (cap > max + 1)
				cap = max + 1;
			p = realloc(buf, cap + 1);
			if (!p)
				return -ENOMEM;
			buf = p;
		}
		n = cli_read_retry(fd, buf + len, cap - len);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return -EFBIG;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = '\0';
	*ret_buf = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int cli_read_small_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : dup(0);
	if (fd < 0)
		return -errno;
	return cli_read_fd_all(fd, max, ret_buf, ret_len);
}

/* The rename of @name beneath @dirfd is durable only once its directory is: sync that. */
static int sync_parent(int dirfd, const char *name)
{
	_cleanup_free_ char *dir = strdup(name);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	_cleanup_close_ int dfd = -1;

	if (!dir)
		return -ENOMEM;
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	dfd = openat(dirfd, slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return -errno;
	return 0;
}

int cli_write_atomic_at(int dirfd, const char *name, const void *buf, size_t len, int mode)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	_cleanup_free_ char *tmp = NULL;
	struct stat st;
	bool exists = false;
	int fd = -1, r = 0;

	if (mode >= 0) {
		/* a fixed mode: whatever stands at @name is replaced */
	} else if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (!S_ISREG(st.st_mode))
			return -EINVAL;
		if (st.st_nlink > 1)
			return -EMLINK;
		exists = true;
	} else if (errno != ENOENT) {
		return -errno;
	}
	if (asprintf(&tmp, "%s.XXXXXX", name) < 0)
		return -ENOMEM;
	/* mkostemp relative to @dirfd: never through a path, never through a symlink */
	for (int tries = 0; tries < 100 && fd < 0; tries++) {
		uint8_t rnd[6];
		char *x = tmp + strlen(tmp) - 6;

		if (getentropy(rnd, sizeof(rnd)) < 0)
			return -errno;
		for (size_t i = 0; i < 6; i++)
			x[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	r = cli_write_all(fd, buf, len);
	if (r == 0 && exists && fchown(fd, st.st_uid, st.st_gid) < 0)
		r = -errno;
	/* no chmod when the new file already has its mode (0600 from openat): with EVM on, the
	 * kernel refuses a mode change on a file system without xattrs (ramfs), where
	 * vouch attest quote writes its evidence in the kernel rig's guest */
	if (r == 0) {
		mode_t want = mode >= 0 ? (mode_t)mode : exists ? st.st_mode & 07777 : 0644;
		struct stat now;

		if (fstat(fd, &now) < 0 || ((now.st_mode & 07777) != want && fchmod(fd, want) < 0))
			r = -errno;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	/* one file (a state or an output): its rename made durable; trees of .sig files are
	 * written by the thousand and not synced one directory at a time */
	return mode >= 0 ? sync_parent(dirfd, name) : 0;
}

void cli_time_iso(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%lld", (long long)t);
}

char *cli_text_line(char *line, ssize_t len)
{
	char *s = line;

	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	return *s && *s != '#' ? s : NULL;
}

/* --- blacklists and the engine's trust stores ------------------------------------------ */

void cli_blacklist_done(struct cli_blacklist *b)
{
	free(b->e[0]);
	free(b->e[1]);
}

/* The kind of a blacklist line (0 bin, 1 tbs) after its prefix, or -1 after printing. */
static int blacklist_prefix(const char *path, size_t lineno, bool prefixed, char **s)
{
	char *colon = strchr(*s, ':');
	int kind = 0;

	if (!colon)
		return 0;
	*colon = '\0';
	if (prefixed && !strcmp(*s, "tbs")) {
		kind = 1;
	} else if (prefixed && strcmp(*s, "bin") != 0 && vouch_hash_by_name(*s) < 0) {
		cli_error("blacklist '%s' line %zu: unknown prefix '%s:' (tbs:, bin: or a hash "
			  "algorithm)",
			  path, lineno, *s);
		return -1;
	}
	*s = colon + 1;
	return kind;
}

static int blacklist_add(vouch_ctx *ctx, const char *path, struct cli_blacklist *b, int kind,
			 const char *s, size_t hl)
{
	struct vouch_digest *d;

	if (b->n[kind] == b->cap[kind]) {
		size_t cap = b->cap[kind] ? b->cap[kind] * 2 : 16;

		d = reallocarray(b->e[kind], cap, sizeof(*d));
		if (!d) {
			cli_lib_error(ctx, -ENOMEM, path);
			return -ENOMEM;
		}
		b->e[kind] = d;
		b->cap[kind] = cap;
	}
	d = &b->e[kind][b->n[kind]++];
	memset(d, 0, sizeof(*d));
	d->algo = -1; /* like "bin:": compared by length and bytes */
	d->len = hl / 2;
	for (size_t i = 0; i < hl / 2; i++) {
		char x[3] = { s[2 * i], s[2 * i + 1], 0 };

		d->bytes[i] = (uint8_t)strtoul(x, NULL, 16);
	}
	return 0;
}

int cli_load_blacklist(vouch_ctx *ctx, const char *path, bool prefixed, struct cli_blacklist *b)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t lineno = 0, sz = 0;
	ssize_t len;

	if (!f) {
		cli_error("cannot open blacklist '%s': %m", path);
		return -errno;
	}
	while ((len = getline(&line, &sz, f)) >= 0) {
		char *s, *end;
		size_t hl;
		int kind;

		lineno++;
		s = cli_text_line(line, len);
		if (!s)
			continue;
		kind = blacklist_prefix(path, lineno, prefixed, &s);
		if (kind < 0)
			return -EBADMSG;
		for (end = s; isxdigit((unsigned char)*end); end++)
			;
		hl = (size_t)(end - s);
		if (*end || hl < 32 || hl > 2 * VOUCH_HASH_MAX_SIZE || hl % 2) {
			cli_error("blacklist '%s' line %zu: not a hex digest", path, lineno);
			return -EBADMSG;
		}
		if (blacklist_add(ctx, path, b, kind, s, hl) < 0)
			return -ENOMEM;
	}
	return 0;
}

int cli_engine_trust(vouch_ctx *ctx, vouch_engine *e, int keyring, const char *const *paths,
		     size_t n, const char *fallback)
{
	_cleanup_(vouch_trust_freep) vouch_trust *t = NULL;
	struct stat st;
	int r;

	if (n == 0 && (!fallback || stat(fallback, &st) < 0))
		return 0;
	r = vouch_trust_new(ctx, &t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = vouch_trust_add_path(t, paths[i], keyring ? "kernel" : ".ima");
		if (r < 0) {
			cli_lib_error(ctx, r, paths[i]);
			return r;
		}
	}
	if (n == 0) {
		r = vouch_trust_add_path(t, fallback, keyring ? "kernel" : ".ima");
		if (r < 0) {
			cli_lib_error(ctx, r, fallback);
			return r;
		}
	}
	return vouch_engine_set_trust(e, keyring, TAKE_PTR(t));
}
