// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch log: show, replay, verify and export IMA measurement lists.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "commands.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_replay *, vouch_log_replay_freep, vouch_log_replay_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_sig_cache *, vouch_sig_cache_freep, vouch_sig_cache_free)

/* Options every log subcommand shares. */
struct log_common {
	const char *cmd;
	const char *root;
	const char *list;
	int format; /* input format */
};

static int common_option(struct log_common *lc, int c, const char *arg)
{
	switch (c) {
	case 'R':
		if (lc->root)
			return cli_given_twice(lc->cmd, "--root");
		if (arg[0] != '/')
			return cli_usage_error(lc->cmd, "--root must be an absolute path");
		lc->root = arg;
		return 0;
	case 'I':
		if (lc->format)
			return cli_given_twice(lc->cmd, "--input-format");
		if (!strcmp(arg, "binary"))
			lc->format = VOUCH_LOG_FORMAT_BINARY;
		else if (!strcmp(arg, "ascii"))
			lc->format = VOUCH_LOG_FORMAT_ASCII;
		else if (!strcmp(arg, "kexec"))
			lc->format = VOUCH_LOG_FORMAT_KEXEC;
		else
			return cli_usage_error(lc->cmd, "unknown input format '%s' (binary, ascii, kexec)",
					       arg);
		return 0;
	default:
		return cli_usage_error(lc->cmd, "invalid option");
	}
}

