/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of the security.ima and security.evm module (lib/ima.c, lib/evm.c): the
 * signature v2/v3 encoder, and the bridge from a parsed value to the signature layer's
 * check (lib/sigv2.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_IMA_INTERNAL_H
#define VOUCH_LIB_IMA_INTERNAL_H

#include "internal.h"
#include "sigv2-internal.h"
#include <vouch/ima.h>

/* struct signature_v2_hdr: type, version, hash_algo, keyid (BE), sig_size (BE) */
#define SIG_HDR_SIZE 9

/*
 * Sign @digest (the message itself: nothing is re-hashed) with @key and return the
 * header @type/@version/@algo/@keyid followed by the signature (lib/ima.c).
 */
int sig_make(vouch_ctx *ctx, const vouch_key *key, uint8_t type, uint8_t version, int algo,
	     uint32_t keyid, const uint8_t *digest, size_t digest_len, uint8_t **ret_value,
	     size_t *ret_len);

/*
 * sig_check() (lib/sigv2.c) of the signature in a parsed value, filling @res's signer and
 * keyring as sig_check() fills its signer.
 */
static inline int ima_sig_check(vouch_ctx *ctx, const vouch_trust *trust, uint64_t allowed_algos,
				const char *keyring, const uint8_t *digest, size_t digest_len,
				vouch_sig_cache *cache, struct vouch_ima_verify_result *res)
{
	const struct sig_value v = { .algo = res->value.algo,
				     .keyid = res->value.keyid,
				     .sig = res->value.sig,
				     .sig_len = res->value.sig_len };
	struct sig_signer s = { .cert = res->signer, .keyring = res->keyring };
	int r = sig_check(ctx, trust, allowed_algos, keyring, &v, digest, digest_len, cache, &s);

	res->signer = s.cert;
	res->keyring = s.keyring;
	return r;
}

#endif /* VOUCH_LIB_IMA_INTERNAL_H */
