// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IMA measurement lists: per-bank template digests and PCR replay (FORMATS.md §5, §7).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log-internal.h"

/* --- template digests ---------------------------------------------------------------------- */

/* H(template data) for a bank; the "ima" template hashes d || n zero-padded to 256 bytes. */
int log_entry_hash(struct fast_md *f, const struct vouch_log_entry *e, uint8_t *out)
{
	if (e->template_data)
		return fast_md_digest(f, e->template_data, e->template_data_len, NULL, 0, NULL, 0,
				      out);
	if (e->n_fields == 2 && e->fields[0].id == VOUCH_LOG_FIELD_D &&
	    e->fields[1].id == VOUCH_LOG_FIELD_N && !strcmp(e->template_name, "ima")) {
		uint8_t name[LOG_IMA_NAME_MAX + 1] = { 0 };

		if (e->fields[0].len != 20 || e->fields[1].len > LOG_IMA_NAME_MAX)
			return -EBADMSG;
		memcpy(name, e->fields[1].data, e->fields[1].len);
		return fast_md_digest(f, e->fields[0].data, 20, name, sizeof(name), NULL, 0, out);
	}
	{
		/* fields given without serialised template data: hash them with their lengths */
		EVP_MD_CTX *m = f->mctx;
		unsigned int len;

		if (!EVP_DigestInit_ex(m, (const EVP_MD *)f->md, NULL))
			return -EIO;
		for (size_t i = 0; i < e->n_fields; i++) {
			uint8_t l[4];

			log_put32(l, (uint32_t)e->fields[i].len, e->order);
			if (!EVP_DigestUpdate(m, l, 4) ||
			    (e->fields[i].len &&
			     !EVP_DigestUpdate(m, e->fields[i].data, e->fields[i].len)))
				return -EIO;
		}
		return EVP_DigestFinal_ex(m, out, &len) ? 0 : -EIO;
	}
}

bool log_entry_ok(const struct vouch_log_entry *e)
{
	return e && e->template_name && e->n_fields <= VOUCH_LOG_MAX_FIELDS;
}

VOUCH_EXPORT int vouch_log_template_digest(vouch_ctx *ctx, const struct vouch_log_entry *e,
					   int algo, struct vouch_digest *ret_digest)
{
	struct fast_md f;
	struct vouch_digest d = { 0 };
	int k;

	if (!ctx || !log_entry_ok(e) || !ret_digest)
		return -EINVAL;
	k = fast_md_init(ctx, &f, algo);
	if (k < 0)
		return k;
	k = log_entry_hash(&f, e, d.bytes);
	fast_md_done(&f);
	if (k < 0)
		return ctx_err(ctx, k, "cannot compute the template digest of entry %llu",
			       (unsigned long long)e->index);
	d.algo = algo;
	d.len = vouch_hash_info(algo)->size;
	*ret_digest = d;
	return 0;
}

VOUCH_EXPORT int vouch_log_extend_digest(vouch_ctx *ctx, const struct vouch_log_entry *e,
					 int algo, int mode, struct vouch_digest *ret_digest)
{
	const struct vouch_hash_info *hi = vouch_hash_info(algo);
	struct vouch_digest d = { 0 };
	int k;

	if (!ctx || !log_entry_ok(e) || !ret_digest || !hi || mode < 0 ||
	    mode >= _VOUCH_LOG_BANK_MODE_MAX)
		return -EINVAL;
	d.algo = algo;
	d.len = hi->size;
	if (e->violation) {
		/* ima_init_digests: 0xff over the bank size (the algorithm is known to the TPM) */
		memset(d.bytes, 0xff, d.len);
	} else if (mode == VOUCH_LOG_BANK_PADDED && algo != VOUCH_HASH_SHA1) {
		memcpy(d.bytes, e->template_digest, 20);
	} else {
		k = vouch_log_template_digest(ctx, e, algo, &d);
		if (k < 0)
			return k;
	}
	*ret_digest = d;
	return 0;
}


/* --- replay ----------------------------------------------------------------------------------- */

#define REPLAY_MAX_BANKS 8

struct replay_bank {
	int algo;
	int mode;
	size_t size;
	struct fast_md md;
	uint8_t pcr[VOUCH_PCR_COUNT][VOUCH_HASH_MAX_SIZE];
	bool has_target;
	uint32_t mask;
	uint32_t mismatch; /* watched PCRs that differ from the target right now */
	uint64_t matched_at;
	uint8_t target[VOUCH_PCR_COUNT][VOUCH_HASH_MAX_SIZE];
};

