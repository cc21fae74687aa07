// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Attestation keys: a TPM public area (TPMT_PUBLIC) or a PEM/DER public key loaded into a
 * vouch_ak, its fingerprint, and what the credential code needs of an endorsement key.
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

/* the fields of a TPMT_PUBLIC before its parameters' key details */
struct tpmt_head {
	uint16_t type, name_alg, sym, sym_bits, sym_mode, scheme, scheme_hash;
	uint32_t attrs;
};

static int public_bad(vouch_ctx *ctx)
{
	return ctx_err(ctx, -EBADMSG, "malformed TPM public area");
}

/* TPMS_RSA_PARMS' keyBits and exponent, and the modulus (unique) into @bld */
static int public_rsa(vouch_ctx *ctx, struct cursor *c, OSSL_PARAM_BLD *bld, BIGNUM **e_bn,
		      BIGNUM **n_bn)
{
	const uint8_t *n;
	size_t n_len;
	uint16_t bits;
	uint32_t exp;

	if (cur_u16be(c, &bits) < 0 || cur_u32be(c, &exp) < 0 || cur_tpm2b(c, &n, &n_len) < 0 ||
	    n_len == 0 || n_len * 8 != bits)
		return public_bad(ctx);
	if (exp == 0)
		exp = 65537;
	*e_bn = BN_new();
	if (!*e_bn || !BN_set_word(*e_bn, exp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, *e_bn) ||
	    tpm2b_to_bn_param(bld, OSSL_PKEY_PARAM_RSA_N, n, n_len, n_bn) < 0)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	return 0;
}

/* TPMS_ECC_PARMS' curve and KDF, and the point (unique) into @bld, uncompressed in @ret_point */
static int public_ecc(vouch_ctx *ctx, struct cursor *c, OSSL_PARAM_BLD *bld, uint8_t **ret_point)
{
	const uint8_t *x, *y;
	size_t x_len, y_len, fs;
	const char *group;
	uint16_t curve, kdf, u16;
	uint8_t *point;

	if (cur_u16be(c, &curve) < 0 || cur_u16be(c, &kdf) < 0)
		return public_bad(ctx);
	if (kdf != TPM_ALG_NULL && cur_u16be(c, &u16) < 0)
		return public_bad(ctx);
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
	if (cur_tpm2b(c, &x, &x_len) < 0 || cur_tpm2b(c, &y, &y_len) < 0 || x_len > fs ||
	    y_len > fs || !x_len || !y_len)
		return public_bad(ctx);
	point = *ret_point = mem_zalloc(1 + 2 * fs);
	if (!point)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	point[0] = 0x04;
	memcpy(point + 1 + fs - x_len, x, x_len);
	memcpy(point + 1 + 2 * fs - y_len, y, y_len);
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * fs))
		return ctx_err(ctx, -ENOMEM, "out of memory");
	return 0;
}

/* an AK of @pkey (taken) loaded from public area @buf, its name in @name_algo */
static int ak_new_public(vouch_ctx *ctx, EVP_PKEY *pkey, const uint8_t *buf, size_t len,
			 const struct tpmt_head *h, int name_algo, vouch_ak **ret)
{
	struct vouch_digest d;
	vouch_ak *ak;
	int r;

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
	ak->info.attributes = h->attrs;
	ak->type = h->type;
	ak->name_alg = h->name_alg;
	ak->sym_alg = h->sym;
	ak->sym_bits = h->sym_bits;
	ak->sym_mode = h->sym_mode;
	ak->info.scheme = h->scheme;
	ak->info.scheme_hash = h->scheme == TPM_ALG_NULL ? -1 : vouch_hash_by_tpm_alg(h->scheme_hash);
	r = vouch_digest_buf(ctx, name_algo, buf, len, &d);
	if (r < 0) {
		vouch_ak_free(ak);
		return r;
	}
	put_be16(ak->info.name, h->name_alg);
	memcpy(ak->info.name + 2, d.bytes, d.len);
	ak->info.name_len = 2 + d.len;
	r = ak_set_fingerprint(ctx, ak);
	if (r < 0) {
		vouch_ak_free(ak);
		return r;
	}
	*ret = ak;
	return 0;
}

int ak_from_tpmt_public(vouch_ctx *ctx, const uint8_t *buf, size_t len, vouch_ak **ret)
{
	_cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
	_cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *pctx = NULL;
	_cleanup_(BN_freep) BIGNUM *n_bn = NULL;
	_cleanup_(BN_freep) BIGNUM *e_bn = NULL;
	_cleanup_free_ uint8_t *point = NULL;
	struct tpmt_head h = { 0 };
	const uint8_t *policy;
	size_t policy_len;
	struct cursor c;
	EVP_PKEY *pkey = NULL;
	int name_algo, r;

	cur_init(&c, buf, len);
	if (cur_u16be(&c, &h.type) < 0 || cur_u16be(&c, &h.name_alg) < 0 ||
	    cur_u32be(&c, &h.attrs) < 0 || cur_tpm2b(&c, &policy, &policy_len) < 0 ||
	    cur_u16be(&c, &h.sym) < 0)
		return public_bad(ctx);
	if (h.type != TPM_ALG_RSA && h.type != TPM_ALG_ECC)
		return ctx_err(ctx, -EBADMSG, "TPM public area of type 0x%04x is not a signing key",
			       h.type);
	if (h.sym != TPM_ALG_NULL &&
	    (cur_u16be(&c, &h.sym_bits) < 0 || cur_u16be(&c, &h.sym_mode) < 0))
		return public_bad(ctx);
	if (cur_u16be(&c, &h.scheme) < 0)
		return public_bad(ctx);
	if (h.scheme != TPM_ALG_NULL) {
		if (cur_u16be(&c, &h.scheme_hash) < 0)
			return public_bad(ctx);
		if (h.scheme == TPM_ALG_ECDAA && cur_skip(&c, 2) < 0)
			return public_bad(ctx);
	}
	name_algo = vouch_hash_by_tpm_alg(h.name_alg);
	if (name_algo < 0)
		return public_bad(ctx);
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	r = h.type == TPM_ALG_RSA ? public_rsa(ctx, &c, bld, &e_bn, &n_bn)
				  : public_ecc(ctx, &c, bld, &point);
	if (r < 0)
		return r;
	pctx = EVP_PKEY_CTX_new_from_name(NULL, h.type == TPM_ALG_RSA ? "RSA" : "EC", NULL);
	if (cur_left(&c))
		return public_bad(ctx);
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!pctx || !params)
		return ctx_err_ssl(ctx, -ENOMEM, "out of memory");
	if (EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		return ctx_err_ssl(ctx, -EBADMSG, "the TPM public key is not a valid key");
	return ak_new_public(ctx, pkey, buf, len, &h, name_algo, ret);
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
