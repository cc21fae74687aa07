// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch sign / verify / strip / show: appended ("module-style") and detached PKCS#7
 * signatures for modules, firmware, kernels, policies, any blob.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>

#include "commands.h"

static const char *signer_id_name(int id)
{
	return id == VOUCH_MODSIG_SKID ? "skid" : id == VOUCH_MODSIG_ISSUER_SERIAL ? "issuer-serial"
										    : "unknown";
}

static const char *hash_name(int algo)
{
	const struct vouch_hash_info *h = algo >= 0 ? vouch_hash_info(algo) : NULL;

	return h ? h->name : "unknown";
}

/* --- vouch sign ----------------------------------------------------------------------- */

/*
 * Batch signing: the key and certificate are loaded once; each worker thread has its own
 * library context (contexts are not thread safe) and its own signer over the shared key,
 * and takes the next file from a shared counter.  Results are printed in argument order.
 */
struct sign_batch {
	char **files;
	int n;
	const char *out;
	uint32_t flags;
	const vouch_key *key;
	const vouch_cert *cert;
	const struct vouch_modsig_sign_options *opts;
	vouch_ctx *ctx;		     /* the calling thread's context and signer */
	vouch_modsig_signer *signer;
	int next;
	struct sign_result {
		int r;
		size_t sig_len;
		char msg[512];
	} *results;
};

static void sign_files(struct sign_batch *b, vouch_ctx *ctx, vouch_modsig_signer *signer, int r)
{
	for (;;) {
		int i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
		struct sign_result *res;

		if (i >= b->n)
			break;
		res = &b->results[i];
		res->r = r < 0 ? r
			       : vouch_modsig_sign_file(signer, b->files[i], b->out, b->flags,
							&res->sig_len);
		if (res->r < 0)
			snprintf(res->msg, sizeof(res->msg), "%s",
				 ctx && *vouch_ctx_last_error(ctx) ? vouch_ctx_last_error(ctx)
								   : vouch_strerror(res->r));
	}
}

static void *sign_worker(void *arg)
{
	struct sign_batch *b = arg;
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_modsig_signer_freep) vouch_modsig_signer *signer = NULL;
	int r = vouch_ctx_new(&ctx);

	if (r == 0)
		r = vouch_modsig_signer_new(ctx, b->key, b->cert, b->opts, &signer);
	sign_files(b, ctx, signer, r);
	return NULL;
}

static int sign_all(struct sign_batch *b, unsigned jobs)
{
	pthread_t tids[16];
	unsigned started = 0;

	b->results = calloc((size_t)b->n, sizeof(*b->results));
	if (!b->results)
		return -ENOMEM;
	if (jobs > (unsigned)b->n)
		jobs = (unsigned)b->n;
	/* the calling thread is a worker too, with the signer it already has */
	for (unsigned t = 1; t < jobs && t < ARRAY_SIZE(tids); t++)
		if (pthread_create(&tids[started], NULL, sign_worker, b) == 0)
			started++;
	sign_files(b, b->ctx, b->signer, 0);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	return 0;
}

enum { OPT_SIGNER_ID = 256, OPT_REPLACE, OPT_DETACHED, OPT_BLACKLIST, OPT_ALLOW_HASH, OPT_JSON };

static const struct option sign_longopts[] = {
	{ "key", required_argument, NULL, 'k' },
	{ "cert", required_argument, NULL, 'c' },
	{ "hash", required_argument, NULL, 'a' },
	{ "signer-id", required_argument, NULL, OPT_SIGNER_ID },
	{ "out", required_argument, NULL, 'o' },
	{ "replace", no_argument, NULL, OPT_REPLACE },
	{ "detached", no_argument, NULL, OPT_DETACHED },
	{ "pass-fd", required_argument, NULL, 'F' },
	{ "pass-file", required_argument, NULL, 'P' },
	{ "jobs", required_argument, NULL, 'j' },
	{ 0 },
};

