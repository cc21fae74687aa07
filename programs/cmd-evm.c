// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch evm: security.evm portable signatures (type 0x05) and HMACs (type 0x02, for tests).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <getopt.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "commands.h"
#include "ima-cli.h"
#include "walk.h"

#define EVM_XATTR "security.evm"
#define EVM_MAX_NAMES 16

struct evm_job {
	const vouch_key *key;
	struct vouch_ima_sign_options sopts;
	const vouch_trust *trust;
	const uint8_t *hmac_key;
	size_t hmac_key_len;
	const uint8_t *uuid; /* 16 bytes or NULL */
	uint32_t flags;	     /* VOUCH_EVM_M32 */
	const char *xattr;
	bool json;
};

/* The protected xattrs, owner, mode, inode number and generation of an open file. */
struct evm_file {
	struct vouch_evm_xattr x[EVM_MAX_NAMES];
	uint8_t *bufs[EVM_MAX_NAMES];
	struct vouch_evm_inputs in;
};

static void evm_file_free(struct evm_file *f)
{
	for (size_t i = 0; i < EVM_MAX_NAMES; i++)
		free(f->bufs[i]);
}

static int evm_file_read(const struct evm_job *job, int fd, struct evm_file *f, char *why,
			 size_t why_size)
{
	struct stat st;
	const char *name;
	size_t n = 0;

	memset(f, 0, sizeof(*f));
	f->in = (struct vouch_evm_inputs)VOUCH_EVM_INPUTS_INIT;
	if (fstat(fd, &st) < 0) {
		snprintf(why, why_size, "cannot stat: %m");
		return -errno;
	}
	for (size_t i = 0; (name = vouch_evm_xattr_name(i)) && n < EVM_MAX_NAMES; i++) {
		ssize_t len = fgetxattr(fd, name, NULL, 0);
		uint8_t *b;

		if (len < 0) {
			if (errno == ENODATA || errno == ENOTSUP)
				continue;
			snprintf(why, why_size, "cannot read %s: %m", name);
			return -errno;
		}
		b = malloc(len ? (size_t)len : 1);
		if (!b) {
			snprintf(why, why_size, "out of memory");
			return -ENOMEM;
		}
		f->bufs[n] = b;
		len = fgetxattr(fd, name, b, (size_t)len);
		if (len < 0) {
			snprintf(why, why_size, "cannot read %s: %m", name);
			return -errno;
		}
		f->x[n] = (struct vouch_evm_xattr){ name, b, (size_t)len };
		n++;
	}
	f->in.flags = job->flags;
	f->in.xattrs = f->x;
	f->in.n_xattrs = n;
	f->in.ino = st.st_ino;
	f->in.uid = st.st_uid;
	f->in.gid = st.st_gid;
	f->in.mode = (uint16_t)st.st_mode;
	f->in.fs_uuid = job->uuid;
	if (job->hmac_key) {
		/* the HMAC covers the inode generation; portable signatures do not */
		int gen = 0;

		if (ioctl(fd, FS_IOC_GETVERSION, &gen) == 0)
			f->in.generation = (uint32_t)gen;
	}
	return 0;
}

static void evm_sign_one(void *shared, vouch_ctx *ctx, const struct walk_file *wf,
			 struct walk_result *res)
{
	const char *path = wf->path;
	const struct evm_job *job = shared;
	struct evm_file f;
	_cleanup_free_ uint8_t *val = NULL;
	char why[512];
	size_t n = 0;
	int r;

	r = evm_file_read(job, wf->fd, &f, why, sizeof(why));
	if (r < 0) {
		walk_fail(res, EXIT_ERROR, path, why);
		evm_file_free(&f);
		return;
	}
	if (job->hmac_key)
		r = vouch_evm_hmac(ctx, job->hmac_key, job->hmac_key_len, &f.in, &val, &n);
	else
		r = vouch_evm_sign(ctx, job->key, &job->sopts, &f.in, &val, &n);
	evm_file_free(&f);
	if (r < 0) {
		walk_fail(res, EXIT_ERROR, path, ima_lib_reason(ctx, r));
		return;
	}
	if (ima_write_value(wf, job->xattr, false, val, n, why, sizeof(why)) < 0)
		walk_fail(res, EXIT_ERROR, path, why);
}

static void evm_verify_one(void *shared, vouch_ctx *ctx, const struct walk_file *wf,
			   struct walk_result *res)
{
	const char *path = wf->path;
	const struct evm_job *job = shared;
	struct vouch_evm_verify_options vo = VOUCH_EVM_VERIFY_OPTIONS_INIT;
	struct vouch_ima_verify_result vr = { .signer = NULL };
	struct evm_file f;
	_cleanup_free_ uint8_t *val = NULL;
	_cleanup_free_ char *desc = NULL;
	const char *reason = NULL;
	char why[512];
	size_t n = 0;
	int r;