static int list_argument(struct log_common *lc, int argc, char **argv)
{
	if (optind < argc)
		lc->list = argv[optind++];
	if (optind < argc)
		return cli_usage_error(lc->cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static int open_list(vouch_ctx *ctx, struct log_common *lc, vouch_log_reader **ret)
{
	struct vouch_log_reader_options o = VOUCH_LOG_READER_OPTIONS_INIT;
	int r;

	if (lc->root && (r = vouch_ctx_set_root(ctx, lc->root)) < 0) {
		cli_lib_error(ctx, r, lc->root);
		return EXIT_ERROR;
	}
	o.format = lc->format;
	r = vouch_log_reader_open(ctx, lc->list && !strcmp(lc->list, "-") ? "/dev/stdin" : lc->list,
				  &o, ret);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return cli_exit_for(r);
	}
	return 0;
}

/* One stderr line naming the list and the reason. */
static int list_error(vouch_ctx *ctx, struct log_common *lc, int r)
{
	char what[4200];

	snprintf(what, sizeof(what), "'%s'", lc->list ? lc->list : VOUCH_LOG_DEFAULT_PATH);
	cli_lib_error(ctx, r, what);
	return cli_exit_for(r);
}

#define COMMON_LONGOPTS                                                                            \
	{ "root", required_argument, NULL, 'R' },                                                  \
	{ "input-format", required_argument, NULL, 'I' }

/* --- show ------------------------------------------------------------------------------------- */

/*
 * What an ima-buf entry's buffer is, for people: a certificate the kernel measured when it
 * was added to a keyring (KEY_CHECK: the name is the keyring's) by its subject and IMA key
 * id, or the command line of a kexec_file_load() (KEXEC_CMDLINE).  Returns false, with
 * @d cleared, for every other entry and buffer.
 */
struct buffer_desc {
	bool is_cert, is_cmdline;
	char text[1024];	/* the subject, or the command line with non-printables as '?' */
	bool has_keyid;
	uint32_t keyid;
};

static bool describe_buffer(vouch_ctx *ctx, const struct vouch_log_entry *e, struct buffer_desc *d)
{
	const struct vouch_log_field *buf = vouch_log_entry_find(e, VOUCH_LOG_FIELD_BUF);
	char name[256];
	vouch_cert *cert = NULL;
	struct vouch_cert_info info;

	*d = (struct buffer_desc){ .is_cert = false };
	if (!buf || !buf->len || vouch_log_entry_name(e, name, sizeof(name)) < 0)
		return false;
	if (!strcmp(name, "kexec-cmdline")) {
		size_t n = buf->len < sizeof(d->text) ? buf->len : sizeof(d->text) - 1;

		for (size_t i = 0; i < n; i++)
			d->text[i] = buf->data[i] >= 0x20 && buf->data[i] < 0x7f ? (char)buf->data[i] : '?';
		d->text[n] = '\0';
		d->is_cmdline = true;
		return true;
	}
	/* a DER SEQUENCE that parses as a whole certificate */
	if (buf->data[0] != 0x30 || vouch_cert_load_mem(ctx, buf->data, buf->len, &cert) < 0)
		return false;
	vouch_cert_get_info(cert, &info);
	snprintf(d->text, sizeof(d->text), "%s", info.subject ? info.subject : "");
	d->has_keyid = info.has_ima_keyid;
	d->keyid = info.ima_keyid;
	d->is_cert = true;
	vouch_cert_free(cert);
	return true;
}

static json_object *entry_json(vouch_ctx *ctx, const struct vouch_log_entry *e)
{
	struct buffer_desc bd;
	json_object *o = json_object_new_object(), *fields = json_object_new_object();

	json_object_object_add(o, "index", json_object_new_int64((int64_t)e->index));
	json_object_object_add(o, "pcr", json_object_new_int((int)e->pcr));
	json_object_object_add(o, "template_digest", cli_json_hex(e->template_digest, 20));
	json_object_object_add(o, "template", json_object_new_string(e->template_name));
	json_object_object_add(o, "violation", json_object_new_boolean(e->violation));
	for (size_t i = 0; i < e->n_fields; i++) {
		const struct vouch_log_field *f = &e->fields[i];

		json_object_object_add(fields, vouch_log_field_name(f->id),
				       cli_json_hex(f->data, f->len));
	}
	{
		struct vouch_digest d;
		char name[4096];

		if (vouch_log_entry_digest(e, &d, NULL) == 0) {
			json_object_object_add(o, "algo",
					       json_object_new_string(vouch_hash_info(d.algo)->name));
			json_object_object_add(o, "digest", cli_json_hex(d.bytes, d.len));
		}
		if (vouch_log_entry_name(e, name, sizeof(name)) == 0)
			json_object_object_add(o, "name", json_object_new_string(name));
	}
	if (describe_buffer(ctx, e, &bd) && bd.is_cmdline) {
		json_object_object_add(o, "cmdline", json_object_new_string(bd.text));
	} else if (bd.is_cert) {
		json_object *c = json_object_new_object();
		char id[9];

		json_object_object_add(c, "subject", json_object_new_string(bd.text));
		if (bd.has_keyid) {
			snprintf(id, sizeof(id), "%08x", (unsigned)bd.keyid);
			json_object_object_add(c, "key_id", json_object_new_string(id));
		}
		json_object_object_add(o, "certificate", c);
	}
	json_object_object_add(o, "fields", fields);
	return o;
}

static int write_out(vouch_ctx *ctx, const char *out, const uint8_t *buf, size_t len)
{
	int r;

	if (out && strcmp(out, "-")) {
		r = cli_write_atomic_at(AT_FDCWD, out, buf, len, 0644);
		if (r < 0) {
			errno = -r;
			cli_error("cannot write '%s': %m", out);
			return EXIT_ERROR;
		}
		return EXIT_OK;
	}
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
		cli_error("cannot write to standard output: %m");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int log_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ascii", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		COMMON_LONGOPTS,
		{ 0 },
	};
	struct log_common lc = { .cmd = "log show" };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_log_reader_freep) vouch_log_reader *rd = NULL;
	_cleanup_(vouch_log_writer_freep) vouch_log_writer *w = NULL;
	_cleanup_(json_object_putp) json_object *arr = NULL;
	struct vouch_log_entry e;
	bool ascii = false, json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'a' || c == 'j') {
			if (ascii || json)
				return cli_usage_error(lc.cmd, "--ascii and --json given together or "
							       "twice, refusing");
			ascii = c == 'a';
			json = c == 'j';
		} else if ((r = common_option(&lc, c, optarg)) != 0) {
			return r;
		}
	}
	if ((r = list_argument(&lc, argc, argv)) != 0)
		return r;
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if ((r = open_list(ctx, &lc, &rd)) != 0)
		return r;
	if (ascii) {
		struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;

		wo.format = VOUCH_LOG_FORMAT_ASCII;
		if ((r = vouch_log_writer_new(ctx, &wo, &w)) < 0) {
			cli_lib_error(ctx, r, NULL);
			return EXIT_ERROR;
		}
	}
	if (json)
		arr = json_object_new_array();
	while ((r = vouch_log_next(rd, &e)) > 0) {
		if (ascii) {
			r = vouch_log_writer_add(w, &e);
			if (r < 0)
				break;
		} else if (json) {
			json_object_array_add(arr, entry_json(ctx, &e));
		} else {
			struct vouch_digest d;
			char hex[2 * VOUCH_HASH_MAX_SIZE + 1] = "-", name[4096] = "";
			const char *algo = "";

			if (vouch_log_entry_digest(&e, &d, NULL) == 0) {
				vouch_digest_to_hex(&d, hex, sizeof(hex));
				algo = vouch_hash_info(d.algo)->name;
			}
			struct buffer_desc bd;
			char what[1100] = "";

			vouch_log_entry_name(&e, name, sizeof(name));
			if (describe_buffer(ctx, &e, &bd) && bd.is_cmdline)
				snprintf(what, sizeof(what), " cmdline \"%s\"", bd.text);
			else if (bd.is_cert && bd.has_keyid)
				snprintf(what, sizeof(what), " certificate \"%s\" key id %08x", bd.text,
					 (unsigned)bd.keyid);
			else if (bd.is_cert)
				snprintf(what, sizeof(what), " certificate \"%s\"", bd.text);
			printf("%llu %u %s %s%s%s %s%s%s\n", (unsigned long long)e.index, e.pcr,
			       e.template_name, algo, *algo ? ":" : "", hex, name, what,
			       e.violation ? " (violation)" : "");
		}
	}
	if (r < 0)
		return list_error(ctx, &lc, r);
	if (ascii) {
		const uint8_t *buf;
		size_t len;

		if ((r = vouch_log_writer_get(w, &buf, &len)) < 0) {
			cli_lib_error(ctx, r, NULL);
			return EXIT_ERROR;
		}
		return write_out(ctx, NULL, buf, len);
	}
	if (json)
		cli_json_print(arr);
	return EXIT_OK;
}

