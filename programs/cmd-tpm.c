// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch tpm: PCR read/extend and attestation keys on a TPM 2.0 (tss2 TCTI strings).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "policy-cli.h"



const char *cli_tcti(const char *opt)
{
	const char *env = getenv("VOUCH_TCTI");

	if (opt)
		return opt;
	return env && *env ? env : VOUCH_TPM_DEFAULT_TCTI;
}

int cli_tpm_open(vouch_ctx *ctx, const char *tcti, vouch_tpm **ret)
{
	int r = vouch_tpm_open(ctx, cli_tcti(tcti), ret);

	if (r < 0)
		cli_lib_error(ctx, r, NULL);
	return r;
}

static void print_bank_text(const struct vouch_pcr_bank *b)
{
	const struct vouch_hash_info *hi = vouch_hash_info(b->algo);

	printf("%s:\n", hi->name);
	for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++) {
		char hex[2 * VOUCH_HASH_MAX_SIZE + 1];

		if (!(b->present & (1U << i)))
			continue;
		for (size_t k = 0; k < hi->size; k++)
			snprintf(hex + 2 * k, 3, "%02x", b->pcr[i][k]);
		printf("  %2u : %s\n", i, hex);
	}
}

json_object *cli_pcrs_json(const struct vouch_pcrs *p)
{
	json_object *o = json_object_new_object();

	for (uint32_t b = 0; b < p->n_banks; b++) {
		const struct vouch_hash_info *hi = vouch_hash_info(p->banks[b].algo);
		json_object *bank = json_object_new_object();

		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++) {
			char key[4];

			if (!(p->banks[b].present & (1U << i)))
				continue;
			snprintf(key, sizeof(key), "%u", i);
			json_object_object_add(bank, key, cli_json_hex(p->banks[b].pcr[i], hi->size));
		}
		json_object_object_add(o, hi->name, bank);
	}
	return o;
}

static int all_banks(vouch_ctx *ctx, vouch_tpm *tpm, struct vouch_pcrs *p)
{
	int algos[VOUCH_PCR_MAX_BANKS];
	size_t n;
	int r = vouch_tpm_get_banks(tpm, algos, ARRAY_SIZE(algos), &n);

	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return r;
	}
	memset(p, 0, sizeof(*p));
	p->n_banks = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		p->banks[i].algo = algos[i];
		p->banks[i].present = (1U << VOUCH_PCR_COUNT) - 1;
	}
	return 0;
}

static int tpm_pcrread(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_tpm_closep) vouch_tpm *tpm = NULL;
	_cleanup_free_ struct vouch_pcrs *p = calloc(1, sizeof(*p));
	const char *tcti = NULL;
	bool json = false;
	const struct cli_slot slots[] = { CLI_STR('T', &tcti), CLI_SET('j', &json), CLI_SLOTS_END };
	int r;

	r = cli_parse("tpm pcrread", argc, argv, "T:", longopts, slots, NULL, NULL);
	if (r)
		return r;
	if (argc - optind > 1)
		return cli_usage_error("tpm pcrread", "unexpected argument '%s'", argv[optind + 1]);
	if (!p)
		return EXIT_ERROR;
	if (optind < argc && vouch_pcrs_parse_selection(argv[optind], p) < 0)
		return cli_usage_error("tpm pcrread", "invalid PCR selection '%s' (e.g. sha256:0-10)",
				       argv[optind]);
	if (cli_ctx_new(&ctx) < 0 || cli_tpm_open(ctx, tcti, &tpm) < 0)
		return EXIT_ERROR;
	if (optind == argc && all_banks(ctx, tpm, p) < 0)
		return EXIT_ERROR;
	r = vouch_tpm_pcr_read(tpm, p);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	if (json) {
		_cleanup_(json_object_putp) json_object *o = cli_pcrs_json(p);

		cli_json_print(o);
	} else {
		for (uint32_t b = 0; b < p->n_banks; b++)
			print_bank_text(&p->banks[b]);
	}
	return EXIT_OK;
}

