// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Verification of IMA signatures over a known digest: security.ima v2 (type 0x03) and v3
 * (type 0x06, over the ima_file_id), and (through lib/modsig.c's one PKCS#7 verifier) the
 * PKCS#7 of an appended modsig, against a trust
 * store; with a fixed-size cache of (key, digest, signature) outcomes.  Used by the
 * measurement-list checks and meant to be shared with the security.ima code.
 * FORMATS.md §3.2-3.5, §1.6.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "cursor.h"
#include "ima-internal.h"
#include "log-internal.h"
#include "openssl-internal.h"
#include <vouch/ima.h>

#define CACHE_SIG_MAX 512 /* RSA-4096; larger signatures are verified but not cached */
#define CACHE_PCTX 8

struct cache_slot {
	uint64_t hash;
	const void *cert;
	uint8_t used, algo, verdict, dlen;
	uint16_t slen;
	uint8_t digest[VOUCH_HASH_MAX_SIZE];
	uint8_t sig[CACHE_SIG_MAX];
};

struct pctx_slot {
	const void *cert;
	int algo;
	EVP_PKEY_CTX *pctx;
};

struct vouch_sig_cache {
	vouch_ctx *ctx;
	size_t n;
	struct cache_slot *slots;
	struct pctx_slot pctx[CACHE_PCTX];
	size_t pctx_next;
	uint64_t hits, misses;
};

VOUCH_EXPORT int vouch_sig_cache_new(vouch_ctx *ctx, size_t slots, vouch_sig_cache **ret_cache)
{
	vouch_sig_cache *c;

	if (!ctx || !ret_cache || slots > (1u << 20))
		return -EINVAL;
	c = mem_zalloc(sizeof(*c));
	if (!c)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	c->ctx = ctx;
	c->n = slots ? slots : 4096;
	c->slots = mem_zalloc(c->n * sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	*ret_cache = c;
	return 0;
}

VOUCH_EXPORT void vouch_sig_cache_free(vouch_sig_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CACHE_PCTX; i++)
		EVP_PKEY_CTX_free(c->pctx[i].pctx);
	free(c->slots);
	free(c);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static struct cache_slot *cache_find(vouch_sig_cache *c, const void *cert, int algo,
				     const uint8_t *digest, size_t dlen, const uint8_t *sig,
				     size_t slen, uint64_t *ret_hash)
{
	uint64_t h = fnv(0xcbf29ce484222325ull, digest, dlen);
	struct cache_slot *s;

	h = fnv(h, sig, slen < 32 ? slen : 32);
	h ^= (uint64_t)(uintptr_t)cert * 0x9e3779b97f4a7c15ull ^ (uint64_t)algo ^ (uint64_t)slen << 40;
	*ret_hash = h;
	s = &c->slots[h % c->n];
	if (s->used && s->hash == h && s->cert == cert && s->algo == algo && s->dlen == dlen &&
	    s->slen == slen && CRYPTO_memcmp(s->digest, digest, dlen) == 0 &&
	    CRYPTO_memcmp(s->sig, sig, slen) == 0)
		return s;
	return NULL;
}

static void cache_store(vouch_sig_cache *c, uint64_t h, const void *cert, int algo,
			const uint8_t *digest, size_t dlen, const uint8_t *sig, size_t slen,
			int verdict)
{
	struct cache_slot *s = &c->slots[h % c->n];

	if (slen > CACHE_SIG_MAX || dlen > VOUCH_HASH_MAX_SIZE)
		return;
	s->used = 1;
	s->hash = h;
	s->cert = cert;
	s->algo = (uint8_t)algo;
	s->dlen = (uint8_t)dlen;
	s->slen = (uint16_t)slen;
	s->verdict = (uint8_t)verdict;
	memcpy(s->digest, digest, dlen);
	memcpy(s->sig, sig, slen);
}

/* The verify context for (key, digest algorithm): the one place it is built. */
static EVP_PKEY_CTX *make_pctx(vouch_ctx *ctx, EVP_PKEY *pkey, int algo)
{
	const EVP_MD *md = ssl_md(ctx, algo);
	EVP_PKEY_CTX *p;

	if (!md)
		return NULL;
	p = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!p)
		return NULL;
	if (EVP_PKEY_verify_init(p) <= 0 ||
	    (EVP_PKEY_is_a(pkey, "RSA") &&
	     EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PADDING) <= 0) ||
	    EVP_PKEY_CTX_set_signature_md(p, md) <= 0) {
		EVP_PKEY_CTX_free(p);
		return NULL;
	}
	return p;
}

