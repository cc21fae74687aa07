// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Appended and detached PKCS#7 signatures ("modsig"), FORMATS.md §1: verification, the one
 * PKCS#7 verifier of vouch (vouch verify, the engine, and the ima-modsig entries of a
 * measurement list).  Every rule of crypto/asymmetric_keys/pkcs7_{parser,verify}.c that
 * applies to VERIFYING_MODULE_SIGNATURE is checked on the message decoded by lib/modsig.c;
 * only the final public-key operation is OpenSSL's, through the signature layer
 * (lib/sigv2.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "modsig-internal.h"
#include "openssl-internal.h"
#include "sigv2-internal.h"

struct verdict {
	uint32_t failed;
	int first;
	char msg[VOUCH_ERRMSG_SIZE];
};

PRINTF_FMT(3, 4) static void fail(struct verdict *v, int status, const char *fmt, ...)
{
	va_list ap;

	v->failed |= 1U << status;
	if (v->first != VOUCH_MODSIG_OK && v->first <= status)
		return;
	v->first = status;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
}

#define DEFAULT_ALLOWED_HASHES                                                                     \
	((1U << VOUCH_HASH_SHA224) | (1U << VOUCH_HASH_SHA256) | (1U << VOUCH_HASH_SHA384) |       \
	 (1U << VOUCH_HASH_SHA512))

static int check_opts(vouch_ctx *ctx, const struct vouch_modsig_verify_options *opts)
{
	if (check_options_v1(ctx, opts, "modsig verify") < 0)
		return -EINVAL;
	if ((opts->n_blacklist && !opts->blacklist) ||
	    (opts->n_blacklist_tbs && !opts->blacklist_tbs))
		return -EINVAL;
	return 0;
}

static bool blacklisted(const struct vouch_modsig_verify_options *opts,
			const struct vouch_digest *d)
{
	for (size_t i = 0; i < opts->n_blacklist; i++) {
		const struct vouch_digest *b = &opts->blacklist[i];

		if (d->len && b->len == d->len && CRYPTO_memcmp(b->bytes, d->bytes, d->len) == 0)
			return true;
	}
	return false;
}

static int digest_of(vouch_ctx *ctx, int algo, const uint8_t *buf, size_t len,
		     struct vouch_digest *ret)
{
	const EVP_MD *md = ssl_md(ctx, algo);
	unsigned n = 0;

	if (!md)
		return -EOPNOTSUPP;
	if (!EVP_Digest(buf ? (const void *)buf : "", len, ret->bytes, &n, md, NULL))
		return ctx_err_ssl(ctx, -EIO, "cannot compute a %s digest",
				   vouch_hash_info(algo)->name);
	ret->algo = algo;
	ret->len = n;
	return 0;
}

/*
 * certs/blacklist.c: a "tbs:" entry revokes the certificate whose TBSCertificate has that
 * hash.  x509_get_sig_params() hashes the TBS with the certificate's own signature hash;
 * vouch also tries SHA-1 and SHA-2 (refusing more, never less).  The TBS is the first
 * element of the certificate as it was loaded (the bytes the kernel hashes, not a
 * re-encoding).  *ret_algo: the hash that matched, or -1.
 */
static int tbs_blacklisted(vouch_ctx *ctx, const vouch_cert *cert,
			   const struct vouch_modsig_verify_options *opts, int *ret_algo)
{
	int algos[] = { -1, VOUCH_HASH_SHA1, VOUCH_HASH_SHA224, VOUCH_HASH_SHA256,
			VOUCH_HASH_SHA384, VOUCH_HASH_SHA512 };
	struct cursor c;
	struct tlv crt, tbs;
	int md_nid = NID_undef;

	*ret_algo = -1;
	cur_init(&c, cert->der, cert->der_len);
	if (modsig_der_next(&c, &crt) < 0 || crt.tag != TAG_SEQUENCE || modsig_der_next(&crt.val, &tbs) < 0 ||
	    tbs.tag != TAG_SEQUENCE)
		return ctx_err(ctx, -EINVAL, "cannot find the TBSCertificate of '%s'",
			       cert->subject);
	if (OBJ_find_sigid_algs(X509_get_signature_nid(cert->x509), &md_nid, NULL) &&
	    md_nid != NID_undef)
		algos[0] = vouch_hash_by_name(OBJ_nid2sn(md_nid));
	ssl_clear_errors();
	for (size_t a = 0; a < ARRAY_SIZE(algos); a++) {
		struct vouch_digest d;
		int r;

		if (algos[a] < 0 || (a > 0 && algos[a] == algos[0]))
			continue;
		r = digest_of(ctx, algos[a], tbs.start, tbs.total, &d);
		if (r == -EOPNOTSUPP && a == 0)
			continue;
		if (r < 0)
			return r;
		for (size_t i = 0; i < opts->n_blacklist_tbs; i++) {
			const struct vouch_digest *b = &opts->blacklist_tbs[i];

			if (b->len == d.len && CRYPTO_memcmp(b->bytes, d.bytes, d.len) == 0) {
				*ret_algo = algos[a];
				return 0;
			}
		}
	}
	return 0;
}

/*
 * The signature check proper: EVP_PKEY_verify over the digest, no re-hashing, through the
 * one public-key step of lib/sigv2.c (with @cache, outcomes are remembered).
 */
static int check_signature(vouch_ctx *ctx, vouch_sig_cache *cache, const vouch_cert *signer,
			   const struct pk7 *p, const struct vouch_digest *d, struct verdict *v)
{
	EVP_PKEY *pkey = cert_pkey(signer);
	const struct vouch_modsig_info *info = p->info;
	int key_type = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA  ? VOUCH_KEY_RSA
		       : EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC ? VOUCH_KEY_EC
								   : VOUCH_KEY_OTHER;
	int ok;

	if (key_type != info->key_type) {
		fail(v, VOUCH_MODSIG_BAD_SIGNATURE,
		     "signature algorithm %s does not fit the signer's %s key",
		     p->sig_row->name, key_type == VOUCH_KEY_RSA ? "RSA" : "non-RSA");
		return 0;
	}
	/* public_key_verify_signature(): RSA signatures are exactly modulus-sized */
	if (key_type == VOUCH_KEY_RSA && info->signature_len != (size_t)EVP_PKEY_get_size(pkey)) {
		fail(v, VOUCH_MODSIG_BAD_SIGNATURE,
		     "RSA signature is %zu bytes, the signer's modulus %d bytes",
		     info->signature_len, EVP_PKEY_get_size(pkey));
		return 0;
	}
	ok = sig_pkey_verify(ctx, cache, signer, d->algo, d->bytes, d->len, info->signature,
			     info->signature_len);
	if (ok < 0)
		return ctx_err_ssl(ctx, -EIO, "cannot set up signature verification");
	if (!ok)
		fail(v, VOUCH_MODSIG_BAD_SIGNATURE, "the signature does not match the payload");
	return 0;
}

static void result_init(struct vouch_modsig_result *res)
{
	memset(res, 0, sizeof(*res));
	res->hash_algo = -1;
	res->signer_id = -1;
}

/* pkcs7_note_signeddata_version() / pkcs7_note_signerinfo_version(), and the shape
 * pkcs7_verify(VERIFYING_MODULE_SIGNATURE) wants: data, detached, no authattrs, one signer. */
static void check_structure(const struct pk7 *p, struct verdict *v)
{
	const struct vouch_modsig_info *info = p->info;

	if (p->sd_version != 1 && p->sd_version != 3)
		fail(v, VOUCH_MODSIG_BAD_PKCS7, "malformed PKCS#7: SignedData version %d (1 or 3)",
		     p->sd_version);
	if (p->si_version == 1) {
		if (p->sd_version != 1)
			fail(v, VOUCH_MODSIG_BAD_PKCS7,
			     "malformed PKCS#7: SignerInfo version 1 in SignedData version %d",
			     p->sd_version);
		if (info->signer_id != VOUCH_MODSIG_ISSUER_SERIAL)
			fail(v, VOUCH_MODSIG_BAD_PKCS7,
			     "malformed PKCS#7: SignerInfo version 1 names its signer by SKID");
	} else if (p->si_version == 3) {
		if (p->sd_version == 1)
			fail(v, VOUCH_MODSIG_BAD_PKCS7,
			     "malformed PKCS#7: SignerInfo version 3 in SignedData version 1");
		if (info->signer_id != VOUCH_MODSIG_SKID)
			fail(v, VOUCH_MODSIG_BAD_PKCS7,
			     "malformed PKCS#7: SignerInfo version 3 names its signer by issuer "
			     "and serial");
	} else {
		fail(v, VOUCH_MODSIG_BAD_PKCS7, "malformed PKCS#7: SignerInfo version %d (1 or 3)",
		     p->si_version);
	}
	if (!p->content_is_data)
		fail(v, VOUCH_MODSIG_BAD_PKCS7,
		     "malformed PKCS#7: encapsulated contentType is not data");
	if (p->has_content)
		fail(v, VOUCH_MODSIG_BAD_PKCS7,
		     "malformed PKCS#7: the content is embedded, a module signature is detached");
	if (p->has_authattrs)
		fail(v, VOUCH_MODSIG_BAD_PKCS7,
		     "malformed PKCS#7: signed attributes are not allowed in a module signature");
	if (info->n_signers != 1)
		fail(v, VOUCH_MODSIG_BAD_PKCS7, "malformed PKCS#7: %u SignerInfos, expected one",
		     info->n_signers);
}

/* The digest algorithm on the allow-list, the signature algorithm one vouch verifies. */
static void check_algorithms(const struct pk7 *p, uint32_t allowed, struct verdict *v)
{
	const struct vouch_modsig_info *info = p->info;

	if (info->hash_algo < 0)
		fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
		     "digest algorithm is not one the kernel knows");
	else if (!(allowed & (1U << info->hash_algo)))
		fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED, "digest algorithm %s is not allowed",
		     vouch_hash_info(info->hash_algo)->name);
	if (!p->sig_row) {
		if (p->sig_oid_len == sizeof(modsig_oid_pkcs1_prefix) + 1 &&
		    memcmp(p->sig_oid, modsig_oid_pkcs1_prefix, sizeof(modsig_oid_pkcs1_prefix)) == 0)
			fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
			     "signature algorithm is 1.2.840.113549.1.1.%u, the kernel wants "
			     "rsaEncryption (1.2.840.113549.1.1.1)",
			     p->sig_oid[p->sig_oid_len - 1]);
		else
			fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
			     "signature algorithm is neither rsaEncryption nor ecdsa-with-SHA*");
	} else if (p->sig_row->hash >= 0 && p->sig_row->hash != info->hash_algo) {
		fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED, "%s does not match digest algorithm %s",
		     p->sig_row->name, info->hash_algo >= 0 ? vouch_hash_info(info->hash_algo)->name
							    : "(unknown)");
	}
}

