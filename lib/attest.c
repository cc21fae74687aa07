// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Attestation verification in one fail-closed call: the quote (quote.c), the firmware event
 * log (eventlog.c) and the measurement list (log.c): the list, or its entries from N on
 * continuing a remembered state, must replay to the quoted PCR 10 (a prefix may: the rest is
 * the uncovered tail); template digests, boot_aggregate, reference values and signatures are
 * checked over the attested prefix.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "internal.h"
#include "quote-internal.h"
#include "json-internal.h"
#include "reference-internal.h"
#include "log-internal.h"
#include "vouch/attest.h"
#include "vouch/eventlog.h"
#include "vouch/log.h"

#define ATTEST_JSON_MAX REFERENCE_JSON_MAX

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_reader *, attest_reader_freep, vouch_log_reader_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_sig_cache *, attest_cache_freep, vouch_sig_cache_free)

struct vouch_attest_reference {
	json_object *root;
	json_object *files;
	json_object *exclude;
	json_object *keyrings; /* version 2: keyring name -> digests of keys (ima-buf entries) */
	json_object *ima_buf;  /* version 2: buffer name -> allowed digests */
};

static bool is_string(json_object *o)
{
	return json_object_is_type(o, json_type_string);
}

/* --- reference values ----------------------------------------------------------------- */

VOUCH_EXPORT void vouch_attest_reference_free(vouch_attest_reference *ref)
{
	if (!ref)
		return;
	json_object_put(ref->root);
	free(ref);
}

VOUCH_EXPORT int vouch_attest_reference_parse(vouch_ctx *ctx, const char *json, size_t len,
					      vouch_attest_reference **ret_ref)
{
	_cleanup_(json_putp) json_object *root = NULL;
	json_object *files = NULL, *exclude = NULL, *keyrings = NULL, *ima_buf = NULL;
	vouch_attest_reference *ref;
	int r;

	if (!ctx || (!json && len) || !ret_ref)
		return -EINVAL;
	/* version 1 or 2 (include/vouch/reference.h), the id checked when there is one */
	r = reference_parse_root(ctx, json, len, ATTEST_JSON_MAX, &root);
	if (r < 0)
		return r;
	json_object_object_get_ex(root, "files", &files);
	json_object_object_get_ex(root, "exclude", &exclude);
	json_object_object_get_ex(root, "keyrings", &keyrings);
	json_object_object_get_ex(root, "ima-buf", &ima_buf);
	ref = mem_zalloc(sizeof(*ref));
	if (!ref)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	ref->files = files;
	ref->exclude = exclude;
	ref->keyrings = keyrings;
	ref->ima_buf = ima_buf;
	ref->root = root;
	root = NULL;
	*ret_ref = ref;
	return 0;
}

static int parse_attest_reference(vouch_ctx *ctx, const char *text, size_t len, void *ret)
{
	return vouch_attest_reference_parse(ctx, text, len, ret);
}

VOUCH_EXPORT int vouch_attest_reference_load(vouch_ctx *ctx, const char *path,
					     vouch_attest_reference **ret_ref)
{
	if (!ctx || !path || !ret_ref)
		return -EINVAL;
	return load_file_parsed(ctx, path, ATTEST_JSON_MAX, "vouch-reference document",
				parse_attest_reference, ret_ref);
}

static bool excluded(const vouch_attest_reference *ref, const char *name)
{
	size_t n = ref->exclude ? json_object_array_length(ref->exclude) : 0;

	for (size_t i = 0; i < n; i++) {
		const char *pat = json_object_get_string(json_object_array_get_idx(ref->exclude, i));
		size_t len = pat ? strlen(pat) : 0;

		if (!len)
			continue;
		if (pat[len - 1] == '/' ? !strncmp(name, pat, len) : !fnmatch(pat, name, 0))
			return true;
	}
	return false;
}

VOUCH_EXPORT int vouch_attest_reference_check(const vouch_attest_reference *ref, const char *name,
					      const struct vouch_digest *d)
{
	char want[16 + 2 * VOUCH_HASH_MAX_SIZE + 2];
	json_object *list;
	size_t n;

	if (!ref || !name || !d || !vouch_hash_info(d->algo))
		return -EINVAL;
	if (excluded(ref, name))
		return 1;
	if (!json_object_object_get_ex(ref->files, name, &list) &&
	    !(ref->keyrings && json_object_object_get_ex(ref->keyrings, name, &list)) &&
	    !(ref->ima_buf && json_object_object_get_ex(ref->ima_buf, name, &list)))
		return -ENOENT;
	snprintf(want, sizeof(want), "%s:", vouch_hash_info(d->algo)->name);
	vouch_digest_to_hex(d, want + strlen(want), sizeof(want) - strlen(want));
	if (is_string(list))
		return strcasecmp(json_object_get_string(list), want) ? -EKEYREJECTED : 0;
	n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(list, i), *ds, *until;

		if (is_string(e)) {
			if (!strcasecmp(json_object_get_string(e), want))
				return 0;
			continue;
		}
		/* version 2: an entry with its origin; one past its window allows nothing */
		if (json_object_object_get_ex(e, "until", &until) &&
		    json_object_get_int64(until) < (int64_t)time(NULL))
			continue;
		if (!json_object_object_get_ex(e, "digests", &ds))
			continue;
		for (size_t k = 0; k < json_object_array_length(ds); k++)
			if (!strcasecmp(json_object_get_string(json_object_array_get_idx(ds, k)), want))
				return 0;
	}
	return -EKEYREJECTED;
}

