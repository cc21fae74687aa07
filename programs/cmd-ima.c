// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch ima: security.ima digests and signatures (v2, v3 over fs-verity), for single files
 * and whole trees in parallel.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "commands.h"
#include "ima-cli.h"
#include "walk.h"

#define IMA_XATTR "security.ima"

const char *ima_type_name(int type)
{
	switch (type) {
	case VOUCH_XATTR_DIGEST:
		return "digest";
	case VOUCH_XATTR_EVM_HMAC:
		return "evm-hmac";
	case VOUCH_XATTR_DIGSIG:
		return "signature";
	case VOUCH_XATTR_DIGEST_NG:
		return "digest-ng";
	case VOUCH_XATTR_EVM_PORTABLE:
		return "evm-portable-signature";
	case VOUCH_XATTR_VERITY_DIGSIG:
		return "verity-signature";
	default:
		return "unknown";
	}
}

static void hexstr(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

char *ima_hex(const uint8_t *b, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s)
		hexstr(b, n, s);
	return s;
}

int ima_read_value(const struct walk_file *wf, const char *xattr, bool sigfile, uint8_t **ret,
		   size_t *ret_len, char *why, size_t why_size)
{
	const char *path = wf->path;
	uint8_t *buf = malloc(VOUCH_XATTR_MAX_SIZE);
	ssize_t n;

	if (!buf) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	if (sigfile) {
		_cleanup_free_ char *sp = walk_fmt("%s.sig", wf->name);
		_cleanup_close_ int sfd = -1;
		size_t got = 0;

		/* next to the file, in the directory it was opened from; never through a symlink */
		sfd = sp ? openat(wf->dirfd, sp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) : -1;
		if (sfd < 0) {
			int e = sp ? errno : ENOMEM;

			snprintf(why, why_size, "cannot open '%s.sig': %s", path, strerror(e));
			free(buf);
			return e == ENOENT ? -ENODATA : -e;
		}
		for (;;) {
			ssize_t k = cli_read_retry(sfd, buf + got, VOUCH_XATTR_MAX_SIZE - got);

			if (k < 0) {
				snprintf(why, why_size, "cannot read '%s.sig': %m", path);
				free(buf);
				return -EIO;
			}
			if (k == 0)
				break;
			got += (size_t)k;
			if (got == VOUCH_XATTR_MAX_SIZE) {
				snprintf(why, why_size, "'%s.sig' is larger than an xattr", path);
				free(buf);
				return -EBADMSG;
			}
		}
		*ret = buf;
		*ret_len = got;
		return 0;
	}
	n = fgetxattr(wf->fd, xattr, buf, VOUCH_XATTR_MAX_SIZE);
	if (n < 0) {
		int e = errno;

		if (e == ENODATA)
			snprintf(why, why_size, "no %s", xattr);
		else
			snprintf(why, why_size, "cannot read %s: %s", xattr, strerror(e));
		free(buf);
		return -e;
	}
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

int ima_write_value(const struct walk_file *wf, const char *xattr, bool sigfile,
		    const uint8_t *value, size_t len, char *why, size_t why_size)
{
	const char *path = wf->path;

	if (sigfile) {
		_cleanup_free_ char *sp = walk_fmt("%s.sig", wf->name);
		int r = sp ? cli_write_atomic_at(wf->dirfd, sp, value, len, -1) : -ENOMEM;

		if (r == -ELOOP)
			snprintf(why, why_size,
				 "'%s.sig' is a symbolic link: refusing to replace it (signature "
				 "files are never read or written through links)",
				 path);
		else if (r == -EMLINK)
			snprintf(why, why_size,
				 "'%s.sig' has several hard links: refusing to update only this one",
				 path);
		else if (r < 0)
			snprintf(why, why_size, "cannot write '%s.sig': %s", path, strerror(-r));
		return r;
	}
	if (fsetxattr(wf->fd, xattr, value, len, 0) < 0) {
		int e = errno;

		snprintf(why, why_size, "cannot set %s: %s%s", xattr, strerror(e),
			 e == ENOTSUP ? " (try --sigfile or --xattr user.ima)" : "");
		return -e;
	}
	return 0;
}

const char *ima_lib_reason(vouch_ctx *ctx, int r)
{
	const char *m = vouch_ctx_last_error(ctx);

	return m && *m ? m : vouch_strerror(r);
}

/* --- ima hash ---------------------------------------------------------------------------- */

struct hash_job {
	int algo;
	const char *xattr;
	bool sigfile;
};

static void hash_one(void *shared, vouch_ctx *ctx, const struct walk_file *wf,
		     struct walk_result *res)
{
	const char *path = wf->path;
	const struct hash_job *job = shared;
	struct vouch_digest d;
	_cleanup_free_ uint8_t *val = NULL;
	_cleanup_free_ char *hex = NULL;
	char why[512];
	size_t n;
	int r;

	r = vouch_digest_fd(ctx, wf->fd, &job->algo, 1, &d);
	if (r == 0)
		r = vouch_ima_digest_value(ctx, &d, &val, &n);
	if (r < 0) {
		walk_fail(res, EXIT_ERROR, path, ima_lib_reason(ctx, r));
		return;
	}
	if (ima_write_value(wf, job->xattr, job->sigfile, val, n, why, sizeof(why)) < 0) {
		walk_fail(res, EXIT_ERROR, path, why);
		return;
	}
	hex = ima_hex(val, n);
	res->out = walk_fmt("%s  %s\n", hex ? hex : "", path);
}

/* Options every per-file ima command shares. */
struct common_opts {
	bool recursive, sigfile, json;
	const char *xattr;
};

static int common_opt(const char *cmd, struct common_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'r':
		if (o->recursive)
			return cli_given_twice(cmd, "-r");
		o->recursive = true;
		return 0;
	case 'S':
		if (cli_flag_once(cmd, &o->sigfile, "sigfile"))
			return EXIT_USAGE;
		return 0;
	case 'X':
		if (o->xattr)
			return cli_given_twice(cmd, "--xattr");
		if (strncmp(arg, "security.", 9) && strncmp(arg, "user.", 5) &&
		    strncmp(arg, "trusted.", 8))
			return cli_usage_error(cmd, "--xattr '%s': not a security., user. or "
						    "trusted. name", arg);
		o->xattr = arg;
		return 0;
	case 'j':
		if (cli_flag_once(cmd, &o->json, "json"))
			return EXIT_USAGE;
		return 0;
	}
	return cli_usage_error(cmd, "invalid option");
}