/*
 * The payload digest into @res->digest, computed once, or the one the list recorded
 * (@given); then Debian's blacklist of payload digests.  *@ret_have: a digest is there.
 */
static int payload_digest(vouch_ctx *ctx, const uint8_t *payload, size_t plen,
			  const struct vouch_digest *given, int hash_algo,
			  const struct vouch_modsig_verify_options *opts,
			  struct vouch_modsig_result *res, struct verdict *v, bool *ret_have)
{
	bool have = false;
	int r;

	if (given && hash_algo >= 0) {
		if (given->algo != hash_algo)
			fail(v, VOUCH_MODSIG_BAD_SIGNATURE,
			     "the recorded payload digest is %s, the signature's %s",
			     given->algo >= 0 && vouch_hash_info(given->algo)
				     ? vouch_hash_info(given->algo)->name
				     : "?",
			     vouch_hash_info(hash_algo)->name);
		else if (!ssl_md(ctx, hash_algo))
			fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
			     "digest algorithm %s is not available here",
			     vouch_hash_info(hash_algo)->name);
		else if (given->len != vouch_hash_info(hash_algo)->size)
			fail(v, VOUCH_MODSIG_BAD_SIGNATURE, "the recorded payload digest is %zu bytes",
			     given->len);
		else {
			res->digest = *given;
			have = true;
		}
	} else if (hash_algo >= 0) {
		r = digest_of(ctx, hash_algo, payload, plen, &res->digest);
		if (r == -EOPNOTSUPP)
			fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
			     "digest algorithm %s is not available here",
			     vouch_hash_info(hash_algo)->name);
		else if (r < 0)
			return r;
		else
			have = true;
	}
	if (have && blacklisted(opts, &res->digest))
		fail(v, VOUCH_MODSIG_BLACKLISTED, "the payload's %s digest is blacklisted",
		     vouch_hash_info(hash_algo)->name);
	*ret_have = have;
	return 0;
}

