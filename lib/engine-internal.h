/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Engine internals: appraisal helpers and the private list format pieces.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_ENGINE_INTERNAL_H
#define VOUCH_LIB_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include <vouch/engine.h>

/* engine-appraise.c */
bool engine_has_modsig(const uint8_t *buf, size_t len);
int engine_modsig_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *buf, size_t len,
			 uint64_t allowed_algos, const struct vouch_digest *blacklist,
			 size_t n_blacklist, const char **ret_reason);
/* @d (algorithm and bytes) is one of the @n digests of @list */
bool engine_digest_blacklisted(const struct vouch_digest *d, const struct vouch_digest *list,
			       size_t n);
const char *engine_reason(int r);
int engine_xattr_algo(const uint8_t *v, size_t len);
bool engine_xattr_is_sig(const uint8_t *v, size_t len);
int engine_ima_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *v, size_t len,
		      const struct vouch_digest *d, bool allow_digest, uint64_t allowed_algos);

/* policy.c: whether any appraise rule names @func (ima_appraise_flag()) */
bool policy_has_appraise(const vouch_policy *p, int func);

#endif