/* --- incremental state ------------------------------------------------------------------ */

VOUCH_EXPORT int vouch_attest_state_parse(vouch_ctx *ctx, const char *json, size_t len,
					  struct vouch_attest_state *ret_state)
{
	_cleanup_(json_putp) json_object *root = NULL;
	_cleanup_free_ struct vouch_attest_state *st = NULL;
	json_object *v, *ak, *pcrs, *ver;
	char why[256];
	int r;

	if (!ctx || (!json && len) || !ret_state)
		return -EINVAL;
	st = mem_zalloc(sizeof(*st));
	if (!st)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	r = json_parse_object(json, len, ATTEST_JSON_MAX, 32, &root, why, sizeof(why));
	if (r == -ENOMEM)
		return ctx_err(ctx, r, "out of memory");
	if (r < 0)
		return ctx_err(ctx, -EBADMSG, "not strict JSON: %s", why);
	if (!json_object_object_get_ex(root, "format", &v) || !is_string(v) ||
	    strcmp(json_object_get_string(v), "vouch-attest-state") != 0 ||
	    !json_object_object_get_ex(root, "ak", &ak) || !is_string(ak) ||
	    json_object_get_string_len(ak) != 64 ||
	    !json_object_object_get_ex(root, "entries", &v) ||
	    !json_object_object_get_ex(root, "pcrs", &pcrs) ||
	    !json_object_is_type(pcrs, json_type_object))
		return ctx_err(ctx, -EBADMSG, "not a vouch attestation state");
	/* a state of another version may mean something else by the same keys: refused */
	if (!json_object_object_get_ex(root, "version", &ver) ||
	    !json_object_is_type(ver, json_type_int) || json_object_get_int64(ver) != 1)
		return ctx_err(ctx, -EBADMSG, "not a version 1 vouch attestation state");
	json_object_object_foreach(root, member, unused)
	{
		(void)unused;
		if (strcmp(member, "format") && strcmp(member, "version") && strcmp(member, "ak") &&
		    strcmp(member, "entries") && strcmp(member, "pcrs"))
			return ctx_err(ctx, -EBADMSG, "unknown member '%.32s' in the state", member);
	}
	/* written from a uint64_t through int64_t */
	r = json_get_uint(v, INT64_MAX, &st->entries);
	if (r < 0)
		return ctx_err(ctx, -EBADMSG, "entries %s",
			       r == -ERANGE ? "out of range" : "is not an integer");
	memcpy(st->ak, json_object_get_string(ak), 64);
	json_object_object_foreach(pcrs, bank, vals)
	{
		int algo = vouch_hash_by_name(bank);
		struct vouch_pcrs_bank *b;

		if (algo < 0 || st->pcrs.n_banks == VOUCH_PCR_MAX_BANKS ||
		    !json_object_is_type(vals, json_type_object))
			return ctx_err(ctx, -EBADMSG, "bad bank '%.32s'", bank);
		for (uint32_t k = 0; k < st->pcrs.n_banks; k++)
			if (st->pcrs.banks[k].algo == algo)
				return ctx_err(ctx, -EBADMSG, "bank '%.32s' given twice", bank);
		b = &st->pcrs.banks[st->pcrs.n_banks++];
		b->algo = algo;
		json_object_object_foreach(vals, key, hex)
		{
			size_t sz = vouch_hash_info(algo)->size, got = 0;
			uint32_t pcr;

			if (parse_u32(key, &pcr) < 0 || pcr >= VOUCH_PCR_COUNT || (key[0] == '0' && key[1]))
				return ctx_err(ctx, -EBADMSG, "bad PCR index '%.32s'", key);
			if (!is_string(hex) ||
			    (size_t)json_object_get_string_len(hex) != 2 * sz ||
			    hex_decode(json_object_get_string(hex), 2 * sz, b->values[pcr],
				       sizeof(b->values[pcr]), &got) < 0 ||
			    got != sz)
				return ctx_err(ctx, -EBADMSG, "bad PCR value");
			b->mask |= 1U << pcr;
		}
	}
	st->valid = true;
	*ret_state = *st;
	return 0;
}

VOUCH_EXPORT int vouch_attest_state_load(vouch_ctx *ctx, const char *path,
					 struct vouch_attest_state *ret_state)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	if (!ctx || !path || !ret_state)
		return -EINVAL;
	r = read_file_all(ctx, path, ATTEST_JSON_MAX, &buf, &len);
	if (r == -ENOENT) {
		memset(ret_state, 0, sizeof(*ret_state)); /* the first round */
		return 0;
	}
	if (r < 0)
		return r;
	r = vouch_attest_state_parse(ctx, (const char *)buf, len, ret_state);
	if (r == -EBADMSG)
		return ctx_err(ctx, r, "'%s' is not a vouch attestation state: %s", path,
			       vouch_ctx_last_error(ctx));
	return r;
}

