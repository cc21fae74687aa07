// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch attest: quote PCRs (and the logs they cover) into an evidence file, and verify
 * evidence with every check always on (STYLE.md rule 15).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"

#define IMA_LIST "/sys/kernel/security/ima/binary_runtime_measurements"
#define BIOS_LOG "/sys/kernel/security/tpm0/binary_bios_measurements"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(struct vouch_evidence *, vouch_evidence_freep, vouch_evidence_free)

/* --nonce HEX, once: 0 or EXIT_USAGE */
static int parse_nonce(const char *cmd, const char *arg, bool *given, uint8_t *buf, size_t *len)
{
	if (*given)
		return cli_given_twice(cmd, "--nonce");
	*given = true;
	if (cli_parse_hex(arg, buf, 64, len) < 0)
		return cli_usage_error(cmd, "invalid --nonce '%s' (1 to 64 bytes of hex)", arg);
	return 0;
}

static int read_all(const char *path, uint8_t **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	int r;

	if (fd < 0) {
		cli_error("cannot open '%s': %m", path);
		return -1;
	}
	r = cli_read_fd_all(fd, ((size_t)1 << 31) - 1, &buf, ret_len);
	if (r == -EFBIG || r == -ENOMEM) {
		cli_error("'%s' is too large", path);
		return -1;
	}
	if (r < 0) {
		errno = -r;
		cli_error("cannot read '%s': %m", path);
		return -1;
	}
	*ret = (uint8_t *)buf;
	return 0;
}

/* Keep the entries after the first @from (the verifier has those): re-serialised, binary. */
static int list_from(vouch_ctx *ctx, uint8_t *buf, size_t len, uint64_t from, uint8_t **ret,
		     size_t *ret_len)
{
	struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;
	_cleanup_(vouch_log_reader_freep) vouch_log_reader *rd = NULL;
	_cleanup_(vouch_log_writer_freep) vouch_log_writer *w = NULL;
	struct vouch_log_entry e;
	const uint8_t *out;
	size_t out_len;
	uint64_t n = 0;
	uint8_t *copy;
	int r;

	r = vouch_log_reader_new(ctx, buf, len, NULL, &rd);
	if (r == 0)
		r = vouch_log_writer_new(ctx, &wo, &w);
	while (r == 0 && (r = vouch_log_next(rd, &e)) > 0) {
		r = ++n > from ? vouch_log_writer_add(w, &e) : 0;
	}
	if (r == 0 && n < from)
		r = -ERANGE;
	if (r == 0)
		r = vouch_log_writer_get(w, &out, &out_len);
	if (r < 0) {
		if (r == -ERANGE)
			cli_error("--from-entry %llu: the list has only %llu entries",
				  (unsigned long long)from, (unsigned long long)n);
		else
			cli_lib_error(ctx, r, "IMA list");
		return r;
	}
	copy = malloc(out_len ? out_len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, out, out_len);
	free(buf);
	*ret = copy;
	*ret_len = out_len;
	return 0;
}

/*
 * An engine appending to an IMA list (vouch load on a state directory) holds an exclusive
 * lock on the file: wait up to 10 s for a shared one and keep it over the quote and the
 * read, so that the list is exactly what the quoted PCRs include, never a half-written
 * record.  Returns the locked fd, -1 when the file cannot be locked (it is read as it is,
 * e.g. the kernel's list), -2 when an engine kept it locked.
 */
static int lock_list(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	for (int i = 0; fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK) {
			close(fd);
			return -1;
		}
		if (i == 200) {
			close(fd);
			cli_error("'%s' stayed locked by an engine that measures into it", path);
			return -2;
		}
		usleep(50000);
	}
	return fd;
}

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

static const struct option quote_longopts[] = {
	{ "tcti", required_argument, NULL, 'T' },
	{ "handle", required_argument, NULL, 'h' },
	{ "nonce", required_argument, NULL, 'n' },
	{ "pcrs", required_argument, NULL, 'p' },
	{ "ima", required_argument, NULL, 'i' },
	{ "no-ima", no_argument, NULL, 'I' },
	{ "from-entry", required_argument, NULL, 'F' },
	{ "eventlog", required_argument, NULL, 'e' },
	{ "no-eventlog", no_argument, NULL, 'E' },
	{ "out", required_argument, NULL, 'o' },
	{ 0 },
};