/*
 * The signer: the kernel's asymmetric key id, issuer+serial or SKID, exact match; then the
 * rules on the certificate itself (revoked by "tbs:", a curve the kernel verifies).
 */
static int find_signer(vouch_ctx *ctx, const vouch_trust *trust,
		       const struct vouch_modsig_info *info,
		       const struct vouch_modsig_verify_options *opts,
		       struct vouch_modsig_result *res, struct verdict *v,
		       const vouch_cert **ret_signer)
{
	const vouch_cert *signer = NULL;
	const char *keyring = NULL;
	int r;

	if (info->signer_id == VOUCH_MODSIG_ISSUER_SERIAL)
		r = vouch_trust_find_issuer_serial(trust, info->issuer_der, info->issuer_der_len,
						   info->serial, info->serial_len, &signer, &keyring);
	else
		r = vouch_trust_find_skid(trust, info->skid, info->skid_len, &signer, &keyring);
	if (r == -ENOKEY) {
		if (info->signer_id == VOUCH_MODSIG_ISSUER_SERIAL)
			fail(v, VOUCH_MODSIG_UNKNOWN_SIGNER,
			     "no trusted certificate for issuer '%s' serial of %zu bytes",
			     info->issuer, info->serial_len);
		else
			fail(v, VOUCH_MODSIG_UNKNOWN_SIGNER,
			     "no trusted certificate with the signer's subjectKeyIdentifier");
	} else if (r < 0) {
		return ctx_err(ctx, r, "cannot search the trust store");
	} else {
		res->signer = signer;
		res->keyring = keyring;
	}

	/* a revoked signer certificate ("tbs:"): the kernel never lets it into a keyring */
	if (signer && opts->n_blacklist_tbs) {
		int algo;

		r = tbs_blacklisted(ctx, signer, opts, &algo);
		if (r < 0)
			return r;
		if (algo >= 0)
			fail(v, VOUCH_MODSIG_BLACKLISTED,
			     "the signer certificate '%s' is blacklisted (tbs: %s of its "
			     "TBSCertificate)",
			     signer->subject, vouch_hash_info(algo)->name);
	}

	/* crypto/ecdsa.c in 6.1 registers NIST P-192, P-256 and P-384 only */
	if (signer && signer->info.key_type == VOUCH_KEY_EC &&
	    (!signer->info.curve || (strcmp(signer->info.curve, "P-192") != 0 &&
				     strcmp(signer->info.curve, "P-256") != 0 &&
				     strcmp(signer->info.curve, "P-384") != 0)))
		fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
		     "the signer's curve %s is not one the kernel verifies (P-192, P-256, P-384)",
		     signer->info.curve ? signer->info.curve : "(unknown)");
	*ret_signer = signer;
	return 0;
}