struct vouch_log_replay {
	vouch_ctx *ctx;
	size_t n;
	uint64_t entries, violations;
	struct fast_md sha1;
	struct replay_bank banks[REPLAY_MAX_BANKS];
};

VOUCH_EXPORT void vouch_log_replay_free(vouch_log_replay *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->n; i++)
		fast_md_done(&rp->banks[i].md);
	fast_md_done(&rp->sha1);
	free(rp);
}

VOUCH_EXPORT int vouch_log_replay_new(vouch_ctx *ctx, const int *algos, const int *modes, size_t n,
				      vouch_log_replay **ret_replay)
{
	vouch_log_replay *rp;
	int k;

	if (!ctx || !algos || !ret_replay)
		return -EINVAL;
	if (n == 0 || n > REPLAY_MAX_BANKS)
		return ctx_err(ctx, -EINVAL, "between 1 and %d banks can be replayed at once",
			       REPLAY_MAX_BANKS);
	for (size_t i = 0; i < n; i++) {
		if (!vouch_hash_info(algos[i]))
			return ctx_err(ctx, -EINVAL, "unknown hash algorithm id %d", algos[i]);
		if (modes && (modes[i] < 0 || modes[i] >= _VOUCH_LOG_BANK_MODE_MAX))
			return ctx_err(ctx, -EINVAL, "invalid bank mode %d", modes[i]);
		for (size_t j = 0; j < i; j++)
			if (algos[j] == algos[i] && (!modes || modes[j] == modes[i]))
				return ctx_err(ctx, -EINVAL, "bank %s given twice",
					       vouch_hash_info(algos[i])->name);
	}
	rp = mem_zalloc(sizeof(*rp));
	if (!rp)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	rp->ctx = ctx;
	k = fast_md_init(ctx, &rp->sha1, VOUCH_HASH_SHA1);
	for (size_t i = 0; k >= 0 && i < n; i++) {
		struct replay_bank *b = &rp->banks[i];

		b->algo = algos[i];
		b->mode = modes ? modes[i] : VOUCH_LOG_BANK_HASHED;
		b->size = vouch_hash_info(algos[i])->size;
		b->matched_at = UINT64_MAX;
		k = fast_md_init(ctx, &b->md, algos[i]);
		if (k >= 0)
			rp->n = i + 1;
	}
	if (k < 0) {
		vouch_log_replay_free(rp);
		return k;
	}
	*ret_replay = rp;
	return 0;
}

static struct replay_bank *find_bank(const vouch_log_replay *rp, int algo, int mode)
{
	for (size_t i = 0; i < rp->n; i++)
		if (rp->banks[i].algo == algo && (mode < 0 || rp->banks[i].mode == mode))
			return (struct replay_bank *)&rp->banks[i];
	return NULL;
}

VOUCH_EXPORT int vouch_log_replay_set_target(vouch_log_replay *rp,
					     const struct vouch_pcr_bank *bank, uint32_t pcr_mask)
{
	bool any = false;

	if (!rp || !bank || pcr_mask == 0 || (pcr_mask >> VOUCH_PCR_COUNT))
		return -EINVAL;
	if ((bank->present & pcr_mask) != pcr_mask)
		return ctx_err(rp->ctx, -EINVAL, "the %s PCR values lack a watched PCR",
			       vouch_hash_info(bank->algo) ? vouch_hash_info(bank->algo)->name :
							     "?");
	for (size_t i = 0; i < rp->n; i++) {
		struct replay_bank *b = &rp->banks[i];

		if (b->algo != bank->algo)
			continue;
		any = true;
		b->has_target = true;
		b->mask = pcr_mask;
		b->mismatch = 0;
		memcpy(b->target, bank->pcr, sizeof(b->target));
		for (unsigned p = 0; p < VOUCH_PCR_COUNT; p++)
			if ((pcr_mask >> p & 1) && memcmp(b->pcr[p], b->target[p], b->size) != 0)
				b->mismatch |= 1u << p;
		b->matched_at = b->mismatch ? UINT64_MAX : rp->entries;
	}
	if (!any)
		return ctx_err(rp->ctx, -EINVAL, "bank %s is not being replayed",
			       vouch_hash_info(bank->algo) ? vouch_hash_info(bank->algo)->name :
							     "?");
	return 0;
}

