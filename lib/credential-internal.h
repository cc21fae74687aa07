/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Credential protection internals shared with the unit test.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_CREDENTIAL_INTERNAL_H
#define VOUCH_LIB_CREDENTIAL_INTERNAL_H

#include "internal.h"

/*
 * KDFa (Trusted Platform Module Library Part 1 section 11.4.10.2): counter-mode HMAC over
 * [i]32 || label || 0x00 || context_u || context_v || [bits]32; @bits a multiple of 8.
 */
int credential_kdfa(vouch_ctx *ctx, int algo, const uint8_t *key, size_t key_len,
		    const char *label, const uint8_t *context_u, size_t u_len,
		    const uint8_t *context_v, size_t v_len, uint32_t bits, uint8_t *out);

#endif /* VOUCH_LIB_CREDENTIAL_INTERNAL_H */