static int common_check(const char *cmd, struct common_opts *o, int argc)
{
	if (optind >= argc)
		return cli_usage_error(cmd, "no file given");
	if (o->sigfile && o->xattr)
		return cli_usage_error(cmd, "--sigfile and --xattr exclude each other");
	if (!o->xattr)
		o->xattr = IMA_XATTR;
	return 0;
}

/* Walk the PATH arguments with the common options: -r, --json, NAME.sig files skipped. */
static int common_walk(const struct common_opts *co, struct walk_options *wo, int argc,
		       char **argv, walk_fn fn, void *job)
{
	wo->recursive = co->recursive;
	wo->json = co->json;
	wo->skip_suffix = co->sigfile ? ".sig" : NULL;
	return walk_run(wo, argv + optind, (size_t)(argc - optind), fn, job);
}

static int parse_algo_opt(vouch_ctx *ctx, const char *cmd, int *algo, const char *arg)
{
	if (*algo >= 0)
		return cli_given_twice(cmd, "-a");
	*algo = cli_parse_hash(ctx, cmd, arg);
	return *algo < 0 ? EXIT_USAGE : 0;
}

static int ima_hash(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "algo", required_argument, NULL, 'a' },
		{ "recursive", no_argument, NULL, 'r' },
		{ "sigfile", no_argument, NULL, 'S' },
		{ "xattr", required_argument, NULL, 'X' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	struct common_opts co = { 0 };
	struct hash_job job = { .algo = -1 };
	struct walk_options wo = { .cmd = "ima hash", .done_verb = "hashed" };
	int c, r;

	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "a:r", longopts, NULL)) != -1) {
		r = c == 'a' ? parse_algo_opt(ctx, "ima hash", &job.algo, optarg)
			     : common_opt("ima hash", &co, c, optarg);
		if (r)
			return r;
	}
	r = common_check("ima hash", &co, argc);
	if (r)
		return r;
	if (job.algo < 0)
		job.algo = VOUCH_HASH_SHA256;
	job.xattr = co.xattr;
	job.sigfile = co.sigfile;
	return common_walk(&co, &wo, argc, argv, hash_one, &job);
}