/* --- replay ----------------------------------------------------------------------------------- */

struct bank_list {
	size_t n;
	int algos[8];
	int modes[8];
};

static int add_bank(vouch_ctx *ctx, const char *cmd, struct bank_list *bl, const char *name,
		    int mode)
{
	int a = cli_parse_hash(ctx, cmd, name);

	if (a < 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < bl->n; i++)
		if (bl->algos[i] == a && bl->modes[i] == mode)
			return cli_usage_error(cmd, "bank %s given twice, refusing", name);
	if (bl->n == ARRAY_SIZE(bl->algos))
		return cli_usage_error(cmd, "at most %zu banks", ARRAY_SIZE(bl->algos));
	bl->algos[bl->n] = a;
	bl->modes[bl->n++] = mode;
	return 0;
}

static int log_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bank", required_argument, NULL, 'b' },
		{ "padded-bank", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		COMMON_LONGOPTS,
		{ 0 },
	};
	struct log_common lc = { .cmd = "log replay" };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_log_reader_freep) vouch_log_reader *rd = NULL;
	_cleanup_(vouch_log_replay_freep) vouch_log_replay *rp = NULL;
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct bank_list bl = { 0 };
	struct vouch_log_entry e;
	uint32_t touched = 0;
	uint64_t entries = 0, violations = 0, first_bad = 0;
	bool json = false;
	int c, r;

	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "b:", longopts, NULL)) != -1) {
		if (c == 'b' || c == 'p') {
			r = add_bank(ctx, lc.cmd, &bl, optarg,
				     c == 'p' ? VOUCH_LOG_BANK_PADDED : VOUCH_LOG_BANK_HASHED);
			if (r)
				return r;
		} else if (c == 'j') {
			if (cli_flag_once(lc.cmd, &json, "json"))
				return EXIT_USAGE;
		} else if ((r = common_option(&lc, c, optarg)) != 0) {
			return r;
		}
	}
	if ((r = list_argument(&lc, argc, argv)) != 0)
		return r;
	if (bl.n == 0) {
		add_bank(ctx, lc.cmd, &bl, "sha1", VOUCH_LOG_BANK_HASHED);
		add_bank(ctx, lc.cmd, &bl, "sha256", VOUCH_LOG_BANK_HASHED);
	}
	if ((r = open_list(ctx, &lc, &rd)) != 0)
		return r;
	r = vouch_log_replay_new(ctx, bl.algos, bl.modes, bl.n, &rp);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return cli_exit_for(r);
	}
	while ((r = vouch_log_next(rd, &e)) > 0) {
		touched |= 1u << e.pcr;
		r = vouch_log_replay_add(rp, &e);
		if (r == -EKEYREJECTED) {
			/* reported, and the replay goes on with the digests of the data */
			if (!first_bad)
				list_error(ctx, &lc, r);
			first_bad = first_bad ? first_bad : e.index;
		} else if (r < 0) {
			break;
		}
	}
	if (r < 0 && r != -EKEYREJECTED)
		return list_error(ctx, &lc, r);
	vouch_log_replay_count(rp, &entries, &violations);
	if (json) {
		root = json_object_new_object();
		json_object_object_add(root, "entries", json_object_new_int64((int64_t)entries));
		json_object_object_add(root, "violations",
				       json_object_new_int64((int64_t)violations));
	} else {
		printf("entries: %llu, violations: %llu\n", (unsigned long long)entries,
		       (unsigned long long)violations);
	}
	for (size_t i = 0; i < bl.n; i++) {
		json_object *bank = json ? json_object_new_object() : NULL;
		char key[64];

		for (unsigned p = 0; p < VOUCH_PCR_COUNT; p++) {
			struct vouch_digest d;
			char hex[2 * VOUCH_HASH_MAX_SIZE + 1], pk[8];

			if (!(touched >> p & 1))
				continue;
			/* a padded twin of the same algorithm: read it through a replay of its own */
			if (bl.modes[i] == VOUCH_LOG_BANK_PADDED) {
				bool dup = false;

				for (size_t j = 0; j < bl.n; j++)
					dup |= j != i && bl.algos[j] == bl.algos[i];
				if (dup) {
					cli_error("--bank and --padded-bank of the same algorithm "
						  "cannot be shown together");
					return EXIT_USAGE;
				}
			}
			vouch_log_replay_get(rp, bl.algos[i], p, &d);
			vouch_digest_to_hex(&d, hex, sizeof(hex));
			if (json) {
				snprintf(pk, sizeof(pk), "%u", p);
				json_object_object_add(bank, pk, json_object_new_string(hex));
			} else {
				printf("%s%s PCR-%02u: %s\n", vouch_hash_info(bl.algos[i])->name,
				       bl.modes[i] == VOUCH_LOG_BANK_PADDED ? " (padded sha1)" : "", p,
				       hex);
			}
		}
		if (json) {
			snprintf(key, sizeof(key), "%s%s", vouch_hash_info(bl.algos[i])->name,
				 bl.modes[i] == VOUCH_LOG_BANK_PADDED ? "-padded" : "");
			json_object_object_add(root, key, bank);
		}
	}
	if (json) {
		json_object_object_add(root, "template_digest_mismatch",
				       first_bad ? json_object_new_int64((int64_t)first_bad) : NULL);
		cli_json_print(root);
	}
	return first_bad ? EXIT_UNTRUSTED : EXIT_OK;
}