/* vouch sign's options */
struct sign_args {
	struct cli_pass pass;
	const char *keypath, *certpath, *hash, *sid, *out;
	bool replace, detached;
	uint32_t jobs;
};

/* The options of vouch sign and the signer id they name: 0, or the exit code. */
static int sign_options(int argc, char **argv, struct sign_args *a,
			struct vouch_modsig_sign_options *opts)
{
	const struct cli_slot slots[] = {
		CLI_STR('k', &a->keypath), CLI_STR('c', &a->certpath), CLI_STR('a', &a->hash),
		CLI_STR(OPT_SIGNER_ID, &a->sid), CLI_STR('o', &a->out),
		CLI_FLAG(OPT_REPLACE, &a->replace), CLI_FLAG(OPT_DETACHED, &a->detached),
		CLI_SLOTS_END,
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "k:c:a:o:j:", sign_longopts, NULL)) != -1) {
		r = cli_slot_option("sign", sign_longopts, slots, c, optarg);
		if (r >= 0) {
			if (r)
				return r;
		} else if (c == 'j') {
			if (a->jobs)
				return cli_given_twice("sign", "--jobs");
			if (cli_parse_u32(optarg, &a->jobs) < 0 || a->jobs == 0 || a->jobs > 16)
				return cli_usage_error("sign", "invalid --jobs '%s' (1 to 16)", optarg);
		} else if (c == 'F' || c == 'P') {
			r = cli_pass_option("sign", &a->pass, c, optarg);
			if (r)
				return r;
		} else {
			return cli_usage_error("sign", "invalid option");
		}
	}
	if (!a->keypath || !a->certpath)
		return cli_usage_error("sign", "--key KEY and --cert CERT are required");
	if (optind >= argc)
		return cli_usage_error("sign", "no file to sign");
	if (a->out && argc - optind != 1)
		return cli_usage_error("sign", "--out takes one input file, %d given",
				       argc - optind);
	if (a->replace && a->detached)
		return cli_usage_error("sign", "--replace is for appended signatures, not with "
					       "--detached");
	if (!a->sid || !strcmp(a->sid, "issuer-serial"))
		opts->signer_id = VOUCH_MODSIG_ISSUER_SERIAL;
	else if (!strcmp(a->sid, "skid"))
		opts->signer_id = VOUCH_MODSIG_SKID;
	else
		return cli_usage_error("sign", "unknown --signer-id '%s' (issuer-serial or skid)",
				       a->sid);
	return 0;
}

/* The key, the certificate and the signer over them: 0, or the exit code. */
static int sign_setup(vouch_ctx *ctx, struct sign_args *a, struct vouch_modsig_sign_options *opts,
		      vouch_key **key, vouch_cert **cert, vouch_modsig_signer **signer)
{
	int r;

	if (a->hash) {
		opts->hash_algo = cli_parse_hash(ctx, "sign", a->hash);
		if (opts->hash_algo < 0)
			return EXIT_USAGE;
	}
	if (cli_load_key(ctx, a->keypath, &a->pass, key) < 0)
		return EXIT_ERROR;
	if (cli_load_cert(ctx, a->certpath, cert))
		return EXIT_ERROR;
	r = vouch_modsig_signer_new(ctx, *key, *cert, opts, signer);
	if (r < 0) {
		cli_lib_error(ctx, r, "sign");
		return r == -EINVAL ? EXIT_USAGE : EXIT_ERROR;
	}
	return 0;
}