static int tpm_extend(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "data", required_argument, NULL, 'd' },
		{ "file", required_argument, NULL, 'f' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_tpm_closep) vouch_tpm *tpm = NULL;
	struct vouch_digest d[VOUCH_PCR_MAX_BANKS];
	const char *tcti = NULL, *data = NULL, *file = NULL;
	uint32_t pcr;
	size_t n = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "T:", longopts, NULL)) != -1) {
		switch (c) {
		case 'T':
			if (cli_opt_once("tpm extend", &tcti, optarg, "tcti"))
				return EXIT_USAGE;
			break;
		case 'd':
		case 'f':
			if (data || file)
				return cli_usage_error("tpm extend",
						       "--data/--file given twice, refusing");
			*(c == 'd' ? &data : &file) = optarg;
			break;
		default:
			return cli_usage_error("tpm extend", "invalid option");
		}
	}
	if (optind >= argc || cli_parse_u32(argv[optind], &pcr) < 0 || pcr >= VOUCH_PCR_COUNT)
		return cli_usage_error("tpm extend", "a PCR index (0-23) is required");
	optind++;
	if ((data || file) == (optind < argc))
		return cli_usage_error("tpm extend",
				       "give --data STRING, --file FILE, or ALGO:HEX digests");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	for (; optind < argc; optind++) {
		const char *colon = strchr(argv[optind], ':');
		char name[32];
		int algo;

		if (n == ARRAY_SIZE(d) || !colon || (size_t)(colon - argv[optind]) >= sizeof(name))
			return cli_usage_error("tpm extend", "invalid digest '%s' (ALGO:HEX)",
					       argv[optind]);
		memcpy(name, argv[optind], (size_t)(colon - argv[optind]));
		name[colon - argv[optind]] = '\0';
		algo = vouch_hash_by_name(name);
		if (algo < 0 || strlen(colon + 1) != 2 * vouch_hash_info(algo)->size)
			return cli_usage_error("tpm extend", "invalid digest '%s' (ALGO:HEX)",
					       argv[optind]);
		d[n].algo = algo;
		d[n].len = vouch_hash_info(algo)->size;
		for (size_t k = 0; k < d[n].len; k++) {
			unsigned v;

			if (sscanf(colon + 1 + 2 * k, "%2x", &v) != 1)
				return cli_usage_error("tpm extend", "invalid hex in '%s'",
						       argv[optind]);
			d[n].bytes[k] = (uint8_t)v;
		}
		n++;
	}
	if (cli_tpm_open(ctx, tcti, &tpm) < 0)
		return EXIT_ERROR;
	if (data || file) {
		int algos[VOUCH_PCR_MAX_BANKS];

		r = vouch_tpm_get_banks(tpm, algos, ARRAY_SIZE(algos), &n);
		if (r == 0 && data) {
			for (size_t i = 0; i < n && r == 0; i++)
				r = vouch_digest_buf(ctx, algos[i], data, strlen(data), &d[i]);
		} else if (r == 0) {
			r = vouch_digest_file(ctx, file, algos, n, d);
		}
		if (r < 0) {
			cli_lib_error(ctx, r, NULL);
			return EXIT_ERROR;
		}
	}
	r = vouch_tpm_pcr_extend(tpm, pcr, d, n);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < n; i++) {
		char hex[2 * VOUCH_HASH_MAX_SIZE + 1];

		vouch_digest_to_hex(&d[i], hex, sizeof(hex));
		printf("%u %s:%s\n", pcr, vouch_hash_info(d[i].algo)->name, hex);
	}
	return EXIT_OK;
}

static const char *scheme_name(uint16_t s)
{
	switch (s) {
	case 0x0014:
		return "rsassa";
	case 0x0016:
		return "rsapss";
	case 0x0018:
		return "ecdsa";
	case 0x0010:
		return "any";
	default:
		return "other";
	}
}