/* attest quote's options */
struct quote_args {
	const char *tcti, *sel, *ima_path, *log_path, *out;
	bool no_ima, no_log, have_nonce;
	uint32_t handle;
	uint64_t from;
	uint8_t nonce[64];
	size_t nonce_len;
};

/* --NAME PATH or (@is_no) --no-NAME, which conflict: 0, or EXIT_USAGE. */
static int path_or_no(const char *cmd, const char *name, bool is_no, const char **path, bool *no,
		      const char *arg)
{
	if (is_no ? *path != NULL : *no)
		return cli_usage_error(cmd, "--%s and --no-%s conflict, refusing", name, name);
	*no = is_no;
	return is_no ? 0 : cli_opt_once(cmd, path, arg, name);
}

/* One option of attest quote: 0, or EXIT_USAGE. */
static int quote_option(const char *cmd, struct quote_args *a, int c, const char *arg)
{
	const struct cli_slot slots[] = {
		CLI_STR('T', &a->tcti), CLI_STR('p', &a->sel), CLI_STR('o', &a->out),
		CLI_HANDLE('h', &a->handle), CLI_SLOTS_END,
	};
	int r = cli_slot_option(cmd, quote_longopts, slots, c, arg);

	if (r >= 0)
		return r;
	switch (c) {
	case 'n':
		return parse_nonce(cmd, arg, &a->have_nonce, a->nonce, &a->nonce_len);
	case 'i':
	case 'I':
		return path_or_no(cmd, "ima", c == 'I', &a->ima_path, &a->no_ima, arg);
	case 'F':
		if (cli_parse_u64(arg, &a->from) < 0)
			return cli_usage_error(cmd, "invalid --from-entry '%s'", arg);
		return 0;
	case 'e':
	case 'E':
		return path_or_no(cmd, "eventlog", c == 'E', &a->log_path, &a->no_log, arg);
	default:
		return cli_usage_error(cmd, "invalid option");
	}
}

/* @path below the context's root ("/": as it is) when readable, else NULL. */
static char *default_path(vouch_ctx *ctx, const char *path)
{
	const char *root = vouch_ctx_get_root(ctx);
	char *p = NULL;

	if (asprintf(&p, "%s%s", strcmp(root, "/") ? root : "", path) < 0)
		return NULL;
	if (!readable(p)) {
		free(p);
		return NULL;
	}
	return p;
}

/*
 * Before the quote: the IMA list locked (read after the quote: entries measured in between
 * are an uncovered tail, never a PCR value without its entry, and an appending engine
 * honours the lock), the firmware event log read.  0, or the exit code.
 */
static int quote_prepare(vouch_ctx *ctx, struct quote_args *a, struct vouch_evidence *ev,
			 char **ima_default, char **log_default, int *ima_lock, uint8_t **elog)
{
	if (!a->no_ima) {
		if (!a->ima_path && (*ima_default = default_path(ctx, IMA_LIST)))
			a->ima_path = *ima_default;
		if (a->ima_path && (*ima_lock = lock_list(a->ima_path)) == -2)
			return EXIT_ERROR;
	}
	if (!a->no_log) {
		if (!a->log_path && (*log_default = default_path(ctx, BIOS_LOG)))
			a->log_path = *log_default;
		if (a->log_path && read_all(a->log_path, elog, &ev->eventlog_len) < 0)
			return EXIT_ERROR;
		ev->eventlog = *elog;
	}
	return 0;
}

/*
 * The quote by the AK and the IMA list after it, into @ev: 0, or the exit code.  @ev's
 * ak_name points into @info, which the caller keeps as long as @ev.
 */
static int quote_take(vouch_ctx *ctx, const struct quote_args *a, vouch_tpm *tpm, vouch_ak **ak,
		      struct vouch_ak_info *info, struct vouch_evidence *ev, uint8_t **attest,
		      uint8_t **sig, uint8_t **ima)
{
	int r = vouch_tpm_ak_load(tpm, a->handle, ak);

	if (r == 0)
		r = vouch_tpm_quote(tpm, a->handle, a->nonce, a->nonce_len, &ev->pcrs, attest,
				    &ev->attest_len, sig, &ev->sig_len);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	if (a->ima_path) {
		if (read_all(a->ima_path, ima, &ev->ima_list_len) < 0)
			return EXIT_ERROR;
		if (a->from && list_from(ctx, *ima, ev->ima_list_len, a->from, ima,
					 &ev->ima_list_len) < 0)
			return EXIT_ERROR;
		ev->ima_list = *ima;
	}
	ev->attest = *attest;
	ev->sig = *sig;
	vouch_ak_get_info(*ak, info);
	ev->ak_name = info->name;
	ev->ak_name_len = info->name_len;
	ev->ima_from_entry = a->from;
	return 0;
}