/* A line per file signed, an error per file not: 0, or EXIT_ERROR when one failed. */
static int sign_report(const struct sign_batch *batch, const struct sign_args *a, int hash_algo)
{
	int ret = EXIT_OK;

	for (int i = 0; i < batch->n; i++) {
		const struct sign_result *res = &batch->results[i];
		const char *f = batch->files[i];

		if (res->r < 0) {
			/* library messages about the file already name it */
			if (strstr(res->msg, f))
				cli_error("%s", res->msg);
			else
				cli_error("%s: %s", f, res->msg);
			ret = EXIT_ERROR;
		} else if (a->detached) {
			printf("%s: signed, detached PKCS#7 (%zu bytes, %s) in %s%s\n", f,
			       res->sig_len, hash_name(hash_algo), a->out ? a->out : f,
			       a->out ? "" : ".p7s");
		} else {
			printf("%s: signed, appended PKCS#7 (%zu bytes, %s)%s%s\n", f, res->sig_len,
			       hash_name(hash_algo), a->out ? " to " : "", a->out ? a->out : "");
		}
	}
	return ret;
}

int cmd_sign(int argc, char **argv)
{
	struct vouch_modsig_sign_options opts = VOUCH_MODSIG_SIGN_OPTIONS_INIT;
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_key_freep) vouch_key *key = NULL;
	_cleanup_(vouch_cert_freep) vouch_cert *cert = NULL;
	_cleanup_(vouch_modsig_signer_freep) vouch_modsig_signer *signer = NULL;
	struct sign_args a = { .pass = CLI_PASS_INIT };
	struct sign_batch batch = { 0 };
	uint32_t jobs;
	int r;

	r = sign_options(argc, argv, &a, &opts);
	if (r)
		return r;
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = sign_setup(ctx, &a, &opts, &key, &cert, &signer);
	if (r)
		return r;
	jobs = a.jobs;
	if (!jobs) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : (uint32_t)cpus;
	}
	batch = (struct sign_batch){ .files = argv + optind, .n = argc - optind, .out = a.out,
				     .flags = (a.replace ? VOUCH_MODSIG_REPLACE : 0) |
					      (a.detached ? VOUCH_MODSIG_DETACHED : 0),
				     .key = key, .cert = cert, .opts = &opts, .ctx = ctx,
				     .signer = signer };
	if (sign_all(&batch, jobs) < 0) {
		cli_error("out of memory");
		return EXIT_ERROR;
	}
	r = sign_report(&batch, &a, opts.hash_algo);
	free(batch.results);
	return r;
}

/* --- vouch verify --------------------------------------------------------------------- */

