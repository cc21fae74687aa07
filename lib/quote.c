// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TPM 2.0 quote verification: TPMS_ATTEST, TPMT_SIGNATURE and TPMT_PUBLIC parsed from
 * untrusted bytes through the cursor, and one verification call that runs every check
 * (FORMATS.md §12, STYLE.md rule 15).
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

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_freep, OSSL_PARAM_BLD_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(OSSL_PARAM *, OSSL_PARAM_freep, OSSL_PARAM_free)

#define AK_FILE_MAX (64 * 1024)

struct vouch_ak {
	EVP_PKEY *pkey;
	struct vouch_ak_info info;
	uint8_t *public_area; /* TPM2B_PUBLIC, when loaded from one */
	size_t public_len;
	int ec_nid;
	/* from a TPM public area: what credential.c needs of an EK (0 when not known) */
	uint16_t type, name_alg, sym_alg, sym_bits, sym_mode;
	/* SHA-256 of the PEM public key, hex: binds a state file to its AK (made at load) */
	char fingerprint[65];
};

/*
 * The AK's fingerprint, computed once when the AK is loaded: encoding the key is ~100 us in
 * OpenSSL 3.0 (an encoder context built per call), three quarters of a quote verification
 * when it was done on every vouch_attest_verify().
 */
static int ak_set_fingerprint(vouch_ctx *ctx, vouch_ak *ak)
{
	_cleanup_free_ char *pem = NULL;
	struct vouch_digest d;
	int r = vouch_ak_export_pem(ctx, ak, &pem);

	if (r == 0)
		r = vouch_digest_buf(ctx, VOUCH_HASH_SHA256, pem, strlen(pem), &d);
	if (r == 0)
		vouch_digest_to_hex(&d, ak->fingerprint, sizeof(ak->fingerprint));
	return r;
}

const char *ak_fingerprint(const vouch_ak *ak)
{
	return ak->fingerprint;
}

/* --- PCR selections ------------------------------------------------------------------ */

static size_t bank_size(int algo)
{
	const struct vouch_hash_info *hi = vouch_hash_info(algo);

	return hi ? hi->size : 0;
}

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
		struct vouch_pcrs_bank *b;
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
			b->mask = (1U << VOUCH_PCR_COUNT) - 1;
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
				b->mask |= 1U << i;
			if (s < end) {
				if (*s != ',' || s + 1 == end)
					goto out;
				s++;
			}
		}
		if (!b->mask)
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
		    vouch_hash_by_tpm_alg(alg) != pcrs->banks[k].algo || mask != pcrs->banks[k].mask)
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
						     !(pcrs->banks[b].mask >> i & 1))) {
				if (++i >= VOUCH_PCR_COUNT && ++b < pcrs->n_banks)
					i = 0;
			}
			if (b >= pcrs->n_banks || size != bank_size(pcrs->banks[b].algo))
				return -EBADMSG;
			memcpy(pcrs->banks[b].values[i], val, size);
			i++;
		}
	}
	/* every selected PCR got its value */
	while (b < pcrs->n_banks && (i >= VOUCH_PCR_COUNT || !(pcrs->banks[b].mask >> i & 1))) {
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
		size_t sz = bank_size(pcrs->banks[b].algo);

		if (!sz)
			return -EINVAL;
		want += sz * (size_t)__builtin_popcount(pcrs->banks[b].mask);
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
		struct vouch_pcrs_bank *bank = &pcrs->banks[b];
		size_t sz = bank_size(bank->algo);

		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++)
			if ((bank->mask & (1U << i)) && cur_copy(&c, bank->values[i], sz) < 0)
				return -EBADMSG;
	}
	return cur_left(&c) ? -EBADMSG : 0;
}

int pcrs_concat(const struct vouch_pcrs *pcrs, uint8_t **ret, size_t *ret_len)
{
	size_t n = 0, off = 0;
	uint8_t *buf;

	for (uint32_t b = 0; b < pcrs->n_banks; b++)
		n += bank_size(pcrs->banks[b].algo) *
		     (size_t)__builtin_popcount(pcrs->banks[b].mask & ((1U << VOUCH_PCR_COUNT) - 1));
	buf = mem_alloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	for (uint32_t b = 0; b < pcrs->n_banks; b++) {
		size_t sz = bank_size(pcrs->banks[b].algo);

		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++)
			if (pcrs->banks[b].mask & (1U << i)) {
				memcpy(buf + off, pcrs->banks[b].values[i], sz);
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
		struct vouch_pcrs_bank *b = &ret->banks[i];
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
				b->mask |= (uint32_t)sel[k] << (8 * k);
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
		p[3] = (uint8_t)sel->banks[i].mask;
		p[4] = (uint8_t)(sel->banks[i].mask >> 8);
		p[5] = (uint8_t)(sel->banks[i].mask >> 16);
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
		if (algo < 0 || cur_bytes(&c, bank_size(algo), &ret->sig) < 0)
			return -EBADMSG;
		ret->sig_len = bank_size(algo);
		break;
	}
	case TPM_ALG_NULL:
		break;
	default:
		return -EBADMSG;
	}
	return cur_left(&c) ? -EBADMSG : 0;
}

