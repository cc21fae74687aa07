// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TPM 2.0 wire structures parsed from untrusted bytes through the cursor: PCR selections
 * (TPML_PCR_SELECTION and the command line's text form), PCR values, TPMS_ATTEST and
 * TPMT_SIGNATURE.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "internal.h"
#include "openssl-internal.h"
#include "quote-internal.h"

/* --- PCR selections ------------------------------------------------------------------ */

VOUCH_EXPORT int vouch_pcrs_parse_selection(const char *spec, struct vouch_pcrs *ret_pcrs)
{
	struct vouch_pcrs *p;
	const char *s = spec;
	int r = -EINVAL;

	if (!spec || !ret_pcrs)
		return -EINVAL;
	p = mem_zalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	while (*s) {
		const char *colon = strchr(s, ':');
		const char *end = strchr(s, '+');
		char name[32];
		struct vouch_pcr_bank *b;
		int algo;

		if (!end)
			end = s + strlen(s);
		if (!colon || colon > end || (size_t)(colon - s) >= sizeof(name) || colon == s)
			goto out;
		memcpy(name, s, (size_t)(colon - s));
		name[colon - s] = '\0';
		algo = vouch_hash_by_name(name);
		if (algo < 0 || !vouch_hash_info(algo)->tpm_alg) {
			r = -ENOENT;
			goto out;
		}
		if (p->n_banks == VOUCH_PCR_MAX_BANKS)
			goto out;
		for (uint32_t i = 0; i < p->n_banks; i++)
			if (p->banks[i].algo == algo)
				goto out;
		b = &p->banks[p->n_banks++];
		b->algo = algo;
		s = colon + 1;
		if ((size_t)(end - s) == 3 && !strncmp(s, "all", 3)) {
			b->present = (1U << VOUCH_PCR_COUNT) - 1;
			s = end;
		}
		while (s < end) {
			uint32_t lo = 0, hi;
			bool digits = false;

			while (s < end && *s >= '0' && *s <= '9' && lo < 100) {
				lo = lo * 10 + (uint32_t)(*s++ - '0');
				digits = true;
			}
			if (!digits)
				goto out;
			hi = lo;
			if (s < end && *s == '-') {
				s++;
				hi = 0;
				digits = false;
				while (s < end && *s >= '0' && *s <= '9' && hi < 100) {
					hi = hi * 10 + (uint32_t)(*s++ - '0');
					digits = true;
				}
				if (!digits)
					goto out;
			}
			if (lo > hi || hi >= VOUCH_PCR_COUNT)
				goto out;
			for (uint32_t i = lo; i <= hi; i++)
				b->present |= 1U << i;
			if (s < end) {
				if (*s != ',' || s + 1 == end)
					goto out;
				s++;
			}
		}
		if (!b->present)
			goto out;
		s = end;
		if (*s == '+') {
			s++;
			if (!*s)
				goto out;
		}
	}
	if (!p->n_banks)
		goto out;
	*ret_pcrs = *p;
	r = 0;
out:
	free(p);
	return r;
}

static int cur_u16o(struct cursor *c, uint16_t *v, bool be)
{
	return be ? cur_u16be(c, v) : cur_u16le(c, v);
}

static int cur_u32o(struct cursor *c, uint32_t *v, bool be)
{
	return be ? cur_u32be(c, v) : cur_u32le(c, v);
}

/*
 * tpm2_quote -o FILE without -F values (what tpm2_checkquote -f reads): the C structures
 * TPML_PCR_SELECTION (u32 count, 16 x {u16 hash, u8 sizeofSelect, u8 pcrSelect[4], pad}),
 * a u32 number of TPML_DIGESTs and those (u32 count, 8 x {u16 size, u8 buffer[64]}), in
 * the writer's byte order (tpm2-tools 5.4: host order; later ones: big endian).  The
 * selection must be @pcrs's; the digests are its values in order.
 */
#define SER_SEL_BANKS 16
#define SER_DIGESTS 8
#define SER_SEL_SIZE (4 + SER_SEL_BANKS * 8)
#define SER_TPML_SIZE (4 + SER_DIGESTS * (2 + 64))

static int set_values_serialized(struct vouch_pcrs *pcrs, const uint8_t *buf, size_t len,
				 bool be)
{
	struct cursor c;
	uint32_t count, n_lists, b = 0;
	unsigned i = 0;

	if (len < SER_SEL_SIZE + 4 || (len - SER_SEL_SIZE - 4) % SER_TPML_SIZE)
		return -EBADMSG;
	cur_init(&c, buf, len);
	if (cur_u32o(&c, &count, be) < 0 || count != pcrs->n_banks || count > SER_SEL_BANKS)
		return -EBADMSG;
	for (uint32_t k = 0; k < SER_SEL_BANKS; k++) {
		uint16_t alg;
		uint8_t size, sel[4], pad;
		uint32_t mask;

		if (cur_u16o(&c, &alg, be) < 0 || cur_u8(&c, &size) < 0 || cur_copy(&c, sel, 4) < 0 ||
		    cur_u8(&c, &pad) < 0)
			return -EBADMSG;
		if (k >= count)
			continue;
		mask = (uint32_t)sel[0] | (uint32_t)sel[1] << 8 | (uint32_t)sel[2] << 16;
		for (unsigned j = size; j < 4; j++)
			if (sel[j])
				return -EBADMSG;
		if (size > 4 || sel[3] ||
		    vouch_hash_by_tpm_alg(alg) != pcrs->banks[k].algo || mask != pcrs->banks[k].present)
			return -EBADMSG; /* not the requested selection */
	}
	if (cur_u32o(&c, &n_lists, be) < 0 || cur_left(&c) != (size_t)n_lists * SER_TPML_SIZE)
		return -EBADMSG;
	for (uint32_t l = 0; l < n_lists; l++) {
		uint32_t n;

		if (cur_u32o(&c, &n, be) < 0 || n > SER_DIGESTS)
			return -EBADMSG;
		for (uint32_t d = 0; d < SER_DIGESTS; d++) {
			uint16_t size;
			const uint8_t *val;

			if (cur_u16o(&c, &size, be) < 0 || cur_bytes(&c, 64, &val) < 0)
				return -EBADMSG;
			if (d >= n)
				continue;
			/* the next selected PCR in selection order */
			while (b < pcrs->n_banks && (i >= VOUCH_PCR_COUNT ||
						     !(pcrs->banks[b].present >> i & 1))) {
				if (++i >= VOUCH_PCR_COUNT && ++b < pcrs->n_banks)
					i = 0;
			}
			if (b >= pcrs->n_banks || size != pcr_bank_size(pcrs->banks[b].algo))
				return -EBADMSG;
			memcpy(pcrs->banks[b].pcr[i], val, size);
			i++;
		}
	}
	/* every selected PCR got its value */
	while (b < pcrs->n_banks && (i >= VOUCH_PCR_COUNT || !(pcrs->banks[b].present >> i & 1))) {
		if (++i >= VOUCH_PCR_COUNT && ++b < pcrs->n_banks)
			i = 0;
	}
	return b >= pcrs->n_banks ? 0 : -EBADMSG;
}

VOUCH_EXPORT int vouch_pcrs_set_values(struct vouch_pcrs *pcrs, const uint8_t *buf, size_t len)
{
	struct cursor c;
	size_t want = 0;

	if (!pcrs || (!buf && len) || pcrs->n_banks > VOUCH_PCR_MAX_BANKS)
		return -EINVAL;
	for (uint32_t b = 0; b < pcrs->n_banks; b++) {
		size_t sz = pcr_bank_size(pcrs->banks[b].algo);

		if (!sz)
			return -EINVAL;
		want += sz * (size_t)__builtin_popcount(pcrs->banks[b].present);
	}
	if (len != want) {
		/* tpm2_quote's default serialized form, either byte order; never half-filled */
		struct vouch_pcrs tmp = *pcrs;

		if (set_values_serialized(&tmp, buf, len, false) < 0) {
			tmp = *pcrs;
			if (set_values_serialized(&tmp, buf, len, true) < 0)
				return -EBADMSG;
		}
		*pcrs = tmp;
		return 0;
	}
	cur_init(&c, buf, len);
	for (uint32_t b = 0; b < pcrs->n_banks; b++) {
		struct vouch_pcr_bank *bank = &pcrs->banks[b];
		size_t sz = pcr_bank_size(bank->algo);

		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++)
			if ((bank->present & (1U << i)) && cur_copy(&c, bank->pcr[i], sz) < 0)
				return -EBADMSG;
	}
	return cur_left(&c) ? -EBADMSG : 0;
}

