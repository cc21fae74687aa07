/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The signature layer (lib/sigv2.c): the one check of an IMA-style signature over a known
 * digest and the one public-key step, for every module that meets signatures (security.ima
 * and security.evm, measurement lists, modsig).  It depends on no format module: its
 * inputs are plain values, not any module's parsed structures.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_SIGV2_INTERNAL_H
#define VOUCH_LIB_SIGV2_INTERNAL_H

#include "internal.h"
#include <vouch/key.h>
#include <vouch/log.h> /* vouch_sig_cache, whose public functions are declared there */

/* Default verification allow-list: sha1, sha224, sha256, sha384, sha512. */
#define DEFAULT_ALLOWED_ALGOS                                                                      \
	((1ULL << VOUCH_HASH_SHA1) | (1ULL << VOUCH_HASH_SHA224) | (1ULL << VOUCH_HASH_SHA256) |   \
	 (1ULL << VOUCH_HASH_SHA384) | (1ULL << VOUCH_HASH_SHA512))

/* A signature of a v2/v3 header (struct signature_v2_hdr), already parsed. */
struct sig_value {
	int algo;	    /* enum vouch_hash_algo of the header */
	uint32_t keyid;	    /* the IMA key id */
	const uint8_t *sig; /* the signature bytes */
	size_t sig_len;
};

/* The trusted certificate that carries a signature's key id, and its keyring's name. */
struct sig_signer {
	const vouch_cert *cert;
	const char *keyring;
};

/*
 * The one signature v2/v3 check, for security.ima, security.evm and the measurement
 * lists.  Checks @v over @digest (@digest_len bytes of the header's algorithm), always in
 * this order: allow-list (-EPERM), algorithm available (-EOPNOTSUPP), digest length
 * (-EINVAL), trusted key by key id, optionally only from @keyring (-ENOKEY), key type
 * RSA/EC (-EPERM), RSA signature exactly modulus-sized (-EBADMSG), verify context (-EIO),
 * the signature itself (-EKEYREJECTED); each with a message.  @cache (may be NULL)
 * remembers outcomes per (key, digest, signature) and keeps the verify context per
 * (key, hash).  Fills @ret_signer as soon as a key matched, also when a later check fails
 * (the caller reports which key was refused).
 */
int sig_check(vouch_ctx *ctx, const vouch_trust *trust, uint64_t allowed_algos,
	      const char *keyring, const struct sig_value *v, const uint8_t *digest,
	      size_t digest_len, vouch_sig_cache *cache, struct sig_signer *ret_signer);

/*
 * The one public-key step: @sig over @digest (algorithm @algo) with @cert's key, RSA
 * PKCS#1 v1.5 or ECDSA.  1 verifies, 0 does not, -EIO when no verify context could be
 * built.  @cache (may be NULL) remembers outcomes per (key, digest, signature).
 */
int sig_pkey_verify(vouch_ctx *ctx, vouch_sig_cache *cache, const vouch_cert *cert, int algo,
		    const uint8_t *digest, size_t dlen, const uint8_t *sig, size_t slen);

#endif /* VOUCH_LIB_SIGV2_INTERNAL_H */
