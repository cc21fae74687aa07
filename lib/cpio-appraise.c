// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Appraise the members of an initramfs against their security.ima before it boots.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdlib.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "cpio-internal.h"
#include "cursor.h"
#include "internal.h"
#include "openssl-internal.h"

static const struct vouch_digest *find_digest(const struct vouch_digest *d, size_t n, int algo)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].algo == algo)
			return &d[i];
	return NULL;
}

static int verdict(struct vouch_cpio_appraisal *a, int result, const char *msg)
{
	a->result = result;
	a->message = msg;
	return result;
}

/*
 * INTERIM signature check for security.ima type 0x03 version 2 (FORMATS.md §3.2-3.4): the
 * shared IMA signature verifier is being written on branch issue-4; replace this with it
 * when it lands.  The message is the digest itself: RSA PKCS#1 v1.5 with the DigestInfo of
 * hash_algo, or ECDSA over the digest.
 */
static int sig_v2_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *value,
			 size_t len, const struct vouch_digest *digests, size_t n_digests,
			 struct vouch_cpio_appraisal *a)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *pctx = NULL;
	const struct vouch_hash_info *hi;
	const struct vouch_digest *d;
	const vouch_cert *cert;
	const uint8_t *sig;
	const EVP_MD *md;
	struct cursor c;
	uint8_t type, version, algo;
	uint32_t keyid;
	uint16_t sig_size;
	EVP_PKEY *pkey;
	int k;

	a->kind = "signature";
	cur_init(&c, value, len);
	if (cur_u8(&c, &type) < 0 || cur_u8(&c, &version) < 0 || cur_u8(&c, &algo) < 0 ||
	    cur_u32be(&c, &keyid) < 0 || cur_u16be(&c, &sig_size) < 0)
		return verdict(a, -EBADMSG, "security.ima signature header truncated");
	a->algo = algo;
	a->keyid = keyid;
	if (version != 2)
		return verdict(a, -EOPNOTSUPP, "security.ima signature version not supported");
	if (sig_size == 0 || cur_left(&c) != sig_size || cur_bytes(&c, sig_size, &sig) < 0)
		return verdict(a, -EBADMSG, "security.ima signature size does not match its length");
	hi = vouch_hash_info(algo);
	d = find_digest(digests, n_digests, algo);
	md = ssl_md(ctx, algo);
	if (!hi || !d || !md)
		return verdict(a, -EOPNOTSUPP, "signature hash algorithm not supported");
	if (vouch_trust_find_keyid(trust, keyid, &cert, NULL) < 0)
		return verdict(a, -ENOKEY, "no trusted certificate with the signature's key id");
	pkey = cert_pkey(cert);
	pctx = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
	if (!pctx || EVP_PKEY_verify_init(pctx) <= 0 || EVP_PKEY_CTX_set_signature_md(pctx, md) <= 0 ||
	    (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)) {
		ssl_clear_errors();
		return verdict(a, -EOPNOTSUPP, "cannot set up the signature check for this key");
	}
	k = EVP_PKEY_verify(pctx, sig, sig_size, d->bytes, d->len);
	ssl_clear_errors();
	if (k != 1)
		return verdict(a, -EKEYREJECTED, "signature does not verify against the content");
	return verdict(a, 0, "signature verified");
}

int ima_xattr_appraise(vouch_ctx *ctx, const vouch_trust *trust, uint32_t flags,
		       const uint8_t *value, size_t len, const struct vouch_digest *digests,
		       size_t n_digests, struct vouch_cpio_appraisal *a)
{
	const struct vouch_digest *d;
	const uint8_t *want;
	size_t want_len;
	int algo;

	a->algo = -1;
	a->kind = NULL;
	if (len < 2)
		return verdict(a, -EBADMSG, "security.ima too short");
	switch (value[0]) {
	case 0x01: /* §3.1: algorithm inferred from the length */
		if (len == 21 && !(value[17] | value[18] | value[19] | value[20]))
			algo = VOUCH_HASH_MD5;
		else if (len == 21)
			algo = VOUCH_HASH_SHA1;
		else if (len == 17)
			algo = VOUCH_HASH_MD5;
		else
			return verdict(a, -EOPNOTSUPP, "security.ima 0x01 digest of unknown length");
		want = value + 1;
		break;
	case 0x04:
		algo = value[1];
		want = value + 2;
		break;
	case 0x03:
		return sig_v2_verify(ctx, trust, value, len, digests, n_digests, a);
	case 0x06:
		a->kind = "signature";
		return verdict(a, -EOPNOTSUPP, "sigv3 (fs-verity) signatures cannot be checked here");
	default:
		return verdict(a, -EBADMSG, "security.ima of unknown type");
	}
	a->kind = "digest";
	a->algo = algo;
	d = find_digest(digests, n_digests, algo);
	if (!d)
		return verdict(a, -EOPNOTSUPP, "security.ima digest algorithm not supported");
	want_len = len - (size_t)(want - value);
	if (want_len < d->len)
		return verdict(a, -EBADMSG, "security.ima digest shorter than its algorithm");
	if (CRYPTO_memcmp(want, d->bytes, d->len) != 0)
		return verdict(a, -EKEYREJECTED, "digest does not match the content");
	if (!(flags & VOUCH_CPIO_APPRAISE_ALLOW_DIGEST))
		return verdict(a, -EPERM, "unsigned digest matches, but a signature is required");
	return verdict(a, 0, "digest matches the content");
}

