// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch load / vouch engine / vouch policy simulate: run loads through the integrity
 * engine, inspect and latch its state, and predict a policy's decisions on an image tree.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <ctype.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "policy-cli.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_engine *, vouch_engine_freep, vouch_engine_free)

#define STATE_DIR_DEFAULT "/var/lib/vouch"
#define MAX_TRUST 16
#define LOAD_FILE_MAX ((size_t)1 << 30)

static const char *mode_names[] = { "off", "log", "fix", "enforce" };

/* --func names: the policy func names and the kernel's read-id strings */
static const struct func_arg {
	const char *name;
	int func;
	int id; /* read/load id, -1 for file hooks */
} func_args[] = {
	{ "FILE_CHECK", VOUCH_FUNC_FILE_CHECK, -1 },
	{ "MMAP_CHECK", VOUCH_FUNC_MMAP_CHECK, -1 },
	{ "BPRM_CHECK", VOUCH_FUNC_BPRM_CHECK, -1 },
	{ "CREDS_CHECK", VOUCH_FUNC_CREDS_CHECK, -1 },
	{ "FIRMWARE_CHECK", VOUCH_FUNC_FIRMWARE_CHECK, VOUCH_READING_FIRMWARE },
	{ "firmware", VOUCH_FUNC_FIRMWARE_CHECK, VOUCH_READING_FIRMWARE },
	{ "MODULE_CHECK", VOUCH_FUNC_MODULE_CHECK, VOUCH_READING_MODULE },
	{ "kernel-module", VOUCH_FUNC_MODULE_CHECK, VOUCH_READING_MODULE },
	{ "KEXEC_KERNEL_CHECK", VOUCH_FUNC_KEXEC_KERNEL_CHECK, VOUCH_READING_KEXEC_IMAGE },
	{ "kexec-image", VOUCH_FUNC_KEXEC_KERNEL_CHECK, VOUCH_READING_KEXEC_IMAGE },
	{ "KEXEC_INITRAMFS_CHECK", VOUCH_FUNC_KEXEC_INITRAMFS_CHECK, VOUCH_READING_KEXEC_INITRAMFS },
	{ "kexec-initramfs", VOUCH_FUNC_KEXEC_INITRAMFS_CHECK, VOUCH_READING_KEXEC_INITRAMFS },
	{ "POLICY_CHECK", VOUCH_FUNC_POLICY_CHECK, VOUCH_READING_POLICY },
	{ "security-policy", VOUCH_FUNC_POLICY_CHECK, VOUCH_READING_POLICY },
	{ "x509-certificate", VOUCH_FUNC_FILE_CHECK, VOUCH_READING_X509_CERTIFICATE },
	{ "bpf", VOUCH_FUNC_POLICY_CHECK, VOUCH_LOADING_BPF },
	{ "seccomp", VOUCH_FUNC_POLICY_CHECK, VOUCH_LOADING_SECCOMP },
	{ "KEXEC_CMDLINE", VOUCH_FUNC_KEXEC_CMDLINE, VOUCH_LOADING_KEXEC_CMDLINE },
	{ "kexec-cmdline", VOUCH_FUNC_KEXEC_CMDLINE, VOUCH_LOADING_KEXEC_CMDLINE },
};

static int find_func_arg(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(func_args); i++)
		if (!strcmp(s, func_args[i].name))
			return (int)i;
	return -1;
}

static int parse_mode(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (!strcmp(s, mode_names[i]))
			return (int)i;
	return -1;
}

static const char *state_dir_default(void)
{
	const char *env = getenv("VOUCH_STATE_DIR");

	return env && *env ? env : STATE_DIR_DEFAULT;
}

static void audit_print(void *userdata, const struct vouch_engine_event *ev)
{
	char hex[2 * VOUCH_HASH_MAX_SIZE + 16] = "-";

	if (!*(bool *)userdata)
		return;
	if (ev->digest && ev->digest->len)
		vouch_digest_to_hex(ev->digest, hex, sizeof(hex));
	fprintf(stderr, "audit: action=%s func=%s name='%s' result=%d reason='%s' mode=%s rule=%u "
			"digest=%s\n",
		ev->action, ev->func ? vouch_policy_func_name(ev->func) : "-", ev->name, ev->result,
		ev->reason, ev->mode >= 0 && ev->mode < 4 ? mode_names[ev->mode] : "?", ev->rule,
		hex);
}

struct engine_args {
	const char *state_dir;
	const char *policy;
	const char *trust[MAX_TRUST];
	size_t n_trust;
	const char *ktrust[MAX_TRUST];
	size_t n_ktrust;
	int mode;
	bool audit;
	bool memory;
	const char *xattr;
	const char *tcti; /* --tcti T, or --tpm: $VOUCH_TCTI or the default device */
	const char *blacklist;
};

