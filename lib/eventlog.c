// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TCG PC Client firmware event log: parse (little endian, through the cursor) and replay
 * into PCR values (FORMATS.md §12.5).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <openssl/evp.h>

#include "internal.h"
#include "openssl-internal.h"
#include "quote-internal.h"

#define EV_NO_ACTION 0x3
#define SPEC_ID_SIG "Spec ID Event03"
#define STARTUP_LOCALITY "StartupLocality"

struct spec_alg {
	uint16_t tpm_alg;
	uint16_t size;
	int algo;
};

/* Trailing firmware padding: all zero or all 0xff. */
static bool is_padding(const struct cursor *c)
{
	const uint8_t *p = c->p;

	for (size_t i = 1; i < c->left; i++)
		if (p[i] != p[0])
			return false;
	return c->left && (p[0] == 0 || p[0] == 0xff);
}

static int extend(vouch_ctx *ctx, struct vouch_pcrs_bank *b, uint32_t pcr, const uint8_t *digest)
{
	const EVP_MD *md = ssl_md(ctx, b->algo);
	size_t sz = vouch_hash_info(b->algo)->size;
	uint8_t buf[2 * VOUCH_HASH_MAX_SIZE];
	unsigned out_len;

	memcpy(buf, b->values[pcr], sz);
	memcpy(buf + sz, digest, sz);
	if (!md || !EVP_Digest(buf, 2 * sz, b->values[pcr], &out_len, md, NULL))
		return -EIO;
	b->mask |= 1U << pcr;
	return 0;
}

static void startup_locality(struct vouch_pcrs *pcrs, const uint8_t *ev, size_t ev_len,
			     struct vouch_eventlog_info *info)
{
	if (ev_len < sizeof(STARTUP_LOCALITY) + 1 ||
	    memcmp(ev, STARTUP_LOCALITY, sizeof(STARTUP_LOCALITY)) != 0)
		return;
	/* only meaningful before PCR 0 is first extended; a later one cannot reset it */
	for (uint32_t b = 0; b < pcrs->n_banks; b++)
		if (pcrs->banks[b].mask & 1U)
			return;
	info->startup_locality = ev[sizeof(STARTUP_LOCALITY)];
	for (uint32_t b = 0; b < pcrs->n_banks; b++) {
		size_t sz = vouch_hash_info(pcrs->banks[b].algo)->size;

		pcrs->banks[b].values[0][sz - 1] = info->startup_locality;
	}
}

static int parse_spec_id(vouch_ctx *ctx, const uint8_t *ev, size_t ev_len,
			 struct spec_alg *algs, uint32_t *ret_n)
{
	struct cursor c;
	uint32_t n;
	uint8_t vendor;

	cur_init(&c, ev, ev_len);
	if (cur_skip(&c, 16 + 4 + 4) < 0 || cur_u32le(&c, &n) < 0 || n == 0 || n > 16)
		return ctx_err(ctx, -EBADMSG, "malformed Spec ID event");
	for (uint32_t i = 0; i < n; i++) {
		if (cur_u16le(&c, &algs[i].tpm_alg) < 0 || cur_u16le(&c, &algs[i].size) < 0 ||
		    algs[i].size == 0 || algs[i].size > VOUCH_HASH_MAX_SIZE)
			return ctx_err(ctx, -EBADMSG, "malformed Spec ID algorithm table");
		algs[i].algo = vouch_hash_by_tpm_alg(algs[i].tpm_alg);
		if (algs[i].algo >= 0 && vouch_hash_info(algs[i].algo)->size != algs[i].size)
			return ctx_err(ctx, -EBADMSG,
				       "Spec ID gives algorithm 0x%04x a digest size of %u",
				       algs[i].tpm_alg, algs[i].size);
		for (uint32_t k = 0; k < i; k++)
			if (algs[k].tpm_alg == algs[i].tpm_alg)
				return ctx_err(ctx, -EBADMSG, "Spec ID lists 0x%04x twice",
					       algs[i].tpm_alg);
	}
	if (cur_u8(&c, &vendor) < 0 || cur_skip(&c, vendor) < 0)
		return ctx_err(ctx, -EBADMSG, "malformed Spec ID vendor info");
	*ret_n = n;
	return 0;
}

VOUCH_EXPORT int vouch_eventlog_replay(vouch_ctx *ctx, const uint8_t *log, size_t len,
				       struct vouch_pcrs *pcrs, struct vouch_eventlog_info *ret_info)
{
	_cleanup_free_ struct vouch_pcrs *out = NULL;
	struct vouch_eventlog_info info = { 0 };
	struct spec_alg algs[16];
	uint32_t n_algs = 0, pcr, type, size;
	const uint8_t *digest, *ev;
	struct cursor c;
	int r;

