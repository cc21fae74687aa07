// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Appraisal for the engine: a security.ima value or an appended signature against a trust
 * store, through the ima and modsig modules.
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
}