/* -t [KEYRING=]PATH: a name made of letters, digits, '.', '_' and '-' before the '=' */
static int add_trust(vouch_ctx *ctx, vouch_trust *trust, const char *arg)
{
	const char *eq = strchr(arg, '=');
	_cleanup_free_ char *name = NULL;
	const char *path = arg;
	int r;

	if (eq && eq != arg) {
		bool is_name = true;

		for (const char *p = arg; p < eq; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
				is_name = false;
		if (is_name) {
			name = strndup(arg, (size_t)(eq - arg));
			if (!name)
				return -ENOMEM;
			path = eq + 1;
		}
	}
	r = vouch_trust_add_path(trust, path, name ? name : "builtin");
	if (r < 0)
		cli_lib_error(ctx, r, NULL);
	return r;
}

static json_object *result_json(const char *file, int r, const struct vouch_modsig_result *res,
				const char *reason)
{
	json_object *o = json_object_new_object();
	bool verdict = r == 0 || res->status != VOUCH_MODSIG_OK;

	json_object_object_add(o, "file", json_object_new_string(file));
	json_object_object_add(o, "ok", json_object_new_boolean(r == 0));
	json_object_object_add(o, "status",
			       json_object_new_string(verdict ? vouch_modsig_status_name(res->status)
							      : "could not check"));
	json_object_object_add(o, "reason", r ? json_object_new_string(reason) : NULL);
	if (!verdict)
		return o;
	json_object_object_add(o, "payload_len", json_object_new_int64((int64_t)res->payload_len));
	json_object_object_add(o, "sig_offset", json_object_new_int64((int64_t)res->sig_offset));
	json_object_object_add(o, "sig_len", json_object_new_int64((int64_t)res->sig_len));
	json_object_object_add(o, "hash", res->hash_algo >= 0
						  ? json_object_new_string(hash_name(res->hash_algo))
						  : NULL);
	json_object_object_add(o, "signer_id",
			       res->signer_id >= 0
				       ? json_object_new_string(signer_id_name(res->signer_id))
				       : NULL);
	if (res->signer) {
		struct vouch_cert_info info;

		vouch_cert_get_info(res->signer, &info);
		json_object_object_add(o, "signer", json_object_new_string(info.subject));
		json_object_object_add(o, "keyring", json_object_new_string(res->keyring));
	} else {
		json_object_object_add(o, "signer", NULL);
		json_object_object_add(o, "keyring", NULL);
	}
	json_object_object_add(o, "digest", res->digest.len ? cli_json_hex(res->digest.bytes,
									   res->digest.len)
							    : NULL);
	return o;
}

/* One file of vouch verify: a line (or a JSON element), an error line when it fails. */
static void verify_one(vouch_ctx *ctx, const vouch_trust *trust, const char *path,
		       const char *detached, const struct vouch_modsig_verify_options *opts,
		       json_object *arr, bool *any_fail, bool *any_error)
{
	struct vouch_modsig_result res = { 0 };
	const char *rule;
	char reason[512];
	int r;

	r = vouch_modsig_verify_file(ctx, trust, path, detached, opts, &res);
	snprintf(reason, sizeof(reason), "%s",
		 r ? (*vouch_ctx_last_error(ctx) ? vouch_ctx_last_error(ctx) : vouch_strerror(r))
		   : "");
	if (r < 0 && res.status == VOUCH_MODSIG_OK) {
		/* not a verdict: the check could not run */
		*any_error = true;
		cli_error("%s: could not check: %s", path, reason);
		if (arr)
			json_object_array_add(arr, result_json(path, r, &res, reason));
		else
			printf("%s: ERROR (could not check)\n", path);
		return;
	}
	if (arr) {
		json_object_array_add(arr, result_json(path, r, &res, reason));
	} else if (r == 0) {
		struct vouch_cert_info info;

		vouch_cert_get_info(res.signer, &info);
		printf("%s: OK signed by \"%s\" (keyring %s, %s, %s)\n", path, info.subject,
		       res.keyring, hash_name(res.hash_algo), signer_id_name(res.signer_id));
	} else {
		printf("%s: FAILED (%s)\n", path, vouch_modsig_status_name(res.status));
	}
	if (r == 0)
		return;
	rule = vouch_modsig_status_name(res.status);
	*any_fail = true;
	/* the library's message may already start with the rule's name */
	if (!strncmp(reason, rule, strlen(rule)))
		cli_error("%s: %s", path, reason);
	else
		cli_error("%s: %s: %s", path, rule, reason);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "detached", required_argument, NULL, OPT_DETACHED },
		{ "blacklist", required_argument, NULL, OPT_BLACKLIST },
		{ "allow-hash", required_argument, NULL, OPT_ALLOW_HASH },
		{ "json", no_argument, NULL, OPT_JSON },
		{ 0 },
	};
	struct vouch_modsig_verify_options opts = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	_cleanup_(json_object_putp) json_object *arr = NULL;
	_cleanup_(cli_blacklist_done) struct cli_blacklist bl = { .n = { 0, 0 } };
	_cleanup_free_ const char **trusts = NULL;
	const char *detached = NULL, *blacklist = NULL;
	size_t n_trusts = 0;
	bool json = false, any_fail = false, any_error = false;
	const struct cli_slot slots[] = {
		CLI_STR(OPT_DETACHED, &detached), CLI_STR(OPT_BLACKLIST, &blacklist),
		CLI_FLAG(OPT_JSON, &json), CLI_SLOTS_END,
	};
	int c, r, a;

	trusts = calloc((size_t)argc, sizeof(*trusts));
	if (!trusts)
		return EXIT_ERROR;
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "t:", longopts, NULL)) != -1) {
		r = cli_slot_option("verify", longopts, slots, c, optarg);
		if (r > 0)
			return r;
		if (r == 0)
			continue;
		if (c == 't') {
			trusts[n_trusts++] = optarg;
		} else if (c == OPT_ALLOW_HASH) {
			a = cli_parse_hash(ctx, "verify", optarg);
			if (a < 0)
				return EXIT_USAGE;
			if (opts.allowed_hashes & (1U << a))
				return cli_usage_error("verify", "--allow-hash %s given twice, refusing",
						       optarg);
			opts.allowed_hashes |= 1U << a;
		} else {
			return cli_usage_error("verify", "invalid option");
		}
	}
	if (n_trusts == 0)
		return cli_usage_error("verify", "at least one --trust [KEYRING=]PATH is required");
	if (optind >= argc)
		return cli_usage_error("verify", "no file to verify");
	if (detached && argc - optind != 1)
		return cli_usage_error("verify", "--detached SIG goes with exactly one file");
	if (vouch_trust_new(ctx, &trust) < 0)
		return EXIT_ERROR;
	for (size_t i = 0; i < n_trusts; i++)
		if (add_trust(ctx, trust, trusts[i]) < 0)
			return EXIT_ERROR;
	if (blacklist) {
		if (cli_load_blacklist(ctx, blacklist, true, &bl) < 0)
			return EXIT_ERROR;
		opts.blacklist = bl.e[0];
		opts.n_blacklist = bl.n[0];
		opts.blacklist_tbs = bl.e[1];
		opts.n_blacklist_tbs = bl.n[1];
	}
	if (json)
		arr = json_object_new_array();
	for (int i = optind; i < argc; i++)
		verify_one(ctx, trust, argv[i], detached, &opts, arr, &any_fail, &any_error);
	if (json)
		cli_json_print(arr);
	/* "not trusted" is definite for some file: it wins over "could not check" */
	return any_fail ? EXIT_UNTRUSTED : any_error ? EXIT_ERROR : EXIT_OK;
}