/*
 * Every rule, in one pass: the one PKCS#7 verifier of vouch (vouch verify, the engine, and
 * ima-modsig entries of a measurement list through modsig_verify_pkcs7_digest()).
 * @whole/@whole_len is the whole file for Debian's blacklist (NULL: none); @given, when
 * not NULL, is the payload digest already computed (a list's d-modsig) instead of
 * @payload.  Returns 0 after judging (the verdict is in @v), or a negative errno when the
 * check could not run.  The stages run in this order, each recording its failures in @v.
 */
static int verify_pkcs7(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *payload,
			size_t plen, const struct vouch_digest *given, const uint8_t *der,
			size_t der_len, const uint8_t *whole, size_t whole_len,
			const struct vouch_modsig_verify_options *opts, vouch_sig_cache *cache,
			struct vouch_modsig_result *res, struct verdict *v)
{
	struct vouch_modsig_info info;
	struct pk7 p = { .info = &info };
	uint32_t allowed = opts->allowed_hashes ? opts->allowed_hashes : DEFAULT_ALLOWED_HASHES;
	const vouch_cert *signer = NULL;
	bool have_digest = false;
	int r;

	/* Debian's "MODSIGN: checking the blacklisted hash": SHA-256 of the whole file */
	if (opts->n_blacklist && whole) {
		struct vouch_digest d;

		r = digest_of(ctx, VOUCH_HASH_SHA256, whole, whole_len, &d);
		if (r < 0)
			return r;
		if (blacklisted(opts, &d))
			fail(v, VOUCH_MODSIG_BLACKLISTED, "the file's sha256 is blacklisted");
	}