/* The evidence document, newline-terminated, written atomically (0600). */
static int quote_write(vouch_ctx *ctx, const char *out, const struct vouch_evidence *ev)
{
	_cleanup_free_ char *json = NULL, *text = NULL;
	int r = vouch_evidence_format(ctx, ev, &json);

	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	if (asprintf(&text, "%s\n", json) < 0)
		return EXIT_ERROR;
	r = cli_write_atomic_at(AT_FDCWD, out, text, strlen(text), 0600);
	if (r < 0) {
		errno = -r;
		cli_error("cannot write '%s': %m", out);
		return EXIT_ERROR;
	}
	return 0;
}

static int attest_quote(int argc, char **argv)
{
	const char *cmd = "attest quote";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_tpm_closep) vouch_tpm *tpm = NULL;
	_cleanup_(vouch_ak_freep) vouch_ak *ak = NULL;
	_cleanup_free_ struct vouch_evidence *ev = NULL; /* its buffers are the variables below */
	_cleanup_free_ char *ima_default = NULL, *log_default = NULL;
	_cleanup_free_ uint8_t *attest = NULL, *sig = NULL, *ima = NULL, *elog = NULL;
	_cleanup_close_ int ima_lock = -1;
	struct vouch_ak_info info; /* the evidence's ak_name points into it */
	struct quote_args a = { 0 };
	int c, r;

	if (vouch_evidence_new(&ev) < 0)
		return EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "T:n:p:o:", quote_longopts, NULL)) != -1)
		if (quote_option(cmd, &a, c, optarg))
			return EXIT_USAGE;
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!a.have_nonce || !a.sel || !a.out)
		return cli_usage_error(cmd, "--nonce HEX, --pcrs SELECTION and --out FILE are required");
	if (vouch_pcrs_parse_selection(a.sel, &ev->pcrs) < 0)
		return cli_usage_error(cmd, "invalid PCR selection '%s' (e.g. sha256:0-10)", a.sel);
	if (!a.handle)
		a.handle = CLI_AK_DEFAULT_HANDLE;
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = quote_prepare(ctx, &a, ev, &ima_default, &log_default, &ima_lock, &elog);
	if (r)
		return r;
	if (cli_tpm_open(ctx, a.tcti, &tpm) < 0)
		return EXIT_ERROR;
	r = quote_take(ctx, &a, tpm, &ak, &info, ev, &attest, &sig, &ima);
	if (r == 0)
		r = quote_write(ctx, a.out, ev);
	if (r)
		return r;
	fprintf(stderr, "%s: quoted %s with AK 0x%08x into '%s'%s%s\n", program_name, a.sel,
		a.handle, a.out, ev->ima_list ? ", with the IMA list" : "",
		ev->eventlog ? ", with the firmware event log" : "");
	return EXIT_OK;
}

/* --- verify ------------------------------------------------------------------------- */

/* The checks, the verification and the state live in lib/attest.c; here: options, print. */

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_attest_reference *, vouch_attest_reference_freep,
				 vouch_attest_reference_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(struct vouch_attest_result *, vouch_attest_result_freep,
				 vouch_attest_result_free)

/*
 * The firmware event log's records for the verdict JSON.  The log is the machine's say-so:
 * a record is "attested" only when the verdict is trusted and its PCR (0-9) was quoted and
 * replayed, and its data is a fact ("bound_data") only when its digests also cover it
 * (issue 13 item 17); everything else is listed without its data.
 */
struct events_json {
	json_object *arr;
	uint32_t attested_pcrs;
};

static int event_json(const struct vouch_eventlog_event *e, void *userdata)
{
	struct events_json *ej = userdata;
	json_object *o = json_object_new_object();
	const char *name = vouch_eventlog_type_name(e->type);
	bool attested = e->extended && e->pcr < 32 && (ej->attested_pcrs & (1U << e->pcr));
	char hex[16];

	snprintf(hex, sizeof(hex), "0x%08x", e->type);
	json_object_object_add(o, "index", json_object_new_int64(e->index));
	json_object_object_add(o, "pcr", json_object_new_int64(e->pcr));
	json_object_object_add(o, "type", json_object_new_string(name ? name : hex));
	json_object_object_add(o, "attested", json_object_new_boolean(attested));
	json_object_object_add(o, "data_bound",
			       e->binding == VOUCH_EVENTLOG_VARIABLE_DATA
				       ? json_object_new_string("variable_data")
				       : json_object_new_boolean(e->binding == VOUCH_EVENTLOG_BOUND));
	if (attested && e->bound)
		json_object_object_add(o, "bound_data", cli_json_hex(e->bound, e->bound_len));
	json_object_array_add(ej->arr, o);
	return 0;
}

