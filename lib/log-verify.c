// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One-call verification of a measurement list against PCR values: template digests,
 * per-bank replay with prefix matching, boot_aggregate and signatures, all in one pass and
 * all unconditionally (STYLE.md rule 15).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdlib.h>

#include <openssl/crypto.h>

#include "log-internal.h"

#define VERIFY_MAX_BANKS 4

static int check_boot_aggregate(vouch_ctx *ctx, const struct vouch_log_entry *e,
				const struct vouch_log_verify_options *o,
				struct vouch_log_verify_result *res)
{
	struct vouch_digest listed, want;
	int k;

	k = vouch_log_entry_digest(e, &listed, NULL);
	if (k < 0) {
		ctx_err(ctx, -EKEYREJECTED, "entry %llu: boot_aggregate carries no digest",
			(unsigned long long)e->index);
		return -EKEYREJECTED;
	}
	res->boot_aggregate_algo = listed.algo;
	for (size_t i = 0; i < o->n_banks; i++) {
		if (o->banks[i].algo != listed.algo)
			continue;
		k = vouch_log_boot_aggregate(ctx, &o->banks[i], &want);
		if (k < 0)
			return k;
		if (want.len != listed.len || CRYPTO_memcmp(want.bytes, listed.bytes, want.len))
			return ctx_err(ctx, -EKEYREJECTED,
				       "entry %llu: boot_aggregate does not match PCRs 0-%d of the "
				       "%s bank",
				       (unsigned long long)e->index,
				       listed.algo == VOUCH_HASH_SHA1 ? 7 : 9,
				       vouch_hash_info(listed.algo)->name);
		return 0;
	}
	return ctx_err(ctx, -ENODATA, "the boot_aggregate is a %s digest but no %s PCR values "
		       "were given", vouch_hash_info(listed.algo)->name,
		       vouch_hash_info(listed.algo)->name);
}

static int padded_pass(vouch_ctx *ctx, vouch_log_reader *reader,
		       const struct vouch_log_verify_options *o, uint32_t mask,
		       struct vouch_log_verify_result *res)
{
	int algos[VERIFY_MAX_BANKS], modes[VERIFY_MAX_BANKS];
	size_t idx[VERIFY_MAX_BANKS], n = 0;
	unsigned low = (unsigned)__builtin_ctz(mask);
	vouch_log_replay *rp = NULL;
	struct vouch_log_entry e;
	int k;

	for (size_t i = 0; i < res->n_banks; i++)
		if (res->banks[i].matched_at == UINT64_MAX && res->banks[i].algo != VOUCH_HASH_SHA1) {
			idx[n] = i;
			algos[n] = res->banks[i].algo;
			modes[n++] = VOUCH_LOG_BANK_PADDED;
		}
	if (n == 0)
		return 0;
	k = vouch_log_replay_new(ctx, algos, modes, n, &rp);
	for (size_t i = 0; k >= 0 && i < o->n_banks; i++)
		for (size_t j = 0; j < n; j++)
			if (o->banks[i].algo == algos[j])
				k = vouch_log_replay_set_target(rp, &o->banks[i], mask);
	if (k < 0)
		goto out;
	reader_rewind(reader);
	while ((k = vouch_log_next(reader, &e)) > 0) {
		k = vouch_log_replay_add(rp, &e);
		if (k < 0 && k != -EKEYREJECTED) /* already reported by the first pass */
			goto out;
	}
	if (k < 0)
		goto out;
	for (size_t j = 0; j < n; j++) {
		struct vouch_log_bank_result *b = &res->banks[idx[j]];
		uint64_t at;

		replay_bank_info(rp, algos[j], VOUCH_LOG_BANK_PADDED, low, &at, NULL);
		if (at != UINT64_MAX) {
			b->mode = VOUCH_LOG_BANK_PADDED;
			b->matched_at = at;
			replay_bank_info(rp, algos[j], VOUCH_LOG_BANK_PADDED, low, NULL, &b->replayed);
		}
	}
out:
	vouch_log_replay_free(rp);
	return k;
}

static bool is_boot_aggregate(const struct vouch_log_entry *e)
{
	char name[32];

	return vouch_log_entry_name(e, name, sizeof(name)) == 0 && !strcmp(name, "boot_aggregate");
}

VOUCH_EXPORT int vouch_log_verify(vouch_ctx *ctx, vouch_log_reader *reader,
				  const struct vouch_log_verify_options *o,
				  struct vouch_log_verify_result *ret_result)
{
	struct vouch_log_verify_result res;
	int algos[2 * VERIFY_MAX_BANKS], modes[2 * VERIFY_MAX_BANKS];
	vouch_log_replay *rp = NULL;
	struct vouch_log_entry e;
	uint32_t mask;
	unsigned low;
	size_t n = 0;
	int k, ret = 0, first_err = 0;

	bool saw_boot = false;
	char msg[VOUCH_ERRMSG_SIZE] = "", bmsg[VOUCH_ERRMSG_SIZE] = "", smsg[128] = "";