	if (!ctx || (!log && len) || !pcrs || !pcrs->n_banks || pcrs->n_banks > VOUCH_PCR_MAX_BANKS)
		return -EINVAL;
	out = mem_zalloc(sizeof(*out));
	if (!out)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	out->n_banks = pcrs->n_banks;
	for (uint32_t b = 0; b < pcrs->n_banks; b++) {
		int algo = pcrs->banks[b].algo;

		if (!vouch_hash_info(algo))
			return -EINVAL;
		if (!ssl_md(ctx, algo))
			return ctx_err(ctx, -EOPNOTSUPP, "hash '%s' is not available",
				       vouch_hash_info(algo)->name);
		out->banks[b].algo = algo;
		for (unsigned i = 17; i <= 22; i++)
			memset(out->banks[b].values[i], 0xff, vouch_hash_info(algo)->size);
	}

	cur_init(&c, log, len);
	/* the header is always in the SHA-1 TCG_PCR_EVENT format */
	if (cur_u32le(&c, &pcr) < 0 || cur_u32le(&c, &type) < 0 || cur_bytes(&c, 20, &digest) < 0 ||
	    cur_u32le(&c, &size) < 0 || cur_bytes(&c, size, &ev) < 0)
		return ctx_err(ctx, -EBADMSG, "event log too short for its first record");
	if (type == EV_NO_ACTION && pcr == 0 && size >= sizeof(SPEC_ID_SIG) &&
	    !memcmp(ev, SPEC_ID_SIG, sizeof(SPEC_ID_SIG))) {
		r = parse_spec_id(ctx, ev, size, algs, &n_algs);
		if (r < 0)
			return r;
		info.crypto_agile = true;
	} else {
		/* TPM 1.2-style log: SHA-1 only, the first record is an ordinary event */
		algs[0] = (struct spec_alg){ .tpm_alg = 0x0004, .size = 20, .algo = VOUCH_HASH_SHA1 };
		n_algs = 1;
		cur_init(&c, log, len);
	}
	info.n_algos = n_algs;
	for (uint32_t i = 0; i < n_algs; i++)
		info.algos[i] = algs[i].algo;
	for (uint32_t b = 0; b < pcrs->n_banks; b++) {
		bool found = false;

		for (uint32_t i = 0; i < n_algs; i++)
			found |= algs[i].algo == pcrs->banks[b].algo;
		if (!found)
			return ctx_err(ctx, -ENODATA, "the event log has no %s bank",
				       vouch_hash_info(pcrs->banks[b].algo)->name);
	}

	while (cur_left(&c)) {
		const uint8_t *dig[VOUCH_PCR_MAX_BANKS] = { 0 };
		uint32_t count;

		if (is_padding(&c)) {
			info.trailing_bytes = cur_left(&c);
			break;
		}
		if (cur_u32le(&c, &pcr) < 0 || cur_u32le(&c, &type) < 0)
			goto bad;
		if (info.crypto_agile) {
			if (cur_u32le(&c, &count) < 0 || count == 0 || count > 16)
				goto bad;
			for (uint32_t k = 0; k < count; k++) {
				const uint8_t *d;
				uint16_t alg;
				uint32_t i;

				if (cur_u16le(&c, &alg) < 0)
					goto bad;
				for (i = 0; i < n_algs && algs[i].tpm_alg != alg; i++)
					;
				if (i == n_algs) {
					return ctx_err(ctx, -EBADMSG,
						       "event %u: algorithm 0x%04x is not in the Spec ID table",
						       info.n_events + 1, alg);
				}
				if (cur_bytes(&c, algs[i].size, &d) < 0)
					goto bad;
				for (uint32_t b = 0; b < pcrs->n_banks; b++)
					if (algs[i].algo == out->banks[b].algo)
						dig[b] = d;
			}
		} else {
			if (cur_bytes(&c, 20, &dig[0]) < 0)
				goto bad;
		}
		if (cur_u32le(&c, &size) < 0 || cur_bytes(&c, size, &ev) < 0)
			goto bad;
		info.n_events++;
		if (pcr >= VOUCH_PCR_COUNT)
			return ctx_err(ctx, -EBADMSG, "event %u: PCR index %u out of range",
				       info.n_events, pcr);
		if (type == EV_NO_ACTION) {
			/* never extended; its data is informational except StartupLocality */
			if (pcr == 0)
				startup_locality(out, ev, size, &info);
			continue;
		}
		for (uint32_t b = 0; b < pcrs->n_banks; b++) {
			if (!dig[b])
				return ctx_err(ctx, -EBADMSG, "event %u lacks its %s digest",
					       info.n_events,
					       vouch_hash_info(out->banks[b].algo)->name);
			r = extend(ctx, &out->banks[b], pcr, dig[b]);
			if (r < 0)
				return ctx_err(ctx, r, "cannot compute the replay");
		}
	}
	if (info.startup_locality)
		for (uint32_t b = 0; b < pcrs->n_banks; b++)
			out->banks[b].mask |= 1U;
	*pcrs = *out;
	if (ret_info)
		*ret_info = info;
	return 0;
bad:
	return ctx_err(ctx, -EBADMSG, "event log truncated or malformed at event %u",
		       info.n_events + 1);
}