static json_object *eventlog_json(vouch_ctx *ctx, const struct vouch_evidence *ev,
				  const struct vouch_attest_result *res, bool trusted)
{
	struct events_json ej = { 0 };

	if (!ev->eventlog)
		return json_object_new_null();
	ej.arr = json_object_new_array();
	for (uint32_t b = 0; trusted && b < res->pcrs.n_banks; b++)
		ej.attested_pcrs |= res->pcrs.banks[b].present & 0x3ffU;
	if (vouch_eventlog_foreach(ctx, ev->eventlog, ev->eventlog_len, event_json, &ej) < 0) {
		json_object_put(ej.arr);
		return json_object_new_null(); /* the "eventlog" check says why */
	}
	return ej.arr;
}

static const char *status_word(int s)
{
	return s == 0 ? "ok" : s > 0 ? "n/a" : "FAIL";
}

struct verify_args {
	const char *akp, *sel, *ref, *trust, *state, *msgp, *sigp, *valp, *evp;
	uint32_t allowed;
	bool json, have_nonce, require_sigs, require_tpm_ak;
	uint8_t nonce[64];
	size_t nonce_len;
};

static const struct option verify_longopts[] = {
	{ "ak", required_argument, NULL, 'k' },
	{ "nonce", required_argument, NULL, 'n' },
	{ "pcrs", required_argument, NULL, 'p' },
	{ "reference", required_argument, NULL, 'r' },
	{ "trust", required_argument, NULL, 't' },
	{ "state", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "message", required_argument, NULL, 'm' },
	{ "signature", required_argument, NULL, 'S' },
	{ "pcr-values", required_argument, NULL, 'f' },
	{ "allow-hash", required_argument, NULL, 'a' },
	{ "require-sigs", no_argument, NULL, 'Q' },
	{ "require-tpm-ak", no_argument, NULL, 'K' },
	{ 0 },
};

/* One option of attest verify; 0 or EXIT_USAGE. */
static int verify_option(const char *cmd, struct verify_args *a, int c, const char *arg)
{
	const char **slot = c == 'k' ? &a->akp : c == 'p' ? &a->sel : c == 'r' ? &a->ref :
			    c == 't' ? &a->trust : c == 's' ? &a->state : c == 'm' ? &a->msgp :
			    c == 'S' ? &a->sigp : c == 'f' ? &a->valp : NULL;
	int h;

	if (slot)
		return cli_opt_once(cmd, slot, arg, cli_opt_name(verify_longopts, c));
	switch (c) {
	case 'n':
		return parse_nonce(cmd, arg, &a->have_nonce, a->nonce, &a->nonce_len);
	case 'j':
		a->json = true;
		return 0;
	case 'Q':
		a->require_sigs = true;
		return 0;
	case 'K':
		a->require_tpm_ak = true;
		return 0;
	case 'a':
		h = vouch_hash_by_name(arg);
		if (h < 0)
			return cli_usage_error(cmd, "unknown hash '%s'", arg);
		a->allowed |= 1U << h;
		return 0;
	default:
		return cli_usage_error(cmd, "invalid option");
	}
}

static int verify_options(const char *cmd, int argc, char **argv, struct verify_args *a,
			  struct vouch_pcrs *req)
{
	int c;

	while ((c = getopt_long(argc, argv, "k:n:p:r:t:s:jm:S:f:", verify_longopts, NULL)) != -1)
		if (verify_option(cmd, a, c, optarg))
			return EXIT_USAGE;
	if (optind < argc)
		a->evp = argv[optind++];
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!a->akp || !a->have_nonce)
		return cli_usage_error(cmd, "--ak FILE and --nonce HEX are required");
	if (!!a->evp == !!(a->msgp || a->sigp || a->valp) ||
	    (!a->evp && !(a->msgp && a->sigp && a->valp && a->sel)))
		return cli_usage_error(cmd, "give EVIDENCE, or --message, --signature, --pcr-values "
					    "and --pcrs (tpm2_quote's files)");
	if (a->require_sigs && !a->trust)
		return cli_usage_error(cmd, "--require-sigs needs --trust");
	if (vouch_pcrs_parse_selection(a->sel ? a->sel : "sha256:0-10", req) < 0)
		return cli_usage_error(cmd, "invalid PCR selection '%s' (e.g. sha256:0-10)", a->sel);
	return 0;
}