/* --- vouch strip ---------------------------------------------------------------------- */

int cmd_strip(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	const char *out = NULL;
	int c, ret = EXIT_OK;

	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (c != 'o')
			return cli_usage_error("strip", "invalid option");
		if (cli_opt_once("strip", &out, optarg, "out"))
			return EXIT_USAGE;
	}
	if (optind >= argc)
		return cli_usage_error("strip", "no file given");
	if (out && argc - optind != 1)
		return cli_usage_error("strip", "--out takes one input file");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	for (int i = optind; i < argc; i++) {
		size_t removed = 0;
		int r = vouch_modsig_strip_file(ctx, argv[i], out, &removed);

		if (r == -ENODATA) {
			cli_error("%s: no signature, left unchanged", argv[i]);
			if (ret == EXIT_OK)
				ret = EXIT_UNTRUSTED;
		} else if (r < 0) {
			cli_lib_error(ctx, r, argv[i]);
			ret = r == -EBADMSG && ret != EXIT_ERROR ? EXIT_UNTRUSTED : EXIT_ERROR;
		} else {
			printf("%s: removed %zu signature bytes%s%s\n", argv[i], removed,
			       out ? ", payload in " : "", out ? out : "");
		}
	}
	return ret;
}

/* --- vouch show ----------------------------------------------------------------------- */