/* Open the engine with the state directory, policy and trust; prints; returns exit code. */
static int engine_open(vouch_ctx *ctx, const char *cmd, struct engine_args *a, bool *audit_flag,
		       vouch_engine **ret)
{
	struct vouch_engine_options o = VOUCH_ENGINE_OPTIONS_INIT;
	_cleanup_(vouch_engine_freep) vouch_engine *e = NULL;
	_cleanup_free_ char *pol_path = NULL, *trust_path = NULL, *ktrust_path = NULL;
	_cleanup_free_ char *bl_path = NULL;
	vouch_policy *p = NULL;
	struct stat st;
	int r;

	o.state_dir = a->memory ? NULL : a->state_dir ? a->state_dir : state_dir_default();
	o.audit_fn = audit_print;
	o.audit_userdata = audit_flag;
	o.xattr_name = a->xattr;
	o.tcti = a->tcti;
	r = vouch_engine_new(ctx, &o, &e);
	if (r < 0) {
		cli_lib_error(ctx, r, cmd);
		return cli_exit_for(r) == EXIT_UNTRUSTED ? EXIT_UNTRUSTED : EXIT_ERROR;
	}
	vouch_engine_set_audit_fn(e, audit_print, audit_flag);
	if (o.state_dir && (asprintf(&pol_path, "%s/policy", o.state_dir) < 0 ||
			    asprintf(&trust_path, "%s/trust", o.state_dir) < 0 ||
			    asprintf(&ktrust_path, "%s/trust-kernel", o.state_dir) < 0 ||
			    asprintf(&bl_path, "%s/blacklist", o.state_dir) < 0))
		return EXIT_ERROR;
	if (a->policy) {
		r = cli_load_policy(ctx, cmd, a->policy, 0, &p);
		if (r)
			return r;
	} else if (pol_path && stat(pol_path, &st) == 0) {
		r = cli_load_policy(ctx, cmd, pol_path, 0, &p);
		if (r)
			return r;
	}
	r = vouch_engine_set_policy(e, p);
	if (r < 0) {
		/* a rule the engine cannot decide would be silently skipped: refuse it */
		cli_lib_error(ctx, r, a->policy ? a->policy : pol_path);
		return EXIT_ERROR;
	}
	if (cli_engine_trust(ctx, e, VOUCH_KEYRING_IMA, a->trust, a->n_trust, trust_path) < 0 ||
	    cli_engine_trust(ctx, e, VOUCH_KEYRING_KERNEL, a->ktrust, a->n_ktrust, ktrust_path) < 0)
		return EXIT_ERROR;
	if (a->blacklist || (bl_path && stat(bl_path, &st) == 0)) {
		_cleanup_(cli_blacklist_done) struct cli_blacklist bl = { .n = { 0, 0 } };

		if (cli_load_blacklist(ctx, a->blacklist ? a->blacklist : bl_path, false, &bl) < 0)
			return EXIT_ERROR;
		r = vouch_engine_set_blacklist(e, bl.e[0], bl.n[0]);
		if (r < 0) {
			cli_lib_error(ctx, r, cmd);
			return EXIT_ERROR;
		}
	}
	if (a->mode >= 0) {
		r = vouch_engine_set_mode(e, VOUCH_FUNC_NONE, a->mode);
		if (r < 0) {
			cli_lib_error(ctx, r, cmd);
			return r == -EROFS ? EXIT_UNTRUSTED : EXIT_ERROR;
		}
	}
	*ret = TAKE_PTR(e);
	return 0;
}

#define ENGINE_LONGOPTS                                                                            \
	{ "state-dir", required_argument, NULL, 'S' }, { "policy", required_argument, NULL, 'p' }, \
		{ "trust", required_argument, NULL, 't' },                                         \
		{ "kernel-trust", required_argument, NULL, 'k' },                                  \
		{ "mode", required_argument, NULL, 'm' }, { "audit", no_argument, NULL, 'A' },     \
		{ "xattr", required_argument, NULL, 'X' }, { "tcti", required_argument, NULL, 'T' }, \
		{ "tpm", no_argument, NULL, 'P' }, { "blacklist", required_argument, NULL, 'B' }
static const struct option engine_longopts[] = { ENGINE_LONGOPTS, { 0 } };