/* --- attestation keys ------------------------------------------------------------------ */

static int ak_fill_from_pkey(vouch_ak *ak)
{
	switch (EVP_PKEY_get_base_id(ak->pkey)) {
	case EVP_PKEY_RSA:
		ak->info.key_type = VOUCH_KEY_RSA;
		break;
	case EVP_PKEY_EC: {
		char group[64];

		ak->info.key_type = VOUCH_KEY_EC;
		if (EVP_PKEY_get_utf8_string_param(ak->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						   sizeof(group), NULL))
			ak->ec_nid = OBJ_txt2nid(group);
		break;
	}
	default:
		return -EBADMSG;
	}
	ak->info.key_bits = (unsigned)EVP_PKEY_get_bits(ak->pkey);
	return 0;
}

static int tpm2b_to_bn_param(OSSL_PARAM_BLD *bld, const char *key, const uint8_t *p, size_t n,
			     BIGNUM **ret_bn)
{
	BIGNUM *bn = BN_bin2bn(p, (int)n, NULL);

	if (!bn)
		return -ENOMEM;
	*ret_bn = bn;
	return OSSL_PARAM_BLD_push_BN(bld, key, bn) ? 0 : -ENOMEM;
}

int ak_from_tpmt_public(vouch_ctx *ctx, const uint8_t *buf, size_t len, vouch_ak **ret)
{
	_cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
	_cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *pctx = NULL;
	_cleanup_(BN_freep) BIGNUM *n_bn = NULL;
	_cleanup_(BN_freep) BIGNUM *e_bn = NULL;
	_cleanup_free_ uint8_t *point = NULL;
	uint16_t type, name_alg, sym, sym_bits = 0, sym_mode = 0, scheme, scheme_hash = 0, u16;
	const uint8_t *policy, *x, *y, *n;
	size_t policy_len, x_len, y_len, n_len;
	uint32_t attrs;
	struct cursor c;
	EVP_PKEY *pkey = NULL;
	vouch_ak *ak;
	int name_algo, r;

	cur_init(&c, buf, len);
	if (cur_u16be(&c, &type) < 0 || cur_u16be(&c, &name_alg) < 0 || cur_u32be(&c, &attrs) < 0 ||
	    cur_tpm2b(&c, &policy, &policy_len) < 0 || cur_u16be(&c, &sym) < 0)
		goto bad;
	if (type != TPM_ALG_RSA && type != TPM_ALG_ECC)
		return ctx_err(ctx, -EBADMSG, "TPM public area of type 0x%04x is not a signing key",
			       type);
	if (sym != TPM_ALG_NULL && (cur_u16be(&c, &sym_bits) < 0 || cur_u16be(&c, &sym_mode) < 0))
		goto bad;
	if (cur_u16be(&c, &scheme) < 0)
		goto bad;
	if (scheme != TPM_ALG_NULL) {
		if (cur_u16be(&c, &scheme_hash) < 0)
			goto bad;
		if (scheme == TPM_ALG_ECDAA && cur_skip(&c, 2) < 0)
			goto bad;
	}
	name_algo = vouch_hash_by_tpm_alg(name_alg);
	if (name_algo < 0)
		goto bad;
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	if (type == TPM_ALG_RSA) {
		uint16_t bits;
		uint32_t exp;

		if (cur_u16be(&c, &bits) < 0 || cur_u32be(&c, &exp) < 0 ||
		    cur_tpm2b(&c, &n, &n_len) < 0 || n_len == 0 || n_len * 8 != bits)
			goto bad;
		if (exp == 0)
			exp = 65537;
		e_bn = BN_new();
		if (!e_bn || !BN_set_word(e_bn, exp) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e_bn) ||
		    tpm2b_to_bn_param(bld, OSSL_PKEY_PARAM_RSA_N, n, n_len, &n_bn) < 0)
			return ctx_err(ctx, -ENOMEM, "out of memory");
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		const char *group;
		size_t fs;
		uint16_t curve, kdf;

		if (cur_u16be(&c, &curve) < 0 || cur_u16be(&c, &kdf) < 0)
			goto bad;
		if (kdf != TPM_ALG_NULL && cur_u16be(&c, &u16) < 0)
			goto bad;
		switch (curve) {
		case TPM_ECC_NIST_P256:
			group = "P-256", fs = 32;
			break;
		case TPM_ECC_NIST_P384:
			group = "P-384", fs = 48;
			break;
		case TPM_ECC_NIST_P521:
			group = "P-521", fs = 66;
			break;
		default:
			return ctx_err(ctx, -EBADMSG, "unsupported TPM curve 0x%04x", curve);
		}
		if (cur_tpm2b(&c, &x, &x_len) < 0 || cur_tpm2b(&c, &y, &y_len) < 0 || x_len > fs ||
		    y_len > fs || !x_len || !y_len)
			goto bad;
		point = mem_zalloc(1 + 2 * fs);
		if (!point)
			return ctx_err(ctx, -ENOMEM, "out of memory");
		point[0] = 0x04;
		memcpy(point + 1 + fs - x_len, x, x_len);
		memcpy(point + 1 + 2 * fs - y_len, y, y_len);
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * fs))
			return ctx_err(ctx, -ENOMEM, "out of memory");
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	if (cur_left(&c))
		goto bad;
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!pctx || !params)
		return ctx_err_ssl(ctx, -ENOMEM, "out of memory");
	if (EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		return ctx_err_ssl(ctx, -EBADMSG, "the TPM public key is not a valid key");
	ak = mem_zalloc(sizeof(*ak));
	if (!ak) {
		EVP_PKEY_free(pkey);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	ak->pkey = pkey;
	ak->public_area = mem_alloc(len + 2);
	if (!ak->public_area) {
		vouch_ak_free(ak);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	put_be16(ak->public_area, (uint16_t)len);
	memcpy(ak->public_area + 2, buf, len);
	ak->public_len = len + 2;
	ak_fill_from_pkey(ak);
	ak->info.has_public_area = true;
	ak->info.attributes = attrs;
	ak->type = type;
	ak->name_alg = name_alg;
	ak->sym_alg = sym;
	ak->sym_bits = sym_bits;
	ak->sym_mode = sym_mode;
	ak->info.scheme = scheme;
	ak->info.scheme_hash = scheme == TPM_ALG_NULL ? -1 : vouch_hash_by_tpm_alg(scheme_hash);
	{
		struct vouch_digest d;

		r = vouch_digest_buf(ctx, name_algo, buf, len, &d);
		if (r < 0) {
			vouch_ak_free(ak);
			return r;
		}
		put_be16(ak->info.name, name_alg);
		memcpy(ak->info.name + 2, d.bytes, d.len);
		ak->info.name_len = 2 + d.len;
	}
	r = ak_set_fingerprint(ctx, ak);
	if (r < 0) {
		vouch_ak_free(ak);
		return r;
	}
	*ret = ak;
	return 0;
bad:
	return ctx_err(ctx, -EBADMSG, "malformed TPM public area");
}

VOUCH_EXPORT int vouch_ak_load_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len,
				   vouch_ak **ret_ak)
{
	EVP_PKEY *pkey = NULL;
	vouch_ak *ak;
	int r;

	if (!ctx || (!buf && len) || !ret_ak)
		return -EINVAL;
	if (len > AK_FILE_MAX)
		return ctx_err(ctx, -EBADMSG, "attestation key too large");
	if (memmem(buf, len, "-----BEGIN ", 11)) {
		/*
		 * The first "PUBLIC KEY" block, as PEM_read_bio_PUBKEY() takes it; base64 by
		 * PEM_bytes_read_bio(), the DER by the context's cached decoder (OpenSSL 3.0
		 * builds a decoder context per PEM_read_bio_PUBKEY(): 70% of a load, perf)
		 */
		_cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(buf, (int)len);
		unsigned char *der = NULL;
		long der_len = 0;

		if (!bio)
			return ctx_err_ssl(ctx, -ENOMEM, "out of memory");
		if (!PEM_bytes_read_bio(&der, &der_len, NULL, PEM_STRING_PUBLIC, bio, NULL, NULL))
			return ctx_err_ssl(ctx, -EBADMSG, "not a PEM public key");
		r = spki_decode(ctx, der, (size_t)der_len, &pkey);
		OPENSSL_free(der);
		if (r == -ENOMEM)
			return ctx_err_ssl(ctx, r, "cannot build the OpenSSL key decoder");
		if (r < 0)
			return ctx_err_ssl(ctx, -EBADMSG, "not a PEM public key");
	} else {

		if (len >= 2 && get_be16(buf) == len - 2)
			return ak_from_tpmt_public(ctx, buf + 2, len - 2, ret_ak);
		if (len >= 2 && (get_be16(buf) == TPM_ALG_RSA || get_be16(buf) == TPM_ALG_ECC)) {
			r = ak_from_tpmt_public(ctx, buf, len, ret_ak);
			if (r != -EBADMSG)
				return r;
		}
		r = spki_decode(ctx, buf, len, &pkey);
		if (r == -ENOMEM)
			return ctx_err_ssl(ctx, r, "cannot build the OpenSSL key decoder");
		if (r < 0)
			return ctx_err_ssl(ctx, -EBADMSG,
					   "not a public key (PEM, DER, TPM2B_PUBLIC or TPMT_PUBLIC)");
	}
	ak = mem_zalloc(sizeof(*ak));
	if (!ak) {
		EVP_PKEY_free(pkey);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	ak->pkey = pkey;
	ak->info.scheme = TPM_ALG_NULL;
	ak->info.scheme_hash = -1;
	if (ak_fill_from_pkey(ak) < 0) {
		vouch_ak_free(ak);
		return ctx_err(ctx, -EBADMSG, "attestation key is neither RSA nor EC");
	}
	r = ak_set_fingerprint(ctx, ak);
	if (r < 0) {
		vouch_ak_free(ak);
		return r;
	}
	*ret_ak = ak;
	return 0;
}

VOUCH_EXPORT int vouch_ak_load(vouch_ctx *ctx, const char *path, vouch_ak **ret_ak)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	if (!ctx || !path || !ret_ak)
		return -EINVAL;
	r = read_file_all(ctx, path, AK_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	r = vouch_ak_load_mem(ctx, buf, len, ret_ak);
	if (r < 0)
		return ctx_err(ctx, r, "cannot load attestation key '%s': %s", path,
			       vouch_ctx_last_error(ctx));
	return 0;
}

VOUCH_EXPORT void vouch_ak_free(vouch_ak *ak)
{
	if (!ak)
		return;
	EVP_PKEY_free(ak->pkey);
	free(ak->public_area);
	free(ak);
}

void ak_get_params(const vouch_ak *ak, struct ak_params *ret)
{
	ret->pkey = ak->pkey;
	ret->type = ak->type;
	ret->name_alg = ak->name_alg;
	ret->sym_alg = ak->sym_alg;
	ret->sym_bits = ak->sym_bits;
	ret->sym_mode = ak->sym_mode;
}

VOUCH_EXPORT int vouch_ak_get_info(const vouch_ak *ak, struct vouch_ak_info *ret_info)
{
	if (!ak || !ret_info)
		return -EINVAL;
	*ret_info = ak->info;
	return 0;
}

VOUCH_EXPORT int vouch_ak_get_public_area(const vouch_ak *ak, const uint8_t **ret_buf,
					  size_t *ret_len)
{
	if (!ak || !ret_buf || !ret_len)
		return -EINVAL;
	if (!ak->public_area)
		return -ENODATA;
	*ret_buf = ak->public_area;
	*ret_len = ak->public_len;
	return 0;
}

VOUCH_EXPORT int vouch_ak_export_pem(vouch_ctx *ctx, const vouch_ak *ak, char **ret_pem)
{
	_cleanup_(BIO_freep) BIO *bio = NULL;
	char *data, *pem;
	long n;

	if (!ctx || !ak || !ret_pem)
		return -EINVAL;
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_PUBKEY(bio, ak->pkey))
		return ctx_err_ssl(ctx, -EIO, "cannot encode the attestation key");
	n = BIO_get_mem_data(bio, &data);
	pem = mem_alloc((size_t)n + 1);
	if (!pem)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	memcpy(pem, data, (size_t)n);
	pem[n] = '\0';
	*ret_pem = pem;
	return 0;
}

/* --- verification ---------------------------------------------------------------------- */

static const char *const check_names[_VOUCH_QUOTE_CHECK_MAX] = {
	[VOUCH_QUOTE_CHECK_MAGIC] = "magic",
	[VOUCH_QUOTE_CHECK_TYPE] = "type",
	[VOUCH_QUOTE_CHECK_NONCE] = "nonce",
	[VOUCH_QUOTE_CHECK_PCR_SELECTION] = "pcr_selection",
	[VOUCH_QUOTE_CHECK_PCR_DIGEST] = "pcr_digest",
	[VOUCH_QUOTE_CHECK_SIGNATURE] = "signature",
	[VOUCH_QUOTE_CHECK_ALGORITHMS] = "algorithms",
};

VOUCH_EXPORT const char *vouch_quote_check_name(int check)
{
	if (check < 0 || check >= _VOUCH_QUOTE_CHECK_MAX)
		return "?";
	return check_names[check];
}

static const char *tpm_alg_name(uint16_t alg)
{
	switch (alg) {
	case TPM_ALG_RSASSA:
		return "rsassa";
	case TPM_ALG_RSAPSS:
		return "rsapss";
	case TPM_ALG_ECDSA:
		return "ecdsa";
	case TPM_ALG_SM2:
		return "sm2";
	case TPM_ALG_ECSCHNORR:
		return "ecschnorr";
	case TPM_ALG_ECDAA:
		return "ecdaa";
	case TPM_ALG_HMAC:
		return "hmac";
	case TPM_ALG_NULL:
		return "null";
	default:
		return "unknown";
	}
}

static const char *hash_name(int algo)
{
	const struct vouch_hash_info *hi = vouch_hash_info(algo);

	return hi ? hi->name : "unknown";
}

PRINTF_FMT(4, 5)
static void set_check(struct vouch_quote_result *res, int check, int err, const char *fmt, ...)
{
	va_list ap;

	res->checks[check] = err;
	va_start(ap, fmt);
	vsnprintf(res->detail[check], sizeof(res->detail[check]), fmt, ap);
	va_end(ap);
}

/* ECDSA r, s as raw TPM2B integers -> DER ECDSA-Sig-Value */
static int ecdsa_der(const struct tpmt_signature *s, uint8_t **ret, size_t *ret_len)
{
	_cleanup_(ECDSA_SIG_freep) ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = NULL, *ss = NULL;
	unsigned char *der = NULL;
	int n;

	if (!es || s->sig_len == 0 || s->s_len == 0 || s->sig_len > 66 || s->s_len > 66)
		return -EBADMSG;
	r = BN_bin2bn(s->sig, (int)s->sig_len, NULL);
	ss = BN_bin2bn(s->s, (int)s->s_len, NULL);
	if (!r || !ss || !ECDSA_SIG_set0(es, r, ss)) {
		BN_free(r);
		BN_free(ss);
		return -ENOMEM;
	}
	n = i2d_ECDSA_SIG(es, &der);
	if (n <= 0)
		return -ENOMEM;
	*ret = der;
	*ret_len = (size_t)n;
	return 0;
}

static int verify_signature(vouch_ctx *ctx, const vouch_ak *ak, const struct tpmt_signature *s,
			    int sig_algo, const uint8_t *msg, size_t msg_len,
			    struct vouch_quote_result *res)
{
	const int C = VOUCH_QUOTE_CHECK_SIGNATURE;
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *mctx = NULL;
	uint8_t *der = NULL;
	const uint8_t *sig;
	size_t sig_len;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md;
	int ok, r;

	if (ak->info.has_public_area) {
		uint32_t a = ak->info.attributes;

		if (!(a & TPMA_OBJECT_SIGN) || !(a & TPMA_OBJECT_RESTRICTED) ||
		    (a & TPMA_OBJECT_DECRYPT)) {
			set_check(res, C, -EKEYREJECTED,
				  "the AK is not a restricted signing key (attributes 0x%08x): it "
				  "could sign forged quotes",
				  a);
			return 0;
		}
		if (ak->info.scheme != TPM_ALG_NULL &&
		    (s->sig_alg != ak->info.scheme || sig_algo != ak->info.scheme_hash)) {
			set_check(res, C, -EKEYREJECTED,
				  "signature scheme %s-%s is not the AK's %s-%s",
				  tpm_alg_name(s->sig_alg), hash_name(sig_algo),
				  tpm_alg_name(ak->info.scheme), hash_name(ak->info.scheme_hash));
			return 0;
		}
	}
	if (ak->info.key_type == VOUCH_KEY_RSA
		    ? (s->sig_alg != TPM_ALG_RSASSA && s->sig_alg != TPM_ALG_RSAPSS)
		    : s->sig_alg != TPM_ALG_ECDSA) {
		set_check(res, C, -EKEYREJECTED, "a %s signature cannot come from this %s AK",
			  tpm_alg_name(s->sig_alg),
			  ak->info.key_type == VOUCH_KEY_RSA ? "RSA" : "EC");
		return 0;
	}
	md = sig_algo >= 0 ? ssl_md(ctx, sig_algo) : NULL;
	if (!md) {
		set_check(res, C, -EKEYREJECTED, "signature hash 0x%04x is not available",
			  s->hash_alg);
		return 0;
	}
	if (s->sig_alg == TPM_ALG_ECDSA) {
		r = ecdsa_der(s, &der, &sig_len);
		if (r < 0) {
			set_check(res, C, r == -ENOMEM ? -ENOMEM : -EBADMSG,
				  "malformed ECDSA r/s");
			return r == -ENOMEM ? r : 0;
		}
		sig = der;
	} else {
		sig = s->sig;
		sig_len = s->sig_len;
	}
	mctx = EVP_MD_CTX_new();
	if (!mctx || EVP_DigestVerifyInit(mctx, &pctx, md, NULL, ak->pkey) <= 0) {
		OPENSSL_free(der);
		ssl_clear_errors();
		set_check(res, C, -ENOMEM, "cannot set up the signature check");
		return -ENOMEM;
	}
	if (s->sig_alg == TPM_ALG_RSAPSS) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0)
			ok = -1;
		else
			ok = EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len);
	} else if (s->sig_alg == TPM_ALG_RSASSA) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
			ok = -1;
		else
			ok = EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len);
	} else {
		ok = EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len);
	}
	OPENSSL_free(der);
	ssl_clear_errors();
	if (ok == 1)
		set_check(res, C, 0, "%s-%s signature verifies under the AK",
			  tpm_alg_name(s->sig_alg), hash_name(sig_algo));
	else
		set_check(res, C, -EKEYREJECTED,
			  "%s-%s signature does not verify under the AK (another key or altered "
			  "quote)",
			  tpm_alg_name(s->sig_alg), hash_name(sig_algo));
	return 0;
}

