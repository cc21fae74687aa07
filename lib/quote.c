// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TPM 2.0 quote verification: one call that runs every check of a quote (FORMATS.md §12,
 * STYLE.md rule 15) on the structures quote-parse.c reads from untrusted bytes, with an
 * attestation key of quote-ak.c.
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
		if (a->banks[i].algo != b->banks[i].algo || a->banks[i].present != b->banks[i].present)
			return false;
	return true;
}

static void selection_str(const struct vouch_pcrs *p, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < p->n_banks && off < size; i++) {
		int n = snprintf(buf + off, size - off, "%s%s:0x%06x", i ? "+" : "",
				 hash_name(p->banks[i].algo), p->banks[i].present);

		if (n < 0)
			return;
		off += (size_t)n;
	}
	if (!p->n_banks)
		snprintf(buf, size, "(none)");
}

static int check_options(vouch_ctx *ctx, const struct vouch_quote_verify_options *opts)
{
	if (opts->version != 1 || !opts->pcrs || opts->pcrs->n_banks > VOUCH_PCR_MAX_BANKS ||
	    !opts->nonce || !opts->nonce_len || opts->nonce_len > VOUCH_HASH_MAX_SIZE + 2)
		return ctx_err(ctx, -EINVAL, "invalid quote verification options");
	if (check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved option fields must be zero") < 0)
		return -EINVAL;
	for (uint32_t i = 0; i < opts->pcrs->n_banks; i++)
		if (!pcr_bank_size(opts->pcrs->banks[i].algo) ||
		    opts->pcrs->banks[i].present >= (1U << VOUCH_PCR_COUNT))
			return ctx_err(ctx, -EINVAL, "invalid requested PCR selection");
	return 0;
}

/* what the result reports of a parsed TPMS_ATTEST */
static void result_set_attest(struct vouch_quote_result *res, const struct tpms_attest *a)
{
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

/* the checks of the TPMS_ATTEST alone: magic, type, nonce, PCR selection */
static void check_attest(const struct tpms_attest *a, bool attest_ok,
			 const struct vouch_quote_verify_options *opts, struct vouch_quote_result *res)
{
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
}

/* pcrDigest = H_sig(claimed values), H_sig = the signing scheme's hash (§12.3) */
static int check_pcr_digest(vouch_ctx *ctx, const struct tpms_attest *a, bool attest_ok,
			    const struct tpmt_signature *s, bool sig_ok, int sig_algo,
			    const struct vouch_quote_verify_options *opts,
			    struct vouch_quote_result *res)
{
	_cleanup_free_ uint8_t *concat = NULL;
	struct vouch_digest d;
	size_t concat_len;
	int r;

	if (!attest_ok || !sig_ok) {
		set_check(res, VOUCH_QUOTE_CHECK_PCR_DIGEST, -EBADMSG,
			  "%s does not parse", attest_ok ? "TPMT_SIGNATURE" : "TPMS_ATTEST");
		return 0;
	}
	if (sig_algo < 0 || !ssl_md(ctx, sig_algo)) {
		set_check(res, VOUCH_QUOTE_CHECK_PCR_DIGEST, -EKEYREJECTED,
			  "cannot recompute pcrDigest: signing hash 0x%04x unavailable", s->hash_alg);
		return 0;
	}
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
	return 0;
}

VOUCH_EXPORT int vouch_quote_verify(vouch_ctx *ctx, const vouch_ak *ak, const uint8_t *attest,
				    size_t attest_len, const uint8_t *sig, size_t sig_len,
				    const struct vouch_quote_verify_options *opts,
				    struct vouch_quote_result *result)
{
	_cleanup_free_ struct vouch_quote_result *res = NULL;
	_cleanup_free_ struct tpms_attest *a = NULL;
	struct tpmt_signature s;
	uint32_t allowed;
	bool attest_ok, sig_ok;
	int sig_algo = -1, r;

	if (!ctx || !ak || (!attest && attest_len) || (!sig && sig_len) || !opts)
		return -EINVAL;
	r = check_options(ctx, opts);
	if (r < 0)
		return r;
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
	if (attest_ok)
		result_set_attest(res, a);

	check_attest(a, attest_ok, opts, res);
	r = check_pcr_digest(ctx, a, attest_ok, &s, sig_ok, sig_algo, opts, res);
	if (r < 0)
		return r;

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