/* --- ima sign ---------------------------------------------------------------------------- */

struct sign_job {
	const vouch_key *key;
	struct vouch_ima_sign_options opts;
	const char *xattr;
	bool sigfile;
};

static void sign_one(void *shared, vouch_ctx *ctx, const struct walk_file *wf,
		     struct walk_result *res)
{
	const char *path = wf->path;
	const struct sign_job *job = shared;
	_cleanup_free_ uint8_t *val = NULL;
	char why[512];
	size_t n;
	int r;

	r = vouch_ima_sign_fd(ctx, job->key, &job->opts, wf->fd, &val, &n);
	if (r < 0) {
		walk_fail(res, EXIT_ERROR, path, ima_lib_reason(ctx, r));
		return;
	}
	if (ima_write_value(wf, job->xattr, job->sigfile, val, n, why, sizeof(why)) < 0)
		walk_fail(res, EXIT_ERROR, path, why);
}

static int ima_sign(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "algo", required_argument, NULL, 'a' },
		{ "v3", no_argument, NULL, '3' },
		{ "recursive", no_argument, NULL, 'r' },
		{ "sigfile", no_argument, NULL, 'S' },
		{ "xattr", required_argument, NULL, 'X' },
		{ "pass-fd", required_argument, NULL, 'F' },
		{ "pass-file", required_argument, NULL, 'P' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_key_freep) vouch_key *key = NULL;
	struct cli_pass pass = CLI_PASS_INIT;
	struct common_opts co = { 0 };
	struct sign_job job = { .opts = VOUCH_IMA_SIGN_OPTIONS_INIT };
	struct walk_options wo = { .cmd = "ima sign", .done_verb = "signed" };
	const char *keypath = NULL, *certpath = NULL;
	const struct vouch_hash_info *hi;
	int algo = -1, c, r;
	bool v3 = false;

	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "k:c:a:r", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (keypath)
				return cli_given_twice("ima sign", "-k");
			keypath = optarg;
			break;
		case 'c':
			if (certpath)
				return cli_given_twice("ima sign", "-c");
			certpath = optarg;
			break;
		case 'a':
			if ((r = parse_algo_opt(ctx, "ima sign", &algo, optarg)))
				return r;
			break;
		case '3':
			if (cli_flag_once("ima sign", &v3, "v3"))
				return EXIT_USAGE;
			break;
		case 'F':
		case 'P':
			if ((r = cli_pass_option("ima sign", &pass, c, optarg)))
				return r;
			break;
		case 'j':
			return cli_usage_error("ima sign", "invalid option");
		default:
			if ((r = common_opt("ima sign", &co, c, optarg)))
				return r;
		}
	}
	if ((r = common_check("ima sign", &co, argc)))
		return r;
	if (!keypath)
		return cli_usage_error("ima sign", "-k KEY is required");
	job.opts.algo = algo >= 0 ? algo : VOUCH_HASH_SHA256;
	hi = vouch_hash_info(job.opts.algo);
	if (v3 && !hi->fsverity_id)
		return cli_usage_error("ima sign", "--v3 signs fs-verity digests: sha256 or sha512, "
						   "not %s", hi->name);
	if (v3)
		job.opts.flags |= VOUCH_IMA_SIGN_V3;
	r = cli_load_signer(ctx, keypath, certpath, &pass, &key, &job.opts.keyid);
	if (r)
		return r;
	job.key = key;
	job.xattr = co.xattr;
	job.sigfile = co.sigfile;
	return common_walk(&co, &wo, argc, argv, sign_one, &job);
}

/* --- ima verify / show ------------------------------------------------------------------- */