static bool hash_allowed(uint32_t allowed, int algo)
{
	return algo >= 0 && algo < 32 && (allowed & (1U << algo));
}

static void check_algorithms(const vouch_ak *ak, const struct tpmt_signature *s, bool sig_ok,
			     int sig_algo, const struct vouch_quote_verify_options *opts,
			     const struct tpms_attest *a, bool attest_ok, uint32_t allowed,
			     struct vouch_quote_result *res)
{
	const int C = VOUCH_QUOTE_CHECK_ALGORITHMS;
	unsigned min_rsa = opts->min_rsa_bits ? opts->min_rsa_bits : 2048;

	if (!sig_ok) {
		set_check(res, C, -EBADMSG, "the signature does not parse");
		return;
	}
	if (s->sig_alg != TPM_ALG_RSASSA && s->sig_alg != TPM_ALG_RSAPSS &&
	    s->sig_alg != TPM_ALG_ECDSA) {
		set_check(res, C, -EPERM, "signature scheme %s (0x%04x) is not allowed",
			  tpm_alg_name(s->sig_alg), s->sig_alg);
		return;
	}
	if (!hash_allowed(allowed, sig_algo)) {
		set_check(res, C, -EPERM, "signature hash %s (0x%04x) is not allowed",
			  hash_name(sig_algo), s->hash_alg);
		return;
	}
	for (uint32_t i = 0; i < opts->pcrs->n_banks; i++)
		if (!hash_allowed(allowed, opts->pcrs->banks[i].algo)) {
			set_check(res, C, -EPERM, "PCR bank %s is not allowed",
				  hash_name(opts->pcrs->banks[i].algo));
			return;
		}
	if (attest_ok)
		for (uint32_t i = 0; i < a->sel.n_banks; i++)
			if (!hash_allowed(allowed, a->sel.banks[i].algo)) {
				set_check(res, C, -EPERM, "quoted PCR bank %s is not allowed",
					  hash_name(a->sel.banks[i].algo));
				return;
			}
	if (ak->info.key_type == VOUCH_KEY_RSA && ak->info.key_bits < min_rsa) {
		set_check(res, C, -EPERM, "RSA-%u AK is below the minimum of %u bits",
			  ak->info.key_bits, min_rsa);
		return;
	}
	if (ak->info.key_type == VOUCH_KEY_EC && ak->ec_nid != NID_X9_62_prime256v1 &&
	    ak->ec_nid != NID_secp384r1 && ak->ec_nid != NID_secp521r1) {
		set_check(res, C, -EPERM, "the AK's curve is not NIST P-256, P-384 or P-521");
		return;
	}
	set_check(res, C, 0, "%s-%s, %s-%u AK", tpm_alg_name(s->sig_alg), hash_name(sig_algo),
		  ak->info.key_type == VOUCH_KEY_RSA ? "RSA" : "EC", ak->info.key_bits);
}

