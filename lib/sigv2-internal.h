/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IMA signature checks over a known digest (lib/sigv2.c), for every module that meets
 * security.ima-style signatures: measurement lists, security.ima appraisal, modsig.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_SIGV2_INTERNAL_H
#define VOUCH_LIB_SIGV2_INTERNAL_H

#include "internal.h"
#include <vouch/log.h>
#include <vouch/modsig.h>

/*
 * Check a security.ima signature value (type 0x03 v2, or 0x06 v3 over the ima_file_id)
 * against @digest (the file digest, algorithm @digest_algo; @verity: it is an fs-verity
 * digest).  Key lookup by IMA key id in @trust; RSA PKCS#1 v1.5 or ECDSA through
 * EVP_PKEY_verify; @cache (may be NULL) remembers outcomes per (key, digest, signature).
 * *ret_verdict: enum vouch_log_sig_verdict.  Returns 0, or a negative errno when the check
 * could not run (-ENOMEM, -EIO); malformed input is a verdict, not an error.
 */
int sigv2_verify_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			const uint8_t *sig, size_t sig_len, int digest_algo, const uint8_t *digest,
			size_t digest_len, bool verity, int *ret_verdict);

/*
 * The same for an appended-signature PKCS#7 over @digest (an ima-modsig entry's d-modsig):
 * judged by modsig_verify_pkcs7_digest(), with every rule of vouch_modsig_verify().
 */
int modsig_verify_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			 const uint8_t *p7, size_t p7_len, int digest_algo, const uint8_t *digest,
			 size_t digest_len, int *ret_verdict);

/*
 * The one public-key step (lib/sigv2.c): @sig over @digest (algorithm @algo) with @cert's
 * key, RSA PKCS#1 v1.5 or ECDSA.  1 verifies, 0 does not, -EIO when no verify context could
 * be built.  @cache (may be NULL) remembers outcomes per (key, digest, signature).
 */
int sig_pkey_verify(vouch_ctx *ctx, vouch_sig_cache *cache, const vouch_cert *cert, int algo,
		    const uint8_t *digest, size_t dlen, const uint8_t *sig, size_t slen);

/*
 * The PKCS#7 verifier of vouch_modsig_verify() (lib/modsig.c) over a payload digest already
 * computed, with the default policy (allow-list sha224..sha512, no blacklist).  Fills
 * @ret (status, failed, signer); returns 0 after judging, or a negative errno when the
 * check could not run.
 */
int modsig_verify_pkcs7_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			       const uint8_t *p7, size_t p7_len, const struct vouch_digest *digest,
			       struct vouch_modsig_result *ret);

#endif /* VOUCH_LIB_SIGV2_INTERNAL_H */