/* --- verify ----------------------------------------------------------------------------------- */

struct verify_state {
	bool json, sigs;
	json_object *entries;
};

static void on_entry(void *userdata, const struct vouch_log_entry *e, int verdict, int status)
{
	struct verify_state *st = userdata;
	char name[4096];

	if (verdict == VOUCH_LOG_SIG_NONE || !st->sigs)
		return;
	if (vouch_log_entry_name(e, name, sizeof(name)) < 0)
		name[0] = '\0';
	if (st->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "index", json_object_new_int64((int64_t)e->index));
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "signature",
				       json_object_new_string(vouch_log_sig_verdict_name(verdict)));
		json_object_array_add(st->entries, o);
	} else {
		printf("entry %llu %s: signature %s\n", (unsigned long long)e->index, name,
		       vouch_log_sig_verdict_name(verdict));
	}
}

static int parse_pcrs(vouch_ctx *ctx, const char *cmd, const char *arg,
		      struct vouch_pcr_bank *banks, size_t *n)
{
	const char *eq = strchr(arg, '=');
	char algo[32];
	size_t alen = eq ? (size_t)(eq - arg) : strlen(arg);
	int a, r;

	if (*n == 4)
		return cli_usage_error(cmd, "at most 4 --pcrs banks");
	if (alen == 0 || alen >= sizeof(algo))
		return cli_usage_error(cmd, "--pcrs wants ALGO=FILE, got '%s'", arg);
	memcpy(algo, arg, alen);
	algo[alen] = '\0';
	a = cli_parse_hash(ctx, cmd, algo);
	if (a < 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < *n; i++)
		if (banks[i].algo == a)
			return cli_usage_error(cmd, "--pcrs %s given twice, refusing", algo);
	r = vouch_pcr_bank_read(ctx, eq ? eq + 1 : NULL, a, &banks[*n]);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	(*n)++;
	return 0;
}

