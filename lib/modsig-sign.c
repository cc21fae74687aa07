// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Appended and detached PKCS#7 signatures ("modsig"), FORMATS.md §1: signing.  It goes
 * through OpenSSL's CMS API with exactly the calls and flags of the kernel's
 * scripts/sign-file, so RSA output is byte-identical; for RSA the message is built once
 * and then only its signature value is replaced.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "modsig-internal.h"
#include "openssl-internal.h"

struct vouch_modsig_signer {
	vouch_ctx *ctx;
	EVP_PKEY *pkey;
	X509 *x509;
	const EVP_MD *md;
	int hash_algo;
	int signer_id;
	/*
	 * RSA fast path: without signed attributes the only bytes of the message that depend on
	 * the payload are the signature value, and an RSA signature is always modulus-sized.  So
	 * the message is built once with sign-file's CMS calls (over an empty payload) and each
	 * blob only costs a digest and one EVP_PKEY_sign() into a copy of that template.
	 */
	bool tmpl_tried; /* built on first use: a signer that signs nothing costs nothing */
	uint8_t *tmpl;
	size_t tmpl_len;
	size_t tmpl_sig_off;
	size_t tmpl_sig_len;
	EVP_PKEY_CTX *sign_ctx;
};

/* The message exactly as scripts/sign-file.c builds it (FORMATS.md §1.5). */
static int cms_sign(vouch_modsig_signer *s, const uint8_t *payload, size_t len,
		    uint8_t **ret_pkcs7, size_t *ret_len)
{
	_cleanup_(CMS_ContentInfo_freep) CMS_ContentInfo *cms = NULL;
	_cleanup_(BIO_freep) BIO *bio = NULL;
	unsigned flags = CMS_NOCERTS | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOATTR;
	unsigned char *p;
	uint8_t *der;
	int n;

	bio = BIO_new_mem_buf(payload ? (const void *)payload : "", (int)len);
	if (!bio)
		return ctx_err_ssl(s->ctx, -ENOMEM, "out of memory");
	cms = CMS_sign(NULL, NULL, NULL, NULL,
		       CMS_NOCERTS | CMS_PARTIAL | CMS_BINARY | CMS_DETACHED | CMS_STREAM);
	if (!cms)
		return ctx_err_ssl(s->ctx, -EIO, "cannot create the PKCS#7 message");
	if (s->signer_id == VOUCH_MODSIG_SKID)
		flags |= CMS_USE_KEYID;
	if (!CMS_add1_signer(cms, s->x509, s->pkey, s->md, flags))
		return ctx_err_ssl(s->ctx, -EIO, "cannot add the signer");
	if (CMS_final(cms, bio, NULL, CMS_NOCERTS | CMS_BINARY) != 1)
		return ctx_err_ssl(s->ctx, -EIO, "cannot sign");
	n = i2d_CMS_ContentInfo(cms, NULL);
	if (n <= 0)
		return ctx_err_ssl(s->ctx, -EIO, "cannot encode the PKCS#7 message");
	der = mem_alloc((size_t)n);
	if (!der)
		return ctx_err(s->ctx, -ENOMEM, "out of memory");
	p = der;
	if (i2d_CMS_ContentInfo(cms, &p) != n) {
		free(der);
		return ctx_err_ssl(s->ctx, -EIO, "cannot encode the PKCS#7 message");
	}
	*ret_pkcs7 = der;
	*ret_len = (size_t)n;
	return 0;
}