static int print_ak(vouch_ctx *ctx, const vouch_ak *ak, const char *what, bool json)
{
	struct vouch_ak_info info;
	_cleanup_free_ char *pem = NULL;

	vouch_ak_get_info(ak, &info);
	if (vouch_ak_export_pem(ctx, ak, &pem) < 0) {
		cli_lib_error(ctx, -EIO, NULL);
		return EXIT_ERROR;
	}
	if (json) {
		_cleanup_(json_object_putp) json_object *o = json_object_new_object();

		json_object_object_add(o, "key", json_object_new_string(what));
		json_object_object_add(o, "type", json_object_new_string(
							  info.key_type == VOUCH_KEY_RSA ? "rsa" : "ec"));
		json_object_object_add(o, "bits", json_object_new_int((int)info.key_bits));
		if (info.has_public_area) {
			char attrs[11];

			snprintf(attrs, sizeof(attrs), "0x%08x", info.attributes);
			json_object_object_add(o, "attributes", json_object_new_string(attrs));
			json_object_object_add(o, "restricted_signing",
					       json_object_new_boolean((info.attributes & 0x50000) ==
								       0x50000));
			json_object_object_add(o, "scheme",
					       json_object_new_string(scheme_name(info.scheme)));
			json_object_object_add(o, "scheme_hash",
					       info.scheme_hash >= 0
						       ? json_object_new_string(
								 vouch_hash_info(info.scheme_hash)->name)
						       : json_object_new_null());
			json_object_object_add(o, "name", cli_json_hex(info.name, info.name_len));
		}
		json_object_object_add(o, "pem", json_object_new_string(pem));
		cli_json_print(o);
		return EXIT_OK;
	}
	printf("%s:\n  key:        %s %u\n", what, info.key_type == VOUCH_KEY_RSA ? "rsa" : "ec",
	       info.key_bits);
	if (info.has_public_area) {
		printf("  attributes: 0x%08x%s\n  scheme:     %s%s%s\n  name:       ", info.attributes,
		       (info.attributes & 0x50000) == 0x50000 ? " (restricted signing key)"
							      : " (NOT a restricted signing key)",
		       scheme_name(info.scheme), info.scheme_hash >= 0 ? "-" : "",
		       info.scheme_hash >= 0 ? vouch_hash_info(info.scheme_hash)->name : "");
		for (size_t i = 0; i < info.name_len; i++)
			printf("%02x", info.name[i]);
		printf("\n");
	}
	fputs(pem, stdout);
	return EXIT_OK;
}

static int write_new_mode(const char *path, const void *buf, size_t len, mode_t mode)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0) {
		cli_error("cannot create '%s': %m", path);
		return -1;
	}
	if (write(fd, buf, len) != (ssize_t)len || fsync(fd) < 0) {
		cli_error("cannot write '%s': %m", path);
		unlink(path);
		return -1;
	}
	return 0;
}

static int write_new(const char *path, const void *buf, size_t len)
{
	return write_new_mode(path, buf, len, 0644);
}