	if (!ctx || !reader || !o || !ret_result)
		return -EINVAL;
	if (o->version != 1 || o->reserved1 || !o->banks || o->n_banks == 0 ||
	    o->n_banks > VERIFY_MAX_BANKS ||
	    (o->flags & ~(VOUCH_LOG_VERIFY_REQUIRE_SIGS | VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE)))
		return ctx_err(ctx, -EINVAL, "invalid list verification options");
	for (size_t i = 0; i < ARRAY_SIZE(o->reserved); i++)
		if (o->reserved[i])
			return ctx_err(ctx, -EINVAL, "reserved verification options must be zero");
	mask = o->pcr_mask ? o->pcr_mask : 1u << 10;
	memset(&res, 0, sizeof(res));
	res.failed_bank = -1;
	res.boot_aggregate_algo = -1;
	res.boot_aggregate = (o->flags & VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE) ? 1 : -EKEYREJECTED;
	for (size_t i = 0; i < o->n_banks; i++) {
		for (size_t j = 0; j < i; j++)
			if (o->banks[j].algo == o->banks[i].algo)
				return ctx_err(ctx, -EINVAL, "PCR values for bank %s given twice",
					       vouch_hash_info(o->banks[i].algo)->name);
		algos[n] = o->banks[i].algo;
		modes[n++] = VOUCH_LOG_BANK_HASHED;
	}
	k = vouch_log_replay_new(ctx, algos, modes, n, &rp);
	if (k < 0)
		return k;
	for (size_t i = 0; i < o->n_banks && k >= 0; i++)
		k = vouch_log_replay_set_target(rp, &o->banks[i], mask);
	if (k < 0)
		goto out;

	while ((k = vouch_log_next(reader, &e)) > 0) {
		int verdict = VOUCH_LOG_SIG_NONE, status;

		status = vouch_log_replay_add(rp, &e);
		if (status == -EKEYREJECTED) {
			if (!res.failed_entry) {
				res.failed_entry = e.index;
				snprintf(msg, sizeof(msg), "%s", vouch_ctx_last_error(ctx));
			}
			first_err = first_err ? first_err : status;
		} else if (status < 0) {
			k = status;
			goto out;
		}
		if (!saw_boot && is_boot_aggregate(&e)) {
			saw_boot = true;
			if (!(o->flags & VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE)) {
				res.boot_aggregate = check_boot_aggregate(ctx, &e, o, &res);
				if (res.boot_aggregate < 0) {
					snprintf(bmsg, sizeof(bmsg), "%s", vouch_ctx_last_error(ctx));
					if (!status)
						status = res.boot_aggregate;
				}
			}
		}
		if (o->trust) {
			k = vouch_log_entry_verify_sig(ctx, o->trust, o->cache, &e, &verdict);
			if (k < 0)
				goto out;
			res.sigs[verdict]++;
			if ((o->flags & VOUCH_LOG_VERIFY_REQUIRE_SIGS) &&
			    verdict > VOUCH_LOG_SIG_VERIFIED) {
				if (!status)
					status = -EKEYREJECTED;
				if (!smsg[0])
					snprintf(smsg, sizeof(smsg), "entry %llu: signature %s",
						 (unsigned long long)e.index,
						 vouch_log_sig_verdict_name(verdict));
			}
		}
		if (o->on_entry)
			o->on_entry(o->userdata, &e, verdict, status);
	}
	if (k < 0)
		goto out;
	vouch_log_replay_count(rp, &res.entries, &res.violations);
	res.covered = res.entries;
	res.n_banks = o->n_banks;
	low = (unsigned)__builtin_ctz(mask);
	for (size_t i = 0; i < o->n_banks; i++) {
		struct vouch_log_bank_result *b = &res.banks[i];

		b->algo = o->banks[i].algo;
		b->mode = VOUCH_LOG_BANK_HASHED;
		replay_bank_info(rp, b->algo, VOUCH_LOG_BANK_HASHED, low, &b->matched_at,
				 &b->replayed);
	}
	/*
	 * A bank the kernel could not hash with holds zero-padded SHA-1 digests (§5.6): replay
	 * the banks that matched nothing a second time that way.  A second pass instead of a
	 * twin in the first keeps the common case at one replay per bank.
	 */
	k = padded_pass(ctx, reader, o, mask, &res);
	if (k < 0)
		goto out;
	for (size_t i = 0; i < o->n_banks; i++) {
		struct vouch_log_bank_result *b = &res.banks[i];

		if (b->matched_at == UINT64_MAX) {
			if (res.failed_bank < 0) {
				res.failed_bank = b->algo;
				if (!res.failed_entry)
					res.failed_entry = res.entries ? 1 : 0;
			}
			res.covered = 0;
			continue;
		}
		if (b->matched_at < res.covered)
			res.covered = b->matched_at;
	}
	if (!saw_boot && !(o->flags & VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE))
		snprintf(bmsg, sizeof(bmsg), "the list has no boot_aggregate entry");
	if (res.failed_bank >= 0)
		ret = ctx_err(ctx, -EKEYREJECTED,
			      "%s: no prefix of the %llu entries replays to the PCR values; %s",
			      vouch_hash_info(res.failed_bank)->name,
			      (unsigned long long)res.entries,
			      msg[0] ? msg : "no entry from the first on can be attested");
	else if (first_err)
		ret = ctx_err(ctx, -EKEYREJECTED, "%s", msg);
	else if (res.boot_aggregate < 0 && res.boot_aggregate != -ENODATA)
		ret = ctx_err(ctx, -EKEYREJECTED, "%s", bmsg);
	else if (smsg[0])
		ret = ctx_err(ctx, -EKEYREJECTED, "%s", smsg);
	else if (res.boot_aggregate == -ENODATA)
		ret = ctx_err(ctx, -ENODATA, "%s", bmsg);
	*ret_result = res;
	k = ret;
out:
	vouch_log_replay_free(rp);
	return k;
}