	modsig_info_init(&info, whole_len);
	r = modsig_pk7_decode(ctx, der, der_len, &p);
	if (r == -EBADMSG) {
		fail(v, VOUCH_MODSIG_BAD_PKCS7, "%s", vouch_ctx_last_error(ctx));
		return 0;
	}
	if (r < 0)
		return r;
	res->hash_algo = info.hash_algo;
	res->key_type = info.key_type;
	res->signer_id = info.signer_id;

	check_structure(&p, v);
	check_algorithms(&p, allowed, v);
	r = payload_digest(ctx, payload, plen, given, info.hash_algo, opts, res, v, &have_digest);
	if (r < 0)
		return r;
	r = find_signer(ctx, trust, &info, opts, res, v, &signer);
	if (r < 0)
		return r;
	if (signer && p.sig_row && have_digest) {
		r = check_signature(ctx, cache, signer, &p, &res->digest, v);
		if (r < 0)
			return r;
	} else if (signer) {
		fail(v, VOUCH_MODSIG_BAD_SIGNATURE,
		     "the signature cannot be checked with these algorithms");
	}
	return 0;
}

static int finish(vouch_ctx *ctx, struct verdict *v, struct vouch_modsig_result *res,
		  struct vouch_modsig_result *out)
{
	res->status = v->first;
	res->failed = v->failed;
	if (v->first == VOUCH_MODSIG_OK) {
		vouch_ctx_clear_error(ctx);
	} else {
		ctx_err(ctx, modsig_status_errno(v->first), "%s", v->msg);
	}
	if (out)
		*out = *res;
	return modsig_status_errno(v->first);
}

/* The options (the defaults when NULL) checked, the result cleared. */
static int verify_start(vouch_ctx *ctx, const struct vouch_modsig_verify_options **opts,
			struct vouch_modsig_result *res)
{
	static const struct vouch_modsig_verify_options defaults = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	int r;

	if (!*opts)
		*opts = &defaults;
	r = check_opts(ctx, *opts);
	if (r < 0)
		return r;
	result_init(res);
	return 0;
}