static const struct option verify_longopts[] = {
	{ "pcrs", required_argument, NULL, 'P' },
	{ "pcr", required_argument, NULL, 'n' },
	{ "verify-sigs", no_argument, NULL, 's' },
	{ "trust", required_argument, NULL, 't' },
	{ "require-sigs", no_argument, NULL, 'r' },
	{ "no-boot-aggregate", no_argument, NULL, 'B' },
	{ "json", no_argument, NULL, 'j' },
	{ "previous", required_argument, NULL, 'p' },
	COMMON_LONGOPTS,
	{ 0 },
};

/* log verify's options */
struct verify_args {
	struct log_common lc;
	struct vouch_pcr_bank *banks;
	size_t n_banks, n_trust;
	const char *trust_paths[16];
	char *prev[8]; /* --previous: the lists of earlier kernels, in boot order */
	size_t n_prev;
	bool sigs, require, noboot, json;
	uint32_t mask;
};

/* One option of log verify: 0, or the exit code. */
static int verify_option(vouch_ctx *ctx, struct verify_args *a, int c, const char *arg)
{
	const char *cmd = a->lc.cmd;
	uint32_t pcr;
	bool *flag;

	switch (c) {
	case 'P':
		return parse_pcrs(ctx, cmd, arg, a->banks, &a->n_banks);
	case 'n':
		if (cli_parse_u32(arg, &pcr) < 0 || pcr >= VOUCH_PCR_COUNT)
			return cli_usage_error(cmd, "invalid --pcr '%s' (0..23)", arg);
		if (a->mask >> pcr & 1)
			return cli_usage_error(cmd, "--pcr %u given twice, refusing", pcr);
		a->mask |= 1u << pcr;
		return 0;
	case 's':
	case 'r':
	case 'B':
	case 'j':
		flag = c == 's' ? &a->sigs : c == 'r' ? &a->require : c == 'B' ? &a->noboot : &a->json;
		if (*flag)
			return cli_given_twice(cmd, "option");
		*flag = true;
		return 0;
	case 't':
		if (a->n_trust == ARRAY_SIZE(a->trust_paths))
			return cli_usage_error(cmd, "too many --trust options");
		a->trust_paths[a->n_trust++] = arg;
		return 0;
	case 'p':
		if (a->n_prev == ARRAY_SIZE(a->prev))
			return cli_usage_error(cmd, "too many --previous lists");
		a->prev[a->n_prev++] = (char *)arg;
		return 0;
	default:
		return common_option(&a->lc, c, arg);
	}
}

static int verify_options(vouch_ctx *ctx, int argc, char **argv, struct verify_args *a)
{
	const char *cmd = a->lc.cmd;
	int c, r;

	/* --root first: sysfs PCR paths depend on it */
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--root=", 7) || (!strcmp(argv[i], "--root") && i + 1 < argc)) {
			const char *dir = argv[i][6] == '=' ? argv[i] + 7 : argv[i + 1];

			if (vouch_ctx_set_root(ctx, dir) < 0)
				return cli_usage_error(cmd, "invalid --root '%s'", dir);
			break;
		}
	while ((c = getopt_long(argc, argv, "t:", verify_longopts, NULL)) != -1)
		if ((r = verify_option(ctx, a, c, optarg)) != 0)
			return r;
	if ((r = list_argument(&a->lc, argc, argv)) != 0)
		return r;
	if (a->n_prev && (!a->lc.list || !strcmp(a->lc.list, "-")))
		return cli_usage_error(cmd, "--previous needs the new kernel's LIST as a file");
	if (a->n_prev && a->lc.format == VOUCH_LOG_FORMAT_KEXEC)
		return cli_usage_error(cmd, "--previous chains binary or ascii lists, not kexec buffers");
	if (a->n_banks == 0)
		return cli_usage_error(cmd, "--pcrs ALGO=FILE is required");
	if (a->require && !a->sigs)
		return cli_usage_error(cmd, "--require-sigs needs --verify-sigs");
	if (a->sigs != (a->n_trust > 0))
		return cli_usage_error(cmd, "--verify-sigs and --trust go together");
	return 0;
}