/* IMA knows RSA PKCS#1 v1.5 and ECDSA; no PSS, SM2 or EC-RDSA */
static bool key_type_ok(const vouch_cert *cert)
{
	return cert->info.key_type == VOUCH_KEY_RSA || cert->info.key_type == VOUCH_KEY_EC;
}

/*
 * Verify @sig over @digest with @cert's key: 1 verifies, 0 does not, -EIO when no verify
 * context could be built (the OpenSSL errors stay queued for the caller).  With @cache the
 * outcome is remembered per (key, digest, signature) and the context kept per (key, hash).
 */
int sig_pkey_verify(vouch_ctx *ctx, vouch_sig_cache *cache, const vouch_cert *cert, int algo,
		    const uint8_t *digest, size_t dlen, const uint8_t *sig, size_t slen)
{
	EVP_PKEY *pkey = cert_pkey(cert);
	EVP_PKEY_CTX *p = NULL, *own = NULL;
	uint64_t h = 0;
	int ok;

	if (cache) {
		struct cache_slot *s = cache_find(cache, cert, algo, digest, dlen, sig, slen, &h);

		if (s) {
			cache->hits++;
			return s->verdict;
		}
		cache->misses++;
		for (size_t i = 0; i < CACHE_PCTX; i++)
			if (cache->pctx[i].pctx && cache->pctx[i].cert == cert &&
			    cache->pctx[i].algo == algo)
				p = cache->pctx[i].pctx;
		if (!p) {
			struct pctx_slot *ps = &cache->pctx[cache->pctx_next];

			p = make_pctx(ctx, pkey, algo);
			if (!p)
				return -EIO;
			EVP_PKEY_CTX_free(ps->pctx);
			ps->pctx = p;
			ps->cert = cert;
			ps->algo = algo;
			cache->pctx_next = (cache->pctx_next + 1) % CACHE_PCTX;
		}
	} else {
		own = p = make_pctx(ctx, pkey, algo);
		if (!p)
			return -EIO;
	}
	ok = EVP_PKEY_verify(p, sig, slen, digest, dlen) == 1;
	ssl_clear_errors();
	EVP_PKEY_CTX_free(own);
	if (cache)
		cache_store(cache, h, cert, algo, digest, dlen, sig, slen, ok);
	return ok;
}