/* Common options of load/engine/simulate; returns 1 when handled, <0 exit code on error. */
static int engine_option(const char *cmd, struct engine_args *a, int c, const char *arg)
{
	const struct cli_slot slots[] = {
		CLI_STR('S', &a->state_dir), CLI_STR('p', &a->policy), CLI_STR('B', &a->blacklist),
		CLI_STR('X', &a->xattr), CLI_SET('A', &a->audit), CLI_SLOTS_END,
	};
	int r = cli_slot_option(cmd, engine_longopts, slots, c, arg);

	if (r >= 0)
		return r ? -r : 1;
	switch (c) {
	case 't':
		if (a->n_trust >= MAX_TRUST)
			return -cli_usage_error(cmd, "too many --trust");
		a->trust[a->n_trust++] = arg;
		return 1;
	case 'k':
		if (a->n_ktrust >= MAX_TRUST)
			return -cli_usage_error(cmd, "too many --kernel-trust");
		a->ktrust[a->n_ktrust++] = arg;
		return 1;
	case 'm':
		if (a->mode >= 0)
			return -cli_given_twice(cmd, "--mode");
		a->mode = parse_mode(arg);
		if (a->mode < 0)
			return -cli_usage_error(cmd, "unknown mode '%s' (off, log, fix, enforce)", arg);
		return 1;
	case 'T':
	case 'P':
		if (a->tcti)
			return -cli_usage_error(cmd, "--tcti or --tpm given twice, refusing");
		a->tcti = c == 'T' ? arg : cli_tcti(NULL);
		return 1;
	default:
		return 0;
	}
}

static json_object *result_json(const char *file, const char *func,
				const struct vouch_engine_result *res, int r)
{
	json_object *o = json_object_new_object();
	char hex[2 * VOUCH_HASH_MAX_SIZE + 16] = "";

	json_object_object_add(o, "file", json_object_new_string(file));
	json_object_object_add(o, "func", json_object_new_string(func));
	json_object_object_add(o, "allowed", json_object_new_boolean(r == 0));
	json_object_object_add(o, "measured", json_object_new_boolean(res->measured));
	json_object_object_add(o, "cached", json_object_new_boolean(res->cached));
	json_object_object_add(o, "appraised", json_object_new_boolean(res->appraised));
	if (res->appraised)
		json_object_object_add(o, "appraisal", json_object_new_string(res->reason));
	json_object_object_add(o, "mode", json_object_new_string(mode_names[res->mode & 3]));
	if (res->digest.len) {
		vouch_digest_to_hex(&res->digest, hex, sizeof(hex));
		json_object_object_add(o, "digest", json_object_new_string(hex));
	}
	return o;
}

/* The getopt loop of an engine command: its common options, then @other's (NULL: none). */
static int engine_options(const char *cmd, int argc, char **argv, const struct option *longopts,
			  struct engine_args *a, cli_other_fn other, void *userdata)
{
	int c, r;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		r = engine_option(cmd, a, c, optarg);
		if (r < 0)
			return -r;
		if (r)
			continue;
		r = other ? other(userdata, c, optarg) : cli_usage_error(cmd, "invalid option");
		if (r)
			return r;
	}
	return 0;
}

/* engine status --json */
static int status_other(void *userdata, int c, const char *arg)
{
	if (c != 'j')
		return cli_usage_error("engine status", "invalid option");
	*(bool *)userdata = true;
	return 0;
}

/* vouch load's own options (beside the engine's) */
struct load_args {
	const char *func_s, *desc;
	bool buffer, json, sig_enforce;
	int fi; /* into func_args */
};

static const struct option load_longopts[] = {
	ENGINE_LONGOPTS,
	{ "func", required_argument, NULL, 'f' },
	{ "buffer", no_argument, NULL, 'b' },
	{ "desc", required_argument, NULL, 'd' },
	{ "sig-enforce", no_argument, NULL, 'E' },
	{ "json", no_argument, NULL, 'j' },
	{ 0 },
};

/* vouch load's own options */
static int load_other(void *userdata, int c, const char *arg)
{
	struct load_args *l = userdata;
	const struct cli_slot slots[] = {
		CLI_STR('f', &l->func_s), CLI_STR('d', &l->desc), CLI_SET('b', &l->buffer),
		CLI_SET('E', &l->sig_enforce), CLI_SET('j', &l->json), CLI_SLOTS_END,
	};
	int r = cli_slot_option("load", load_longopts, slots, c, arg);

	return r >= 0 ? r : cli_usage_error("load", "invalid option");
}