	r = ima_read_value(wf, job->xattr, false, &val, &n, why, sizeof(why));
	if (r < 0) {
		reason = why;
		walk_fail(res, r == -ENODATA ? EXIT_UNTRUSTED : EXIT_ERROR, path, why);
	} else {
		r = evm_file_read(job, wf->fd, &f, why, sizeof(why));
		if (r < 0) {
			reason = why;
			walk_fail(res, EXIT_ERROR, path, why);
		} else {
			vo.hmac_key = job->hmac_key;
			vo.hmac_key_len = job->hmac_key_len;
			r = vouch_evm_verify(ctx, job->trust, &vo, &f.in, val, n, &vr);
			if (r < 0) {
				reason = ima_lib_reason(ctx, r);
				walk_fail(res, cli_exit_for(r), path, reason);
			}
		}
		evm_file_free(&f);
	}
	if (job->json) {
		json_object *o = vr.value.type ? ima_value_json(&vr.value) : json_object_new_object();

		json_object_object_add(o, "file", json_object_new_string(path));
		json_object_object_add(o, "verified", json_object_new_boolean(r == 0));
		if (reason)
			json_object_object_add(o, "error", json_object_new_string(reason));
		res->json = o;
		return;
	}
	if (r == 0) {
		desc = ima_value_text(&vr.value);
		res->out = walk_fmt("%s: ok: %s\n", path, desc ? desc : "");
	}
}

static int read_hmac_key(const char *path, uint8_t *buf, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		cli_error("cannot open '%s': %m", path);
		return EXIT_ERROR;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		cli_error("refusing HMAC key '%s': not a regular file of mode 0600", path);
		return EXIT_ERROR;
	}
	n = read(fd, buf, 129);
	if (n <= 0 || n > 128) {
		cli_error("'%s': an EVM key is 1 to 128 bytes", path);
		return EXIT_ERROR;
	}
	*len = (size_t)n;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 32);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 32 hex digits, dashes anywhere ignored (blkid prints 8-4-4-4-12) */
