// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The measurement-list part of attestation: the list (or its entries from N on, continuing
 * a remembered state) must replay to the quoted PCR 10 (a prefix may: the rest is reported as
 * the uncovered tail); its template digests, boot_aggregate, reference values and signatures
 * are checked over the attested prefix.  Parsing and hashing come from libvouch's log module.
 *
 * Reference values (documented in man/vouch.1):
 *   { "format": "vouch-reference", "version": 1,
 *     "files": { "/usr/bin/foo": [ "sha256:HEX", ... ], ... },
 *     "exclude": [ "/var/log/", "*.pyc" ] }   (fnmatch patterns; a trailing / = prefix)
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_reader *, vouch_log_reader_freep, vouch_log_reader_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_sig_cache *, vouch_sig_cache_freep, vouch_sig_cache_free)

void add_check(struct report *rep, const char *name, int status, const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (rep->n == ATTEST_MAX_CHECKS)
		return;
	c = &rep->c[rep->n++];
	c->name = name;
	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* --- state file ---------------------------------------------------------------------------- */

int ima_state_load(const char *path, struct ima_state *ret)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	json_object *v, *pcrs;

	memset(ret, 0, sizeof(*ret));
	if (access(path, F_OK) != 0)
		return 0; /* first round */
	root = json_object_from_file(path);
	if (!root || !json_object_object_get_ex(root, "format", &v) ||
	    strcmp(json_object_get_string(v), "vouch-attest-state") != 0 ||
	    !json_object_object_get_ex(root, "ak", &v) ||
	    strlen(json_object_get_string(v)) != 64 ||
	    !json_object_object_get_ex(root, "entries", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0 || !json_object_object_get_ex(root, "pcrs", &pcrs) ||
	    !json_object_is_type(pcrs, json_type_object)) {
		cli_error("'%s' is not a vouch attestation state", path);
		return -EBADMSG;
	}
	ret->entries = (uint64_t)json_object_get_int64(v);
	json_object_object_get_ex(root, "ak", &v);
	memcpy(ret->ak, json_object_get_string(v), 64);
	json_object_object_foreach(pcrs, bank, vals)
	{
		int algo = vouch_hash_by_name(bank);
		struct vouch_pcrs_bank *b;

		if (algo < 0 || ret->pcrs.n_banks == VOUCH_PCR_MAX_BANKS ||
		    !json_object_is_type(vals, json_type_object)) {
			cli_error("'%s': bad bank '%s'", path, bank);
			return -EBADMSG;
		}
		b = &ret->pcrs.banks[ret->pcrs.n_banks++];
		b->algo = algo;
		json_object_object_foreach(vals, key, hex)
		{
			uint32_t pcr;
			const char *s = json_object_get_string(hex);
			size_t sz = vouch_hash_info(algo)->size;

			if (cli_parse_u32(key, &pcr) < 0 || pcr >= VOUCH_PCR_COUNT || !s ||
			    strlen(s) != 2 * sz) {
				cli_error("'%s': bad PCR value", path);
				return -EBADMSG;
			}
			for (size_t i = 0; i < sz; i++) {
				unsigned x;

				if (sscanf(s + 2 * i, "%2x", &x) != 1) {
					cli_error("'%s': bad PCR value", path);
					return -EBADMSG;
				}
				b->values[pcr][i] = (uint8_t)x;
			}
			b->mask |= 1U << pcr;
		}
	}
	ret->valid = true;
	return 0;
}

int ima_state_save(const char *path, const struct ima_state *st)
{
	_cleanup_(json_object_putp) json_object *root = json_object_new_object();
	_cleanup_free_ char *tmp = NULL;
	const char *s;
	FILE *f;
	int fd;

	json_object_object_add(root, "format", json_object_new_string("vouch-attest-state"));
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "ak", json_object_new_string(st->ak));
	json_object_object_add(root, "entries", json_object_new_int64((int64_t)st->entries));
	json_object_object_add(root, "pcrs", cli_pcrs_json(&st->pcrs));
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || fprintf(f, "%s\n", s) < 0 || fflush(f) != 0 || fsync(fd) < 0 ||
	    rename(tmp, path) < 0) {
		cli_error("cannot write '%s': %m", path);
		if (f)
			fclose(f);
		else if (fd >= 0)
			close(fd);
		unlink(tmp);
		return -EIO;
	}
	fclose(f);
	return 0;
}

/* --- reference values -------------------------------------------------------------------- */