/* --verify-sigs: the trust store of --trust and a signature cache. */
static int verify_trust(vouch_ctx *ctx, const struct verify_args *a, vouch_trust **trust,
			vouch_sig_cache **cache)
{
	int r = cli_load_trust(ctx, a->trust_paths, a->n_trust, ".ima", trust);

	if (r == 0 && (r = vouch_sig_cache_new(ctx, 0, cache)) < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	return r;
}

/* Where each bank's replay matched the PCR values: a line each, or members of @root. */
static void print_banks(const struct vouch_log_verify_result *res, json_object *root)
{
	for (size_t i = 0; i < res->n_banks; i++) {
		const struct vouch_log_bank_result *b = &res->banks[i];
		const char *name = vouch_hash_info(b->algo)->name;
		char hex[2 * VOUCH_HASH_MAX_SIZE + 1];

		vouch_digest_to_hex(&b->replayed, hex, sizeof(hex));
		if (root) {
			json_object *jb = json_object_new_object();

			json_object_object_add(jb, "matched_at",
					       b->matched_at == UINT64_MAX ?
						       NULL :
						       json_object_new_int64((int64_t)b->matched_at));
			json_object_object_add(jb, "mode",
					       json_object_new_string(b->mode == VOUCH_LOG_BANK_PADDED ?
									      "padded-sha1" :
									      "hashed"));
			json_object_object_add(jb, "replayed", json_object_new_string(hex));
			json_object_object_add(root, name, jb);
		} else if (b->matched_at == UINT64_MAX) {
			printf("%s: no prefix of the list matches the PCR values (list replays to "
			       "%s)\n", name, hex);
		} else {
			printf("%s: matches after entry %llu of %llu%s\n", name,
			       (unsigned long long)b->matched_at, (unsigned long long)res->entries,
			       b->mode == VOUCH_LOG_BANK_PADDED ?
				       " (zero-padded SHA-1: the kernel could not use this hash)" :
				       "");
		}
	}
}

static void add_count(json_object *root, const char *name, uint64_t v)
{
	json_object_object_add(root, name, json_object_new_int64((int64_t)v));
}

/* The verdict document of log verify --json (the banks are already in @root). */
static void print_verify_json(json_object *root, const struct vouch_log_verify_result *res,
			      bool sigs, int v)
{
	json_object *s = json_object_new_object();

	add_count(root, "entries", res->entries);
	add_count(root, "violations", res->violations);
	add_count(root, "covered", res->covered);
	json_object_object_add(root, "failed_entry",
			       res->failed_entry ? json_object_new_int64((int64_t)res->failed_entry) :
						   NULL);
	json_object_object_add(root, "boot_aggregate",
			       json_object_new_string(res->boot_aggregate == 0 ? "ok" :
						      res->boot_aggregate == 1 ? "skipped" :
						      res->boot_aggregate == -ENODATA ? "unchecked" :
											"mismatch"));
	for (int i = VOUCH_LOG_SIG_VERIFIED; i < _VOUCH_LOG_SIG_MAX && sigs; i++)
		add_count(s, vouch_log_sig_verdict_name(i), res->sigs[i]);
	json_object_object_add(root, "signature_counts", s);
	add_count(root, "unverified", res->unverified);
	if (sigs) {
		add_count(root, "buffer_events", res->buffers);
		add_count(root, "unacceptable", res->unacceptable);
	}
	json_object_object_add(root, "verified", json_object_new_boolean(v == 0));
	cli_json_print(root);
}

/* The summary lines of log verify. */
static void print_verify_text(const struct vouch_log_verify_result *res, bool sigs)
{
	int ba = res->boot_aggregate_algo;

	if (ba >= 0 || res->boot_aggregate != 1)
		printf("boot_aggregate: %s%s%s%s\n",
		       res->boot_aggregate == 0 ? "ok" :
		       res->boot_aggregate == 1 ? "not checked" :
		       res->boot_aggregate == -ENODATA ? "cannot check" :
							   "MISMATCH",
		       ba >= 0 ? " (" : "", ba >= 0 ? vouch_hash_info(ba)->name : "",
		       ba >= 0 ? ")" : "");
	if (res->failed_bank < 0)
		printf("entries: %llu, violations: %llu, attested: %llu, measured after the "
		       "PCRs were read: %llu\n",
		       (unsigned long long)res->entries, (unsigned long long)res->violations,
		       (unsigned long long)res->covered,
		       (unsigned long long)(res->entries - res->covered));
	else
		printf("entries: %llu, violations: %llu, attested: none from entry %llu on\n",
		       (unsigned long long)res->entries, (unsigned long long)res->violations,
		       (unsigned long long)res->failed_entry);
	if (res->unverified)
		printf("unverified: %llu entries extended into PCRs without a given value\n",
		       (unsigned long long)res->unverified);
	if (!sigs)
		return;
	printf("buffer events: %llu (no signature); unacceptable templates: %llu\n",
	       (unsigned long long)res->buffers, (unsigned long long)res->unacceptable);
	printf("signatures: %llu verified, %llu bad, %llu unknown key, %llu unsupported, %llu "
	       "malformed, %llu EVM portable (not checkable)\n",
	       (unsigned long long)res->sigs[VOUCH_LOG_SIG_VERIFIED],
	       (unsigned long long)res->sigs[VOUCH_LOG_SIG_BAD],
	       (unsigned long long)res->sigs[VOUCH_LOG_SIG_UNKNOWN_KEY],
	       (unsigned long long)res->sigs[VOUCH_LOG_SIG_UNSUPPORTED],
	       (unsigned long long)res->sigs[VOUCH_LOG_SIG_MALFORMED],
	       (unsigned long long)res->sigs[VOUCH_LOG_SIG_EVM_PORTABLE]);
}

/*
 * The lists of earlier kernels, in boot order, then @lc->list, as one list held in *@ret_buf:
 * after kexec -e a kernel without IMA_KEXEC starts a fresh list while the PCRs keep the old
 * kernel's extends, so only the old lists followed by the new one replay.
 */
static int open_chained(vouch_ctx *ctx, struct log_common *lc, char **prev, size_t n_prev,
			uint8_t **ret_buf, vouch_log_reader **ret)
{
	struct vouch_log_reader_options o = VOUCH_LOG_READER_OPTIONS_INIT;
	const size_t max = (size_t)4 << 30;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	for (size_t i = 0; i <= n_prev; i++) {
		const char *path = i < n_prev ? prev[i] : lc->list;
		_cleanup_free_ char *part = NULL;
		size_t n;
		uint8_t *nb;

		r = cli_read_small_file(path, max, &part, &n);
		if (r < 0) {
			free(buf);
			cli_lib_error(ctx, r, path);
			return cli_exit_for(r);
		}
		nb = n > max - len ? NULL : realloc(buf, len + n + 1);
		if (!nb) {
			free(buf);
			fprintf(stderr, "vouch: %s: the lists are too large\n", lc->cmd);
			return EXIT_ERROR;
		}
		buf = nb;
		memcpy(buf + len, part, n);
		len += n;
	}
	o.format = lc->format;
	r = vouch_log_reader_new(ctx, buf, len, &o, ret);
	if (r < 0) {
		free(buf);
		cli_lib_error(ctx, r, NULL);
		return cli_exit_for(r);
	}
	*ret_buf = buf;
	return 0;
}

static int log_verify(int argc, char **argv)
{
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_log_reader_freep) vouch_log_reader *rd = NULL;
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	_cleanup_(vouch_sig_cache_freep) vouch_sig_cache *cache = NULL;
	_cleanup_(json_object_putp) json_object *root = NULL;
	_cleanup_free_ struct vouch_pcr_bank *banks = NULL;
	_cleanup_free_ uint8_t *chained = NULL;
	struct vouch_log_verify_options o = VOUCH_LOG_VERIFY_OPTIONS_INIT;
	struct vouch_log_verify_result res;
	struct verify_state st = { 0 };
	struct verify_args a = { .lc = { .cmd = "log verify" } };
	int r, v;

	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	banks = a.banks = calloc(4, sizeof(*banks));
	if (!banks)
		return EXIT_ERROR;
	if ((r = verify_options(ctx, argc, argv, &a)) != 0)
		return r;
	if (a.sigs && (r = verify_trust(ctx, &a, &trust, &cache)) != 0)
		return r;
	r = a.n_prev ? open_chained(ctx, &a.lc, a.prev, a.n_prev, &chained, &rd)
		     : open_list(ctx, &a.lc, &rd);
	if (r != 0)
		return r;
	st.sigs = a.sigs;
	st.json = a.json;
	if (st.json) {
		root = json_object_new_object();
		st.entries = json_object_new_array();
		json_object_object_add(root, "signatures", st.entries);
	}
	o.pcr_mask = a.mask;
	o.banks = banks;
	o.n_banks = a.n_banks;
	o.trust = trust;
	o.cache = cache;
	o.flags = (a.require ? VOUCH_LOG_VERIFY_REQUIRE_SIGS : 0) |
		  (a.noboot ? VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE : 0);
	o.on_entry = on_entry;
	o.userdata = &st;
	memset(&res, 0, sizeof(res));
	v = vouch_log_verify(ctx, rd, &o, &res);
	if (v < 0 && v != -EKEYREJECTED && v != -ENODATA)
		return list_error(ctx, &a.lc, v);
	print_banks(&res, root);
	if (st.json)
		print_verify_json(root, &res, a.sigs, v);
	else
		print_verify_text(&res, a.sigs);
	fflush(stdout);
	if (v < 0)
		return list_error(ctx, &a.lc, v);
	return EXIT_OK;
}