static int parse_uuid(const char *s, uint8_t out[16])
{
	size_t n = 0;

	for (const char *p = s; *p; p++) {
		int hi, lo;

		if (*p == '-')
			continue;
		if (n == 16 || !p[1])
			return -1;
		hi = hexval(p[0]);
		lo = hexval(p[1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		p++;
	}
	return n == 16 ? 0 : -1;
}

static const struct option evm_longopts[] = {
	{ "portable", no_argument, NULL, 'o' },
	{ "hmac", required_argument, NULL, 'H' },
	{ "key", required_argument, NULL, 'k' },
	{ "cert", required_argument, NULL, 'c' },
	{ "algo", required_argument, NULL, 'a' },
	{ "trust", required_argument, NULL, 't' },
	{ "recursive", no_argument, NULL, 'r' },
	{ "json", no_argument, NULL, 'j' },
	{ "xattr", required_argument, NULL, 'X' },
	{ "uuid", required_argument, NULL, 'U' },
	{ "m32", no_argument, NULL, 'M' },
	{ "pass-fd", required_argument, NULL, 'F' },
	{ "pass-file", required_argument, NULL, 'P' },
	{ 0 },
};

/* evm sign's and evm verify's options */
struct evm_args {
	const char *cmd;
	bool sign;
	struct cli_pass pass;
	const char *keypath, *certpath, *hmacpath, *uuid, *xattr;
	const char *tpaths[16];
	size_t nt;
	bool portable, m32, json, rec;
	int algo;
};

/* One option: 0, or the exit code. */
static int evm_option(vouch_ctx *ctx, struct evm_args *a, int c, const char *arg)
{
	const struct cli_slot slots[] = {
		CLI_FLAG('o', &a->portable), CLI_STR('H', &a->hmacpath),
		CLI_STR_AS('k', &a->keypath, "-k"), CLI_STR_AS('c', &a->certpath, "-c"),
		CLI_FLAG_AS('r', &a->rec, "-r"), CLI_FLAG('j', &a->json), CLI_STR('X', &a->xattr),
		CLI_STR('U', &a->uuid), CLI_FLAG('M', &a->m32), CLI_SLOTS_END,
	};
	const char *cmd = a->cmd;
	int r;

	if (c == 'o' && !a->sign)
		return cli_usage_error(cmd, "--portable is for signing");
	if (c == 'j' && a->sign)
		return cli_usage_error(cmd, "--json is for verify");
	r = cli_slot_option(cmd, evm_longopts, slots, c, arg);
	if (r >= 0)
		return r;
	switch (c) {
	case 'a':
		if (a->algo >= 0)
			return cli_given_twice(cmd, "-a");
		a->algo = cli_parse_hash(ctx, cmd, arg);
		return a->algo < 0 ? EXIT_USAGE : 0;
	case 't':
		if (a->sign || a->nt == ARRAY_SIZE(a->tpaths))
			return cli_usage_error(cmd, "invalid -t");
		a->tpaths[a->nt++] = arg;
		return 0;
	case 'F':
	case 'P':
		return cli_pass_option(cmd, &a->pass, c, arg);
	default:
		return cli_usage_error(cmd, "invalid option");
	}
}

/* The options and what they may be combined with: 0, or the exit code. */
static int evm_options(vouch_ctx *ctx, int argc, char **argv, struct evm_args *a)
{
	const char *cmd = a->cmd;
	int c, r;

	while ((c = getopt_long(argc, argv, a->sign ? "k:c:a:r" : "t:r", evm_longopts, NULL)) != -1)
		if ((r = evm_option(ctx, a, c, optarg)))
			return r;
	if (optind >= argc)
		return cli_usage_error(cmd, "no file given");
	if (a->sign && a->portable == !!a->hmacpath)
		return cli_usage_error(cmd, "give exactly one of --portable (with -k KEY) and "
					    "--hmac KEYFILE");
	if (a->sign && a->portable && !a->keypath)
		return cli_usage_error(cmd, "-k KEY is required with --portable");
	if (a->sign && a->hmacpath && (a->keypath || a->certpath || a->algo >= 0))
		return cli_usage_error(cmd, "-k, -c and -a are for --portable; HMACs are SHA-1");
	if (!a->sign && a->nt == 0 && !a->hmacpath)
		return cli_usage_error(cmd, "-t TRUST or --hmac KEYFILE is required");
	return 0;
}

/* The job the options describe: UUID, HMAC key, signing key, trust. 0, or the exit code. */
static int evm_setup(vouch_ctx *ctx, struct evm_args *a, struct evm_job *job, uint8_t *hkey,
		     uint8_t *ubytes, vouch_key **key, vouch_trust **trust)
{
	int r;

	if (a->uuid) {
		if (parse_uuid(a->uuid, ubytes) < 0)
			return cli_usage_error(a->cmd, "invalid --uuid '%s' (32 hex digits)", a->uuid);
		job->uuid = ubytes;
	}
	job->xattr = a->xattr ? a->xattr : EVM_XATTR;
	job->flags = a->m32 ? VOUCH_EVM_M32 : 0;
	job->json = a->json;
	if (a->hmacpath) {
		if ((r = read_hmac_key(a->hmacpath, hkey, &job->hmac_key_len)))
			return r;
		job->hmac_key = hkey;
	}
	if (a->sign && a->portable) {
		job->sopts.algo = a->algo >= 0 ? a->algo : VOUCH_HASH_SHA256;
		r = cli_load_signer(ctx, a->keypath, a->certpath, &a->pass, key, &job->sopts.keyid);
		if (r)
			return r;
		job->key = *key;
	}
	if (a->nt) {
		if ((r = cli_load_trust(ctx, a->tpaths, a->nt, NULL, trust)))
			return r;
		job->trust = *trust;
	}
	return 0;
}

static int evm_main(int argc, char **argv, bool sign)
{
	const char *cmd = sign ? "evm sign" : "evm verify";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_key_freep) vouch_key *key = NULL;
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	struct evm_args a = { .cmd = cmd, .sign = sign, .pass = CLI_PASS_INIT, .algo = -1 };
	struct evm_job job = { .sopts = VOUCH_IMA_SIGN_OPTIONS_INIT };
	struct walk_options wo = { .cmd = cmd, .done_verb = sign ? "signed" : "verified" };
	uint8_t hkey[129], ubytes[16];
	int r;

	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = evm_options(ctx, argc, argv, &a);
	if (r == 0)
		r = evm_setup(ctx, &a, &job, hkey, ubytes, &key, &trust);
	if (r == 0) {
		wo.recursive = a.rec;
		wo.json = a.json;
		r = walk_run(&wo, argv + optind, (size_t)(argc - optind),
			     sign ? evm_sign_one : evm_verify_one, &job);
	}
	explicit_bzero(hkey, sizeof(hkey));
	return r;
}

static int evm_sign(int argc, char **argv)
{
	return evm_main(argc, argv, true);
}

static int evm_verify(int argc, char **argv)
{
	return evm_main(argc, argv, false);
}

static const struct command evm_commands[] = {
	{ "sign", evm_sign, 0,
	  "Write security.evm: a portable signature (type 0x05) over the protected xattrs, owner "
	  "and mode in the kernel's order, or an HMAC (type 0x02, for tests)",
	  "evm sign --portable -k KEY [-c CERT] [-a ALGO] [-r] [--xattr NAME] PATH...\n"
	  "       vouch evm sign --hmac KEYFILE [--uuid HEX] [--m32] [-r] [--xattr NAME] PATH..." },
	{ "verify", evm_verify, 0,
	  "Verify security.evm against trusted certificates (signatures) or an EVM key (HMAC)",
	  "evm verify -t TRUST [-t TRUST]... [--hmac KEYFILE [--uuid HEX] [--m32]] [-r] [--json] "
	  "[--xattr NAME] PATH..." },
};

CLI_FAMILY(cmd_evm, "evm", evm_commands)