/* Build the RSA template; on any surprise the signer simply keeps using CMS per blob. */
static void template_init(vouch_modsig_signer *s)
{
	struct vouch_modsig_info info;
	struct pk7 p = { .info = &info };
	uint8_t *der = NULL;
	size_t der_len;

	if (EVP_PKEY_get_base_id(s->pkey) != EVP_PKEY_RSA)
		return;
	if (cms_sign(s, NULL, 0, &der, &der_len) < 0)
		goto fail;
	modsig_info_init(&info, der_len);
	if (modsig_pk7_decode(s->ctx, der, der_len, &p) < 0 || p.has_authattrs ||
	    info.signature_len != (size_t)EVP_PKEY_get_size(s->pkey))
		goto fail;
	s->sign_ctx = EVP_PKEY_CTX_new(s->pkey, NULL);
	if (!s->sign_ctx || EVP_PKEY_sign_init(s->sign_ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(s->sign_ctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(s->sign_ctx, s->md) <= 0)
		goto fail;
	s->tmpl = der;
	s->tmpl_len = der_len;
	s->tmpl_sig_off = (size_t)(info.signature - der);
	s->tmpl_sig_len = info.signature_len;
	return;
fail:
	EVP_PKEY_CTX_free(s->sign_ctx);
	s->sign_ctx = NULL;
	free(der);
	ssl_clear_errors();
	vouch_ctx_clear_error(s->ctx);
}

VOUCH_EXPORT int vouch_modsig_signer_new(vouch_ctx *ctx, const vouch_key *key,
					 const vouch_cert *cert,
					 const struct vouch_modsig_sign_options *opts,
					 vouch_modsig_signer **ret_signer)
{
	static const struct vouch_modsig_sign_options defaults = VOUCH_MODSIG_SIGN_OPTIONS_INIT;
	vouch_modsig_signer *s;
	const EVP_MD *md;
	int t;

	if (!ctx || !key || !cert || !ret_signer)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	if (check_options_v1(ctx, opts, "modsig sign") < 0)
		return -EINVAL;
	switch (opts->hash_algo) {
	case VOUCH_HASH_SHA1:
	case VOUCH_HASH_SHA224:
	case VOUCH_HASH_SHA256:
	case VOUCH_HASH_SHA384:
	case VOUCH_HASH_SHA512:
		break;
	default:
		return ctx_err(ctx, -EINVAL,
			       "cannot sign with hash algorithm %d: sha1, sha224, sha256, sha384 "
			       "or sha512",
			       opts->hash_algo);
	}
	if (opts->signer_id != VOUCH_MODSIG_ISSUER_SERIAL && opts->signer_id != VOUCH_MODSIG_SKID)
		return ctx_err(ctx, -EINVAL, "unknown signer id form %d", opts->signer_id);
	if (opts->signer_id == VOUCH_MODSIG_SKID && !cert->skid)
		return ctx_err(ctx, -EINVAL,
			       "certificate '%s' has no subjectKeyIdentifier, cannot sign by SKID",
			       cert->subject);
	t = vouch_key_type(key);
	if (t != VOUCH_KEY_RSA && t != VOUCH_KEY_EC)
		return ctx_err(ctx, -EINVAL, "the kernel verifies RSA and ECDSA keys only");
	if (!vouch_key_matches_cert(key, cert))
		return ctx_err(ctx, -EKEYREJECTED,
			       "the private key does not belong to certificate '%s'", cert->subject);
	md = ssl_md(ctx, opts->hash_algo);
	if (!md)
		return ctx_err(ctx, -EOPNOTSUPP, "hash algorithm %s is not available",
			       vouch_hash_info(opts->hash_algo)->name);
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	if (!EVP_PKEY_up_ref(key_pkey(key))) {
		free(s);
		return ctx_err_ssl(ctx, -EIO, "EVP_PKEY_up_ref failed");
	}
	s->pkey = key_pkey(key);
	if (!X509_up_ref(cert_x509(cert))) {
		EVP_PKEY_free(s->pkey);
		free(s);
		return ctx_err_ssl(ctx, -EIO, "X509_up_ref failed");
	}
	s->x509 = cert_x509(cert);
	s->ctx = ctx;
	s->md = md;
	s->hash_algo = opts->hash_algo;
	s->signer_id = opts->signer_id;
	*ret_signer = s;
	return 0;
}

VOUCH_EXPORT void vouch_modsig_signer_free(vouch_modsig_signer *signer)
{
	if (!signer)
		return;
	EVP_PKEY_free(signer->pkey);
	X509_free(signer->x509);
	EVP_PKEY_CTX_free(signer->sign_ctx);
	free(signer->tmpl);
	free(signer);
}

static int template_sign(vouch_modsig_signer *s, const uint8_t *payload, size_t len,
			 uint8_t **ret, size_t *ret_len)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	size_t sig_len = s->tmpl_sig_len;
	uint8_t *der;

	if (!EVP_Digest(payload ? (const void *)payload : "", len, digest, &dlen, s->md, NULL))
		return ctx_err_ssl(s->ctx, -EIO, "cannot compute the digest");
	der = mem_dup(s->tmpl, s->tmpl_len);
	if (!der)
		return ctx_err(s->ctx, -ENOMEM, "out of memory");
	if (EVP_PKEY_sign(s->sign_ctx, der + s->tmpl_sig_off, &sig_len, digest, dlen) <= 0 ||
	    sig_len != s->tmpl_sig_len) {
		free(der);
		return ctx_err_ssl(s->ctx, -EIO, "cannot sign");
	}
	*ret = der;
	*ret_len = s->tmpl_len;
	return 0;
}

VOUCH_EXPORT int vouch_modsig_sign_pkcs7(vouch_modsig_signer *s, const uint8_t *payload,
					 size_t len, uint8_t **ret_pkcs7, size_t *ret_len)
{
	if (!s || (!payload && len) || !ret_pkcs7 || !ret_len)
		return -EINVAL;
	if (len > INT32_MAX)
		return ctx_err(s->ctx, -EFBIG, "cannot sign more than 2 GiB in one blob");
	if (!s->tmpl_tried) {
		s->tmpl_tried = true;
		template_init(s);
	}
	if (s->tmpl)
		return template_sign(s, payload, len, ret_pkcs7, ret_len);
	return cms_sign(s, payload, len, ret_pkcs7, ret_len);
}

VOUCH_EXPORT int vouch_modsig_sign_trailer(vouch_modsig_signer *s, const uint8_t *payload,
					   size_t len, uint8_t **ret_trailer, size_t *ret_len)
{
	_cleanup_free_ uint8_t *der = NULL;
	size_t der_len;
	int r;

	if (!s || !ret_trailer || !ret_len)
		return -EINVAL;
	r = vouch_modsig_sign_pkcs7(s, payload, len, &der, &der_len);
	if (r < 0)
		return r;
	return vouch_modsig_make_trailer(s->ctx, der, der_len, ret_trailer, ret_len);
}


VOUCH_EXPORT int vouch_modsig_sign_file(vouch_modsig_signer *s, const char *path,
					const char *out_path, uint32_t flags, size_t *ret_sig_len)
{
	_cleanup_free_ uint8_t *buf = NULL, *der = NULL, *trailer = NULL;
	_cleanup_free_ char *p7s = NULL;
	size_t len, der_len, tlen, plen, slen;
	unsigned mode;
	int r;

	if (!s || !path || (flags & ~(VOUCH_MODSIG_REPLACE | VOUCH_MODSIG_DETACHED)))
		return -EINVAL;
	r = modsig_file_mode(s->ctx, path, &mode);
	if (r < 0)
		return r;
	r = read_file_all(s->ctx, path, MODSIG_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	if (flags & VOUCH_MODSIG_DETACHED) {
		if (!out_path) {
			size_t n = strlen(path);

			p7s = mem_alloc(n + 5);
			if (!p7s)
				return ctx_err(s->ctx, -ENOMEM, "out of memory");
			memcpy(p7s, path, n);
			memcpy(p7s + n, ".p7s", 5);
			out_path = p7s;
		}
		r = vouch_modsig_sign_pkcs7(s, buf, len, &der, &der_len);
		if (r < 0)
			return r;
		r = write_file_atomic(s->ctx, out_path, der, der_len, 0644);
		if (r < 0)
			return r;
		if (ret_sig_len)
			*ret_sig_len = der_len;
		return 0;
	}
	plen = len;
	r = vouch_modsig_find(s->ctx, buf, len, &plen, &slen);
	if (r == 0 || r == -EBADMSG) {
		if (!(flags & VOUCH_MODSIG_REPLACE))
			return ctx_err(s->ctx, -EEXIST,
				       "'%s' is already signed (use --replace to re-sign)", path);
		if (r < 0)
			return ctx_err(s->ctx, r,
				       "cannot replace the signature of '%s': its trailer is "
				       "malformed",
				       path);
	} else if (r != -ENODATA) {
		return r;
	}
	vouch_ctx_clear_error(s->ctx);
	r = vouch_modsig_sign_trailer(s, buf, plen, &trailer, &tlen);
	if (r < 0)
		return r;
	{
		struct iovec iov[2] = {
			{ .iov_base = buf, .iov_len = plen },
			{ .iov_base = trailer, .iov_len = tlen },
		};

		/* in place (also -o naming the same file): content only, see fileio.c */
		if (!out_path || same_file(path, out_path))
			r = write_file_inplace_iov(s->ctx, path, iov, 2);
		else
			r = write_file_atomic_iov(s->ctx, out_path, iov, 2, mode);
	}
	if (r < 0)
		return r;
	if (ret_sig_len)
		*ret_sig_len = tlen - VOUCH_MODSIG_STRUCT_LEN - VOUCH_MODSIG_MARKER_LEN;
	return 0;
}