/*
 * The evidence file, or tpm2_quote's three files (then @a->evp names the message, and a
 * --pcr-values file of the wrong size becomes the failed check @pre).  0 or an exit code.
 */
static int verify_evidence(vouch_ctx *ctx, struct verify_args *a, struct vouch_pcrs *req,
			   struct vouch_evidence **ret, struct vouch_attest_check *pre,
			   uint32_t *flags)
{
	_cleanup_free_ uint8_t *vals = NULL;
	struct vouch_evidence *ev;
	size_t vals_len;
	int r;

	if (a->evp) {
		r = vouch_evidence_load(ctx, a->evp, ret);
		if (r < 0) {
			cli_lib_error(ctx, r, NULL);
			return cli_exit_for(r);
		}
		return 0;
	}
	(void)vouch_evidence_new(ret);
	ev = *ret;
	if (!ev || read_all(a->msgp, &ev->attest, &ev->attest_len) < 0 ||
	    read_all(a->sigp, &ev->sig, &ev->sig_len) < 0 || read_all(a->valp, &vals, &vals_len) < 0)
		return EXIT_ERROR;
	if (vouch_pcrs_set_values(req, vals, vals_len) < 0) {
		pre->name = "pcr_values";
		pre->status = -EBADMSG;
		snprintf(pre->detail, sizeof(pre->detail), "'%s' holds %zu bytes, not the values of %s",
			 a->valp, vals_len, a->sel);
	}
	*flags |= VOUCH_ATTEST_PCRS_HAVE_VALUES;
	a->evp = a->msgp;
	return 0;
}

/* What the evidence is checked against: --reference, --trust, --state.  0 or EXIT_ERROR. */
static int verify_against(vouch_ctx *ctx, const struct verify_args *a,
			  vouch_attest_reference **refv, vouch_trust **trustv,
			  struct vouch_attest_state *st_in)
{
	int r = 0;

	if (a->ref)
		r = vouch_attest_reference_load(ctx, a->ref, refv);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	if (a->trust && cli_load_trust(ctx, &a->trust, 1, NULL, trustv))
		return EXIT_ERROR;
	if (a->state)
		r = vouch_attest_state_load(ctx, a->state, st_in);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	return 0;
}

/*
 * The report: the CLI's own input check first (@pre, when named), then the library's
 * checks; text or the library's verdict document with the evidence path and the events.
 */
static int verify_report(vouch_ctx *ctx, const struct verify_args *a,
			 const struct vouch_evidence *ev, const struct vouch_attest_result *res,
			 const struct vouch_attest_check *pre, int verdict)
{
	_cleanup_free_ struct vouch_attest_check *chk = calloc(res->n_checks + 1, sizeof(*chk));
	size_t n = 0;

	if (!chk)
		return -1;
	if (pre->name)
		chk[n++] = *pre;
	memcpy(chk + n, res->checks, res->n_checks * sizeof(*chk));
	n += res->n_checks;
	if (a->json) {
		_cleanup_free_ struct vouch_attest_result *all = malloc(sizeof(*all));
		_cleanup_free_ char *text = NULL;
		_cleanup_(json_object_putp) json_object *o2 = NULL;
		int r;

		if (!all || n > VOUCH_ATTEST_MAX_CHECKS) {
			cli_error("'%s': %s", a->evp, all ? "too many checks to report" : "out of memory");
			return -1;
		}
		*all = *res;
		memcpy(all->checks, chk, n * sizeof(*chk));
		all->n_checks = n;
		r = vouch_attest_result_to_json(ctx, all, &text);
		if (r < 0 || !(o2 = json_tokener_parse(text))) {
			cli_lib_error(ctx, r < 0 ? r : -ENOMEM, a->evp);
			return -1;
		}
		json_object_object_add(o2, "evidence", json_object_new_string(a->evp));
		json_object_object_add(o2, "eventlog_events",
				       eventlog_json(ctx, ev, res, verdict == EXIT_OK));
		cli_json_print(o2);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%-5s %-14s %s\n", status_word(chk[i].status), chk[i].name,
			       chk[i].detail);
		printf("%s: %s\n", a->evp, verdict == EXIT_OK ? "trusted" :
			verdict == EXIT_UNTRUSTED ? "NOT trusted" : "could not check");
	}
	for (size_t i = 0; i < n; i++)
		if (chk[i].status < 0) {
			cli_error("'%s': %s: %s", a->evp, chk[i].name, chk[i].detail);
			break;
		}
	return 0;
}