static json_object *pcrs_json(const struct vouch_pcrs *p)
{
	json_object *o = json_object_new_object();

	for (uint32_t b = 0; o && b < p->n_banks; b++) {
		const struct vouch_hash_info *hi = vouch_hash_info(p->banks[b].algo);
		json_object *bank = json_object_new_object();

		if (!hi || !bank) {
			json_object_put(bank);
			json_object_put(o);
			return NULL;
		}
		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++) {
			char key[4], hex[2 * VOUCH_HASH_MAX_SIZE + 1];

			if (!(p->banks[b].mask & (1U << i)))
				continue;
			snprintf(key, sizeof(key), "%u", i);
			hex_encode(p->banks[b].values[i], hi->size, hex);
			json_object_object_add(bank, key, json_object_new_string(hex));
		}
		json_object_object_add(o, hi->name, bank);
	}
	return o;
}

static int state_format(vouch_ctx *ctx, const struct vouch_attest_state *st, int flags,
			char **ret_text)
{
	_cleanup_(json_putp) json_object *root = NULL;
	json_object *pcrs;
	const char *s;
	char *text;

	root = json_object_new_object();
	pcrs = pcrs_json(&st->pcrs);
	if (!root || !pcrs) {
		json_object_put(pcrs);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	json_object_object_add(root, "format", json_object_new_string("vouch-attest-state"));
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "ak", json_object_new_string(st->ak));
	json_object_object_add(root, "entries", json_object_new_int64((int64_t)st->entries));
	json_object_object_add(root, "pcrs", pcrs);
	s = json_object_to_json_string_ext(root, flags);
	if (!s || asprintf(&text, "%s\n", s) < 0)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	*ret_text = text;
	return 0;
}

VOUCH_EXPORT int vouch_attest_state_format(vouch_ctx *ctx, const struct vouch_attest_state *st,
					   char **ret_json)
{
	if (!ctx || !st || !ret_json || !st->valid || strnlen(st->ak, sizeof(st->ak)) != 64)
		return -EINVAL;
	return state_format(ctx, st, JSON_C_TO_STRING_PLAIN, ret_json);
}

VOUCH_EXPORT int vouch_attest_state_save(vouch_ctx *ctx, const char *path,
					 const struct vouch_attest_state *st)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (!ctx || !path || !st || !st->valid || strnlen(st->ak, sizeof(st->ak)) != 64)
		return -EINVAL;
	r = state_format(ctx, st, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED, &text);
	if (r < 0)
		return r;
	return write_file_atomic(ctx, path, text, strlen(text), 0644);
}

static json_object *hex_json(const uint8_t *buf, size_t len)
{
	_cleanup_free_ char *s = malloc(2 * len + 1);

	if (!s)
		return NULL;
	hex_encode(buf, len, s);
	s[2 * len] = '\0';
	return json_object_new_string(s);
}