int pcrs_concat(const struct vouch_pcrs *pcrs, uint8_t **ret, size_t *ret_len)
{
	size_t n = 0, off = 0;
	uint8_t *buf;

	for (uint32_t b = 0; b < pcrs->n_banks; b++)
		n += pcr_bank_size(pcrs->banks[b].algo) *
		     (size_t)__builtin_popcount(pcrs->banks[b].present & ((1U << VOUCH_PCR_COUNT) - 1));
	buf = mem_alloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	for (uint32_t b = 0; b < pcrs->n_banks; b++) {
		size_t sz = pcr_bank_size(pcrs->banks[b].algo);

		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++)
			if (pcrs->banks[b].present & (1U << i)) {
				memcpy(buf + off, pcrs->banks[b].pcr[i], sz);
				off += sz;
			}
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

int tpml_pcr_selection_parse(struct cursor *c, struct vouch_pcrs *ret)
{
	uint32_t count;

	memset(ret, 0, sizeof(*ret));
	if (cur_u32be(c, &count) < 0 || count > VOUCH_PCR_MAX_BANKS)
		return -EBADMSG;
	for (uint32_t i = 0; i < count; i++) {
		struct vouch_pcr_bank *b = &ret->banks[i];
		const uint8_t *sel;
		uint16_t alg;
		uint8_t n;
		int algo;

		if (cur_u16be(c, &alg) < 0 || cur_u8(c, &n) < 0 || n > 4 || cur_bytes(c, n, &sel) < 0)
			return -EBADMSG;
		algo = vouch_hash_by_tpm_alg(alg);
		if (algo < 0)
			return -EBADMSG;
		for (uint32_t k = 0; k < i; k++)
			if (ret->banks[k].algo == algo)
				return -EBADMSG;
		b->algo = algo;
		for (unsigned k = 0; k < n; k++) {
			if (k == 3 && sel[k])
				return -EBADMSG; /* PCR 24 and up do not exist */
			if (k < 3)
				b->present |= (uint32_t)sel[k] << (8 * k);
		}
	}
	ret->n_banks = count;
	return 0;
}

size_t tpml_pcr_selection_put(const struct vouch_pcrs *sel, uint8_t *out, size_t size)
{
	size_t need = 4 + (size_t)sel->n_banks * 6;

	if (size < need)
		return 0;
	put_be32(out, sel->n_banks);
	for (uint32_t i = 0; i < sel->n_banks; i++) {
		uint8_t *p = out + 4 + 6 * i;

		put_be16(p, vouch_hash_info(sel->banks[i].algo)->tpm_alg);
		p[2] = 3;
		p[3] = (uint8_t)sel->banks[i].present;
		p[4] = (uint8_t)(sel->banks[i].present >> 8);
		p[5] = (uint8_t)(sel->banks[i].present >> 16);
	}
	return need;
}

/* --- TPMS_ATTEST / TPMT_SIGNATURE -------------------------------------------------------- */

int tpms_attest_parse(const uint8_t *buf, size_t len, struct tpms_attest *ret)
{
	struct cursor c;

	memset(ret, 0, sizeof(*ret));
	cur_init(&c, buf, len);
	if (cur_u32be(&c, &ret->magic) < 0 || cur_u16be(&c, &ret->type) < 0 ||
	    cur_tpm2b(&c, &ret->signer, &ret->signer_len) < 0 ||
	    cur_tpm2b(&c, &ret->extra, &ret->extra_len) < 0 || cur_u64be(&c, &ret->clock) < 0 ||
	    cur_u32be(&c, &ret->reset_count) < 0 || cur_u32be(&c, &ret->restart_count) < 0 ||
	    cur_u8(&c, &ret->safe) < 0 || cur_u64be(&c, &ret->firmware_version) < 0)
		return -EBADMSG;
	if (ret->signer_len > 2 + VOUCH_HASH_MAX_SIZE || ret->extra_len > VOUCH_HASH_MAX_SIZE + 2)
		return -EBADMSG;
	if (ret->type != TPM_ST_ATTEST_QUOTE)
		return 0; /* the type check reports it; the union is not interpreted */
	if (tpml_pcr_selection_parse(&c, &ret->sel) < 0 ||
	    cur_tpm2b(&c, &ret->pcr_digest, &ret->pcr_digest_len) < 0 ||
	    ret->pcr_digest_len > VOUCH_HASH_MAX_SIZE || cur_left(&c) != 0)
		return -EBADMSG;
	return 0;
}

int tpmt_signature_parse(const uint8_t *buf, size_t len, struct tpmt_signature *ret)
{
	struct cursor c;

	memset(ret, 0, sizeof(*ret));
	cur_init(&c, buf, len);
	if (cur_u16be(&c, &ret->sig_alg) < 0)
		return -EBADMSG;
	switch (ret->sig_alg) {
	case TPM_ALG_RSASSA:
	case TPM_ALG_RSAPSS:
		if (cur_u16be(&c, &ret->hash_alg) < 0 || cur_tpm2b(&c, &ret->sig, &ret->sig_len) < 0)
			return -EBADMSG;
		break;
	case TPM_ALG_ECDSA:
	case TPM_ALG_SM2:
	case TPM_ALG_ECSCHNORR:
	case TPM_ALG_ECDAA:
		if (cur_u16be(&c, &ret->hash_alg) < 0 || cur_tpm2b(&c, &ret->sig, &ret->sig_len) < 0 ||
		    cur_tpm2b(&c, &ret->s, &ret->s_len) < 0)
			return -EBADMSG;
		break;
	case TPM_ALG_HMAC: {
		int algo;

		if (cur_u16be(&c, &ret->hash_alg) < 0)
			return -EBADMSG;
		algo = vouch_hash_by_tpm_alg(ret->hash_alg);
		if (algo < 0 || cur_bytes(&c, pcr_bank_size(algo), &ret->sig) < 0)
			return -EBADMSG;
		ret->sig_len = pcr_bank_size(algo);
		break;
	}
	case TPM_ALG_NULL:
		break;
	default:
		return -EBADMSG;
	}
	return cur_left(&c) ? -EBADMSG : 0;
}