static bool selection_equal(const struct vouch_pcrs *a, const struct vouch_pcrs *b)
{
	if (a->n_banks != b->n_banks)
		return false;
	for (uint32_t i = 0; i < a->n_banks; i++)
		if (a->banks[i].algo != b->banks[i].algo || a->banks[i].mask != b->banks[i].mask)
			return false;
	return true;
}

static void selection_str(const struct vouch_pcrs *p, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < p->n_banks && off < size; i++) {
		int n = snprintf(buf + off, size - off, "%s%s:0x%06x", i ? "+" : "",
				 hash_name(p->banks[i].algo), p->banks[i].mask);

		if (n < 0)
			return;
		off += (size_t)n;
	}
	if (!p->n_banks)
		snprintf(buf, size, "(none)");
}

VOUCH_EXPORT int vouch_quote_verify(vouch_ctx *ctx, const vouch_ak *ak, const uint8_t *attest,
				    size_t attest_len, const uint8_t *sig, size_t sig_len,
				    const struct vouch_quote_verify_options *opts,
				    struct vouch_quote_result *result)
{
	_cleanup_free_ struct vouch_quote_result *res = NULL;
	_cleanup_free_ struct tpms_attest *a = NULL;
	_cleanup_free_ uint8_t *concat = NULL;
	struct tpmt_signature s;
	uint32_t allowed;
	bool attest_ok, sig_ok;
	int sig_algo = -1, r;
	size_t concat_len;