VOUCH_EXPORT int vouch_attest_result_to_json(vouch_ctx *ctx, const struct vouch_attest_result *res,
					     char **ret_json)
{
	_cleanup_(json_putp) json_object *o = NULL;
	json_object *arr, *first = NULL, *q;
	const struct vouch_quote_result *qr;
	int worst = 0;
	const char *s;
	char *text;

	if (!ctx || !res || !ret_json || res->n_checks > VOUCH_ATTEST_MAX_CHECKS)
		return -EINVAL;
	for (size_t i = 0; i < res->n_checks; i++) {
		int st = res->checks[i].status;

		if (st < 0 && !vouch_error_is_verdict(st))
			worst = 2;
		else if (st < 0 && worst == 0)
			worst = 1;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	q = json_object_new_object();
	if (!o || !arr || !q) {
		json_object_put(arr);
		json_object_put(q);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	json_object_object_add(o, "verdict",
			       json_object_new_string(worst == 0   ? "trusted"
						      : worst == 1 ? "untrusted"
								   : "error"));
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct vouch_attest_check *c = &res->checks[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "check", json_object_new_string(c->name));
		json_object_object_add(e, "result",
				       json_object_new_string(c->status == 0  ? "pass"
							      : c->status > 0 ? "not_applicable"
									      : "fail"));
		json_object_object_add(e, "detail", json_object_new_string(c->detail));
		if (c->status < 0 && !first) {
			first = json_object_new_object();
			json_object_object_add(first, "check", json_object_new_string(c->name));
			json_object_object_add(first, "detail", json_object_new_string(c->detail));
		}
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "checks", arr);
	json_object_object_add(o, "ak_attributes_verified",
			       json_object_new_boolean(res->ak_attributes_verified));
	json_object_object_add(o, "unverified_entries", json_object_new_int64((int64_t)res->unverified));
	json_object_object_add(o, "first_failure", first ? first : json_object_new_null());
	qr = &res->quote;
	if (qr->parsed) {
		json_object_object_add(q, "clock", json_object_new_int64((int64_t)qr->clock));
		json_object_object_add(q, "reset_count", json_object_new_int64(qr->reset_count));
		json_object_object_add(q, "restart_count", json_object_new_int64(qr->restart_count));
		json_object_object_add(q, "safe", json_object_new_boolean(qr->safe));
		json_object_object_add(q, "qualified_signer",
				       hex_json(qr->qualified_signer, qr->qualified_signer_len));
		json_object_object_add(q, "pcrs", pcrs_json(&res->pcrs));
	}
	json_object_object_add(o, "quote", q);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (!s || !(text = strdup(s)))
		return ctx_err(ctx, -ENOMEM, "out of memory");
	*ret_json = text;
	return 0;
}

/* --- checks ----------------------------------------------------------------------------- */

PRINTF_FMT(4, 5)
static void add_check(struct vouch_attest_result *res, const char *name, int status,
		      const char *fmt, ...)
{
	struct vouch_attest_check *c;
	va_list ap;

	if (res->n_checks == VOUCH_ATTEST_MAX_CHECKS)
		return;
	c = &res->checks[res->n_checks++];
	c->name = name;
	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* Values for the requested selection from the evidence; PCRs it lacks stay zero. */
static void fill_values(const struct vouch_evidence *ev, struct vouch_pcrs *req,
			struct vouch_attest_result *res)
{
	char missing[64] = "";
	int n_missing = 0;

	for (uint32_t b = 0; b < req->n_banks; b++) {
		const struct vouch_pcrs_bank *src = NULL;

		for (uint32_t k = 0; k < ev->pcrs.n_banks; k++)
			if (ev->pcrs.banks[k].algo == req->banks[b].algo)
				src = &ev->pcrs.banks[k];
		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++) {
			if (!(req->banks[b].mask & (1U << i)))
				continue;
			if (src && (src->mask & (1U << i)))
				memcpy(req->banks[b].values[i], src->values[i], VOUCH_HASH_MAX_SIZE);
			else if (n_missing++ == 0)
				snprintf(missing, sizeof(missing), "%s:%u",
					 vouch_hash_info(req->banks[b].algo)->name, i);
		}
	}
	if (n_missing)
		add_check(res, "pcr_values", -EBADMSG,
			  "the evidence lacks the value of requested PCR %s", missing);
}

static void check_eventlog(vouch_ctx *ctx, const struct vouch_evidence *ev,
			   const struct vouch_pcrs *quoted, struct vouch_attest_result *res)
{
	_cleanup_free_ struct vouch_pcrs *rp = NULL;
	struct vouch_eventlog_info info;
	uint32_t covered = 0;
	int r;

	if (!ev->eventlog) {
		add_check(res, "eventlog", 1, "no firmware event log in the evidence");
		return;
	}
	rp = mem_zalloc(sizeof(*rp));
	if (!rp) {
		add_check(res, "eventlog", -ENOMEM, "out of memory");
		return;
	}
	rp->n_banks = quoted->n_banks;
	for (uint32_t b = 0; b < quoted->n_banks; b++)
		rp->banks[b].algo = quoted->banks[b].algo;
	r = vouch_eventlog_replay(ctx, ev->eventlog, ev->eventlog_len, rp, &info);
	if (r < 0) {
		add_check(res, "eventlog", r == -ENODATA ? -EKEYREJECTED : r, "%s",
			  vouch_ctx_last_error(ctx));
		return;
	}
	for (uint32_t b = 0; b < quoted->n_banks; b++) {
		size_t sz = vouch_hash_info(quoted->banks[b].algo)->size;

		for (unsigned i = 0; i <= 9; i++) {
			if (!(quoted->banks[b].mask & (1U << i)))
				continue;
			covered |= 1U << i;
			if (CRYPTO_memcmp(rp->banks[b].values[i], quoted->banks[b].values[i], sz)) {
				add_check(res, "eventlog", -EKEYREJECTED,
					  "the firmware event log (%u events) does not replay to "
					  "quoted %s PCR %u",
					  info.n_events, vouch_hash_info(quoted->banks[b].algo)->name, i);
				return;
			}
		}
	}
	if (!covered)
		add_check(res, "eventlog", 1,
			  "no PCR 0-9 quoted: the firmware event log is not attested");
	else
		add_check(res, "eventlog", 0, "%u events replay to the quoted PCRs (mask 0x%03x)%s",
			  info.n_events, covered,
			  info.startup_locality ? ", startup locality honoured" : "");
}

/* --- the measurement list ---------------------------------------------------------------- */

#define MODES 2 /* hashed, zero-padded SHA-1 (the kernel could not use the bank's hash) */

struct run {
	struct vouch_pcrs pcrs[MODES];
	bool matched;
	uint64_t matched_at;	     /* entries of this evidence list */
	struct vouch_pcrs at[MODES]; /* values when matched */
	int mode[VOUCH_PCR_MAX_BANKS]; /* per bank: the mode that matched */
	uint32_t watch[VOUCH_PCR_MAX_BANKS]; /* per bank: PCRs compared with the quote */
};

static int extend(vouch_ctx *ctx, struct vouch_pcrs_bank *b, uint32_t pcr, const uint8_t *dig)
{
	size_t sz = vouch_hash_info(b->algo)->size;
	uint8_t buf[2 * VOUCH_HASH_MAX_SIZE];
	struct vouch_digest d;
	int r;

	if (pcr >= VOUCH_PCR_COUNT)
		return ctx_err(ctx, -EBADMSG, "PCR %u out of range", pcr);
	memcpy(buf, b->values[pcr], sz);
	memcpy(buf + sz, dig, sz);
	r = vouch_digest_buf(ctx, b->algo, buf, 2 * sz, &d);
	if (r < 0)
		return r;
	memcpy(b->values[pcr], d.bytes, sz);
	b->mask |= 1U << pcr;
	return 0;
}

static void note_bad(struct vouch_attest_result *res, uint64_t entry)
{
	if (!res->first_bad_entry || entry < res->first_bad_entry)
		res->first_bad_entry = entry;
}

static int boot_aggregate(vouch_ctx *ctx, const struct vouch_pcrs *q,
			  const struct vouch_log_entry *e, char *why, size_t size)
{
	struct vouch_digest d, want;
	int boot = -ENODATA;

	if (vouch_log_entry_digest(e, &d, NULL) != 0)
		return boot;
	{
		struct vouch_pcr_bank pb = { .algo = d.algo };
		int last = d.algo == VOUCH_HASH_SHA1 ? 7 : 9;
		const char *hn = vouch_hash_info(d.algo)->name;

		for (uint32_t b = 0; b < q->n_banks; b++)
			if (q->banks[b].algo == d.algo) {
				pb.present = q->banks[b].mask;
				memcpy(pb.pcr, q->banks[b].values, sizeof(pb.pcr));
			}
		if (vouch_log_boot_aggregate(ctx, &pb, &want) == 0)
			boot = want.len == d.len && !CRYPTO_memcmp(want.bytes, d.bytes, d.len)
				       ? 0
				       : -EKEYREJECTED;
		snprintf(why, size, "%s the quoted %s PCRs 0-%d",
			 boot == 0	   ? "matches"
			 : boot == -ENODATA ? "the quote does not cover"
					    : "does not match",
			 hn, last);
	}
	return boot;
}

/* "PCR 10" or "PCRs 10,11" */
static void pcr_list(uint32_t mask, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "PCR%s ", __builtin_popcount(mask) > 1 ? "s" : "");

	for (unsigned p = 0, first = 1; p < VOUCH_PCR_COUNT && n < size; p++)
		if (mask >> p & 1) {
			n += (size_t)snprintf(buf + n, size - n, "%s%u", first ? "" : ",", p);
			first = 0;
		}
}

