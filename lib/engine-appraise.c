// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Appraisal for the engine: a security.ima value or an appended signature against a trust
 * store.  The checks belong to the signature modules (issue 3: modsig, issue 4: security.ima);
 * when their headers are in the tree they are called.  Until then a PRIVATE minimal
 * fallback (marked below) verifies security.ima digests and v2 signatures so that the
 * engine can be built and tested on its own; appended signatures then cannot be checked.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <openssl/evp.h>

#include "engine-internal.h"
#include "openssl-internal.h"

#if __has_include(<vouch/ima.h>)
#include <vouch/ima.h>
#define HAVE_IMA_MODULE 1
#endif
#if __has_include(<vouch/modsig.h>)
#include <vouch/modsig.h>
#define HAVE_MODSIG_MODULE 1
#endif

#define MODSIG_MARKER "~Module signature appended~\n"
#define MODSIG_MARKER_LEN 28

bool engine_has_modsig(const uint8_t *buf, size_t len)
{
	return buf && len >= MODSIG_MARKER_LEN + 12 &&
	       !memcmp(buf + len - MODSIG_MARKER_LEN, MODSIG_MARKER, MODSIG_MARKER_LEN);
}

int engine_modsig_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *buf, size_t len,
			 uint64_t allowed_algos, const char **ret_reason)
{
#ifdef HAVE_MODSIG_MODULE
	struct vouch_modsig_verify_options o = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct vouch_modsig_result res;
	int r;

	if (allowed_algos)
		o.allowed_hashes = (uint32_t)allowed_algos;
	r = vouch_modsig_verify(ctx, trust, buf, len, &o, &res);
	*ret_reason = engine_reason(r);
	return r;
#else
	(void)trust;
	(void)buf;
	(void)len;
	(void)allowed_algos;
	*ret_reason = "appended signature cannot be checked (modsig module not built)";
	return ctx_err(ctx, -EOPNOTSUPP, "appended signature cannot be checked in this build");
#endif
}

const char *engine_reason(int r)
{
	switch (r) {
	case 0:
		return "ok";
	case -EBADMSG:
		return "malformed signature";
	case -EKEYREJECTED:
		return "bad signature";
	case -ENOKEY:
		return "unknown key";
	case -EPERM:
		return "algorithm not allowed";
	case -ENODATA:
		return "unsigned";
	default:
		return "could not check";
	}
}

/* The algorithm a security.ima value is in (to digest the file with it), or -EBADMSG. */
int engine_xattr_algo(const uint8_t *v, size_t len)
{
	if (len < 2)
		return -EBADMSG;
	switch (v[0]) {
	case 0x01: /* IMA_XATTR_DIGEST: decoded by length */
		if (len == 1 + 20)
			return VOUCH_HASH_SHA1;
		if (len == 1 + 16 || len == 1 + 20 + 1)
			return len == 17 ? VOUCH_HASH_MD5 : VOUCH_HASH_SHA1;
		return -EBADMSG;
	case 0x04: /* IMA_XATTR_DIGEST_NG */
		return v[1] < _VOUCH_HASH_MAX ? v[1] : -EBADMSG;
	case 0x03: /* EVM_IMA_XATTR_DIGSIG */
	case 0x06: /* IMA_VERITY_DIGSIG */
		if (len < 9)
			return -EBADMSG;
		return v[2] < _VOUCH_HASH_MAX ? v[2] : -EBADMSG;
	default:
		return -EBADMSG;
	}
}

bool engine_xattr_is_sig(const uint8_t *v, size_t len)
{
	return len >= 1 && (v[0] == 0x03 || v[0] == 0x05 || v[0] == 0x06);
}

#ifndef HAVE_IMA_MODULE
/*
 * PRIVATE minimal security.ima check, used only until the ima module (issue 4) is merged:
 * digest types 0x01/0x04 and v2 signatures (type 0x03) with RSA PKCS#1 v1.5 or ECDSA.
 */
static int mini_ima_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *v, size_t len,
			   const struct vouch_digest *d, bool allow_digest)
{
	const vouch_cert *cert = NULL;
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md;
	size_t sig_len;
	int r;

	if (v[0] == 0x01 || v[0] == 0x04) {
		const uint8_t *dig = v[0] == 0x01 ? v + 1 : v + 2;
		size_t dlen = len - (size_t)(v[0] == 0x01 ? 1 : 2);

		if (!allow_digest)
			return ctx_err(ctx, -EPERM, "security.ima holds a digest, a signature is required");
		if (dlen < d->len || CRYPTO_memcmp(dig, d->bytes, d->len) != 0)
			return ctx_err(ctx, -EKEYREJECTED, "security.ima digest does not match");
		return 0;
	}
	if (v[0] != 0x03)
		return ctx_err(ctx, -EBADMSG, "unsupported security.ima type 0x%02x", v[0]);
	if (len < 9 || v[1] != 2)
		return ctx_err(ctx, -EBADMSG, "malformed security.ima signature header");
	sig_len = get_be16(v + 7);
	if (len != 9 + sig_len || sig_len == 0)
		return ctx_err(ctx, -EBADMSG, "security.ima signature size does not match");
	r = vouch_trust_find_keyid(trust, get_be32(v + 3), &cert, NULL);
	if (r < 0)
		return ctx_err(ctx, -ENOKEY, "no trusted key with id %08x", get_be32(v + 3));
	md = ctx_md(ctx, v[2]);
	if (!md)
		return ctx_err(ctx, -EPERM, "hash algorithm %u not available", v[2]);
	pctx = EVP_PKEY_CTX_new(cert_pkey(cert), NULL);
	if (!pctx || EVP_PKEY_verify_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(pctx, md) <= 0)
		return ctx_err_ssl(ctx, -EIO, "cannot set up signature verification");
	if (EVP_PKEY_base_id(cert_pkey(cert)) == EVP_PKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
		return ctx_err_ssl(ctx, -EIO, "cannot set RSA padding");
	if (EVP_PKEY_verify(pctx, v + 9, sig_len, d->bytes, d->len) != 1) {
		ssl_clear_errors();
		return ctx_err(ctx, -EKEYREJECTED, "security.ima signature does not verify");
	}
	return 0;
}
#endif

int engine_ima_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *v, size_t len,
		      const struct vouch_digest *d, bool allow_digest, uint64_t allowed_algos)
{
	int algo = engine_xattr_algo(v, len);

	if (algo < 0)
		return ctx_err(ctx, -EBADMSG, "malformed security.ima value");
	if (allowed_algos && !(allowed_algos & ((uint64_t)1 << algo)))
		return ctx_err(ctx, -EPERM, "algorithm %s not allowed by appraise_algos",
			       vouch_hash_info(algo) ? vouch_hash_info(algo)->name : "?");
	if (!trust && engine_xattr_is_sig(v, len))
		return ctx_err(ctx, -ENOKEY, "no trusted keys loaded");
#ifdef HAVE_IMA_MODULE
	{
		struct vouch_ima_verify_options o = VOUCH_IMA_VERIFY_OPTIONS_INIT;
		vouch_trust *empty = NULL;
		int r;

		if (allow_digest)
			o.flags |= VOUCH_IMA_VERIFY_ALLOW_DIGEST;
		o.allowed_algos = allowed_algos;
		if (!trust) {
			r = vouch_trust_new(ctx, &empty);
			if (r < 0)
				return r;
		}
		r = vouch_ima_verify_digest(ctx, trust ? trust : empty, &o, v, len, d, NULL);
		vouch_trust_free(empty);
		return r;
	}
#else
	return mini_ima_verify(ctx, trust, v, len, d, allow_digest);
#endif
}