static int ak_create(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "hierarchy", required_argument, NULL, 'H' },
		{ "scheme", required_argument, NULL, 's' },
		{ "hash", required_argument, NULL, 'a' },
		{ "handle", required_argument, NULL, 'h' },
		{ "out", required_argument, NULL, 'o' },
		{ 0 },
	};
	struct vouch_tpm_ak_options o = VOUCH_TPM_AK_OPTIONS_INIT;
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_tpm_closep) vouch_tpm *tpm = NULL;
	_cleanup_(vouch_ak_freep) vouch_ak *ak = NULL;
	_cleanup_free_ char *pem = NULL, *p_pem = NULL, *p_pub = NULL, *p_name = NULL;
	const char *tcti = NULL, *out = NULL, *hash = NULL;
	struct vouch_ak_info info;
	const uint8_t *pub;
	size_t pub_len;
	struct stat st;
	int c, r;

	o.handle = CLI_AK_DEFAULT_HANDLE;
	while ((c = getopt_long(argc, argv, "T:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'T':
			if (cli_opt_once("tpm ak create", &tcti, optarg, "tcti"))
				return EXIT_USAGE;
			break;
		case 'H':
			if (!strcmp(optarg, "owner") || !strcmp(optarg, "o"))
				o.hierarchy = VOUCH_TPM_HIERARCHY_OWNER;
			else if (!strcmp(optarg, "endorsement") || !strcmp(optarg, "e"))
				o.hierarchy = VOUCH_TPM_HIERARCHY_ENDORSEMENT;
			else
				return cli_usage_error("tpm ak create",
						       "unknown hierarchy '%s' (owner, endorsement)",
						       optarg);
			break;
		case 's':
			if (!strcmp(optarg, "rsassa"))
				o.scheme = VOUCH_TPM_SCHEME_RSASSA;
			else if (!strcmp(optarg, "rsapss"))
				o.scheme = VOUCH_TPM_SCHEME_RSAPSS;
			else if (!strcmp(optarg, "ecdsa"))
				o.scheme = VOUCH_TPM_SCHEME_ECDSA;
			else
				return cli_usage_error("tpm ak create",
						       "unknown scheme '%s' (rsassa, rsapss, ecdsa)",
						       optarg);
			break;
		case 'a':
			hash = optarg;
			break;
		case 'h':
			if (cli_parse_handle("tpm ak create", optarg, &o.handle))
				return EXIT_USAGE;
			break;
		case 'o':
			if (cli_opt_once("tpm ak create", &out, optarg, "out"))
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error("tpm ak create", "invalid option");
		}
	}
	if (optind != argc)
		return cli_usage_error("tpm ak create", "unexpected argument '%s'", argv[optind]);
	if (!out)
		return cli_usage_error("tpm ak create", "--out PREFIX is required");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if (hash) {
		o.hash = cli_parse_hash(ctx, "tpm ak create", hash);
		if (o.hash < 0)
			return EXIT_USAGE;
	}
	if (asprintf(&p_pem, "%s.pem", out) < 0 || asprintf(&p_pub, "%s.pub", out) < 0 ||
	    asprintf(&p_name, "%s.name", out) < 0)
		return EXIT_ERROR;
	if (lstat(p_pem, &st) == 0 || lstat(p_pub, &st) == 0 || lstat(p_name, &st) == 0) {
		cli_error("refusing to overwrite '%s.*'", out);
		return EXIT_ERROR;
	}
	if (cli_tpm_open(ctx, tcti, &tpm) < 0)
		return EXIT_ERROR;
	r = vouch_tpm_ak_create(tpm, &o, &ak);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return r == -EINVAL ? EXIT_USAGE : EXIT_ERROR;
	}
	vouch_ak_get_info(ak, &info);
	if (vouch_ak_export_pem(ctx, ak, &pem) < 0 || vouch_ak_get_public_area(ak, &pub, &pub_len) < 0 ||
	    write_new(p_pem, pem, strlen(pem)) < 0 || write_new(p_pub, pub, pub_len) < 0 ||
	    write_new(p_name, info.name, info.name_len) < 0)
		return EXIT_ERROR;
	printf("%s\n%s\n%s\n", p_pem, p_pub, p_name);
	fprintf(stderr, "%s: attestation key persisted at 0x%08x\n", program_name, o.handle);
	return EXIT_OK;
}

static int ak_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "handle", required_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_tpm_closep) vouch_tpm *tpm = NULL;
	_cleanup_(vouch_ak_freep) vouch_ak *ak = NULL;
	const char *tcti = NULL;
	uint32_t handle = 0;
	bool json = false;
	const struct cli_slot slots[] = {
		CLI_STR('T', &tcti), CLI_HANDLE('h', &handle), CLI_SET('j', &json), CLI_SLOTS_END,
	};
	char what[64];
	int r;

	r = cli_parse("tpm ak show", argc, argv, "T:", longopts, slots, NULL, NULL);
	if (r)
		return r;
	if (argc - optind > 1 || (optind < argc && (handle || tcti)))
		return cli_usage_error("tpm ak show", "give a key FILE or a TPM --handle, not both");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if (optind < argc) {
		r = vouch_ak_load(ctx, argv[optind], &ak);
		if (r < 0) {
			cli_lib_error(ctx, r, NULL);
			return EXIT_ERROR;
		}
		return print_ak(ctx, ak, argv[optind], json);
	}
	if (!handle)
		handle = CLI_AK_DEFAULT_HANDLE;
	if (cli_tpm_open(ctx, tcti, &tpm) < 0)
		return EXIT_ERROR;
	r = vouch_tpm_ak_load(tpm, handle, &ak);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	snprintf(what, sizeof(what), "handle 0x%08x", handle);
	return print_ak(ctx, ak, what, json);
}