struct reference {
	json_object *root;
	json_object *files;
	json_object *exclude;
};

static int reference_load(const char *path, struct reference *ref)
{
	json_object *v;

	ref->root = json_object_from_file(path);
	if (!ref->root || !json_object_object_get_ex(ref->root, "format", &v) ||
	    strcmp(json_object_get_string(v), "vouch-reference") != 0 ||
	    !json_object_object_get_ex(ref->root, "files", &ref->files) ||
	    !json_object_is_type(ref->files, json_type_object)) {
		cli_error("'%s' is not a vouch-reference document", path);
		return -EBADMSG;
	}
	if (json_object_object_get_ex(ref->root, "exclude", &ref->exclude) &&
	    !json_object_is_type(ref->exclude, json_type_array)) {
		cli_error("'%s': exclude must be a list of patterns", path);
		return -EBADMSG;
	}
	return 0;
}

static bool excluded(const struct reference *ref, const char *name)
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

/* 0 allowed, 1 excluded, -ENOENT not listed, -EKEYREJECTED digest not allowed */
static int reference_check(const struct reference *ref, const char *name,
			   const struct vouch_digest *d)
{
	char want[16 + 2 * VOUCH_HASH_MAX_SIZE + 2];
	json_object *list;
	size_t n;

	if (excluded(ref, name))
		return 1;
	if (!json_object_object_get_ex(ref->files, name, &list))
		return -ENOENT;
	snprintf(want, sizeof(want), "%s:", vouch_hash_info(d->algo)->name);
	vouch_digest_to_hex(d, want + strlen(want), sizeof(want) - strlen(want));
	if (json_object_is_type(list, json_type_string))
		return strcasecmp(json_object_get_string(list), want) ? -EKEYREJECTED : 0;
	n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(json_object_get_string(json_object_array_get_idx(list, i)), want))
			return 0;
	return -EKEYREJECTED;
}

/* --- replay ------------------------------------------------------------------------------ */

#define MODES 2 /* hashed, zero-padded SHA-1 (the kernel could not use the bank's hash) */

struct run {
	struct vouch_pcrs pcrs[MODES];
	bool matched;
	uint64_t matched_at;	 /* entries of this evidence list */
	struct vouch_pcrs at[MODES]; /* values when matched */
	int mode;
};

static int extend(vouch_ctx *ctx, struct vouch_pcrs_bank *b, uint32_t pcr, const uint8_t *dig)
{
	size_t sz = vouch_hash_info(b->algo)->size;
	uint8_t buf[2 * VOUCH_HASH_MAX_SIZE];
	struct vouch_digest d;
	int r;

	memcpy(buf, b->values[pcr], sz);
	memcpy(buf + sz, dig, sz);
	r = vouch_digest_buf(ctx, b->algo, buf, 2 * sz, &d);
	if (r < 0)
		return r;
	memcpy(b->values[pcr], d.bytes, sz);
	b->mask |= 1U << pcr;
	return 0;
}

