// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Appraisal helpers for the engine: a security.ima value (parsed by the ima module's
 * vouch_xattr_parse()) or an appended signature against a trust store, through the ima and
 * modsig modules.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <openssl/evp.h>

#include "engine-internal.h"
#include "openssl-internal.h"

#include <vouch/ima.h>
#include <vouch/modsig.h>

bool engine_has_modsig(const uint8_t *buf, size_t len)
{
	return buf && len >= VOUCH_MODSIG_MARKER_LEN + VOUCH_MODSIG_STRUCT_LEN &&
	       !memcmp(buf + len - VOUCH_MODSIG_MARKER_LEN, VOUCH_MODSIG_MARKER,
		       VOUCH_MODSIG_MARKER_LEN);
}

int engine_modsig_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *buf, size_t len,
			 uint64_t allowed_algos, const struct vouch_digest *blacklist,
			 size_t n_blacklist, const char **ret_reason)
{
	struct vouch_modsig_verify_options o = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct vouch_modsig_result res = { 0 };
	int r;

	if (allowed_algos)
		o.allowed_hashes = (uint32_t)allowed_algos;
	o.blacklist = blacklist;
	o.n_blacklist = n_blacklist;
	r = vouch_modsig_verify(ctx, trust, buf, len, &o, &res);
	/* every rule ran: a blacklisted payload is reported as such, whatever else failed */
	if (n_blacklist && (res.failed & (1U << VOUCH_MODSIG_BLACKLISTED))) {
		*ret_reason = "blacklisted";
		return r < 0 ? r : -EPERM;
	}
	*ret_reason = engine_reason(r);
	return r;
}

bool engine_digest_blacklisted(const struct vouch_digest *d, const struct vouch_digest *list,
			       size_t n)
{
	if (!d || d->len == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((list[i].algo < 0 || list[i].algo == d->algo) && list[i].len == d->len &&
		    !memcmp(list[i].bytes, d->bytes, d->len))
			return true;
	return false;
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

int engine_xattr_parse(vouch_ctx *ctx, const uint8_t *v, size_t len,
		       struct vouch_xattr_value *ret)
{
	int r = vouch_xattr_parse(ctx, v, len, ret);

	if (r < 0)
		return r == -EOPNOTSUPP ? r : -EBADMSG;
	/* HMAC and portable signatures belong to security.evm (vouch_ima_verify_digest()) */
	if (ret->type == VOUCH_XATTR_EVM_HMAC || ret->type == VOUCH_XATTR_EVM_PORTABLE)
		return ctx_err(ctx, -EBADMSG, "type 0x%02x is an EVM value, not security.ima",
			       (unsigned)ret->type);
	return 0;
}

bool engine_xattr_is_sig(const uint8_t *v, size_t len)
{
	return len >= 1 && (v[0] == VOUCH_XATTR_DIGSIG || v[0] == VOUCH_XATTR_EVM_PORTABLE ||
			    v[0] == VOUCH_XATTR_VERITY_DIGSIG);
}

int engine_ima_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *v, size_t len,
		      const struct vouch_xattr_value *pv, const struct vouch_digest *d,
		      bool allow_digest, uint64_t allowed_algos)
{
	struct vouch_ima_verify_options o = VOUCH_IMA_VERIFY_OPTIONS_INIT;
	vouch_trust *empty = NULL;
	int r;

	if (allowed_algos && !(allowed_algos & ((uint64_t)1 << pv->algo)))
		return ctx_err(ctx, -EPERM, "algorithm %s not allowed by appraise_algos",
			       vouch_hash_info(pv->algo)->name);
	if (!trust && pv->is_signature)
		return ctx_err(ctx, -ENOKEY, "no trusted keys loaded");
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