static int ak_evict(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "handle", required_argument, NULL, 'h' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_tpm_closep) vouch_tpm *tpm = NULL;
	const char *tcti = NULL;
	uint32_t handle = 0;
	const struct cli_slot slots[] = { CLI_STR('T', &tcti), CLI_HANDLE('h', &handle), CLI_SLOTS_END };
	int r;

	r = cli_parse("tpm ak evict", argc, argv, "T:", longopts, slots, NULL, NULL);
	if (r)
		return r;
	if (optind < argc)
		return cli_usage_error("tpm ak evict", "unexpected argument '%s'", argv[optind]);
	if (!handle)
		handle = CLI_AK_DEFAULT_HANDLE;
	if (cli_ctx_new(&ctx) < 0 || cli_tpm_open(ctx, tcti, &tpm) < 0)
		return EXIT_ERROR;
	r = vouch_tpm_ak_evict(tpm, handle);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return r == -EPERM ? EXIT_UNTRUSTED : EXIT_ERROR;
	}
	fprintf(stderr, "%s: attestation key at 0x%08x evicted\n", program_name, handle);
	return EXIT_OK;
}

static const struct command ak_commands[] = {
	{ "create", ak_create, 0,
	  "Create a restricted signing key in the owner or endorsement hierarchy, persist it, "
	  "write PREFIX.pem, PREFIX.pub (TPM2B_PUBLIC) and PREFIX.name",
	  "tpm ak create [--tcti T] [--hierarchy owner|endorsement] [--scheme rsassa|rsapss|ecdsa] "
	  "[--hash ALGO] [--handle 0x81010010] --out PREFIX" },
	{ "show", ak_show, 0, "Show an attestation key from the TPM or from a PEM/TPM2B_PUBLIC file",
	  "tpm ak show [--tcti T] [--handle H] [--json] [FILE]" },
	{ "evict", ak_evict, 0,
	  "Remove one of vouch's attestation keys from the TPM (never the EK, the SRK or another "
	  "tool's key)",
	  "tpm ak evict [--tcti T] [--handle 0x81010010]" },
};

static CLI_FAMILY(tpm_ak, "tpm ak", ak_commands)

#define CREDENTIAL_INPUT_MAX ((size_t)64 << 10)

static int read_input(const char *path, uint8_t **ret, size_t *ret_len)
{
	int r = cli_read_small_file(path, CREDENTIAL_INPUT_MAX, (char **)ret, ret_len);

	if (r < 0)
		cli_error("cannot read '%s': %s", path, strerror(-r));
	return r;
}

static int tpm_ek(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "handle", required_argument, NULL, 'h' },
		{ "public", required_argument, NULL, 'p' },
		{ "cert", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_tpm_closep) vouch_tpm *tpm = NULL;
	_cleanup_(vouch_ak_freep) vouch_ak *ek = NULL;
	_cleanup_free_ uint8_t *pub = NULL, *der = NULL;
	const char *tcti = NULL, *out_pub = NULL, *out_cert = NULL;
	size_t pub_len, der_len = 0;
	uint32_t handle = 0;
	bool json = false;
	const struct cli_slot slots[] = {
		CLI_STR('T', &tcti), CLI_HANDLE('h', &handle), CLI_STR('p', &out_pub),
		CLI_STR('c', &out_cert), CLI_SET('j', &json), CLI_SLOTS_END,
	};
	char what[64];
	int r;

	r = cli_parse("tpm ek", argc, argv, "T:", longopts, slots, NULL, NULL);
	if (r)
		return r;
	if (optind < argc)
		return cli_usage_error("tpm ek", "unexpected argument '%s'", argv[optind]);
	if (cli_ctx_new(&ctx) < 0 || cli_tpm_open(ctx, tcti, &tpm) < 0)
		return EXIT_ERROR;
	r = vouch_tpm_ek_public(tpm, handle, &pub, &pub_len);
	if (r == 0)
		r = vouch_ak_load_mem(ctx, pub, pub_len, &ek);
	if (r == 0 && out_cert)
		r = vouch_tpm_ek_cert(tpm, 0, &der, &der_len);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	if ((out_pub && write_new(out_pub, pub, pub_len) < 0) ||
	    (out_cert && write_new(out_cert, der, der_len) < 0))
		return EXIT_ERROR;
	if (handle)
		snprintf(what, sizeof(what), "EK at 0x%08x", handle);
	else
		snprintf(what, sizeof(what), "EK (TCG RSA 2048 template)");
	return print_ak(ctx, ek, what, json);
}

/*
 * Enrollment checks before anything is made: the EK certificate against --ek-ca (when
 * given), then the AK's attributes, whose name it returns.  0, or the exit code.
 */