	if (!ctx || !ak || (!attest && attest_len) || (!sig && sig_len) || !opts)
		return -EINVAL;
	if (opts->version != 1 || !opts->pcrs || opts->pcrs->n_banks > VOUCH_PCR_MAX_BANKS ||
	    !opts->nonce || !opts->nonce_len || opts->nonce_len > VOUCH_HASH_MAX_SIZE + 2)
		return ctx_err(ctx, -EINVAL, "invalid quote verification options");
	for (size_t i = 0; i < ARRAY_SIZE(opts->reserved); i++)
		if (opts->reserved[i])
			return ctx_err(ctx, -EINVAL, "reserved option fields must be zero");
	for (uint32_t i = 0; i < opts->pcrs->n_banks; i++)
		if (!bank_size(opts->pcrs->banks[i].algo) ||
		    opts->pcrs->banks[i].mask >= (1U << VOUCH_PCR_COUNT))
			return ctx_err(ctx, -EINVAL, "invalid requested PCR selection");
	allowed = opts->allowed_hashes ? opts->allowed_hashes : VOUCH_QUOTE_DEFAULT_HASHES;

	res = mem_zalloc(sizeof(*res));
	a = mem_zalloc(sizeof(*a));
	if (!res || !a)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	res->sig_hash = -1;
	attest_ok = tpms_attest_parse(attest, attest_len, a) == 0;
	sig_ok = tpmt_signature_parse(sig, sig_len, &s) == 0;
	if (sig_ok) {
		res->sig_alg = s.sig_alg;
		sig_algo = vouch_hash_by_tpm_alg(s.hash_alg);
		res->sig_hash = sig_algo;
	}
	if (attest_ok) {
		res->parsed = true;
		res->type = a->type;
		memcpy(res->qualified_signer, a->signer, a->signer_len);
		res->qualified_signer_len = a->signer_len;
		memcpy(res->extra_data, a->extra, a->extra_len);
		res->extra_data_len = a->extra_len;
		res->clock = a->clock;
		res->reset_count = a->reset_count;
		res->restart_count = a->restart_count;
		res->safe = a->safe != 0;
		res->firmware_version = a->firmware_version;
		res->quoted = a->sel;
		if (a->pcr_digest_len)
			memcpy(res->pcr_digest, a->pcr_digest, a->pcr_digest_len);
		res->pcr_digest_len = a->pcr_digest_len;
	}