int sig_check(vouch_ctx *ctx, const vouch_trust *trust, uint64_t allowed_algos,
	      const char *keyring, const struct vouch_xattr_value *v, const uint8_t *digest,
	      size_t digest_len, vouch_sig_cache *cache, struct vouch_ima_verify_result *res)
{
	const struct vouch_hash_info *hi = vouch_hash_info(v->algo);
	const vouch_cert *signer = NULL;
	const char *ring = NULL;
	EVP_PKEY *pkey;
	int k;

	/* check: the algorithm is on the allow-list */
	if (!hi || v->algo >= 64 || !(allowed_algos & (1ULL << v->algo)))
		return ctx_err(ctx, -EPERM, "hash algorithm %s is not allowed",
			       hi ? hi->name : "?");
	if (!ssl_md(ctx, v->algo))
		return ctx_err(ctx, -EOPNOTSUPP, "hash algorithm %s is not available", hi->name);
	if (digest_len != hi->size)
		return ctx_err(ctx, -EINVAL, "digest length %zu does not fit %s", digest_len,
			       hi->name);
	/* check: a trusted certificate carries the key id (kernel: "id:%08x" in the keyring) */
	for (size_t i = 0; i < vouch_trust_count(trust); i++) {
		const vouch_cert *c;
		const char *kr;

		vouch_trust_get(trust, i, &c, &kr);
		if (!c->info.has_ima_keyid || c->info.ima_keyid != v->keyid)
			continue;
		if (keyring && strcmp(keyring, kr) != 0)
			continue;
		signer = c;
		ring = kr;
		break;
	}
	if (!signer)
		return ctx_err(ctx, -ENOKEY, "no trusted key with id %08x%s%s", v->keyid,
			       keyring ? " in keyring " : "", keyring ? keyring : "");
	res->signer = signer;
	res->keyring = ring;
	pkey = cert_pkey(signer);
	/* check: key type (IMA knows RSA PKCS#1 v1.5 and ECDSA; no PSS) */
	if (!key_type_ok(signer))
		return ctx_err(ctx, -EPERM, "key %08x is neither RSA nor EC", v->keyid);
	/* check: RSA signatures are exactly modulus-sized (pkcs1pad) */
	if (signer->info.key_type == VOUCH_KEY_RSA && v->sig_len != (size_t)EVP_PKEY_get_size(pkey))
		return ctx_err(ctx, -EBADMSG, "RSA signature of %zu bytes for a %d-byte modulus",
			       v->sig_len, EVP_PKEY_get_size(pkey));
	/* check: the signature over the digest, DigestInfo (RSA) or DER r,s (ECDSA) */
	k = sig_pkey_verify(ctx, cache, signer, v->algo, digest, digest_len, v->sig, v->sig_len);
	if (k < 0)
		return ctx_err_ssl(ctx, -EIO, "cannot set up signature verification");
	if (!k)
		return ctx_err(ctx, -EKEYREJECTED, "signature by key %08x does not verify",
			       v->keyid);
	return 0;
}

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

int sigv2_verify_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			const uint8_t *sig, size_t sig_len, int digest_algo, const uint8_t *digest,
			size_t digest_len, bool verity, int *ret_verdict)
{
	struct vouch_ima_verify_result res = { .signer = NULL };
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
	k = sig_check(ctx, trust, DEFAULT_ALLOWED_ALGOS, NULL, &v, msg.bytes, msg.len, cache,
		      &res);
	verdict = sig_verdict(trust, v.keyid, k);
	if (verdict < 0)
		return verdict;
out:
	snprintf(ctx->errmsg, sizeof(ctx->errmsg), "%s", saved);
	*ret_verdict = verdict;
	return 0;
}

int modsig_verify_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			 const uint8_t *p7, size_t p7_len, int digest_algo, const uint8_t *digest,
			 size_t digest_len, int *ret_verdict)
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
	/* the one PKCS#7 verifier, every rule of vouch verify (lib/modsig.c) */
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

int log_field_digest(const struct vouch_log_field *f, struct vouch_digest *ret);

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
			k = sigv2_verify_digest(ctx, trust, cache, sig->data, sig->len, d.algo,
						d.bytes, d.len, verity, &verdict);
			if (k < 0)
				return k;
		}
	} else if (ms && ms->len) {
		if (!dm || !dm->len || log_field_digest(dm, &d) < 0) {
			verdict = VOUCH_LOG_SIG_MALFORMED;
		} else {
			k = modsig_verify_digest(ctx, trust, cache, ms->data, ms->len, d.algo,
						 d.bytes, d.len, &verdict);
			if (k < 0)
				return k;
		}
	}
	*ret_verdict = verdict;
	return 0;
}

VOUCH_EXPORT const char *vouch_log_sig_verdict_name(int v)
{
	switch (v) {
	case VOUCH_LOG_SIG_NONE:
		return "none";
	case VOUCH_LOG_SIG_VERIFIED:
		return "verified";
	case VOUCH_LOG_SIG_BAD:
		return "bad";
	case VOUCH_LOG_SIG_UNKNOWN_KEY:
		return "unknown-key";
	case VOUCH_LOG_SIG_UNSUPPORTED:
		return "unsupported";
	case VOUCH_LOG_SIG_MALFORMED:
		return "malformed";
	case VOUCH_LOG_SIG_EVM_PORTABLE:
		return "evm-portable";
	default:
		return "?";
	}
}
