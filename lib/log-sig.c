// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Signature verdicts of measurement-list entries (FORMATS.md §5.2, §3.2-3.5, §1.6): the sig
 * field as a security.ima signature over the entry's file digest, the modsig field as an
 * appended PKCS#7 over its d-modsig.  The checks are the signature layer's (lib/sigv2.c)
 * and lib/modsig-verify.c's one PKCS#7 verifier; this file maps their outcomes to
 * enum vouch_log_sig_verdict.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>

#include "log-internal.h"
#include "modsig-internal.h"
#include "sigv2-internal.h"
#include <vouch/ima.h>

/* sig_check()'s codes as measurement-list verdicts */
static int sig_verdict(const vouch_trust *trust, uint32_t keyid, int r)
{
	switch (r) {
	case 0:
		return VOUCH_LOG_SIG_VERIFIED;
	case -EKEYREJECTED:
	case -EINVAL:
		return VOUCH_LOG_SIG_BAD;
	case -ENOKEY:
		return VOUCH_LOG_SIG_UNKNOWN_KEY;
	case -EBADMSG:
		return VOUCH_LOG_SIG_MALFORMED;
	case -EPERM:
	case -EOPNOTSUPP:
		/* an unknown key outranks a refused or missing algorithm in the list's verdicts */
		if (vouch_trust_find_keyid(trust, keyid, NULL, NULL) < 0)
			return VOUCH_LOG_SIG_UNKNOWN_KEY;
		return VOUCH_LOG_SIG_UNSUPPORTED;
	case -EIO:
		return VOUCH_LOG_SIG_UNSUPPORTED;
	default:
		return r;
	}
}

int log_sig_verify_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			  const uint8_t *sig, size_t sig_len, int digest_algo,
			  const uint8_t *digest, size_t digest_len, bool verity, int *ret_verdict)
{
	struct sig_signer signer = { .cert = NULL };
	struct vouch_xattr_value v;
	struct vouch_digest msg;
	char saved[VOUCH_ERRMSG_SIZE];
	int k, verdict;

	*ret_verdict = VOUCH_LOG_SIG_MALFORMED;
	if (digest_len > VOUCH_HASH_MAX_SIZE)
		return -EINVAL;
	/* the caller's last error survives: a verdict here is a report, not a failure */
	snprintf(saved, sizeof(saved), "%s", vouch_ctx_last_error(ctx));
	/* the kernel's format checks, shared with security.ima (vouch_xattr_parse, lib/ima.c) */
	k = vouch_xattr_parse(ctx, sig, sig_len, &v);
	if (sig_len && sig[0] == 0x05) {
		/* an EVM portable signature in the sig field (§5.2): over EVM data */
		verdict = VOUCH_LOG_SIG_EVM_PORTABLE;
		goto out;
	}
	if (k == -EOPNOTSUPP) {
		/* legacy v1 */
		verdict = VOUCH_LOG_SIG_UNSUPPORTED;
		goto out;
	}
	if (k < 0 || !v.is_signature) {
		verdict = VOUCH_LOG_SIG_MALFORMED;
		goto out;
	}
	/* a v2 signature is over the file digest; v3 over the ima_file_id of a verity digest */
	if (v.algo != digest_algo || (verity && v.type != VOUCH_XATTR_VERITY_DIGSIG) ||
	    digest_len != vouch_hash_info(v.algo)->size) {
		verdict = VOUCH_LOG_SIG_BAD;
		goto out;
	}
	if (v.type == VOUCH_XATTR_VERITY_DIGSIG) {
		/* sigv3 signs H(ima_file_id[0 .. 2+L)) = H(0x06 || algo || digest), §3.5 */
		uint8_t id[2 + VOUCH_HASH_MAX_SIZE];

		id[0] = 0x06;
		id[1] = (uint8_t)digest_algo;
		memcpy(id + 2, digest, digest_len);
		k = vouch_digest_buf(ctx, v.algo, id, 2 + digest_len, &msg);
		if (k < 0)
			return k;
	} else {
		msg.len = digest_len;
		memcpy(msg.bytes, digest, digest_len);
	}
	/* the security.ima check with lib/ima.c's allow-list; cached per (key, digest, sig) */
	k = sig_check(ctx, trust, DEFAULT_ALLOWED_ALGOS, NULL,
		      &(const struct sig_value){ v.algo, v.keyid, v.sig, v.sig_len }, msg.bytes,
		      msg.len, cache, &signer);
	verdict = sig_verdict(trust, v.keyid, k);
	if (verdict < 0)
		return verdict;
out:
	snprintf(ctx->errmsg, sizeof(ctx->errmsg), "%s", saved);
	*ret_verdict = verdict;
	return 0;
}