VOUCH_EXPORT int vouch_modsig_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *buf,
				     size_t len, const struct vouch_modsig_verify_options *opts,
				     struct vouch_modsig_result *result)
{
	struct vouch_modsig_result res;
	struct verdict v = { 0 };
	size_t plen, slen;
	int r;

	if (!ctx || !trust || (!buf && len))
		return -EINVAL;
	r = verify_start(ctx, &opts, &res);
	if (r < 0)
		return r;
	r = vouch_modsig_find(ctx, buf, len, &plen, &slen);
	if (r == -ENODATA || r == -EBADMSG) {
		fail(&v, r == -ENODATA ? VOUCH_MODSIG_NO_SIGNATURE : VOUCH_MODSIG_BAD_TRAILER, "%s",
		     vouch_ctx_last_error(ctx));
		if (opts->n_blacklist) {
			struct vouch_digest d;

			r = digest_of(ctx, VOUCH_HASH_SHA256, buf, len, &d);
			if (r < 0)
				return r;
			if (blacklisted(opts, &d))
				fail(&v, VOUCH_MODSIG_BLACKLISTED,
				     "the file's sha256 is blacklisted");
		}
		return finish(ctx, &v, &res, result);
	}
	if (r < 0)
		return r;
	res.payload_len = plen;
	res.sig_offset = plen;
	res.sig_len = slen;
	r = verify_pkcs7(ctx, trust, buf, plen, NULL, buf + plen, slen, buf, len, opts, NULL, &res,
			 &v);
	if (r < 0)
		return r;
	return finish(ctx, &v, &res, result);
}

VOUCH_EXPORT int vouch_modsig_verify_detached(vouch_ctx *ctx, const vouch_trust *trust,
					      const uint8_t *payload, size_t len,
					      const uint8_t *pkcs7, size_t pkcs7_len,
					      const struct vouch_modsig_verify_options *opts,
					      struct vouch_modsig_result *result)
{
	struct vouch_modsig_result res;
	struct verdict v = { 0 };
	int r;

	if (!ctx || !trust || (!payload && len) || (!pkcs7 && pkcs7_len))
		return -EINVAL;
	r = verify_start(ctx, &opts, &res);
	if (r < 0)
		return r;
	res.payload_len = len;
	res.sig_len = pkcs7_len;
	r = verify_pkcs7(ctx, trust, payload, len, NULL, pkcs7, pkcs7_len, payload, len, opts, NULL,
			 &res, &v);
	if (r < 0)
		return r;
	return finish(ctx, &v, &res, result);
}

int modsig_verify_pkcs7_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			       const uint8_t *p7, size_t p7_len, const struct vouch_digest *digest,
			       struct vouch_modsig_result *ret)
{
	static const struct vouch_modsig_verify_options defaults = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct verdict v = { 0 };
	int r;

	result_init(ret);
	ret->sig_len = p7_len;
	r = verify_pkcs7(ctx, trust, NULL, 0, digest, p7, p7_len, NULL, 0, &defaults, cache, ret,
			 &v);
	if (r < 0)
		return r;
	ret->status = v.first;
	ret->failed = v.failed;
	return 0;
}


VOUCH_EXPORT int vouch_modsig_verify_file(vouch_ctx *ctx, const vouch_trust *trust,
					  const char *path, const char *sig_path,
					  const struct vouch_modsig_verify_options *opts,
					  struct vouch_modsig_result *result)
{
	_cleanup_free_ uint8_t *buf = NULL, *sig = NULL;
	size_t len, sig_len;
	int r;

	if (!ctx || !trust || !path)
		return -EINVAL;
	r = read_file_all(ctx, path, MODSIG_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	if (!sig_path)
		return vouch_modsig_verify(ctx, trust, buf, len, opts, result);
	r = read_file_all(ctx, sig_path, 16 * 1024 * 1024, &sig, &sig_len);
	if (r < 0)
		return r;
	return vouch_modsig_verify_detached(ctx, trust, buf, len, sig, sig_len, opts, result);
}