static int attest_verify(int argc, char **argv)
{
	const char *cmd = "attest verify";
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_ak_freep) vouch_ak *ak = NULL;
	_cleanup_(vouch_evidence_freep) struct vouch_evidence *ev = NULL;
	_cleanup_free_ struct vouch_pcrs *req = calloc(1, sizeof(*req));
	_cleanup_(vouch_attest_result_freep) struct vouch_attest_result *res = NULL;
	_cleanup_(vouch_attest_reference_freep) vouch_attest_reference *refv = NULL;
	_cleanup_(vouch_trust_freep) vouch_trust *trustv = NULL;
	_cleanup_free_ struct vouch_attest_state *st_in = calloc(1, sizeof(*st_in));
	struct vouch_attest_verify_options o = VOUCH_ATTEST_VERIFY_OPTIONS_INIT;
	struct vouch_attest_check pre = { 0 }; /* a --pcr-values file of the wrong size */
	struct verify_args a = { 0 };
	int r, verdict;

	if (!req || !st_in)
		return EXIT_ERROR;
	r = verify_options(cmd, argc, argv, &a, req);
	if (r)
		return r;
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = vouch_ak_load(ctx, a.akp, &ak);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	r = verify_evidence(ctx, &a, req, &ev, &pre, &o.flags);
	if (r == 0)
		r = verify_against(ctx, &a, &refv, &trustv, st_in);
	if (r)
		return r;
	if (a.require_sigs)
		o.flags |= VOUCH_ATTEST_REQUIRE_SIGS;
	if (a.require_tpm_ak)
		o.flags |= VOUCH_ATTEST_REQUIRE_AK_PUBLIC_AREA;
	o.ak = ak;
	o.ak_label = a.akp;
	o.nonce = a.nonce;
	o.nonce_len = a.nonce_len;
	o.pcrs = req;
	o.allowed_hashes = a.allowed;
	o.reference = refv;
	o.trust = trustv;
	o.state = a.state ? st_in : NULL;
	o.state_label = a.state;
	r = vouch_attest_verify(ctx, &o, ev, &res);
	if (!res) {
		cli_lib_error(ctx, r, a.evp);
		return EXIT_ERROR;
	}
	/* the library's verdict; the CLI's own failed input check (a verdict) comes on top */
	verdict = cli_exit_for(r);
	if (pre.name && verdict == EXIT_OK)
		verdict = EXIT_UNTRUSTED;
	if (verify_report(ctx, &a, ev, res, &pre, verdict) < 0)
		return EXIT_ERROR;
	/* remember what is now verified: the next evidence only carries new entries */
	if (a.state && verdict == EXIT_OK && res->state.valid) {
		r = vouch_attest_state_save(ctx, a.state, &res->state);
		if (r < 0) {
			cli_lib_error(ctx, r, a.state);
			verdict = EXIT_ERROR;
		}
	}
	return verdict;
}

static const struct command attest_commands[] = {
	{ "quote", attest_quote, 0,
	  "Quote PCRs with the AK and write one evidence file with the quote, the PCR values, the "
	  "IMA list and the firmware event log",
	  "attest quote [--tcti T] [--handle H] --nonce HEX --pcrs sha256:0-10 [--ima FILE|--no-ima] "
	  "[--from-entry N] [--eventlog FILE|--no-eventlog] --out EVIDENCE" },
	{ "verify", attest_verify, 0,
	  "Verify evidence: every quote check, the event log replay, the IMA list; exit 0 trusted, "
	  "1 not trusted, 3 could not check",
	  "attest verify --ak AK --nonce HEX [--pcrs SEL] [--reference REF.json] [-t TRUST] "
	  "[--require-sigs] [--require-tpm-ak] [--state FILE] [--json] [--allow-hash ALGO]... "
	  "EVIDENCE | --message MSG --signature SIG --pcr-values FILE --pcrs SEL" },
};

CLI_FAMILY(cmd_attest, "attest", attest_commands)
