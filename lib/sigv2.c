// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The signature layer: the one check of an IMA-style signature (v2/v3 header already
 * parsed) over a known digest against a trust store, and the one public-key step shared
 * with the PKCS#7 verifier of lib/modsig-verify.c; with a fixed-size cache of (key, digest,
 * signature) outcomes (vouch_sig_cache).  Its callers are security.ima and security.evm
 * (lib/ima.c, lib/evm.c), the measurement-list checks (lib/log-sig.c) and lib/modsig-verify.c;
 * it calls none of them.  FORMATS.md §3.2-3.5.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "openssl-internal.h"
#include "sigv2-internal.h"

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
	      const char *keyring, const struct sig_value *v, const uint8_t *digest,
	      size_t digest_len, vouch_sig_cache *cache, struct sig_signer *ret_signer)
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
	ret_signer->cert = signer;
	ret_signer->keyring = ring;
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