/* Whether every watched PCR of every bank equals the quote (in some mode per bank). */
static bool run_matches(struct run *run, const struct vouch_pcrs *q, int *modes)
{
	for (uint32_t b = 0; b < q->n_banks; b++) {
		size_t sz = vouch_hash_info(q->banks[b].algo)->size;
		bool any = false;

		if (!run->watch[b])
			continue;
		for (int m = MODES - 1; m >= 0; m--) {
			bool all = true;

			for (unsigned p = 0; p < VOUCH_PCR_COUNT; p++)
				if ((run->watch[b] >> p & 1) &&
				    CRYPTO_memcmp(run->pcrs[m].banks[b].values[p], q->banks[b].values[p],
						  sz))
					all = false;
			if (all) {
				any = true;
				modes[b] = m; /* hashed preferred: it is tried last */
			}
		}
		if (!any)
			return false;
	}
	return true;
}

/* One entry of the attested prefix against the reference values and the signatures. */
struct judge {
	uint64_t ref_bad, sig_bad, sig_ok, unsigned_files, buffers, unverified;
	char ref_why[600], sig_why[400];
};

static void ref_fail(struct judge *j, struct vouch_attest_result *res, uint64_t n,
		     const char *name, const char *why)
{
	if (j->ref_bad++)
		return;
	note_bad(res, n);
	snprintf(j->ref_why, sizeof(j->ref_why), "entry %llu '%.300s': %.200s", (unsigned long long)n,
		 name, why);
}

static void sig_fail(struct judge *j, struct vouch_attest_result *res, uint64_t n,
		     const char *name, const char *why)
{
	if (j->sig_bad++)
		return;
	note_bad(res, n);
	snprintf(j->sig_why, sizeof(j->sig_why), "entry %llu '%.120s': %.200s", (unsigned long long)n,
		 name, why);
}

static int judge_entry(vouch_ctx *ctx, const struct vouch_attest_verify_options *o,
		       vouch_sig_cache *cache, const struct vouch_log_entry *e, uint64_t n,
		       bool bound, struct judge *j, struct vouch_attest_result *res)
{
	const vouch_attest_reference *ref = o->reference;
	bool require = o->flags & VOUCH_ATTEST_REQUIRE_SIGS;
	char name[4096], why[200] = "";
	struct vouch_digest d;
	int kind, r;

	if (vouch_log_entry_name(e, name, sizeof(name)) < 0)
		name[0] = '\0';
	if (!bound) {
		/* extended into a PCR the quote does not cover: not attested */
		char msg[120];

		j->unverified++;
		snprintf(msg, sizeof(msg), "extended into PCR %u, which is not quoted: not attested",
			 e->pcr);
		if (ref && !excluded(ref, name))
			ref_fail(j, res, n, name, msg);
		if (require)
			sig_fail(j, res, n, name, msg);
		return 0;
	}
	/* what the entry is comes from its fields, never from its (unbound) template name */
	kind = log_entry_kind(ctx, e, why, sizeof(why));
	if (ref) {
		if (kind == LOG_KIND_UNACCEPTABLE)
			ref_fail(j, res, n, name, why);
		else if (vouch_log_entry_digest(e, &d, NULL) == 0) {
			int k = vouch_attest_reference_check(ref, name, &d);

			if (k < 0)
				ref_fail(j, res, n, name,
					 k == -ENOENT ? "not in the reference values"
						      : "digest not in the reference values");
		} else if (!excluded(ref, name)) {
			ref_fail(j, res, n, name, "no file digest");
		}
	}
	if (!o->trust)
		return 0;
	if (kind == LOG_KIND_BUFFER) {
		j->buffers++;
	} else if (kind == LOG_KIND_UNACCEPTABLE) {
		sig_fail(j, res, n, name, why);
	} else {
		int verdict = VOUCH_LOG_SIG_NONE;

		r = vouch_log_entry_verify_sig(ctx, o->trust, cache, e, &verdict);
		if (r < 0)
			return r;
		if (verdict == VOUCH_LOG_SIG_VERIFIED)
			j->sig_ok++;
		else if (verdict == VOUCH_LOG_SIG_NONE && !require)
			j->unsigned_files++;
		else {
			snprintf(why, sizeof(why), "signature %s", vouch_log_sig_verdict_name(verdict));
			sig_fail(j, res, n, name, why);
		}
	}
	return 0;
}