static int read_whole(const char *path, uint8_t **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if ((uint64_t)st.st_size > INT32_MAX)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t n = cli_read_retry(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* modinfo's format: upper-case hex bytes joined by ':' */
static char *colon_hex(const uint8_t *b, size_t n)
{
	char *s = malloc(3 * n + 1);
	size_t o = 0;

	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, 4, "%s%02X", i ? ":" : "", b[i]);
	return s;
}

/* modinfo's key id: the SKID, or the serial without a DER INTEGER's sign byte */
static const uint8_t *sig_key(const struct vouch_modsig_info *info, size_t *len)
{
	const uint8_t *kb = info->serial;

	if (info->signer_id == VOUCH_MODSIG_SKID) {
		*len = info->skid_len;
		return info->skid;
	}
	*len = info->serial_len;
	if (*len > 1 && kb[0] == 0) {
		(*len)--;
		kb++;
	}
	return kb;
}

static json_object *show_json(const char *path, const struct vouch_modsig_info *info,
			      const char *key, const char *sig)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "file", json_object_new_string(path));
	json_object_object_add(o, "sig_id", json_object_new_string("PKCS#7"));
	json_object_object_add(o, "signer", json_object_new_string(info->signer));
	json_object_object_add(o, "issuer", json_object_new_string(info->issuer));
	json_object_object_add(o, "sig_key", json_object_new_string(key));
	json_object_object_add(o, "sig_hashalgo", json_object_new_string(hash_name(info->hash_algo)));
	json_object_object_add(o, "signature", json_object_new_string(sig));
	json_object_object_add(o, "signer_id",
			       json_object_new_string(signer_id_name(info->signer_id)));
	json_object_object_add(o, "payload_len", json_object_new_int64((int64_t)info->payload_len));
	json_object_object_add(o, "sig_offset", json_object_new_int64((int64_t)info->sig_offset));
	json_object_object_add(o, "sig_len", json_object_new_int64((int64_t)info->sig_len));
	json_object_object_add(o, "signers", json_object_new_int((int)info->n_signers));
	return o;
}

static void show_print(const char *path, const struct vouch_modsig_info *info, const char *key,
		       const char *sig)
{
	printf("%s:\n", path);
	printf("  sig_id:        PKCS#7\n");
	printf("  signer:        %s\n", info->signer);
	printf("  sig_key:       %s\n", key);
	printf("  sig_hashalgo:  %s\n", hash_name(info->hash_algo));
	printf("  signature:     %s\n", sig);
	printf("  signer_id:     %s\n", signer_id_name(info->signer_id));
	if (info->issuer[0])
		printf("  issuer:        %s\n", info->issuer);
	printf("  sig_offset:    %zu\n", info->sig_offset);
	printf("  sig_len:       %zu\n", info->sig_len);
	printf("  payload_len:   %zu\n", info->payload_len);
}

static int show_one(vouch_ctx *ctx, const char *path, json_object *arr)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *key = NULL, *sig = NULL;
	struct vouch_modsig_info info;
	const uint8_t *kb;
	size_t len = 0, kn, nl = strlen(path);
	bool p7s = nl > 4 && !strcmp(path + nl - 4, ".p7s");
	int r = read_whole(path, &buf, &len);

	if (r < 0) {
		errno = -r;
		cli_error("cannot read '%s': %m", path);
		return EXIT_ERROR;
	}
	r = vouch_modsig_parse(ctx, buf, len, &info);
	if (r == -ENODATA && p7s)
		r = vouch_modsig_parse_pkcs7(ctx, buf, len, &info);
	if (r < 0) {
		cli_error("%s: %s: %s", path, r == -ENODATA ? "no signature" : "malformed signature",
			  vouch_ctx_last_error(ctx));
		return vouch_error_is_verdict(r) || r == -ENODATA ? EXIT_UNTRUSTED : EXIT_ERROR;
	}
	kb = sig_key(&info, &kn);
	key = colon_hex(kb, kn);
	sig = colon_hex(info.signature, info.signature_len);
	if (!key || !sig)
		return EXIT_ERROR;
	if (arr)
		json_object_array_add(arr, show_json(path, &info, key, sig));
	else
		show_print(path, &info, key, sig);
	return EXIT_OK;
}

int cmd_show(int argc, char **argv)
{
	return cli_show_files("show", argc, argv, "no file given", true, show_one);
}