static int load_options(int argc, char **argv, struct engine_args *a, struct load_args *l)
{
	int r = engine_options("load", argc, argv, load_longopts, a, load_other, l);

	if (r)
		return r;
	if (!l->func_s)
		return cli_usage_error("load", "--func FUNC is required");
	l->fi = find_func_arg(l->func_s);
	if (l->fi < 0)
		return cli_usage_error("load", "unknown func '%s'", l->func_s);
	if (l->buffer && func_args[l->fi].id < 0)
		return cli_usage_error("load", "--buffer needs a load id (firmware, kernel-module, "
					       "kexec-image, security-policy, bpf, seccomp, "
					       "kexec-cmdline)");
	if (!l->buffer && func_args[l->fi].id >= VOUCH_LOADING_BPF)
		return cli_usage_error("load", "'%s' is a buffer load: use --buffer", l->func_s);
	if (l->desc && !l->buffer)
		return cli_usage_error("load", "--desc is for --buffer loads");
	if (l->buffer && !l->desc)
		return cli_usage_error("load", "--buffer needs --desc NAME");
	if (optind >= argc)
		return cli_usage_error("load", "no FILE given");
	if (l->buffer && optind + 1 != argc)
		return cli_usage_error("load", "--buffer takes one FILE");
	return 0;
}

/* One load of @fd through the engine's hooks, as its consumer would: 0, -EACCES, -errno. */
static int load_through(vouch_engine *e, const struct load_args *l, int fd, const char *file,
			struct vouch_engine_result *res)
{
	const struct func_arg *f = &func_args[l->fi];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	if (l->buffer) {
		r = cli_read_fd_all(fd, LOAD_FILE_MAX, &buf, &len);
		if (r == 0)
			r = vouch_engine_load_data(e, f->id, true, res);
		if (r == 0)
			r = vouch_engine_post_load_data(e, f->id, buf, len, l->desc, res);
		return r;
	}
	if (f->id < 0)
		return vouch_engine_file_check(e, f->func, fd, file,
					       f->func == VOUCH_FUNC_FILE_CHECK ? VOUCH_MAY_READ :
										   VOUCH_MAY_EXEC,
					       res);
	/* kernel_read_file(): the consumer reads the whole file once, then the post hook sees
	 * exactly those bytes */
	r = vouch_engine_read_file(e, f->id, fd, file, true, res);
	if (r == 0)
		r = cli_read_fd_all(fd, LOAD_FILE_MAX, &buf, &len);
	if (r == 0)
		r = vouch_engine_post_read_file(e, f->id, fd, file, buf, len, res);
	return r;
}

/* One FILE of vouch load, reported: EXIT_OK, EXIT_UNTRUSTED (denied) or EXIT_ERROR. */
static int load_one(vouch_ctx *ctx, vouch_engine *e, const struct load_args *l,
		    const char *file, json_object *arr)
{
	struct vouch_engine_result res = { 0 };
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int r;

	if (fd < 0) {
		cli_error("cannot open '%s': %m", file);
		return EXIT_ERROR;
	}
	r = load_through(e, l, fd, file, &res);
	if (r < 0 && r != -EACCES) {
		cli_lib_error(ctx, r, file);
		return EXIT_ERROR;
	}
	if (arr)
		json_object_array_add(arr, result_json(file, l->func_s, &res, r));
	else if (r == -EACCES)
		fprintf(stderr, "%s: denied: %s\n", file, res.reason[0] ? res.reason : "refused");
	else
		printf("%s: allowed%s%s%s%s\n", file, res.measured ? ", measured" : "",
		       res.cached ? ", cached" : "", res.appraised ? ", appraisal: " : "",
		       res.appraised ? res.reason : "");
	return r == -EACCES ? EXIT_UNTRUSTED : EXIT_OK;
}

static int cmd_load_impl(int argc, char **argv)
{
	struct engine_args a = { .mode = -1 };
	struct load_args l = { 0 };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_engine_freep) vouch_engine *e = NULL;
	_cleanup_(json_object_putp) json_object *arr = NULL;
	int r, rc = EXIT_OK;

	r = load_options(argc, argv, &a, &l);
	if (r)
		return r;
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = engine_open(ctx, "load", &a, &a.audit, &e);
	if (r)
		return r;
	if (l.sig_enforce) {
		r = vouch_engine_set_sig_enforce(e, func_args[l.fi].func, true);
		if (r < 0) {
			cli_lib_error(ctx, r, "load");
			return EXIT_ERROR;
		}
	}
	if (l.json)
		arr = json_object_new_array();
	for (int i = optind; i < argc; i++) {
		r = load_one(ctx, e, &l, argv[i], arr);
		if (r == EXIT_ERROR || (r == EXIT_UNTRUSTED && rc == EXIT_OK))
			rc = r;
	}
	if (l.json)
		cli_json_print(arr);
	return rc;
}

int cmd_load(int argc, char **argv)
{
	return cmd_load_impl(argc, argv);
}

/* --- vouch engine ... ---------------------------------------------------------------- */

