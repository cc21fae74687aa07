// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * security.evm: the digest over protected xattrs and inode metadata, portable signatures,
 * HMACs.  FORMATS.md §4.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ima-internal.h"
#include "internal.h"
#include "openssl-internal.h"
#include <vouch/evm.h>

/* evm_config_default_xattrnames[] order; portable signatures use every name (§4.2) */
static const char *const evm_names[] = {
	"security.selinux",	    "security.SMACK64",	    "security.SMACK64EXEC",
	"security.SMACK64TRANSMUTE", "security.SMACK64MMAP", "security.apparmor",
	"security.ima",		    "security.capability",
};

#define EVM_HMAC_KEY_SIZE 128
#define H_MISC_MAX 24
#define FS_UUID_SIZE 16

VOUCH_EXPORT const char *vouch_evm_xattr_name(size_t index)
{
	return index < ARRAY_SIZE(evm_names) ? evm_names[index] : NULL;
}

static int inputs_check(vouch_ctx *ctx, const struct vouch_evm_inputs *in)
{
	if (in->version != 1)
		return ctx_err(ctx, -EINVAL, "unsupported EVM inputs version %u", in->version);
	if (check_reserved(ctx, in->reserved, sizeof(in->reserved),
			   "reserved EVM inputs option fields must be zero") < 0)
		return -EINVAL;
	if (in->flags & ~VOUCH_EVM_M32)
		return ctx_err(ctx, -EINVAL, "unknown EVM input flags 0x%x", in->flags);
	if (in->n_xattrs && !in->xattrs)
		return -EINVAL;
	for (size_t i = 0; i < in->n_xattrs; i++) {
		const struct vouch_evm_xattr *x = &in->xattrs[i];
		bool known = false;

		if (!x->name || (!x->value && x->len))
			return ctx_err(ctx, -EINVAL, "EVM xattr %zu has no name or value", i);
		for (size_t k = 0; k < ARRAY_SIZE(evm_names); k++)
			known |= strcmp(x->name, evm_names[k]) == 0;
		if (!known)
			return ctx_err(ctx, -EINVAL, "'%s' is not an EVM-protected xattr", x->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(in->xattrs[j].name, x->name) == 0)
				return ctx_err(ctx, -EINVAL, "EVM xattr '%s' given twice", x->name);
	}
	return 0;
}

/* struct h_misc, native LE layout of the target, zero padded (§4.3). */
static size_t h_misc(const struct vouch_evm_inputs *in, bool portable, uint8_t *out)
{
	uint64_t ino = portable ? 0 : in->ino;
	uint32_t gen = portable ? 0 : in->generation;
	size_t o = 0;

	memset(out, 0, H_MISC_MAX);
	put_le32(out, (uint32_t)ino);
	if (in->flags & VOUCH_EVM_M32) {
		o = 4;
	} else {
		put_le32(out + 4, (uint32_t)(ino >> 32));
		o = 8;
	}
	put_le32(out + o, gen);
	put_le32(out + o + 4, in->uid);
	put_le32(out + o + 8, in->gid);
	out[o + 12] = (uint8_t)in->mode;
	out[o + 13] = (uint8_t)(in->mode >> 8);
	return o + 16; /* 20 (ILP32) or 24 (LP64): two trailing pad bytes */
}

/* Feed the hashed bytes, in order, to @fn. */
static int evm_feed(vouch_ctx *ctx, const struct vouch_evm_inputs *in, bool portable,
		    bool with_uuid, int (*fn)(void *, const void *, size_t), void *u)
{
	uint8_t misc[H_MISC_MAX];
	bool have_ima = false;
	size_t n;
	int r;

	for (size_t k = 0; k < ARRAY_SIZE(evm_names); k++)
		for (size_t i = 0; i < in->n_xattrs; i++) {
			if (strcmp(in->xattrs[i].name, evm_names[k]) != 0)
				continue;
			have_ima |= strcmp(evm_names[k], "security.ima") == 0;
			r = fn(u, in->xattrs[i].value, in->xattrs[i].len);
			if (r < 0)
				return r;
		}
	/* evm_main.c: a portable signature must cover security.ima */
	if (portable && !have_ima)
		return ctx_err(ctx, -EPERM, "a portable EVM signature needs security.ima");
	n = h_misc(in, portable, misc);
	r = fn(u, misc, n);
	if (r < 0)
		return r;
	if (with_uuid && in->fs_uuid && !portable)
		r = fn(u, in->fs_uuid, FS_UUID_SIZE);
	return r;
}