int attest_check_ima(vouch_ctx *ctx, const struct ima_check *ic, struct report *rep)
{
	const struct vouch_evidence *ev = ic->ev;
	const struct vouch_pcrs *q = ic->quoted;
	_cleanup_(vouch_log_reader_freep) vouch_log_reader *reader = NULL;
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	_cleanup_(vouch_sig_cache_freep) vouch_sig_cache *cache = NULL;
	_cleanup_free_ struct run *run = calloc(1, sizeof(*run));
	struct reference ref = { 0 };
	struct vouch_log_entry e;
	uint64_t entries = 0, violations = 0, bad_tmpl = 0, first_tmpl = 0, ref_bad = 0;
	uint64_t ref_first = 0, sig_bad = 0, sig_first = 0, sig_ok = 0, base = ev->ima_from_entry;
	uint64_t sigs[_VOUCH_LOG_SIG_MAX] = { 0 };
	char ref_why[400] = "", sig_why[300] = "", boot_why[300] = "";
	int boot = 1, r;
	bool has10 = false;

	if (!ev->ima_list) {
		add_check(rep, "ima_list", 1, "no IMA measurement list in the evidence");
		return 0;
	}
	if (!run)
		return -ENOMEM;
	for (uint32_t b = 0; b < q->n_banks; b++)
		has10 |= (q->banks[b].mask >> 10) & 1;
	if (!has10) {
		add_check(rep, "ima_list", -EPERM,
			  "PCR 10 is not in the quoted selection: the list is not attested");
		return 0;
	}
	/* starting point: zero, or the state the previous round verified */
	for (int m = 0; m < MODES; m++) {
		run->pcrs[m].n_banks = q->n_banks;
		for (uint32_t b = 0; b < q->n_banks; b++)
			run->pcrs[m].banks[b].algo = q->banks[b].algo;
	}
	if (base) {
		if (!ic->state_in || !ic->state_in->valid) {
			add_check(rep, "ima_list", -EPERM,
				  "the evidence starts at entry %llu but there is no --state of the "
				  "entries before it",
				  (unsigned long long)base);
			return 0;
		}
		if (ic->state_in->entries != base) {
			add_check(rep, "ima_list", -EPERM,
				  "the evidence starts at entry %llu but %llu entries were verified "
				  "before",
				  (unsigned long long)base,
				  (unsigned long long)ic->state_in->entries);
			return 0;
		}
		for (uint32_t b = 0; b < q->n_banks; b++) {
			const struct vouch_pcrs_bank *sb = NULL;

			for (uint32_t k = 0; k < ic->state_in->pcrs.n_banks; k++)
				if (ic->state_in->pcrs.banks[k].algo == q->banks[b].algo)
					sb = &ic->state_in->pcrs.banks[k];
			if (!sb) {
				add_check(rep, "ima_list", -EPERM, "the state has no %s bank",
					  vouch_hash_info(q->banks[b].algo)->name);
				return 0;
			}
			for (int m = 0; m < MODES; m++)
				run->pcrs[m].banks[b] = *sb;
		}
	}
	if (ic->reference && reference_load(ic->reference, &ref) < 0) {
		add_check(rep, "reference", -EIO, "cannot read the reference values '%s'",
			  ic->reference);
		return 0;
	}
	if (ic->trust) {
		r = vouch_trust_new(ctx, &trust);
		if (r == 0)
			r = vouch_trust_add_path(trust, ic->trust, NULL);
		if (r == 0)
			r = vouch_sig_cache_new(ctx, 0, &cache);
		if (r < 0) {
			add_check(rep, "signatures", r == -ENOMEM ? r : -EIO, "%s",
				  vouch_ctx_last_error(ctx));
			json_object_put(ref.root);
			return 0;
		}
	}
	r = vouch_log_reader_new(ctx, ev->ima_list, ev->ima_list_len, NULL, &reader);
	/* a list that matches before any entry (nothing measured yet) */
	while (r == 0) {
		bool all = true;

		for (uint32_t b = 0; b < q->n_banks; b++) {
			size_t sz = vouch_hash_info(q->banks[b].algo)->size;
			bool any = false;

			if (!((q->banks[b].mask >> 10) & 1))
				continue;
			for (int m = 0; m < MODES; m++)
				if (!memcmp(run->pcrs[m].banks[b].values[10], q->banks[b].values[10], sz)) {
					any = true;
					run->mode = m;
				}
			all &= any;
		}
		if (all && !run->matched) {
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
			    memcmp(t.bytes, e.template_digest, 20) != 0) {
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
		if (!e.violation) {
			char name[4096];
			struct vouch_digest d;

			if (vouch_log_entry_name(&e, name, sizeof(name)) < 0)
				name[0] = '\0';
			if (!strcmp(name, "boot_aggregate") && base + entries == 1) {
				boot = -ENODATA;
				if (vouch_log_entry_digest(&e, &d, NULL) == 0) {
					struct vouch_pcr_bank pb = { .algo = d.algo };
					struct vouch_digest want;

					for (uint32_t b = 0; b < q->n_banks; b++)
						if (q->banks[b].algo == d.algo) {
							pb.present = q->banks[b].mask;
							memcpy(pb.pcr, q->banks[b].values, sizeof(pb.pcr));
						}
					if (vouch_log_boot_aggregate(ctx, &pb, &want) == 0)
						boot = want.len == d.len &&
								       !memcmp(want.bytes, d.bytes, d.len)
							       ? 0
							       : -EKEYREJECTED;
					if (boot == 0)
						snprintf(boot_why, sizeof(boot_why),
							 "matches the quoted %s PCRs 0-%d",
							 vouch_hash_info(d.algo)->name,
							 d.algo == VOUCH_HASH_SHA1 ? 7 : 9);
					else if (boot == -ENODATA)
						snprintf(boot_why, sizeof(boot_why),
							 "the quote does not cover %s PCRs 0-%d",
							 vouch_hash_info(d.algo)->name,
							 d.algo == VOUCH_HASH_SHA1 ? 7 : 9);
					else
						snprintf(boot_why, sizeof(boot_why),
							 "does not match the quoted %s PCRs 0-%d",
							 vouch_hash_info(d.algo)->name,
							 d.algo == VOUCH_HASH_SHA1 ? 7 : 9);
				}
			} else if (ref.root && vouch_log_entry_digest(&e, &d, NULL) == 0) {
				int k = reference_check(&ref, name, &d);

				if (k < 0 && !ref_bad++) {
					ref_first = base + entries;
					snprintf(ref_why, sizeof(ref_why), "entry %llu '%.300s': %s",
						 (unsigned long long)ref_first, name,
						 k == -ENOENT ? "not in the reference values"
							      : "digest not in the reference values");
				}
			} else if (ref.root && !excluded(&ref, name) && !ref_bad++) {
				ref_first = base + entries;
				snprintf(ref_why, sizeof(ref_why), "entry %llu '%.300s': no file digest",
					 (unsigned long long)ref_first, name);
			}
			if (trust) {
				int verdict = VOUCH_LOG_SIG_NONE;

				r = vouch_log_entry_verify_sig(ctx, trust, cache, &e, &verdict);
				if (r < 0)
					break;
				sigs[verdict]++;
				if (verdict == VOUCH_LOG_SIG_VERIFIED)
					sig_ok++;
				else if (verdict != VOUCH_LOG_SIG_NONE && !sig_bad++) {
					sig_first = base + entries;
					snprintf(sig_why, sizeof(sig_why), "entry %llu '%.200s': signature %s",
						 (unsigned long long)sig_first, name,
						 vouch_log_sig_verdict_name(verdict));
				}
			}
		}
	}
	json_object_put(ref.root);
	if (r < 0) {
		add_check(rep, "ima_list", r == -EBADMSG ? -EBADMSG : r, "%s",
			  vouch_ctx_last_error(ctx));
		return 0;
	}
	if (!run->matched) {
		add_check(rep, "ima_list", -EKEYREJECTED,
			  "no prefix of the %llu entries%s replays to the quoted PCR 10 (altered, "
			  "or a list from another machine or boot)",
			  (unsigned long long)entries, base ? " after the verified state" : "");
	} else {
		add_check(rep, "ima_list", 0,
			  "entries %llu-%llu replay to the quoted PCR 10%s; uncovered tail: %llu "
			  "entries measured after the quote; %llu violations",
			  (unsigned long long)(base + (run->matched_at ? 1 : 0)),
			  (unsigned long long)(base + run->matched_at),
			  run->mode ? " (zero-padded SHA-1 bank)" : "",
			  (unsigned long long)(entries - run->matched_at),
			  (unsigned long long)violations);
		if (ic->state_out) {
			ic->state_out->valid = true;
			ic->state_out->entries = base + run->matched_at;
			ic->state_out->pcrs = run->at[run->mode];
		}
	}
	if (bad_tmpl)
		add_check(rep, "ima_templates", -EKEYREJECTED,
			  "%llu entries whose template digest does not match their data, the "
			  "first is entry %llu",
			  (unsigned long long)bad_tmpl, (unsigned long long)first_tmpl);
	else
		add_check(rep, "ima_templates", 0, "every template digest matches its data");
	if (base)
		add_check(rep, "boot_aggregate", 1, "checked in the round that verified entry 1");
	else if (boot == 1)
		add_check(rep, "boot_aggregate", -EKEYREJECTED,
			  "the list does not start with a boot_aggregate");
	else
		add_check(rep, "boot_aggregate", boot == -ENODATA ? 1 : boot, "%s", boot_why);
	if (ic->reference && ref_bad)
		add_check(rep, "reference", -EKEYREJECTED, "%s (%llu entries in all)", ref_why,
			  (unsigned long long)ref_bad);
	else if (ic->reference)
		add_check(rep, "reference", 0, "every attested entry is allowed");
	if (ic->trust && sig_bad)
		add_check(rep, "signatures", -EKEYREJECTED, "%s (%llu in all; %llu verified)",
			  sig_why, (unsigned long long)sig_bad, (unsigned long long)sig_ok);
	else if (ic->trust)
		add_check(rep, "signatures", 0, "%llu signatures verified, %llu entries unsigned",
			  (unsigned long long)sig_ok, (unsigned long long)sigs[VOUCH_LOG_SIG_NONE]);
	return 0;
}