VOUCH_EXPORT int vouch_log_replay_add(vouch_log_replay *rp, const struct vouch_log_entry *e)
{
	uint8_t sha1[20], ext[VOUCH_HASH_MAX_SIZE];
	int k, bad = 0;

	if (!rp || !log_entry_ok(e))
		return -EINVAL;
	if (e->pcr >= VOUCH_PCR_COUNT)
		return ctx_err(rp->ctx, -EBADMSG, "entry %llu: PCR %u out of range",
			       (unsigned long long)e->index, e->pcr);
	if (!e->violation) {
		k = log_entry_hash(&rp->sha1, e, sha1);
		if (k < 0)
			return ctx_err(rp->ctx, k == -EBADMSG ? k : -EIO,
				       "entry %llu: cannot hash the template data",
				       (unsigned long long)e->index);
		if (CRYPTO_memcmp(sha1, e->template_digest, 20) != 0)
			bad = ctx_err(rp->ctx, -EKEYREJECTED,
				      "entry %llu: the template digest does not match the template "
				      "data",
				      (unsigned long long)e->index);
	}
	for (size_t i = 0; i < rp->n; i++) {
		struct replay_bank *b = &rp->banks[i];
		uint8_t *pcr = b->pcr[e->pcr];

		if (e->violation) {
			memset(ext, 0xff, b->size);
		} else if (b->algo == VOUCH_HASH_SHA1 || b->mode == VOUCH_LOG_BANK_PADDED) {
			memset(ext, 0, b->size);
			memcpy(ext, sha1, 20);
		} else if ((k = log_entry_hash(&b->md, e, ext)) < 0) {
			return ctx_err(rp->ctx, -EIO, "entry %llu: cannot hash the template data",
				       (unsigned long long)e->index);
		}
		k = fast_md_digest(&b->md, pcr, b->size, ext, b->size, NULL, 0, pcr);
		if (k < 0)
			return ctx_err(rp->ctx, -EIO, "PCR extend failed");
		if (b->has_target && (b->mask >> e->pcr & 1)) {
			if (memcmp(pcr, b->target[e->pcr], b->size) == 0)
				b->mismatch &= ~(1u << e->pcr);
			else
				b->mismatch |= 1u << e->pcr;
			if (!b->mismatch && b->matched_at == UINT64_MAX)
				b->matched_at = rp->entries + 1;
		}
	}
	rp->entries++;
	if (e->violation)
		rp->violations++;
	return bad;
}

VOUCH_EXPORT int vouch_log_replay_get(const vouch_log_replay *rp, int algo, uint32_t pcr,
				      struct vouch_digest *ret_digest)
{
	const struct replay_bank *b;
	struct vouch_digest d = { 0 };

	if (!rp || !ret_digest || pcr >= VOUCH_PCR_COUNT)
		return -EINVAL;
	b = find_bank(rp, algo, -1);
	if (!b)
		return -EINVAL;
	d.algo = algo;
	d.len = b->size;
	memcpy(d.bytes, b->pcr[pcr], b->size);
	*ret_digest = d;
	return 0;
}

VOUCH_EXPORT int vouch_log_replay_match(const vouch_log_replay *rp, int algo,
					uint64_t *ret_entries)
{
	const struct replay_bank *b;

	if (!rp || !ret_entries)
		return -EINVAL;
	b = find_bank(rp, algo, -1);
	if (!b || !b->has_target)
		return -EINVAL;
	*ret_entries = b->matched_at;
	return 0;
}

int replay_bank_info(const vouch_log_replay *rp, int algo, int mode, unsigned pcr,
		     uint64_t *ret_matched, struct vouch_digest *ret_pcr)
{
	const struct replay_bank *b = find_bank(rp, algo, mode);

	if (!b || pcr >= VOUCH_PCR_COUNT)
		return -EINVAL;
	if (ret_matched)
		*ret_matched = b->has_target ? b->matched_at : UINT64_MAX;
	if (ret_pcr) {
		memset(ret_pcr, 0, sizeof(*ret_pcr));
		ret_pcr->algo = algo;
		ret_pcr->len = b->size;
		memcpy(ret_pcr->bytes, b->pcr[pcr], b->size);
	}
	return 0;
}

VOUCH_EXPORT void vouch_log_replay_count(const vouch_log_replay *rp, uint64_t *ret_entries,
					 uint64_t *ret_violations)
{
	if (ret_entries)
		*ret_entries = rp ? rp->entries : 0;
	if (ret_violations)
		*ret_violations = rp ? rp->violations : 0;
}