static int md_update_cb(void *u, const void *p, size_t n)
{
	return EVP_DigestUpdate(u, p, n) ? 0 : -EIO;
}

VOUCH_EXPORT int vouch_evm_digest(vouch_ctx *ctx, const struct vouch_evm_inputs *inputs,
				  int type, int algo, struct vouch_digest *ret_digest)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *mdc = NULL;
	struct vouch_digest d = { 0 };
	const EVP_MD *md;
	unsigned int dl = 0;
	int r;

	if (!ctx || !inputs || !ret_digest)
		return -EINVAL;
	if (type != VOUCH_XATTR_EVM_PORTABLE && type != VOUCH_XATTR_DIGSIG)
		return ctx_err(ctx, -EINVAL, "EVM digests are for types 0x03 and 0x05");
	r = inputs_check(ctx, inputs);
	if (r < 0)
		return r;
	md = ssl_md(ctx, algo);
	if (!md)
		return ctx_err(ctx, -EOPNOTSUPP, "hash algorithm id %d is not available", algo);
	mdc = EVP_MD_CTX_new();
	if (!mdc)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	if (!EVP_DigestInit_ex(mdc, md, NULL))
		return ctx_err_ssl(ctx, -EIO, "digest init failed");
	r = evm_feed(ctx, inputs, type == VOUCH_XATTR_EVM_PORTABLE, true, md_update_cb, mdc);
	if (r == -EIO)
		return ctx_err_ssl(ctx, -EIO, "digest update failed");
	if (r < 0)
		return r;
	if (!EVP_DigestFinal_ex(mdc, d.bytes, &dl))
		return ctx_err_ssl(ctx, -EIO, "digest final failed");
	d.algo = algo;
	d.len = dl;
	*ret_digest = d;
	return 0;
}

VOUCH_EXPORT int vouch_evm_sign(vouch_ctx *ctx, const vouch_key *key,
				const struct vouch_ima_sign_options *opts,
				const struct vouch_evm_inputs *inputs, uint8_t **ret_value,
				size_t *ret_len)
{
	struct vouch_digest d;
	int r;

	if (!ctx || !key || !opts || !inputs || !ret_value || !ret_len)
		return -EINVAL;
	if (opts->version != 1 || opts->flags)
		return ctx_err(ctx, -EINVAL, "EVM signatures take version 1 options, no flags");
	if (check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved sign option fields must be zero") < 0)
		return -EINVAL;
	r = vouch_evm_digest(ctx, inputs, VOUCH_XATTR_EVM_PORTABLE, opts->algo, &d);
	if (r < 0)
		return r;
	return sig_make(ctx, key, VOUCH_XATTR_EVM_PORTABLE, 2, opts->algo, opts->keyid, d.bytes,
			d.len, ret_value, ret_len);
}

/* Gather the HMAC input in one buffer (xattr values are at most 64 KiB each). */
static int gather_cb(void *u, const void *p, size_t n)
{
	return sb_add(u, p, n);
}

static int evm_hmac_raw(vouch_ctx *ctx, const uint8_t *key, size_t key_len,
			const struct vouch_evm_inputs *in, uint8_t out[20])
{
	uint8_t k128[EVM_HMAC_KEY_SIZE] = { 0 };
	struct strbuf g = { 0 };
	size_t outlen = 0;
	int r;

	if (!key || key_len == 0 || key_len > EVM_HMAC_KEY_SIZE)
		return ctx_err(ctx, -EINVAL, "the EVM HMAC key must be 1 to 128 bytes");
	r = inputs_check(ctx, in);
	if (r < 0)
		return r;
	r = evm_feed(ctx, in, false, true, gather_cb, &g);
	if (r < 0) {
		sb_free(&g);
		return r == -ENOMEM ? ctx_err(ctx, r, "out of memory") : r;
	}
	/* the kernel always sets a 128-byte key: pad before HMAC hashes it down (§4.4) */
	memcpy(k128, key, key_len);
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, k128, sizeof(k128),
		       g.s ? (const void *)g.s : k128, g.len, out, 20, &outlen) ||
	    outlen != 20)
		r = ctx_err_ssl(ctx, -EIO, "HMAC-SHA1 failed");
	OPENSSL_cleanse(k128, sizeof(k128));
	sb_free(&g);
	return r;
}