static int engine_status(int argc, char **argv)
{
	static const struct option longopts[] = { ENGINE_LONGOPTS, { "json", no_argument, NULL, 'j' },
						  { 0 } };
	struct engine_args a = { .mode = -1 };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_engine_freep) vouch_engine *e = NULL;
	bool json = false;
	int r;

	r = engine_options("engine status", argc, argv, longopts, &a, status_other, &json);
	if (r)
		return r;
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = engine_open(ctx, "engine status", &a, &a.audit, &e);
	if (r)
		return r;
	r = vouch_engine_verify_state(e);
	if (json) {
		_cleanup_(json_object_putp) json_object *o = json_object_new_object();
		json_object *lat = json_object_new_array();

		json_object_object_add(o, "entries",
				       json_object_new_int64((int64_t)vouch_engine_entry_count(e)));
		json_object_object_add(o, "replay_ok", json_object_new_boolean(r == 0));
		json_object_object_add(o, "tpm", vouch_engine_get_tcti(e)
							 ? json_object_new_string(vouch_engine_get_tcti(e))
							 : json_object_new_null());
		for (int algo = VOUCH_HASH_SHA1; algo <= VOUCH_HASH_SHA256; algo += 2) {
			struct vouch_digest d;
			char key[32];

			vouch_engine_get_pcr(e, algo, 10, &d);
			snprintf(key, sizeof(key), "pcr10_%s", vouch_hash_info(algo)->name);
			json_object_object_add(o, key, cli_json_hex(d.bytes, d.len));
		}
		for (int f = 1; f < _VOUCH_FUNC_MAX; f++)
			if (vouch_engine_get_sig_enforce(e, f))
				json_object_array_add(lat,
						      json_object_new_string(vouch_policy_func_name(f)));
		json_object_object_add(o, "sig_enforce", lat);
		cli_json_print(o);
	} else {
		printf("entries: %llu\n", (unsigned long long)vouch_engine_entry_count(e));
		for (int algo = VOUCH_HASH_SHA1; algo <= VOUCH_HASH_SHA256; algo += 2) {
			struct vouch_digest d;
			char hex[2 * VOUCH_HASH_MAX_SIZE + 16];

			vouch_engine_get_pcr(e, algo, 10, &d);
			vouch_digest_to_hex(&d, hex, sizeof(hex));
			printf("pcr10 %s: %s\n", vouch_hash_info(algo)->name, hex);
		}
		printf("sig_enforce:");
		for (int f = 1; f < _VOUCH_FUNC_MAX; f++)
			if (vouch_engine_get_sig_enforce(e, f))
				printf(" %s", vouch_policy_func_name(f));
		if (vouch_engine_get_tcti(e))
			printf("\ntpm: %s", vouch_engine_get_tcti(e));
		printf("\nreplay: %s\n", r != 0		       ? "MISMATCH"
				      : vouch_engine_get_tcti(e) ? "list matches the software PCRs and the TPM"
								 : "list matches the software PCRs");
	}
	if (r < 0) {
		cli_lib_error(ctx, r, "engine status");
		return EXIT_UNTRUSTED;
	}
	return EXIT_OK;
}

static int engine_enforce(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 'S' },
		{ "func", required_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' },
		{ "off", no_argument, NULL, 'o' },
		{ "trust", required_argument, NULL, 't' },
		{ "kernel-trust", required_argument, NULL, 'k' },
		{ "xattr", required_argument, NULL, 'X' },
		{ 0 },
	};
	struct engine_args a = { .mode = -1 };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_engine_freep) vouch_engine *e = NULL;
	bool all = false, off = false;
	int func = -1, c, r;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			if (cli_opt_once("engine enforce", &a.state_dir, optarg, "state-dir"))
				return EXIT_USAGE;
			break;
		case 'f': {
			int fi = find_func_arg(optarg);

			if (func >= 0)
				return cli_given_twice("engine enforce", "--func");
			if (fi < 0)
				return cli_usage_error("engine enforce", "unknown func '%s'", optarg);
			func = func_args[fi].func;
			break;
		}
		case 'a':
			all = true;
			break;
		case 'o':
			off = true;
			break;
		case 't':
		case 'k':
		case 'X':
			/* what the latch pins (default: the state's trust files, security.ima) */
			r = engine_option("engine enforce", &a, c, optarg);
			if (r < 0)
				return -r;
			break;
		default:
			return cli_usage_error("engine enforce", "invalid option");
		}
	}
	if ((func >= 0) == all)
		return cli_usage_error("engine enforce", "give --func FUNC or --all");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = engine_open(ctx, "engine enforce", &a, &a.audit, &e);
	if (r)
		return r;
	r = vouch_engine_set_sig_enforce(e, all ? VOUCH_FUNC_NONE : func, !off);
	if (r < 0) {
		cli_lib_error(ctx, r, "engine enforce");
		return r == -EROFS ? EXIT_UNTRUSTED : EXIT_ERROR;
	}
	printf("signature enforcement %s for %s\n", off ? "unchanged (was off)" : "latched on",
	       all ? "every consumer" : vouch_policy_func_name(func));
	return EXIT_OK;
}