/* --- export ------------------------------------------------------------------------------------- */

static int log_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kexec", no_argument, NULL, 'k' },
		{ "binary", no_argument, NULL, 'b' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "big-endian", no_argument, NULL, 'E' },
		{ "canonical", no_argument, NULL, 'C' },
		{ "output", required_argument, NULL, 'o' },
		COMMON_LONGOPTS,
		{ 0 },
	};
	struct log_common lc = { .cmd = "log export" };
	struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_log_reader_freep) vouch_log_reader *rd = NULL;
	_cleanup_(vouch_log_writer_freep) vouch_log_writer *w = NULL;
	struct vouch_log_entry e;
	const char *out = NULL;
	const uint8_t *buf;
	size_t len;
	int c, r, format = 0, order = 0;

	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
		case 'b':
		case 'a':
			if (format)
				return cli_usage_error(lc.cmd, "one of --kexec, --binary, --ascii, "
							       "refusing more");
			format = c == 'k' ? VOUCH_LOG_FORMAT_KEXEC :
			       c == 'b' ? VOUCH_LOG_FORMAT_BINARY : VOUCH_LOG_FORMAT_ASCII;
			break;
		case 'E':
		case 'C':
			if (order)
				return cli_usage_error(lc.cmd, "--big-endian and --canonical given "
							       "together or twice, refusing");
			order = c == 'E' ? VOUCH_LOG_ORDER_BE : VOUCH_LOG_ORDER_LE;
			break;
		case 'o':
			if (cli_opt_once(lc.cmd, &out, optarg, "output"))
				return EXIT_USAGE;
			break;
		default:
			if ((r = common_option(&lc, c, optarg)) != 0)
				return r;
		}
	}
	if ((r = list_argument(&lc, argc, argv)) != 0)
		return r;
	if (!format)
		return cli_usage_error(lc.cmd, "say --kexec, --binary or --ascii");
	if (format == VOUCH_LOG_FORMAT_ASCII && order)
		return cli_usage_error(lc.cmd, "the ascii list has no byte order");
	if (!out && isatty(STDOUT_FILENO) && format != VOUCH_LOG_FORMAT_ASCII)
		return cli_usage_error(lc.cmd, "refusing to write binary data to a terminal; "
					       "use --output");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if ((r = open_list(ctx, &lc, &rd)) != 0)
		return r;
	wo.format = format;
	wo.order = order;
	if ((r = vouch_log_writer_new(ctx, &wo, &w)) < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	while ((r = vouch_log_next(rd, &e)) > 0)
		if ((r = vouch_log_writer_add(w, &e)) < 0)
			break;
	if (r < 0)
		return list_error(ctx, &lc, r);
	if ((r = vouch_log_writer_get(w, &buf, &len)) < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	return write_out(ctx, out, buf, len);
}

static const struct command log_cmds[] = {
	{ "show", log_show, 0, "Print a measurement list (kernel ascii format, JSON, or a summary)",
	  "log show [--ascii|--json] [--input-format binary|ascii|kexec] [--root DIR] [LIST]" },
	{ "replay", log_replay, 0, "Replay a list into PCR values per bank",
	  "log replay [--bank ALGO]... [--padded-bank ALGO]... [--json] [LIST]" },
	{ "verify", log_verify, 0,
	  "Check a list against PCR values, its boot_aggregate and, optionally, its signatures",
	  "log verify --pcrs ALGO[=FILE]... [--pcr N]... [--verify-sigs -t TRUST... "
	  "[--require-sigs]] [--no-boot-aggregate] [--previous OLD]... [--json] [LIST]" },
	{ "export", log_export, 0, "Write a list as a kexec buffer, binary or ascii list",
	  "log export --kexec|--binary|--ascii [--big-endian|--canonical] [-o FILE] [LIST]" },
};

CLI_FAMILY(cmd_log, "log", log_cmds)