static void check_ima(vouch_ctx *ctx, const struct vouch_attest_verify_options *o,
		      const struct vouch_evidence *ev, const struct vouch_pcrs *q,
		      const struct vouch_attest_state *state_in, struct vouch_attest_result *res)
{
	_cleanup_(attest_reader_freep) vouch_log_reader *reader = NULL;
	_cleanup_(attest_cache_freep) vouch_sig_cache *cache = NULL;
	_cleanup_free_ struct run *run = NULL;
	_cleanup_free_ struct judge *j = NULL;
	const vouch_attest_reference *ref = o->reference;
	struct vouch_log_entry e;
	uint64_t entries = 0, violations = 0, bad_tmpl = 0, first_tmpl = 0;
	uint64_t base = ev->ima_from_entry;
	uint32_t named = 0, attested = 0, unexplained = 0;
	char boot_why[300] = "", pcrs[80];
	int boot = 1, r;
	bool has10 = false, padded = false;

	if (!ev->ima_list) {
		add_check(res, "ima_list", 1, "no IMA measurement list in the evidence");
		if (o->reference || o->trust)
			add_check(res, "reference", -EPERM,
				  "--reference/--trust given but the evidence has no IMA list");
		return;
	}
	run = mem_zalloc(sizeof(*run));
	j = mem_zalloc(sizeof(*j));
	if (!run || !j) {
		add_check(res, "ima_list", -ENOMEM, "out of memory");
		return;
	}
	for (uint32_t b = 0; b < q->n_banks; b++)
		has10 |= (q->banks[b].mask >> 10) & 1;
	if (!has10) {
		add_check(res, "ima_list", -EPERM,
			  "PCR 10 is not in the quoted selection: the list is not attested");
		return;
	}
	/* starting point: zero, or the state the previous round verified */
	for (int m = 0; m < MODES; m++) {
		run->pcrs[m].n_banks = q->n_banks;
		for (uint32_t b = 0; b < q->n_banks; b++)
			run->pcrs[m].banks[b].algo = q->banks[b].algo;
	}
	if (base) {
		if (!state_in || !state_in->valid) {
			add_check(res, "ima_list", -EPERM,
				  "the evidence starts at entry %llu but there is no --state of the "
				  "entries before it",
				  (unsigned long long)base);
			return;
		}
		if (state_in->entries != base) {
			add_check(res, "ima_list", -EPERM,
				  "the evidence starts at entry %llu but %llu entries were verified "
				  "before",
				  (unsigned long long)base, (unsigned long long)state_in->entries);
			return;
		}
		for (uint32_t b = 0; b < q->n_banks; b++) {
			const struct vouch_pcrs_bank *sb = NULL;

			for (uint32_t k = 0; k < state_in->pcrs.n_banks; k++)
				if (state_in->pcrs.banks[k].algo == q->banks[b].algo)
					sb = &state_in->pcrs.banks[k];
			if (!sb) {
				add_check(res, "ima_list", -EPERM, "the state has no %s bank",
					  vouch_hash_info(q->banks[b].algo)->name);
				return;
			}
			for (int m = 0; m < MODES; m++)
				run->pcrs[m].banks[b] = *sb;
			named |= sb->mask;
		}
	}
	if (o->trust) {
		/* sized for this list (an entry takes 48 bytes or more): the default 4096 slots
		 * are 2.4 MiB, zeroed and faulted in for every attestation of a few entries */
		size_t slots = ev->ima_list_len / 48;

		r = vouch_sig_cache_new(ctx, slots < 16 ? 16 : slots > 4096 ? 4096 : slots, &cache);
		if (r < 0) {
			add_check(res, "signatures", r, "%s", vouch_ctx_last_error(ctx));
			return;
		}
	}
	/*
	 * The PCRs the list is bound to: every quoted PCR an entry (or the state) was extended
	 * into, and every quoted PCR from 10 up, which only the list may explain (a quoted PCR 11
	 * whose entries were all deleted is not zero).  Entries of PCRs outside them are not
	 * attested.
	 */
	r = vouch_log_reader_new(ctx, ev->ima_list, ev->ima_list_len, NULL, &reader);
	while (r == 0 && (r = vouch_log_next(reader, &e)) > 0) {
		named |= 1U << e.pcr; /* the reader refuses PCRs >= VOUCH_PCR_COUNT */
		r = 0;
	}
	if (r < 0) {
		add_check(res, "ima_list", r, "%s", vouch_ctx_last_error(ctx));
		return;
	}
	for (uint32_t b = 0; b < q->n_banks; b++) {
		run->watch[b] = q->banks[b].mask & (named | ~0x3FFU);
		attested |= run->watch[b];
		unexplained |= q->banks[b].mask & ~named & ~0x7FFU;
	}
	vouch_log_reader_free(reader);
	reader = NULL;
	r = vouch_log_reader_new(ctx, ev->ima_list, ev->ima_list_len, NULL, &reader);
	/* a list that matches before any entry (nothing measured yet) */
	while (r == 0) {
		if (!run->matched && run_matches(run, q, run->mode)) {
			run->matched = true;
			run->matched_at = entries;
			memcpy(run->at, run->pcrs, sizeof(run->at));
		}
		r = vouch_log_next(reader, &e);
		if (r <= 0)
			break;
		r = 0;
		entries++;
		if (e.violation) {
			violations++;
		} else {
			struct vouch_digest t;

			if (vouch_log_template_digest(ctx, &e, VOUCH_HASH_SHA1, &t) < 0 ||
			    CRYPTO_memcmp(t.bytes, e.template_digest, 20) != 0) {
				if (!bad_tmpl++)
					first_tmpl = base + entries;
			}
		}
		for (int m = 0; m < MODES && r == 0; m++)
			for (uint32_t b = 0; b < q->n_banks && r == 0; b++) {
				struct vouch_digest d;

				r = vouch_log_extend_digest(ctx, &e, q->banks[b].algo,
							    m ? VOUCH_LOG_BANK_PADDED
							      : VOUCH_LOG_BANK_HASHED,
							    &d);
				if (r == 0)
					r = extend(ctx, &run->pcrs[m].banks[b], e.pcr, d.bytes);
			}
		if (r < 0)
			break;
		if (run->matched)
			continue; /* the uncovered tail: not attested, not judged */
		if (e.violation)
			continue;
		if (base + entries == 1 && log_entry_is_boot_aggregate(&e) && (attested >> e.pcr & 1))
			boot = boot_aggregate(ctx, q, &e, boot_why, sizeof(boot_why));
		else
			r = judge_entry(ctx, o, cache, &e, base + entries, attested >> e.pcr & 1, j,
					res);
		if (r < 0)
			break;
	}
	res->violations = violations;
	if (r < 0) {
		add_check(res, "ima_list", r, "%s", vouch_ctx_last_error(ctx));
		return;
	}
	for (uint32_t b = 0; b < q->n_banks; b++)
		padded |= run->watch[b] && run->mode[b];
	pcr_list(attested, pcrs, sizeof(pcrs));
	if (!run->matched) {
		add_check(res, "ima_list", -EKEYREJECTED,
			  "no prefix of the %llu entries%s replays to the quoted %s (altered, "
			  "deleted, or a list from another machine or boot)%s",
			  (unsigned long long)entries, base ? " after the verified state" : "", pcrs,
			  unexplained ? "; a quoted PCR above 10 that no entry extends must be zero"
				      : "");
	} else {
		res->ima_covered = true;
		res->covered_first = base + (run->matched_at ? 1 : 0);
		res->covered_last = base + run->matched_at;
		res->uncovered = entries - run->matched_at;
		res->unverified = j->unverified;
		add_check(res, "ima_list", 0,
			  "entries %llu-%llu replay to the quoted %s%s; uncovered tail: %llu "
			  "entries measured after the quote; %llu violations; %llu entries in "
			  "unquoted PCRs (not attested)",
			  (unsigned long long)res->covered_first,
			  (unsigned long long)res->covered_last, pcrs,
			  padded ? " (zero-padded SHA-1 bank)" : "",
			  (unsigned long long)res->uncovered, (unsigned long long)violations,
			  (unsigned long long)j->unverified);
		res->state.valid = true;
		res->state.entries = base + run->matched_at;
		/* per bank: the values of the mode that bank matched in */
		res->state.pcrs = run->at[0];
		for (uint32_t b = 0; b < q->n_banks; b++)
			res->state.pcrs.banks[b] = run->at[run->mode[b]].banks[b];
	}
	if (bad_tmpl) {
		note_bad(res, first_tmpl);
		add_check(res, "ima_templates", -EKEYREJECTED,
			  "%llu entries whose template digest does not match their data, the "
			  "first is entry %llu",
			  (unsigned long long)bad_tmpl, (unsigned long long)first_tmpl);
	} else {
		add_check(res, "ima_templates", 0, "every template digest matches its data");
	}
	if (base)
		add_check(res, "boot_aggregate", 1, "checked in the round that verified entry 1");
	else if (boot == 1)
		add_check(res, "boot_aggregate", -EKEYREJECTED,
			  "the list does not start with a boot_aggregate in a quoted PCR");
	else
		add_check(res, "boot_aggregate", boot == -ENODATA ? 1 : boot, "%s", boot_why);
	if (ref && j->ref_bad)
		add_check(res, "reference", -EKEYREJECTED, "%s (%llu entries in all)", j->ref_why,
			  (unsigned long long)j->ref_bad);
	else if (ref)
		add_check(res, "reference", 0, "every attested entry is allowed");
	if (o->trust && j->sig_bad)
		add_check(res, "signatures", -EKEYREJECTED, "%s (%llu in all; %llu verified)",
			  j->sig_why, (unsigned long long)j->sig_bad, (unsigned long long)j->sig_ok);
	else if (o->trust)
		add_check(res, "signatures", 0,
			  "%llu signatures verified, %llu files unsigned, %llu buffer events%s",
			  (unsigned long long)j->sig_ok, (unsigned long long)j->unsigned_files,
			  (unsigned long long)j->buffers,
			  (o->flags & VOUCH_ATTEST_REQUIRE_SIGS) ? " (signatures required)" : "");
}