struct verify_job {
	const vouch_trust *trust;
	const char *xattr;
	bool sigfile, json;
};

json_object *ima_value_json(const struct vouch_xattr_value *v)
{
	json_object *o = json_object_new_object();
	const struct vouch_hash_info *hi = vouch_hash_info(v->algo);

	json_object_object_add(o, "type", json_object_new_int(v->type));
	json_object_object_add(o, "type_name", json_object_new_string(ima_type_name(v->type)));
	if (v->is_signature) {
		char kid[9];

		snprintf(kid, sizeof(kid), "%08x", v->keyid);
		json_object_object_add(o, "version", json_object_new_int(v->version));
		json_object_object_add(o, "keyid", json_object_new_string(kid));
		json_object_object_add(o, "sig_size", json_object_new_int((int)v->sig_len));
	}
	json_object_object_add(o, "algo", json_object_new_string(hi ? hi->name : "?"));
	if (v->digest)
		json_object_object_add(o, "digest", cli_json_hex(v->digest, v->digest_len));
	return o;
}

char *ima_value_text(const struct vouch_xattr_value *v)
{
	const struct vouch_hash_info *hi = vouch_hash_info(v->algo);
	_cleanup_free_ char *hex = NULL;

	if (v->is_signature)
		return walk_fmt("type 0x%02x %s v%d, %s, key id %08x, %zu-byte signature", v->type,
				ima_type_name(v->type), v->version, hi ? hi->name : "?", v->keyid,
				v->sig_len);
	hex = v->digest ? ima_hex(v->digest, v->digest_len) : NULL;
	return walk_fmt("type 0x%02x %s, %s:%s", v->type, ima_type_name(v->type),
			hi ? hi->name : "?", hex ? hex : "");
}

static void verify_one(void *shared, vouch_ctx *ctx, const struct walk_file *wf,
		       struct walk_result *res)
{
	const char *path = wf->path;
	const struct verify_job *job = shared;
	struct vouch_ima_verify_result vr = { .signer = NULL };
	struct vouch_cert_info info = { 0 };
	_cleanup_free_ uint8_t *val = NULL;
	_cleanup_free_ char *desc = NULL;
	const char *reason = NULL;
	char why[512];
	size_t n = 0;
	int r;

	r = ima_read_value(wf, job->xattr, job->sigfile, &val, &n, why, sizeof(why));
	if (r < 0) {
		/* no value at all is "not signed": a verdict, not a failure to check */
		reason = why;
		walk_fail(res, r == -ENODATA ? EXIT_UNTRUSTED : EXIT_ERROR, path, why);
	} else {
		r = vouch_ima_verify_fd(ctx, job->trust, NULL, val, n, wf->fd, &vr);
		if (r < 0) {
			reason = ima_lib_reason(ctx, r);
			walk_fail(res, cli_exit_for(r), path, reason);
		}
	}
	if (vr.signer)
		vouch_cert_get_info(vr.signer, &info);
	if (job->json) {
		json_object *o = vr.value.type ? ima_value_json(&vr.value) : json_object_new_object();

		json_object_object_add(o, "file", json_object_new_string(path));
		json_object_object_add(o, "verified", json_object_new_boolean(r == 0));
		if (reason)
			json_object_object_add(o, "error", json_object_new_string(reason));
		if (r == 0 && vr.signer) {
			json_object_object_add(o, "signer", json_object_new_string(info.subject));
			json_object_object_add(o, "keyring", json_object_new_string(vr.keyring));
		}
		res->json = o;
		return;
	}
	if (r == 0) {
		desc = ima_value_text(&vr.value);
		res->out = walk_fmt("%s: ok: %s, signer '%s'\n", path, desc ? desc : "",
				    info.subject ? info.subject : "?");
	}
}