static int engine_list(int argc, char **argv)
{
	static const struct option longopts[] = { ENGINE_LONGOPTS, { 0 } };
	struct engine_args a = { .mode = -1 };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_engine_freep) vouch_engine *e = NULL;
	const uint8_t *buf;
	size_t len, off = 0;
	int r;

	r = engine_options("engine list", argc, argv, longopts, &a, NULL, NULL);
	if (r)
		return r;
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = engine_open(ctx, "engine list", &a, &a.audit, &e);
	if (r)
		return r;
	vouch_engine_get_list(e, &buf, &len);
	/* ascii_runtime_measurements-like: pcr, template digest, template, d-ng, n-ng */
	while (len - off >= 28) {
		uint32_t nl = (uint32_t)buf[off + 24] | (uint32_t)buf[off + 25] << 8 |
			      (uint32_t)buf[off + 26] << 16 | (uint32_t)buf[off + 27] << 24;
		const uint8_t *t = buf + off + 28 + nl, *dp;
		uint32_t dl = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
			      (uint32_t)t[3] << 24, f1, f2;

		printf("%2u ", buf[off]);
		for (int i = 0; i < 20; i++)
			printf("%02x", buf[off + 4 + i]);
		printf(" %.*s ", (int)nl, (const char *)buf + off + 28);
		dp = t + 4;
		f1 = (uint32_t)dp[0] | (uint32_t)dp[1] << 8 | (uint32_t)dp[2] << 16 |
		     (uint32_t)dp[3] << 24;
		{
			const char *alg = (const char *)dp + 4;
			size_t an = strlen(alg);

			printf("%s", alg);
			for (size_t i = an + 1; i < f1; i++)
				printf("%02x", dp[4 + i]);
		}
		dp += 4 + f1;
		f2 = (uint32_t)dp[0] | (uint32_t)dp[1] << 8 | (uint32_t)dp[2] << 16 |
		     (uint32_t)dp[3] << 24;
		printf(" %.*s\n", (int)(f2 ? f2 - 1 : 0), (const char *)dp + 4);
		off += 28 + nl + 4 + dl;
	}
	return EXIT_OK;
}

/* Copy @src into the state as @name after it was validated. */
static int install_file(const char *state, const char *name, const char *src)
{
	_cleanup_free_ char *buf = NULL, *dst = NULL;
	size_t len;
	int r;

	r = cli_read_small_file(src, (size_t)16 << 20, &buf, &len);
	if (r < 0) {
		cli_error("cannot read '%s': %s", src, strerror(-r));
		return EXIT_ERROR;
	}
	if (asprintf(&dst, "%s/%s", state, name) < 0)
		return EXIT_ERROR;
	r = cli_write_atomic_at(AT_FDCWD, dst, buf, len, 0600);
	if (r < 0) {
		cli_error("cannot write '%s': %s", dst, strerror(-r));
		return EXIT_ERROR;
	}
	printf("%s\n", dst);
	return 0;
}

static int engine_init(int argc, char **argv)
{
	static const struct option longopts[] = { ENGINE_LONGOPTS, { 0 } };
	struct engine_args a = { .mode = -1 };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_engine_freep) vouch_engine *e = NULL;
	const char *state;
	int c, r;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		r = engine_option("engine init", &a, c, optarg);
		if (r < 0)
			return -r;
		if (!r || c == 'm' || c == 'X')
			return cli_usage_error("engine init", "invalid option");
	}
	if (optind != argc)
		return cli_usage_error("engine init", "unexpected argument '%s'", argv[optind]);
	if (!a.policy && !a.n_trust && !a.n_ktrust && !a.blacklist)
		return cli_usage_error("engine init",
				       "give --policy, --trust, --kernel-trust or --blacklist");
	if (a.n_trust > 1 || a.n_ktrust > 1)
		return cli_usage_error("engine init", "one --trust and one --kernel-trust file (a PEM "
						       "bundle holds several certificates)");
	if (a.policy && !strncmp(a.policy, "builtin:", 8))
		return cli_usage_error("engine init", "--policy must be a file here");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	/* validates the policy and the certificates, and creates the state */
	r = engine_open(ctx, "engine init", &a, &a.audit, &e);
	if (r)
		return r;
	state = a.state_dir ? a.state_dir : state_dir_default();
	if (a.policy && (r = install_file(state, "policy", a.policy)))
		return r;
	if (a.n_trust && (r = install_file(state, "trust", a.trust[0])))
		return r;
	if (a.n_ktrust && (r = install_file(state, "trust-kernel", a.ktrust[0])))
		return r;
	if (a.blacklist && (r = install_file(state, "blacklist", a.blacklist)))
		return r;
	return EXIT_OK;
}