static int credential_checks(vouch_ctx *ctx, const char *cert_path, const char *const *ca_paths,
			     size_t n_ca, const uint8_t *ek, size_t ek_len, const char *ak_path,
			     uint8_t *name, size_t *name_len)
{
	_cleanup_(vouch_ak_freep) vouch_ak *ak = NULL;
	_cleanup_(vouch_cert_freep) vouch_cert *cert = NULL;
	_cleanup_(vouch_trust_freep) vouch_trust *cas = NULL;
	struct vouch_ak_info info;
	int r;

	if (cert_path) {
		if (cli_load_trust(ctx, ca_paths, n_ca, NULL, &cas))
			return EXIT_ERROR;
		if (cli_load_cert(ctx, cert_path, &cert))
			return EXIT_ERROR;
		r = vouch_credential_check_ek_cert(ctx, cert, cas, ek, ek_len);
		if (r < 0) {
			cli_lib_error(ctx, r, cert_path);
			return cli_exit_for(r);
		}
	}
	if (!ak_path)
		return 0;
	r = vouch_ak_load(ctx, ak_path, &ak);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	r = vouch_credential_check_ak(ctx, ak);
	if (r < 0) {
		cli_lib_error(ctx, r, ak_path);
		return cli_exit_for(r);
	}
	vouch_ak_get_info(ak, &info);
	memcpy(name, info.name, info.name_len);
	*name_len = info.name_len;
	return 0;
}

static int credential_make(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ek", required_argument, NULL, 'e' },
		{ "ak", required_argument, NULL, 'a' },
		{ "ak-name", required_argument, NULL, 'n' },
		{ "secret", required_argument, NULL, 's' },
		{ "ek-cert", required_argument, NULL, 'c' },
		{ "ek-ca", required_argument, NULL, 'C' },
		{ "out", required_argument, NULL, 'o' },
		{ 0 },
	};
	static const char *cmd = "tpm credential make";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_free_ uint8_t *ek = NULL, *secret = NULL, *blob = NULL, *enc = NULL, *file = NULL;
	_cleanup_free_ const char **ca_paths = calloc((size_t)argc + 1, sizeof(char *));
	const char *ek_path = NULL, *ak_path = NULL, *name_hex = NULL, *secret_path = NULL;
	const char *cert_path = NULL, *out = NULL;
	const struct cli_slot slots[] = {
		CLI_STR('e', &ek_path), CLI_STR('a', &ak_path), CLI_STR('n', &name_hex),
		CLI_STR('s', &secret_path), CLI_STR('c', &cert_path), CLI_STR('o', &out),
		CLI_SLOTS_END,
	};
	uint8_t name[2 + VOUCH_HASH_MAX_SIZE];
	size_t ek_len, secret_len = 0, blob_len, enc_len, file_len, name_len = 0, n_ca = 0;
	int c, r;

	if (!ca_paths)
		return EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		r = cli_slot_option(cmd, longopts, slots, c, optarg);
		if (r < 0 && c == 'C')
			ca_paths[n_ca++] = optarg;
		else if (r)
			return r > 0 ? r : cli_usage_error(cmd, "invalid option");
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!ek_path || !secret_path || !out)
		return cli_usage_error(cmd, "--ek, --secret and --out are required");
	if (!ak_path == !name_hex)
		return cli_usage_error(cmd, "give the AK as --ak FILE or --ak-name HEX (one of them)");
	if (!cert_path != !n_ca)
		return cli_usage_error(cmd, "--ek-cert and --ek-ca go together");
	if (name_hex && cli_parse_hex(name_hex, name, sizeof(name), &name_len) < 0)
		return cli_usage_error(cmd, "invalid --ak-name '%s' (hex nameAlg || digest)",
				       name_hex);
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if (read_input(ek_path, &ek, &ek_len) < 0 ||
	    read_input(secret_path, &secret, &secret_len) < 0)
		return EXIT_ERROR;
	r = credential_checks(ctx, cert_path, ca_paths, n_ca, ek, ek_len, ak_path, name, &name_len);
	if (r)
		return r;
	r = vouch_credential_make(ctx, ek, ek_len, name, name_len, secret, secret_len, &blob,
				  &blob_len, &enc, &enc_len);
	if (r == 0)
		r = vouch_credential_encode(ctx, blob, blob_len, enc, enc_len, &file, &file_len);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return r == -EINVAL ? EXIT_USAGE : EXIT_ERROR;
	}
	if (write_new(out, file, file_len) < 0)
		return EXIT_ERROR;
	printf("%s\n", out);
	return EXIT_OK;
}