VOUCH_EXPORT int vouch_evm_hmac(vouch_ctx *ctx, const uint8_t *key, size_t key_len,
				const struct vouch_evm_inputs *inputs, uint8_t **ret_value,
				size_t *ret_len)
{
	uint8_t mac[20], *v;
	int r;

	if (!ctx || !inputs || !ret_value || !ret_len)
		return -EINVAL;
	r = evm_hmac_raw(ctx, key, key_len, inputs, mac);
	if (r < 0)
		return r;
	v = mem_alloc(21);
	if (!v)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	v[0] = VOUCH_XATTR_EVM_HMAC;
	memcpy(v + 1, mac, 20);
	*ret_value = v;
	*ret_len = 21;
	return 0;
}

VOUCH_EXPORT int vouch_evm_verify(vouch_ctx *ctx, const vouch_trust *trust,
				  const struct vouch_evm_verify_options *opts,
				  const struct vouch_evm_inputs *inputs, const uint8_t *value,
				  size_t len, struct vouch_ima_verify_result *ret_result)
{
	static const struct vouch_evm_verify_options defaults = VOUCH_EVM_VERIFY_OPTIONS_INIT;
	struct vouch_ima_verify_result res = { .signer = NULL };
	struct vouch_digest d;
	uint64_t allowed;
	int r;

	if (!ctx || !inputs || (!value && len))
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	if (opts->version != 1 || opts->flags ||
	    check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved verify option fields must be zero") < 0)
		return ctx_err(ctx, -EINVAL, "bad EVM verify options");
	allowed = opts->allowed_algos ? opts->allowed_algos : DEFAULT_ALLOWED_ALGOS;
	r = vouch_xattr_parse(ctx, value, len, &res.value);
	if (r < 0)
		goto out;
	switch (res.value.type) {
	case VOUCH_XATTR_EVM_HMAC: {
		uint8_t mac[20];

		/* check: an HMAC key is there to check with */
		if (!opts->hmac_key) {
			r = ctx_err(ctx, -ENOKEY, "HMAC value but no EVM key given");
			break;
		}
		r = evm_hmac_raw(ctx, opts->hmac_key, opts->hmac_key_len, inputs, mac);
		if (r < 0)
			break;
		/* check: the HMAC, in constant time */
		if (CRYPTO_memcmp(mac, res.value.digest, 20) != 0)
			r = ctx_err(ctx, -EKEYREJECTED, "the EVM HMAC does not match");
		OPENSSL_cleanse(mac, sizeof(mac));
		break;
	}
	case VOUCH_XATTR_DIGSIG:
	case VOUCH_XATTR_EVM_PORTABLE:
		if (!trust) {
			r = ctx_err(ctx, -ENOKEY, "EVM signature but no trusted keys given");
			break;
		}
		/* check: algorithm allowed before any digest is computed with it */
		if (res.value.algo >= 64 || !(allowed & (1ULL << res.value.algo))) {
			r = ctx_err(ctx, -EPERM, "hash algorithm %s is not allowed",
				    vouch_hash_info(res.value.algo)->name);
			break;
		}
		r = vouch_evm_digest(ctx, inputs, res.value.type, res.value.algo, &d);
		if (r < 0)
			break;
		r = ima_sig_check(ctx, trust, allowed, opts->keyring, d.bytes, d.len, NULL, &res);
		break;
	default:
		/* check: an EVM type */
		r = ctx_err(ctx, -EBADMSG, "type 0x%02x is not a security.evm type",
			    (unsigned)res.value.type);
	}
out:
	if (ret_result)
		*ret_result = res;
	return r;
}