static const struct command engine_cmds[] = {
	{ "status", engine_status, 0,
	  "Show the list size, PCR 10, latched consumers, and replay the list against the PCRs",
	  "engine status [--state-dir DIR] [--tcti T] [--tpm] [--json]" },
	{ "list", engine_list, 0, "Print the measurement list (ascii form)",
	  "engine list [--state-dir DIR]" },
	{ "init", engine_init, 0,
	  "Install a checked policy and trust stores into the state (used when 'load' is given none)",
	  "engine init [--state-dir DIR] [--policy FILE] [--trust PEM] [--kernel-trust PEM] "
	  "[--blacklist FILE]" },
	{ "enforce", engine_enforce, 0,
	  "Latch signature enforcement on for a consumer (never off again for this state)",
	  "engine enforce [--state-dir DIR] [--trust PEM] [--kernel-trust PEM] [--xattr NAME] "
	  "--func FUNC | --all" },
};

CLI_FAMILY(cmd_engine, "engine", engine_cmds)

/* --- vouch policy simulate ----------------------------------------------------------- */

struct sim_map {
	const char *glob;
	int func;
};

struct sim {
	vouch_ctx *ctx;
	vouch_engine *e;
	const char *root;
	size_t root_len;
	struct sim_map maps[32];
	size_t n_maps;
	json_object *arr;
	unsigned files, measured, appraised, denied, errors;
};

static struct sim *sim_state;

/* Documented default mapping of image paths to the hook that would load them. */
static int sim_func_for(const struct sim *s, const char *rel, const struct stat *st)
{
	const char *base = strrchr(rel, '/');
	size_t n = strlen(rel);

	base = base ? base + 1 : rel;
	for (size_t i = 0; i < s->n_maps; i++)
		if (fnmatch(s->maps[i].glob, rel, FNM_PATHNAME | FNM_PERIOD) == 0 ||
		    fnmatch(s->maps[i].glob, rel, 0) == 0)
			return s->maps[i].func;
	if (!strncmp(rel, "lib/firmware/", 13) || !strncmp(rel, "usr/lib/firmware/", 17))
		return VOUCH_FUNC_FIRMWARE_CHECK;
	if ((n > 3 && !strcmp(rel + n - 3, ".ko")) || strstr(base, ".ko.xz") ||
	    strstr(base, ".ko.zst") || strstr(base, ".ko.gz"))
		return VOUCH_FUNC_MODULE_CHECK;
	if (!strncmp(rel, "boot/vmlinuz", 12))
		return VOUCH_FUNC_KEXEC_KERNEL_CHECK;
	if (!strncmp(rel, "boot/initrd", 11) || !strncmp(rel, "boot/initramfs", 14))
		return VOUCH_FUNC_KEXEC_INITRAMFS_CHECK;
	if (!strncmp(rel, "etc/ima/", 8))
		return VOUCH_FUNC_POLICY_CHECK;
	if (strstr(base, ".so") && (strstr(base, ".so.") || !strcmp(base + strlen(base) - 3, ".so")))
		return VOUCH_FUNC_MMAP_CHECK;
	if (st->st_mode & 0111)
		return VOUCH_FUNC_BPRM_CHECK;
	return VOUCH_FUNC_FILE_CHECK;
}