/* --- the one call ------------------------------------------------------------------------- */

/*
 * Only a TPM public area says the AK is a restricted signing key (it signs nothing but
 * TPM-generated structures) and which scheme it uses; a PEM/DER public key may be any
 * software key.  Say so in every verdict, and fail on request.
 */
static void check_ak_attributes(const struct vouch_attest_verify_options *o,
				struct vouch_attest_result *res)
{
	const uint32_t restricted = 0x00010000U, decrypt = 0x00020000U, sign = 0x00040000U;
	const char *label = o->ak_label ? o->ak_label : "the AK";
	struct vouch_ak_info info;

	vouch_ak_get_info(o->ak, &info);
	if (!info.has_public_area) {
		add_check(res, "ak_attributes",
			  (o->flags & VOUCH_ATTEST_REQUIRE_AK_PUBLIC_AREA) ? -EPERM : 1,
			  "'%.200s' is a PEM/DER public key: its restricted/sign/decrypt attributes "
			  "and signing scheme are not verified (give its TPM2B_PUBLIC)",
			  label);
		return;
	}
	if ((info.attributes & (restricted | sign | decrypt)) != (restricted | sign)) {
		add_check(res, "ak_attributes", -EKEYREJECTED,
			  "'%.200s' is not a restricted signing key (attributes 0x%08x)", label,
			  info.attributes);
		return;
	}
	res->ak_attributes_verified = true;
	add_check(res, "ak_attributes", 0,
		  "restricted signing key, scheme 0x%04x (attributes 0x%08x, TPM public area)",
		  info.scheme, info.attributes);
}

