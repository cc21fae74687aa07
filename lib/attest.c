// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Attestation verification in one fail-closed call: the quote (quote.c), the firmware event
 * log (eventlog.c) and the measurement list (log.c): the list, or its entries from N on
 * continuing a remembered state, must replay to the quoted PCR 10 (a prefix may: the rest is
 * the uncovered tail); template digests, boot_aggregate, reference values and signatures are
 * checked over the attested prefix.  The state kept between rounds is in attest-state.c.
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
#include "attest-internal.h"
#include "quote-internal.h"
#include "json-internal.h"
#include "reference-internal.h"
#include "log-internal.h"
#include "vouch/attest.h"
#include "vouch/eventlog.h"
#include "vouch/log.h"


struct vouch_attest_reference {
	json_object *root;
	json_object *files;
	json_object *exclude;
	json_object *keyrings; /* version 2: keyring name -> digests of keys (ima-buf entries) */
	json_object *ima_buf;  /* version 2: buffer name -> allowed digests */
};

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
		return -ECANCELED;
	if (!json_object_object_get_ex(ref->files, name, &list) &&
	    !(ref->keyrings && json_object_object_get_ex(ref->keyrings, name, &list)) &&
	    !(ref->ima_buf && json_object_object_get_ex(ref->ima_buf, name, &list)))
		return -ENOENT;
	snprintf(want, sizeof(want), "%s:", vouch_hash_info(d->algo)->name);
	vouch_digest_to_hex(d, want + strlen(want), sizeof(want) - strlen(want));
	if (json_is_string(list))
		return strcasecmp(json_object_get_string(list), want) ? -EKEYREJECTED : 0;
	n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(list, i), *ds, *until;

		if (json_is_string(e)) {
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
		const struct vouch_pcr_bank *src = NULL;

		for (uint32_t k = 0; k < ev->pcrs.n_banks; k++)
			if (ev->pcrs.banks[k].algo == req->banks[b].algo)
				src = &ev->pcrs.banks[k];
		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++) {
			if (!(req->banks[b].present & (1U << i)))
				continue;
			if (src && (src->present & (1U << i)))
				memcpy(req->banks[b].pcr[i], src->pcr[i], VOUCH_HASH_MAX_SIZE);
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
			if (!(quoted->banks[b].present & (1U << i)))
				continue;
			covered |= 1U << i;
			if (CRYPTO_memcmp(rp->banks[b].pcr[i], quoted->banks[b].pcr[i], sz)) {
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

static int extend(vouch_ctx *ctx, struct vouch_pcr_bank *b, uint32_t pcr, const uint8_t *dig)
{
	size_t sz = vouch_hash_info(b->algo)->size;
	uint8_t buf[2 * VOUCH_HASH_MAX_SIZE];
	struct vouch_digest d;
	int r;

	if (pcr >= VOUCH_PCR_COUNT)
		return ctx_err(ctx, -EBADMSG, "PCR %u out of range", pcr);
	memcpy(buf, b->pcr[pcr], sz);
	memcpy(buf + sz, dig, sz);
	r = vouch_digest_buf(ctx, b->algo, buf, 2 * sz, &d);
	if (r < 0)
		return r;
	memcpy(b->pcr[pcr], d.bytes, sz);
	b->present |= 1U << pcr;
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
				pb.present = q->banks[b].present;
				memcpy(pb.pcr, q->banks[b].pcr, sizeof(pb.pcr));
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
				    CRYPTO_memcmp(run->pcrs[m].banks[b].pcr[p], q->banks[b].pcr[p],
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

/* count a failed entry; the first one is the message, its name cut at @name_max bytes */
static void fail_once(uint64_t *count, char *msg, size_t size, int name_max,
		      struct vouch_attest_result *res, uint64_t n, const char *name, const char *why)
{
	if ((*count)++)
		return;
	note_bad(res, n);
	snprintf(msg, size, "entry %llu '%.*s': %.200s", (unsigned long long)n, name_max, name, why);
}

static void ref_fail(struct judge *j, struct vouch_attest_result *res, uint64_t n,
		     const char *name, const char *why)
{
	fail_once(&j->ref_bad, j->ref_why, sizeof(j->ref_why), 300, res, n, name, why);
}

static void sig_fail(struct judge *j, struct vouch_attest_result *res, uint64_t n,
		     const char *name, const char *why)
{
	fail_once(&j->sig_bad, j->sig_why, sizeof(j->sig_why), 120, res, n, name, why);
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

			if (k < 0 && k != -ECANCELED)
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

/* what a walk of the measurement list found, for the checks it reports */
struct ima_walk {
	uint64_t base; /* the evidence's first entry (after the verified state) */
	uint64_t entries, violations, bad_tmpl, first_tmpl;
	uint32_t attested, unexplained;
	int boot;
	bool restart; /* VOUCH_ATTEST_LIST_RESTARTED: the list's entry 1 follows entry base */
	char boot_why[300];
};

/* the replay's starting point: zero, or the state the previous round verified */
static int ima_start(struct vouch_attest_result *res, const struct vouch_pcrs *q, uint64_t base,
		     const struct vouch_attest_state *state_in, struct run *run, uint32_t *named)
{
	for (int m = 0; m < MODES; m++) {
		run->pcrs[m].n_banks = q->n_banks;
		for (uint32_t b = 0; b < q->n_banks; b++)
			run->pcrs[m].banks[b].algo = q->banks[b].algo;
	}
	if (!base)
		return 0;
	if (!state_in || !state_in->valid) {
		add_check(res, "ima_list", -EPERM,
			  "the evidence starts at entry %llu but there is no --state of the "
			  "entries before it",
			  (unsigned long long)base);
		return -EPERM;
	}
	if (state_in->entries != base) {
		add_check(res, "ima_list", -EPERM,
			  "the evidence starts at entry %llu but %llu entries were verified "
			  "before",
			  (unsigned long long)base, (unsigned long long)state_in->entries);
		return -EPERM;
	}
	for (uint32_t b = 0; b < q->n_banks; b++) {
		const struct vouch_pcr_bank *sb = NULL;

		for (uint32_t k = 0; k < state_in->pcrs.n_banks; k++)
			if (state_in->pcrs.banks[k].algo == q->banks[b].algo)
				sb = &state_in->pcrs.banks[k];
		if (!sb) {
			add_check(res, "ima_list", -EPERM, "the state has no %s bank",
				  vouch_hash_info(q->banks[b].algo)->name);
			return -EPERM;
		}
		for (int m = 0; m < MODES; m++)
			run->pcrs[m].banks[b] = *sb;
		*named |= sb->present;
	}
	return 0;
}

/*
 * The PCRs the list is bound to: every quoted PCR an entry (or the state) was extended
 * into, and every quoted PCR from 10 up, which only the list may explain (a quoted PCR 11
 * whose entries were all deleted is not zero).  Entries of PCRs outside them are not
 * attested.
 */
static int ima_bound(vouch_ctx *ctx, const struct vouch_evidence *ev, const struct vouch_pcrs *q,
		     uint32_t named, struct run *run, struct ima_walk *w)
{
	_cleanup_(log_reader_freep) vouch_log_reader *reader = NULL;
	struct vouch_log_entry e;
	int r;

	r = vouch_log_reader_new(ctx, ev->ima_list, ev->ima_list_len, NULL, &reader);
	while (r == 0 && (r = vouch_log_next(reader, &e)) > 0) {
		named |= 1U << e.pcr; /* the reader refuses PCRs >= VOUCH_PCR_COUNT */
		r = 0;
	}
	if (r < 0)
		return r;
	for (uint32_t b = 0; b < q->n_banks; b++) {
		run->watch[b] = q->banks[b].present & (named | ~0x3FFU);
		w->attested |= run->watch[b];
		w->unexplained |= q->banks[b].present & ~named & ~0x7FFU;
	}
	return 0;
}

/* replay the list in every mode until a prefix matches the quote; judge the entries before */
static int ima_replay(vouch_ctx *ctx, const struct vouch_attest_verify_options *o,
		      const struct vouch_evidence *ev, const struct vouch_pcrs *q,
		      vouch_sig_cache *cache, struct run *run, struct judge *j, struct ima_walk *w,
		      struct vouch_attest_result *res)
{
	_cleanup_(log_reader_freep) vouch_log_reader *reader = NULL;
	struct vouch_log_entry e;
	int r;

	r = vouch_log_reader_new(ctx, ev->ima_list, ev->ima_list_len, NULL, &reader);
	/* a list that matches before any entry (nothing measured yet) */
	while (r == 0) {
		if (!run->matched && run_matches(run, q, run->mode)) {
			run->matched = true;
			run->matched_at = w->entries;
			memcpy(run->at, run->pcrs, sizeof(run->at));
		}
		r = vouch_log_next(reader, &e);
		if (r <= 0)
			break;
		r = 0;
		w->entries++;
		if (e.violation) {
			w->violations++;
		} else {
			struct vouch_digest t;

			if (vouch_log_template_digest(ctx, &e, VOUCH_HASH_SHA1, &t) < 0 ||
			    CRYPTO_memcmp(t.bytes, e.template_digest, 20) != 0) {
				if (!w->bad_tmpl++)
					w->first_tmpl = w->base + w->entries;
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
		if ((w->base + w->entries == 1 || (w->restart && w->entries == 1)) &&
		    log_entry_is_boot_aggregate(&e) &&
		    (w->attested >> e.pcr & 1))
			w->boot = boot_aggregate(ctx, q, &e, w->boot_why, sizeof(w->boot_why));
		else
			r = judge_entry(ctx, o, cache, &e, w->base + w->entries,
					w->attested >> e.pcr & 1, j, res);
		if (r < 0)
			break;
	}
	return r;
}

/* the replay's check, and the state it reached */
static void ima_report_replay(const struct vouch_pcrs *q, const struct run *run,
			      const struct judge *j, const struct ima_walk *w,
			      struct vouch_attest_result *res)
{
	uint64_t base = w->base;
	bool padded = false;
	char pcrs[80];

	for (uint32_t b = 0; b < q->n_banks; b++)
		padded |= run->watch[b] && run->mode[b];
	pcr_list(w->attested, pcrs, sizeof(pcrs));
	if (!run->matched) {
		add_check(res, "ima_list", -EKEYREJECTED,
			  "no prefix of the %llu entries%s replays to the quoted %s (altered, "
			  "deleted, or a list from another machine or boot)%s",
			  (unsigned long long)w->entries, base ? " after the verified state" : "",
			  pcrs,
			  w->unexplained ? "; a quoted PCR above 10 that no entry extends must be zero"
					 : "");
		return;
	}
	res->ima_covered = true;
	res->covered_first = base + (run->matched_at ? 1 : 0);
	res->covered_last = base + run->matched_at;
	res->uncovered = w->entries - run->matched_at;
	res->unverified = j->unverified;
	add_check(res, "ima_list", 0,
		  "entries %llu-%llu replay to the quoted %s%s; uncovered tail: %llu "
		  "entries measured after the quote; %llu violations; %llu entries in "
		  "unquoted PCRs (not attested)",
		  (unsigned long long)res->covered_first, (unsigned long long)res->covered_last,
		  pcrs, padded ? " (zero-padded SHA-1 bank)" : "", (unsigned long long)res->uncovered,
		  (unsigned long long)w->violations, (unsigned long long)j->unverified);
	res->state.valid = true;
	res->state.entries = base + run->matched_at;
	/* per bank: the values of the mode that bank matched in */
	res->state.pcrs = run->at[0];
	for (uint32_t b = 0; b < q->n_banks; b++)
		res->state.pcrs.banks[b] = run->at[run->mode[b]].banks[b];
}

/* the checks of the attested entries: templates, boot_aggregate, reference, signatures */
static void ima_report_entries(const struct vouch_attest_verify_options *o, const struct judge *j,
			       const struct ima_walk *w, struct vouch_attest_result *res)
{
	if (w->bad_tmpl) {
		note_bad(res, w->first_tmpl);
		add_check(res, "ima_templates", -EKEYREJECTED,
			  "%llu entries whose template digest does not match their data, the "
			  "first is entry %llu",
			  (unsigned long long)w->bad_tmpl, (unsigned long long)w->first_tmpl);
	} else {
		add_check(res, "ima_templates", 0, "every template digest matches its data");
	}
	if (w->base && !w->restart)
		add_check(res, "boot_aggregate", 1, "checked in the round that verified entry 1");
	else if (w->boot == 1)
		add_check(res, "boot_aggregate", -EKEYREJECTED,
			  "the list does not start with a boot_aggregate in a quoted PCR");
	else
		add_check(res, "boot_aggregate", w->boot == -ENODATA ? 1 : w->boot, "%s",
			  w->boot_why);
	if (o->reference && j->ref_bad)
		add_check(res, "reference", -EKEYREJECTED, "%s (%llu entries in all)", j->ref_why,
			  (unsigned long long)j->ref_bad);
	else if (o->reference)
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

static void check_ima(vouch_ctx *ctx, const struct vouch_attest_verify_options *o,
		      const struct vouch_evidence *ev, const struct vouch_pcrs *q,
		      const struct vouch_attest_state *state_in, struct vouch_attest_result *res)
{
	_cleanup_(sig_cache_freep) vouch_sig_cache *cache = NULL;
	_cleanup_free_ struct run *run = NULL;
	_cleanup_free_ struct judge *j = NULL;
	_cleanup_free_ struct ima_walk *w = NULL;
	uint32_t named = 0;
	bool has10 = false;
	int r;

	if (!ev->ima_list) {
		add_check(res, "ima_list", 1, "no IMA measurement list in the evidence");
		if (o->reference || o->trust)
			add_check(res, "reference", -EPERM,
				  "--reference/--trust given but the evidence has no IMA list");
		return;
	}
	run = mem_zalloc(sizeof(*run));
	j = mem_zalloc(sizeof(*j));
	w = mem_zalloc(sizeof(*w));
	if (!run || !j || !w) {
		add_check(res, "ima_list", -ENOMEM, "out of memory");
		return;
	}
	w->base = ev->ima_from_entry;
	w->restart = (o->flags & VOUCH_ATTEST_LIST_RESTARTED) != 0;
	w->boot = 1;
	for (uint32_t b = 0; b < q->n_banks; b++)
		has10 |= (q->banks[b].present >> 10) & 1;
	if (!has10) {
		add_check(res, "ima_list", -EPERM,
			  "PCR 10 is not in the quoted selection: the list is not attested");
		return;
	}
	if (ima_start(res, q, w->base, state_in, run, &named) < 0)
		return;
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
	r = ima_bound(ctx, ev, q, named, run, w);
	if (r == 0)
		r = ima_replay(ctx, o, ev, q, cache, run, j, w, res);
	res->violations = w->violations;
	if (r < 0) {
		add_check(res, "ima_list", r, "%s", vouch_ctx_last_error(ctx));
		return;
	}
	ima_report_replay(q, run, j, w, res);
	ima_report_entries(o, j, w, res);
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
			   VOUCH_ATTEST_REQUIRE_AK_PUBLIC_AREA | VOUCH_ATTEST_LIST_RESTARTED)) ||
	    ((o->flags & VOUCH_ATTEST_REQUIRE_SIGS) && !o->trust))
		return -EINVAL;
	if (!mem_is_zero(o->reserved, sizeof(o->reserved)))
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