static int credential_activate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "ak-handle", required_argument, NULL, 'a' },
		{ "ek-handle", required_argument, NULL, 'e' },
		{ "out", required_argument, NULL, 'o' },
		{ 0 },
	};
	static const char *cmd = "tpm credential activate";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_tpm_closep) vouch_tpm *tpm = NULL;
	_cleanup_free_ uint8_t *file = NULL, *secret = NULL;
	const char *tcti = NULL, *out = NULL;
	const uint8_t *blob, *enc;
	size_t file_len, blob_len, enc_len, secret_len = 0;
	uint32_t ak_handle = 0, ek_handle = 0;
	const struct cli_slot slots[] = {
		CLI_STR('T', &tcti), CLI_HANDLE('a', &ak_handle), CLI_HANDLE('e', &ek_handle),
		CLI_STR('o', &out), CLI_SLOTS_END,
	};
	int r;

	r = cli_parse(cmd, argc, argv, "T:o:", longopts, slots, NULL, NULL);
	if (r)
		return r;
	if (argc - optind != 1)
		return cli_usage_error(cmd, "one credential FILE is required");
	if (!out)
		return cli_usage_error(cmd, "--out FILE is required");
	if (!ak_handle)
		ak_handle = CLI_AK_DEFAULT_HANDLE;
	if (cli_ctx_new(&ctx) < 0 || read_input(argv[optind], &file, &file_len) < 0)
		return EXIT_ERROR;
	r = vouch_credential_decode(ctx, file, file_len, &blob, &blob_len, &enc, &enc_len);
	if (r < 0) {
		cli_lib_error(ctx, r, argv[optind]);
		return cli_exit_for(r);
	}
	if (cli_tpm_open(ctx, tcti, &tpm) < 0)
		return EXIT_ERROR;
	r = vouch_credential_activate(tpm, ak_handle, ek_handle, blob, blob_len, enc, enc_len,
				      &secret, &secret_len);
	if (r < 0) {
		cli_lib_error(ctx, r, argv[optind]);
		return cli_exit_for(r);
	}
	r = write_new_mode(out, secret, secret_len, 0600);
	explicit_bzero(secret, secret_len);
	if (r < 0)
		return EXIT_ERROR;
	printf("%s\n", out);
	return EXIT_OK;
}

static const struct command credential_commands[] = {
	{ "make", credential_make, 0,
	  "Verifier side, no TPM: check the EK certificate and the AK, then make a credential "
	  "to the EK for the AK's name (tpm2_makecredential's file format)",
	  "tpm credential make --ek EKPUB (--ak AKPUB | --ak-name HEX) --secret FILE "
	  "[--ek-cert CERT --ek-ca CA...] --out FILE" },
	{ "activate", credential_activate, 0,
	  "Agent side: TPM2_ActivateCredential with the AK and the EK; write the secret",
	  "tpm credential activate [--tcti T] [--ak-handle 0x81010010] [--ek-handle H] "
	  "--out SECRET FILE" },
};

static CLI_FAMILY(tpm_credential, "tpm credential", credential_commands)

static const struct command tpm_commands[] = {
	{ "pcrread", tpm_pcrread, 0, "Read PCRs (default: every active bank, 0-23)",
	  "tpm pcrread [--tcti T] [--json] [SELECTION]" },
	{ "extend", tpm_extend, 0,
	  "Extend a PCR in every active bank with the digest of --data/--file, or with given "
	  "digests",
	  "tpm extend [--tcti T] PCR --data STRING|--file FILE|ALGO:HEX..." },
	{ "ak", tpm_ak, CMD_FAMILY, "Attestation keys", "tpm ak create|show ..." },
	{ "ek", tpm_ek, 0,
	  "Show the endorsement key (TCG RSA 2048 template, or a persistent --handle); write its "
	  "TPM2B_PUBLIC and its NV certificate",
	  "tpm ek [--tcti T] [--handle H] [--public FILE] [--cert FILE] [--json]" },
	{ "credential", tpm_credential, CMD_FAMILY, "Credential activation for enrollment",
	  "tpm credential make|activate ..." },
};

CLI_FAMILY(cmd_tpm, "tpm", tpm_commands)