VOUCH_EXPORT void vouch_attest_result_free(struct vouch_attest_result *res)
{
	free(res);
}

VOUCH_EXPORT int vouch_attest_verify(vouch_ctx *ctx, const struct vouch_attest_verify_options *o,
				     const struct vouch_evidence *ev,
				     struct vouch_attest_result **ret)
{
	struct vouch_quote_verify_options qo = VOUCH_QUOTE_VERIFY_OPTIONS_INIT;
	struct vouch_attest_result *res;
	const struct vouch_attest_state *state_in;
	int r, worst = 0;

	if (!ctx || !o || !ev || !ret || o->version != 1 || !o->ak || !o->nonce || !o->pcrs ||
	    (o->flags & ~(VOUCH_ATTEST_PCRS_HAVE_VALUES | VOUCH_ATTEST_REQUIRE_SIGS |
			   VOUCH_ATTEST_REQUIRE_AK_PUBLIC_AREA)) ||
	    ((o->flags & VOUCH_ATTEST_REQUIRE_SIGS) && !o->trust))
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(o->reserved); i++)
		if (o->reserved[i])
			return -EINVAL;
	res = mem_zalloc(sizeof(*res));
	if (!res)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	res->first_failure = -1;
	res->pcrs = *o->pcrs;
	if (!(o->flags & VOUCH_ATTEST_PCRS_HAVE_VALUES))
		fill_values(ev, &res->pcrs, res);

	qo.nonce = o->nonce;
	qo.nonce_len = o->nonce_len;
	qo.pcrs = &res->pcrs;
	qo.allowed_hashes = o->allowed_hashes;
	r = vouch_quote_verify(ctx, o->ak, ev->attest, ev->attest_len, ev->sig, ev->sig_len, &qo,
			       &res->quote);
	if (r < 0 && !vouch_error_is_verdict(r)) {
		free(res);
		return r;
	}
	for (int i = 0; i < _VOUCH_QUOTE_CHECK_MAX; i++)
		add_check(res, vouch_quote_check_name(i), res->quote.checks[i], "%s",
			  res->quote.detail[i]);
	check_ak_attributes(o, res);
	check_eventlog(ctx, ev, &res->pcrs, res);
	if (ev->ak_name) {
		struct vouch_ak_info info;

		vouch_ak_get_info(o->ak, &info);
		if (info.name_len && (info.name_len != ev->ak_name_len ||
				      CRYPTO_memcmp(info.name, ev->ak_name, info.name_len)))
			add_check(res, "ak_name", -EKEYREJECTED,
				  "the evidence names another attestation key than '%s'",
				  o->ak_label ? o->ak_label : "the AK");
	}
	state_in = o->state;
	snprintf(res->state.ak, sizeof(res->state.ak), "%s", ak_fingerprint(o->ak));
	if (state_in && state_in->valid && strcmp(state_in->ak, res->state.ak) != 0) {
		add_check(res, "state", -EPERM, "'%s' belongs to another attestation key",
			  o->state_label ? o->state_label : "the state");
		state_in = NULL;
	}
	check_ima(ctx, o, ev, &res->pcrs, state_in, res);

	for (size_t i = 0; i < res->n_checks; i++) {
		int s = res->checks[i].status;

		if (s >= 0)
			continue;
		if (res->first_failure < 0)
			res->first_failure = (int)i;
		if (!vouch_error_is_verdict(s) && (worst == 0 || vouch_error_is_verdict(worst)))
			worst = s;
		else if (worst == 0)
			worst = s;
	}
	*ret = res;
	return worst;
}