static int sim_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct sim *s = sim_state;
	struct vouch_engine_result res = { 0 };
	const char *rel = path + s->root_len;
	_cleanup_close_ int fd = -1;
	int func, r;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	while (*rel == '/')
		rel++;
	func = sim_func_for(s, rel, st);
	s->files++;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		cli_error("cannot open '%s': %m", path);
		s->errors++;
		return 0;
	}
	if (func == VOUCH_FUNC_FILE_CHECK || func == VOUCH_FUNC_MMAP_CHECK ||
	    func == VOUCH_FUNC_BPRM_CHECK)
		r = vouch_engine_file_check(s->e, func, fd, rel,
					    func == VOUCH_FUNC_FILE_CHECK ? VOUCH_MAY_READ
									  : VOUCH_MAY_EXEC,
					    &res);
	else {
		int id = func == VOUCH_FUNC_FIRMWARE_CHECK	     ? VOUCH_READING_FIRMWARE
			 : func == VOUCH_FUNC_MODULE_CHECK	     ? VOUCH_READING_MODULE
			 : func == VOUCH_FUNC_KEXEC_KERNEL_CHECK    ? VOUCH_READING_KEXEC_IMAGE
			 : func == VOUCH_FUNC_KEXEC_INITRAMFS_CHECK ? VOUCH_READING_KEXEC_INITRAMFS
								    : VOUCH_READING_POLICY;

		/* file-backed read: the engine reads the bytes through the fd */
		r = vouch_engine_read_file(s->e, id, fd, rel, false, &res);
	}
	if (r < 0 && r != -EACCES) {
		cli_lib_error(s->ctx, r, path);
		s->errors++;
		return 0;
	}
	if (res.measured)
		s->measured++;
	if (res.appraised)
		s->appraised++;
	if (res.denied)
		s->denied++;
	if (s->arr) {
		json_object *o = result_json(rel, vouch_policy_func_name(func), &res, r);

		json_object_object_add(o, "would_deny", json_object_new_boolean(res.denied));
		json_object_array_add(s->arr, o);
	} else {
		printf("%-5s %-22s %s%s%s%s\n", res.denied ? "DENY" : "ok",
		       vouch_policy_func_name(func), rel, res.measured ? "  [measure]" : "",
		       res.appraised ? "  appraise: " : "", res.appraised ? res.reason : "");
	}
	return 0;
}

int cmd_policy_simulate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "trust", required_argument, NULL, 't' },
		{ "kernel-trust", required_argument, NULL, 'k' },
		{ "root", required_argument, NULL, 'r' },
		{ "map", required_argument, NULL, 'M' },
		{ "xattr", required_argument, NULL, 'X' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	struct engine_args a = { .mode = VOUCH_MODE_ENFORCE, .memory = true };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_engine_freep) vouch_engine *e = NULL;
	_cleanup_(json_object_putp) json_object *arr = NULL;
	struct sim s = { 0 };
	const char *root = NULL;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "p:t:k:r:M:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 't':
		case 'k':
		case 'X':
			r = engine_option("policy simulate", &a, c, optarg);
			if (r < 0)
				return -r;
			break;
		case 'r':
			if (cli_opt_once("policy simulate", &root, optarg, "root"))
				return EXIT_USAGE;
			break;
		case 'M': {
			char *eq = strrchr(optarg, '=');
			int f;

			if (!eq || s.n_maps >= ARRAY_SIZE(s.maps))
				return cli_usage_error("policy simulate", "invalid --map '%s' (GLOB=FUNC)",
						       optarg);
			*eq = '\0';
			f = vouch_policy_func_by_name(eq + 1);
			if (f < 0 || f == VOUCH_FUNC_KEY_CHECK || f == VOUCH_FUNC_CRITICAL_DATA ||
			    f == VOUCH_FUNC_KEXEC_CMDLINE || f == VOUCH_FUNC_SETXATTR_CHECK ||
			    f == VOUCH_FUNC_CREDS_CHECK)
				return cli_usage_error("policy simulate", "--map: unusable func '%s'",
						       eq + 1);
			s.maps[s.n_maps].glob = optarg;
			s.maps[s.n_maps++].func = f;
			break;
		}
		case 'j':
			json = true;
			break;
		default:
			return cli_usage_error("policy simulate", "invalid option");
		}
	}
	if (!a.policy || !root)
		return cli_usage_error("policy simulate", "-p POLICY and --root DIR are required");
	if (optind != argc)
		return cli_usage_error("policy simulate", "unexpected argument '%s'", argv[optind]);
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = engine_open(ctx, "policy simulate", &a, &a.audit, &e);
	if (r)
		return r;
	if (json)
		arr = json_object_new_array();
	s.ctx = ctx;
	s.e = e;
	s.root = root;
	s.root_len = strlen(root);
	s.arr = arr;
	sim_state = &s;
	if (nftw(root, sim_visit, 16, FTW_PHYS) < 0) {
		cli_error("cannot walk '%s': %m", root);
		return EXIT_ERROR;
	}
	if (json) {
		_cleanup_(json_object_putp) json_object *o = json_object_new_object();

		json_object_object_add(o, "files", TAKE_PTR(arr));
		json_object_object_add(o, "measured", json_object_new_int((int)s.measured));
		json_object_object_add(o, "appraised", json_object_new_int((int)s.appraised));
		json_object_object_add(o, "denied", json_object_new_int((int)s.denied));
		json_object_object_add(o, "errors", json_object_new_int((int)s.errors));
		cli_json_print(o);
	} else {
		printf("%u files: %u measured, %u appraised, %u would be denied when enforcing\n",
		       s.files, s.measured, s.appraised, s.denied);
	}
	if (s.errors)
		return EXIT_ERROR;
	return s.denied ? EXIT_UNTRUSTED : EXIT_OK;
}
