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

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_reader *, vouch_log_reader_freep, vouch_log_reader_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_writer *, vouch_log_writer_freep, vouch_log_writer_free)
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
			return cli_usage_error(lc->cmd, "--root given twice, refusing");
		if (arg[0] != '/')
			return cli_usage_error(lc->cmd, "--root must be an absolute path");
		lc->root = arg;
		return 0;
	case 'I':
		if (lc->format)
			return cli_usage_error(lc->cmd, "--input-format given twice, refusing");
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

/* Never a half-written file: a temporary beside @path, fsync, rename. */
static int write_atomic(const char *path, const uint8_t *buf, size_t len)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	size_t done = 0;

	if (asprintf(&tmp, "%s.vouch-XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		done += (size_t)n;
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || close(TAKE_FD(fd)) < 0 ||
	    rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	{
		int err = -errno;

		unlink(tmp);
		return err;
	}
}

static int write_out(vouch_ctx *ctx, const char *out, const uint8_t *buf, size_t len)
{
	int r;

	if (out && strcmp(out, "-")) {
		r = write_atomic(out, buf, len);
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
			if (json)
				return cli_usage_error(lc.cmd, "--json given twice, refusing");
			json = true;
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

static int log_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pcrs", required_argument, NULL, 'P' },
		{ "pcr", required_argument, NULL, 'n' },
		{ "verify-sigs", no_argument, NULL, 's' },
		{ "trust", required_argument, NULL, 't' },
		{ "require-sigs", no_argument, NULL, 'r' },
		{ "no-boot-aggregate", no_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'j' },
		COMMON_LONGOPTS,
		{ 0 },
	};
	struct log_common lc = { .cmd = "log verify" };
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_log_reader_freep) vouch_log_reader *rd = NULL;
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	_cleanup_(vouch_sig_cache_freep) vouch_sig_cache *cache = NULL;
	_cleanup_(json_object_putp) json_object *root = NULL;
	_cleanup_free_ struct vouch_pcr_bank *banks = NULL;
	struct vouch_log_verify_options o = VOUCH_LOG_VERIFY_OPTIONS_INIT;
	struct vouch_log_verify_result res;
	struct verify_state st = { 0 };
	const char *trust_paths[16];
	size_t n_banks = 0, n_trust = 0;
	bool sigs = false, require = false, noboot = false;
	uint32_t mask = 0;
	int c, r, v;

	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	banks = calloc(4, sizeof(*banks));
	if (!banks)
		return EXIT_ERROR;
	/* --root first: sysfs PCR paths depend on it */
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--root=", 7) || (!strcmp(argv[i], "--root") && i + 1 < argc)) {
			const char *dir = argv[i][6] == '=' ? argv[i] + 7 : argv[i + 1];

			if (vouch_ctx_set_root(ctx, dir) < 0)
				return cli_usage_error(lc.cmd, "invalid --root '%s'", dir);
			break;
		}
	while ((c = getopt_long(argc, argv, "t:", longopts, NULL)) != -1) {
		uint32_t pcr;

		switch (c) {
		case 'P':
			if ((r = parse_pcrs(ctx, lc.cmd, optarg, banks, &n_banks)) != 0)
				return r;
			break;
		case 'n':
			if (cli_parse_u32(optarg, &pcr) < 0 || pcr >= VOUCH_PCR_COUNT)
				return cli_usage_error(lc.cmd, "invalid --pcr '%s' (0..23)", optarg);
			if (mask >> pcr & 1)
				return cli_usage_error(lc.cmd, "--pcr %u given twice, refusing", pcr);
			mask |= 1u << pcr;
			break;
		case 's':
		case 'r':
		case 'B':
		case 'j': {
			bool *flag = c == 's' ? &sigs : c == 'r' ? &require : c == 'B' ? &noboot : &st.json;

			if (*flag)
				return cli_usage_error(lc.cmd, "option given twice, refusing");
			*flag = true;
			break;
		}
		case 't':
			if (n_trust == ARRAY_SIZE(trust_paths))
				return cli_usage_error(lc.cmd, "too many --trust options");
			trust_paths[n_trust++] = optarg;
			break;
		default:
			if ((r = common_option(&lc, c, optarg)) != 0)
				return r;
		}
	}
	if ((r = list_argument(&lc, argc, argv)) != 0)
		return r;
	if (n_banks == 0)
		return cli_usage_error(lc.cmd, "--pcrs ALGO=FILE is required");
	if (require && !sigs)
		return cli_usage_error(lc.cmd, "--require-sigs needs --verify-sigs");
	if (sigs != (n_trust > 0))
		return cli_usage_error(lc.cmd, "--verify-sigs and --trust go together");
	if (sigs) {
		if ((r = vouch_trust_new(ctx, &trust)) < 0 ||
		    (r = vouch_sig_cache_new(ctx, 0, &cache)) < 0) {
			cli_lib_error(ctx, r, NULL);
			return EXIT_ERROR;
		}
		for (size_t i = 0; i < n_trust; i++)
			if ((r = vouch_trust_add_path(trust, trust_paths[i], ".ima")) < 0) {
				cli_lib_error(ctx, r, NULL);
				return EXIT_ERROR;
			}
	}
	if ((r = open_list(ctx, &lc, &rd)) != 0)
		return r;
	st.sigs = sigs;
	if (st.json) {
		root = json_object_new_object();
		st.entries = json_object_new_array();
		json_object_object_add(root, "signatures", st.entries);
	}
	o.pcr_mask = mask;
	o.banks = banks;
	o.n_banks = n_banks;
	o.trust = trust;
	o.cache = cache;
	o.flags = (require ? VOUCH_LOG_VERIFY_REQUIRE_SIGS : 0) |
		  (noboot ? VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE : 0);
	o.on_entry = on_entry;
	o.userdata = &st;
	memset(&res, 0, sizeof(res));
	v = vouch_log_verify(ctx, rd, &o, &res);
	if (v < 0 && v != -EKEYREJECTED && v != -ENODATA)
		return list_error(ctx, &lc, v);
	for (size_t i = 0; i < res.n_banks; i++) {
		const struct vouch_log_bank_result *b = &res.banks[i];
		const char *name = vouch_hash_info(b->algo)->name;
		char hex[2 * VOUCH_HASH_MAX_SIZE + 1];

		vouch_digest_to_hex(&b->replayed, hex, sizeof(hex));
		if (st.json) {
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
			       (unsigned long long)b->matched_at, (unsigned long long)res.entries,
			       b->mode == VOUCH_LOG_BANK_PADDED ?
				       " (zero-padded SHA-1: the kernel could not use this hash)" :
				       "");
		}
	}
	if (st.json) {
		json_object *s = json_object_new_object();

		json_object_object_add(root, "entries", json_object_new_int64((int64_t)res.entries));
		json_object_object_add(root, "violations",
				       json_object_new_int64((int64_t)res.violations));
		json_object_object_add(root, "covered", json_object_new_int64((int64_t)res.covered));
		json_object_object_add(root, "failed_entry",
				       res.failed_entry ?
					       json_object_new_int64((int64_t)res.failed_entry) :
					       NULL);
		json_object_object_add(root, "boot_aggregate",
				       json_object_new_string(res.boot_aggregate == 0 ? "ok" :
							      res.boot_aggregate == 1 ? "skipped" :
							      res.boot_aggregate == -ENODATA ?
											"unchecked" :
											"mismatch"));
		for (int i = VOUCH_LOG_SIG_VERIFIED; i < _VOUCH_LOG_SIG_MAX && sigs; i++)
			json_object_object_add(s, vouch_log_sig_verdict_name(i),
					       json_object_new_int64((int64_t)res.sigs[i]));
		json_object_object_add(root, "signature_counts", s);
		json_object_object_add(root, "unverified",
				       json_object_new_int64((int64_t)res.unverified));
		if (sigs) {
			json_object_object_add(root, "buffer_events",
					       json_object_new_int64((int64_t)res.buffers));
			json_object_object_add(root, "unacceptable",
					       json_object_new_int64((int64_t)res.unacceptable));
		}
		json_object_object_add(root, "verified", json_object_new_boolean(v == 0));
		cli_json_print(root);
	} else {
		if (res.boot_aggregate_algo >= 0 || res.boot_aggregate != 1)
			printf("boot_aggregate: %s%s%s%s\n",
			       res.boot_aggregate == 0 ? "ok" :
			       res.boot_aggregate == 1 ? "not checked" :
			       res.boot_aggregate == -ENODATA ? "cannot check" :
								"MISMATCH",
			       res.boot_aggregate_algo >= 0 ? " (" : "",
			       res.boot_aggregate_algo >= 0 ?
				       vouch_hash_info(res.boot_aggregate_algo)->name :
				       "",
			       res.boot_aggregate_algo >= 0 ? ")" : "");
		if (res.failed_bank < 0)
			printf("entries: %llu, violations: %llu, attested: %llu, measured after the "
			       "PCRs were read: %llu\n",
			       (unsigned long long)res.entries, (unsigned long long)res.violations,
			       (unsigned long long)res.covered,
			       (unsigned long long)(res.entries - res.covered));
		else
			printf("entries: %llu, violations: %llu, attested: none from entry %llu on\n",
			       (unsigned long long)res.entries, (unsigned long long)res.violations,
			       (unsigned long long)res.failed_entry);
		if (res.unverified)
			printf("unverified: %llu entries extended into PCRs without a given value\n",
			       (unsigned long long)res.unverified);
		if (sigs)
			printf("buffer events: %llu (no signature); unacceptable templates: %llu\n",
			       (unsigned long long)res.buffers, (unsigned long long)res.unacceptable);
		if (sigs)
			printf("signatures: %llu verified, %llu bad, %llu unknown key, %llu "
			       "unsupported, %llu malformed, %llu EVM portable (not checkable)\n",
			       (unsigned long long)res.sigs[VOUCH_LOG_SIG_VERIFIED],
			       (unsigned long long)res.sigs[VOUCH_LOG_SIG_BAD],
			       (unsigned long long)res.sigs[VOUCH_LOG_SIG_UNKNOWN_KEY],
			       (unsigned long long)res.sigs[VOUCH_LOG_SIG_UNSUPPORTED],
			       (unsigned long long)res.sigs[VOUCH_LOG_SIG_MALFORMED],
			       (unsigned long long)res.sigs[VOUCH_LOG_SIG_EVM_PORTABLE]);
	}
	fflush(stdout);
	if (v < 0)
		return list_error(ctx, &lc, v);
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
			if (out)
				return cli_usage_error(lc.cmd, "--output given twice, refusing");
			out = optarg;
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
	  "[--require-sigs]] [--no-boot-aggregate] [--json] [LIST]" },
	{ "export", log_export, 0, "Write a list as a kexec buffer, binary or ascii list",
	  "log export --kexec|--binary|--ascii [--big-endian|--canonical] [-o FILE] [LIST]" },
};

int cmd_log(int argc, char **argv)
{
	return cli_dispatch("log", log_cmds, ARRAY_SIZE(log_cmds), argc, argv);
}