/* Algorithms hashed when security.ima only arrives after the data (METADATA!!!). */
static const int speculative[] = { VOUCH_HASH_SHA256, VOUCH_HASH_SHA1,   VOUCH_HASH_SHA512,
				   VOUCH_HASH_SHA384, VOUCH_HASH_SHA224, VOUCH_HASH_MD5,
				   VOUCH_HASH_SM3 };

struct pending {
	bool active;
	char name[VOUCH_CPIO_NAME_MAX + 1];
	struct vouch_digest d[8];
	size_t n;
};

struct appraise {
	vouch_ctx *ctx;
	const vouch_trust *trust;
	uint32_t flags;
	vouch_cpio_appraise_fn fn;
	void *userdata;
	int first_verdict, first_error;
};

static void report(struct appraise *ap, struct vouch_cpio_appraisal *a)
{
	int res = a->result == -ENODATA ? -EKEYREJECTED : a->result;

	if (res < 0 && vouch_error_is_verdict(res) && !ap->first_verdict)
		ap->first_verdict = res;
	else if (res < 0 && !vouch_error_is_verdict(res) && !ap->first_error)
		ap->first_error = res;
	if (ap->fn)
		ap->fn(ap->userdata, a);
}

static const struct vouch_cpio_xattr *find_ima(const struct vouch_cpio_entry *e)
{
	for (size_t i = 0; i < e->n_xattrs; i++)
		if (!strcmp(e->xattrs[i].name, "security.ima"))
			return &e->xattrs[i];
	return NULL;
}

static void judge(struct appraise *ap, const char *name, const struct vouch_cpio_xattr *ima,
		  const struct vouch_digest *d, size_t n)
{
	struct vouch_cpio_appraisal a = { .name = name, .algo = -1 };

	if (!ima)
		verdict(&a, -ENODATA, "no security.ima");
	else
		ima_xattr_appraise(ap->ctx, ap->trust, ap->flags, ima->value, ima->value_len, d, n,
				   &a);
	report(ap, &a);
}

static int hash_member(struct appraise *ap, vouch_cpio_reader *r, const int *algos, size_t n,
		       struct vouch_digest *out, uint8_t *buf)
{
	vouch_hasher *h = NULL;
	int k = vouch_hasher_new(ap->ctx, algos, n, &h);

	if (k < 0)
		return k;
	for (;;) {
		size_t got;

		k = vouch_cpio_reader_read(r, buf, 1 << 16, &got);
		if (k < 0 || !got)
			break;
		k = vouch_hasher_update(h, buf, got);
		if (k < 0)
			break;
	}
	if (k >= 0)
		k = vouch_hasher_final(h, out);
	vouch_hasher_free(h);
	return k;
}

VOUCH_EXPORT int vouch_cpio_appraise(vouch_cpio_reader *r, const vouch_trust *trust,
				     uint32_t flags, vouch_cpio_appraise_fn fn, void *userdata)
{
	struct appraise ap = { .trust = trust, .flags = flags, .fn = fn, .userdata = userdata };
	_cleanup_free_ struct pending *pend = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	struct vouch_cpio_entry e;
	int spec[ARRAY_SIZE(speculative)];
	size_t n_spec = 0;
	int k;

	if (!r || !trust || (flags & ~1U))
		return -EINVAL;
	ap.ctx = cpio_reader_ctx(r);
	pend = mem_zalloc(sizeof(*pend));
	buf = mem_alloc(1 << 16);
	if (!pend || !buf)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(speculative); i++)
		if (vouch_hash_available(ap.ctx, speculative[i]))
			spec[n_spec++] = speculative[i];

	while ((k = vouch_cpio_reader_next(r, &e)) > 0) {
		const struct vouch_cpio_xattr *ima;

		if (e.metadata) {
			if (pend->active && e.metadata_for && !strcmp(e.metadata_for, pend->name)) {
				judge(&ap, pend->name, find_ima(&e), pend->d, pend->n);
				pend->active = false;
			}
			continue;
		}
		if (pend->active) { /* no METADATA!!! followed */
			judge(&ap, pend->name, NULL, NULL, 0);
			pend->active = false;
		}
		if (!S_ISREG(e.mode) || (e.nlink >= 2 && e.size == 0))
			continue; /* hard links are appraised on the link with the data */
		ima = find_ima(&e);
		if (ima) { /* newcx: the xattr comes first, hash only what it needs */
			struct vouch_digest d[8];
			int algo = -1;

			if (ima->value_len >= 2 && ima->value[0] == 0x04)
				algo = ima->value[1];
			else if (ima->value_len >= 3 && ima->value[0] == 0x03)
				algo = ima->value[2];
			if (algo >= 0 && vouch_hash_available(ap.ctx, algo)) {
				k = hash_member(&ap, r, &algo, 1, d, buf);
				if (k < 0)
					return k;
				judge(&ap, e.name, ima, d, 1);
			} else {
				k = hash_member(&ap, r, spec, n_spec, d, buf);
				if (k < 0)
					return k;
				judge(&ap, e.name, ima, d, n_spec);
			}
			continue;
		}
		k = hash_member(&ap, r, spec, n_spec, pend->d, buf);
		if (k < 0)
			return k;
		pend->n = n_spec;
		memcpy(pend->name, e.name, strlen(e.name) + 1);
		pend->active = true;
	}
	if (k < 0)
		return k;
	if (pend->active)
		judge(&ap, pend->name, NULL, NULL, 0);
	return ap.first_verdict ? ap.first_verdict : ap.first_error;
}