int log_modsig_verify_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			     const uint8_t *p7, size_t p7_len, int digest_algo,
			     const uint8_t *digest, size_t digest_len, int *ret_verdict)
{
	struct vouch_modsig_result res;
	struct vouch_digest d = { .algo = digest_algo, .len = digest_len };
	char saved[VOUCH_ERRMSG_SIZE];
	int k;

	*ret_verdict = VOUCH_LOG_SIG_MALFORMED;
	if (digest_len > VOUCH_HASH_MAX_SIZE)
		return -EINVAL;
	memcpy(d.bytes, digest, digest_len);
	/* the caller's last error survives: a verdict here is a report, not a failure */
	snprintf(saved, sizeof(saved), "%s", vouch_ctx_last_error(ctx));
	/* the one PKCS#7 verifier, every rule of vouch verify (lib/modsig-verify.c) */
	k = modsig_verify_pkcs7_digest(ctx, trust, cache, p7, p7_len, &d, &res);
	if (k < 0)
		return k;
	switch (res.status) {
	case VOUCH_MODSIG_OK:
		*ret_verdict = VOUCH_LOG_SIG_VERIFIED;
		break;
	case VOUCH_MODSIG_ALGO_NOT_ALLOWED:
		/* an unknown key outranks a refused algorithm, as for sig entries */
		*ret_verdict = res.failed & (1U << VOUCH_MODSIG_UNKNOWN_SIGNER)
				       ? VOUCH_LOG_SIG_UNKNOWN_KEY
				       : VOUCH_LOG_SIG_UNSUPPORTED;
		break;
	case VOUCH_MODSIG_UNKNOWN_SIGNER:
		*ret_verdict = VOUCH_LOG_SIG_UNKNOWN_KEY;
		break;
	case VOUCH_MODSIG_BAD_SIGNATURE:
	case VOUCH_MODSIG_BLACKLISTED:
		*ret_verdict = VOUCH_LOG_SIG_BAD;
		break;
	default:
		*ret_verdict = VOUCH_LOG_SIG_MALFORMED;
		break;
	}
	snprintf(ctx->errmsg, sizeof(ctx->errmsg), "%s", saved);
	return 0;
}

VOUCH_EXPORT int vouch_log_entry_verify_sig(vouch_ctx *ctx, const vouch_trust *trust,
					    vouch_sig_cache *cache,
					    const struct vouch_log_entry *e, int *ret_verdict)
{
	const struct vouch_log_field *sig, *dm, *ms;
	struct vouch_digest d;
	bool verity = false;
	int k, verdict = VOUCH_LOG_SIG_NONE;

	if (!ctx || !trust || !e || !ret_verdict)
		return -EINVAL;
	sig = vouch_log_entry_find(e, VOUCH_LOG_FIELD_SIG);
	dm = vouch_log_entry_find(e, VOUCH_LOG_FIELD_D_MODSIG);
	ms = vouch_log_entry_find(e, VOUCH_LOG_FIELD_MODSIG);
	if (sig && sig->len) {
		k = vouch_log_entry_digest(e, &d, &verity);
		if (k == -ENOENT || k == -EBADMSG) {
			verdict = VOUCH_LOG_SIG_MALFORMED;
		} else {
			k = log_sig_verify_digest(ctx, trust, cache, sig->data, sig->len, d.algo,
						  d.bytes, d.len, verity, &verdict);
			if (k < 0)
				return k;
		}
	} else if (ms && ms->len) {
		if (!dm || !dm->len || log_field_digest(dm, &d) < 0) {
			verdict = VOUCH_LOG_SIG_MALFORMED;
		} else {
			k = log_modsig_verify_digest(ctx, trust, cache, ms->data, ms->len, d.algo,
						     d.bytes, d.len, &verdict);
			if (k < 0)
				return k;
		}
	}
	*ret_verdict = verdict;
	return 0;
}

static const char *const verdict_names[_VOUCH_LOG_SIG_MAX] = {
	[VOUCH_LOG_SIG_NONE] = "none",
	[VOUCH_LOG_SIG_VERIFIED] = "verified",
	[VOUCH_LOG_SIG_BAD] = "bad",
	[VOUCH_LOG_SIG_UNKNOWN_KEY] = "unknown-key",
	[VOUCH_LOG_SIG_UNSUPPORTED] = "unsupported",
	[VOUCH_LOG_SIG_MALFORMED] = "malformed",
	[VOUCH_LOG_SIG_EVM_PORTABLE] = "evm-portable",
};

VOUCH_EXPORT const char *vouch_log_sig_verdict_name(int v)
{
	return enum_name(verdict_names, ARRAY_SIZE(verdict_names), v, "?");
}