	/* magic: without it, TPM2_Sign over attacker bytes would pass for a quote */
	if (!attest_ok)
		set_check(res, VOUCH_QUOTE_CHECK_MAGIC, -EBADMSG, "TPMS_ATTEST does not parse");
	else if (a->magic != TPM_GENERATED_VALUE)
		set_check(res, VOUCH_QUOTE_CHECK_MAGIC, -EKEYREJECTED,
			  "magic is 0x%08x, not TPM_GENERATED_VALUE: not a TPM-generated "
			  "attestation",
			  a->magic);
	else
		set_check(res, VOUCH_QUOTE_CHECK_MAGIC, 0, "TPM_GENERATED_VALUE");

	if (!attest_ok)
		set_check(res, VOUCH_QUOTE_CHECK_TYPE, -EBADMSG, "TPMS_ATTEST does not parse");
	else if (a->type != TPM_ST_ATTEST_QUOTE)
		set_check(res, VOUCH_QUOTE_CHECK_TYPE, -EKEYREJECTED,
			  "attestation type is 0x%04x, not TPM_ST_ATTEST_QUOTE", a->type);
	else
		set_check(res, VOUCH_QUOTE_CHECK_TYPE, 0, "TPM_ST_ATTEST_QUOTE");

	if (!attest_ok)
		set_check(res, VOUCH_QUOTE_CHECK_NONCE, -EBADMSG, "TPMS_ATTEST does not parse");
	else if (a->extra_len != opts->nonce_len ||
		 CRYPTO_memcmp(a->extra, opts->nonce, opts->nonce_len) != 0)
		set_check(res, VOUCH_QUOTE_CHECK_NONCE, -EKEYREJECTED,
			  "extraData (%zu bytes) is not the nonce: stale or replayed quote",
			  a->extra_len);
	else
		set_check(res, VOUCH_QUOTE_CHECK_NONCE, 0, "extraData equals the nonce");

