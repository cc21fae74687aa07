/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of the modsig module (lib/modsig*.c): the PKCS#7 verifier over a digest
 * already computed, for the measurement lists' ima-modsig entries.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_MODSIG_INTERNAL_H
#define VOUCH_LIB_MODSIG_INTERNAL_H

#include "internal.h"
#include <vouch/log.h>
#include <vouch/modsig.h>

/*
 * The PKCS#7 verifier of vouch_modsig_verify() (lib/modsig.c) over a payload digest already
 * computed, with the default policy (allow-list sha224..sha512, no blacklist).  Fills
 * @ret (status, failed, signer); returns 0 after judging, or a negative errno when the
 * check could not run.
 */
int modsig_verify_pkcs7_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			       const uint8_t *p7, size_t p7_len, const struct vouch_digest *digest,
			       struct vouch_modsig_result *ret);

#endif /* VOUCH_LIB_MODSIG_INTERNAL_H */