static int ima_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "recursive", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "sigfile", no_argument, NULL, 'S' },
		{ "xattr", required_argument, NULL, 'X' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	struct common_opts co = { 0 };
	struct verify_job job = { 0 };
	struct walk_options wo = { .cmd = "ima verify", .done_verb = "verified" };
	const char *tpaths[16];
	size_t nt = 0;
	int c, r;

	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "t:r", longopts, NULL)) != -1) {
		if (c == 't') {
			if (nt == ARRAY_SIZE(tpaths))
				return cli_usage_error("ima verify", "too many -t options");
			tpaths[nt++] = optarg;
		} else if ((r = common_opt("ima verify", &co, c, optarg))) {
			return r;
		}
	}
	if ((r = common_check("ima verify", &co, argc)))
		return r;
	if (nt == 0)
		return cli_usage_error("ima verify", "-t TRUST is required (certificate, bundle or "
						     "directory)");
	if ((r = cli_load_trust(ctx, tpaths, nt, NULL, &trust)))
		return r;
	job.trust = trust;
	job.xattr = co.xattr;
	job.sigfile = co.sigfile;
	job.json = co.json;
	return common_walk(&co, &wo, argc, argv, verify_one, &job);
}

static void show_one(void *shared, vouch_ctx *ctx, const struct walk_file *wf,
		     struct walk_result *res)
{
	const char *path = wf->path;
	const struct verify_job *job = shared;
	struct vouch_xattr_value v;
	_cleanup_free_ uint8_t *val = NULL;
	_cleanup_free_ char *desc = NULL;
	char why[512];
	size_t n = 0;
	int r;

	r = ima_read_value(wf, job->xattr, job->sigfile, &val, &n, why, sizeof(why));
	if (r < 0) {
		walk_fail(res, r == -ENODATA ? EXIT_UNTRUSTED : EXIT_ERROR, path, why);
		return;
	}
	r = vouch_xattr_parse(ctx, val, n, &v);
	if (r < 0) {
		walk_fail(res, cli_exit_for(r), path, ima_lib_reason(ctx, r));
		return;
	}
	if (job->json) {
		res->json = ima_value_json(&v);
		json_object_object_add(res->json, "file", json_object_new_string(path));
		json_object_object_add(res->json, "size", json_object_new_int((int)n));
		return;
	}
	desc = ima_value_text(&v);
	res->out = walk_fmt("%s: %s\n", path, desc ? desc : "");
}

static int ima_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "recursive", no_argument, NULL, 'r' },
		{ "sigfile", no_argument, NULL, 'S' },
		{ "xattr", required_argument, NULL, 'X' },
		{ 0 },
	};
	struct common_opts co = { 0 };
	struct verify_job job = { 0 };
	struct walk_options wo = { .cmd = "ima show", .done_verb = "shown" };
	int c, r;

	while ((c = getopt_long(argc, argv, "r", longopts, NULL)) != -1)
		if ((r = common_opt("ima show", &co, c, optarg)))
			return r;
	if ((r = common_check("ima show", &co, argc)))
		return r;
	job.xattr = co.xattr;
	job.sigfile = co.sigfile;
	job.json = co.json;
	return common_walk(&co, &wo, argc, argv, show_one, &job);
}

static const struct command ima_commands[] = {
	{ "hash", ima_hash, 0,
	  "Write the file digest as security.ima (type 0x04; 0x01 for sha1 as the kernel does) "
	  "and print it",
	  "ima hash [-a ALGO] [-r] [--sigfile | --xattr NAME] PATH..." },
	{ "sign", ima_sign, 0,
	  "Sign files into security.ima: v2 (type 0x03) or v3 over the fs-verity file id (--v3); "
	  "-r signs a tree on every core",
	  "ima sign -k KEY [-c CERT] [-a ALGO] [--v3] [-r] [--sigfile | --xattr NAME] "
	  "[--pass-fd N | --pass-file F] PATH..." },
	{ "verify", ima_verify, 0,
	  "Verify security.ima against trusted certificates (key id = SKID tail); exit 1 if any "
	  "file does not verify",
	  "ima verify -t TRUST [-t TRUST]... [-r] [--json] [--sigfile | --xattr NAME] PATH..." },
	{ "show", ima_show, 0,
	  "Decode security.ima: type, version, algorithm, key id, signature size, digest",
	  "ima show [--json] [-r] [--sigfile | --xattr NAME] PATH..." },
};

CLI_FAMILY(cmd_ima, "ima", ima_commands)