	if (!attest_ok) {
		set_check(res, VOUCH_QUOTE_CHECK_PCR_SELECTION, -EBADMSG,
			  "TPMS_ATTEST does not parse");
	} else if (a->type != TPM_ST_ATTEST_QUOTE || !selection_equal(&a->sel, opts->pcrs)) {
		char got[80], want[80];

		selection_str(&a->sel, got, sizeof(got));
		selection_str(opts->pcrs, want, sizeof(want));
		set_check(res, VOUCH_QUOTE_CHECK_PCR_SELECTION, -EKEYREJECTED,
			  "quoted selection %s is not the requested %s", got, want);
	} else {
		set_check(res, VOUCH_QUOTE_CHECK_PCR_SELECTION, 0, "as requested");
	}

	/* pcrDigest = H_sig(claimed values), H_sig = the signing scheme's hash (§12.3) */
	if (!attest_ok || !sig_ok) {
		set_check(res, VOUCH_QUOTE_CHECK_PCR_DIGEST, -EBADMSG,
			  "%s does not parse", attest_ok ? "TPMT_SIGNATURE" : "TPMS_ATTEST");
	} else if (sig_algo < 0 || !ssl_md(ctx, sig_algo)) {
		set_check(res, VOUCH_QUOTE_CHECK_PCR_DIGEST, -EKEYREJECTED,
			  "cannot recompute pcrDigest: signing hash 0x%04x unavailable", s.hash_alg);
	} else {
		struct vouch_digest d;

		r = pcrs_concat(opts->pcrs, &concat, &concat_len);
		if (r < 0)
			return ctx_err(ctx, r, "out of memory");
		r = vouch_digest_buf(ctx, sig_algo, concat, concat_len, &d);
		if (r < 0)
			return r;
		if (a->type != TPM_ST_ATTEST_QUOTE || d.len != a->pcr_digest_len ||
		    CRYPTO_memcmp(d.bytes, a->pcr_digest, d.len) != 0)
			set_check(res, VOUCH_QUOTE_CHECK_PCR_DIGEST, -EKEYREJECTED,
				  "the PCR values do not hash to the quoted pcrDigest");
		else
			set_check(res, VOUCH_QUOTE_CHECK_PCR_DIGEST, 0,
				  "%s of %zu bytes of PCR values", hash_name(sig_algo), concat_len);
	}

	if (!sig_ok) {
		set_check(res, VOUCH_QUOTE_CHECK_SIGNATURE, -EBADMSG, "TPMT_SIGNATURE does not parse");
	} else {
		r = verify_signature(ctx, ak, &s, sig_algo, attest, attest_len, res);
		if (r < 0)
			return ctx_err(ctx, r, "out of memory");
	}

	check_algorithms(ak, &s, sig_ok, sig_algo, opts, a, attest_ok, allowed, res);

	r = 0;
	for (int i = 0; i < _VOUCH_QUOTE_CHECK_MAX; i++)
		if (res->checks[i] < 0) {
			r = ctx_err(ctx, res->checks[i], "quote check '%s' failed: %s",
				    check_names[i], res->detail[i]);
			break;
		}
	if (result)
		*result = *res;
	return r;
}
