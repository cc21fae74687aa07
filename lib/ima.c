// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * security.ima values: digest forms (0x01, 0x04), signatures v2 (0x03) and v3 over the
 * fs-verity file id (0x06), and the fs-verity file digest itself.  FORMATS.md §3.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rsa.h>

#include "cursor.h"
#include "ima-internal.h"
#include "internal.h"
#include "openssl-internal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(X509_PUBKEY *, X509_PUBKEY_freep, X509_PUBKEY_free)

/* --- parsing ---------------------------------------------------------------------------- */

static int parse_sig(vouch_ctx *ctx, struct cursor *c, size_t len, struct vouch_xattr_value *v)
{
	uint8_t version, algo;
	uint16_t sig_size;
	uint32_t keyid;

	if (cur_u8(c, &version) < 0)
		return ctx_err(ctx, -EBADMSG, "truncated signature: %zu bytes, no version byte",
			       len);
	if (version == 1)
		return ctx_err(ctx, -EOPNOTSUPP,
			       "legacy signature v1 (deprecated, not supported)");
	if (len <= SIG_HDR_SIZE)
		return ctx_err(ctx, -EBADMSG,
			       "truncated signature: %zu bytes, the header alone is %d", len,
			       SIG_HDR_SIZE);
	cur_u8(c, &algo);
	cur_u32be(c, &keyid);
	cur_u16be(c, &sig_size);
	/* type 0x03/0x05 carry version 2, type 0x06 version 3 (ima_appraise.c, §3.6) */
	if (v->type == VOUCH_XATTR_VERITY_DIGSIG ? version != 3 : version != 2)
		return ctx_err(ctx, -EBADMSG, "signature type 0x%02x with version %u (expected %d)",
			       (unsigned)v->type, version,
			       v->type == VOUCH_XATTR_VERITY_DIGSIG ? 3 : 2);
	if (algo >= _VOUCH_HASH_MAX)
		return ctx_err(ctx, -EBADMSG, "unknown hash algorithm id %u in the signature",
			       algo);
	if (sig_size != cur_left(c))
		return ctx_err(ctx, -EBADMSG,
			       "sig_size %u disagrees with the length (%zu signature bytes)",
			       sig_size, cur_left(c));
	v->version = version;
	v->algo = algo;
	v->is_signature = true;
	v->keyid = keyid;
	v->sig_len = sig_size;
	cur_bytes(c, sig_size, &v->sig);
	return 0;
}

VOUCH_EXPORT int vouch_xattr_parse(vouch_ctx *ctx, const uint8_t *buf, size_t len,
				   struct vouch_xattr_value *ret_value)
{
	struct vouch_xattr_value v = { 0 };
	struct cursor c;
	uint8_t type, algo;
	int r;

	if (!ctx || (!buf && len) || !ret_value)
		return -EINVAL;
	cur_init(&c, buf, len);
	if (cur_u8(&c, &type) < 0)
		return ctx_err(ctx, -EBADMSG, "empty value");
	v.type = type;
	switch (type) {
	case VOUCH_XATTR_DIGEST:
		/* algorithm by length (ima_get_hash_algo): 21 -> sha1 unless MD5-padded, 17 -> md5 */
		if (len == 21) {
			static const uint8_t zero4[4];

			v.algo = memcmp(buf + 17, zero4, 4) == 0 ? VOUCH_HASH_MD5 : VOUCH_HASH_SHA1;
		} else if (len == 17) {
			v.algo = VOUCH_HASH_MD5;
		} else {
			return ctx_err(ctx, -EBADMSG,
				       "digest type 0x01 of %zu bytes (17 or 21 expected)", len);
		}
		v.digest_len = vouch_hash_info(v.algo)->size;
		cur_bytes(&c, v.digest_len, &v.digest);
		break;
	case VOUCH_XATTR_EVM_HMAC:
		if (len != 21)
			return ctx_err(ctx, -EBADMSG, "HMAC value of %zu bytes (21 expected)", len);
		v.algo = VOUCH_HASH_SHA1;
		v.digest_len = 20;
		cur_bytes(&c, 20, &v.digest);
		break;
	case VOUCH_XATTR_DIGEST_NG:
		if (cur_u8(&c, &algo) < 0)
			return ctx_err(ctx, -EBADMSG, "truncated digest: no algorithm byte");
		if (algo >= _VOUCH_HASH_MAX)
			return ctx_err(ctx, -EBADMSG, "unknown hash algorithm id %u", algo);
		v.algo = algo;
		v.digest_len = vouch_hash_info(algo)->size;
		/* the kernel ignores trailing bytes after the digest */
		if (cur_bytes(&c, v.digest_len, &v.digest) < 0)
			return ctx_err(ctx, -EBADMSG,
				       "truncated %s digest: %zu of %zu bytes",
				       vouch_hash_info(algo)->name, len - 2, v.digest_len);
		break;
	case VOUCH_XATTR_DIGSIG:
	case VOUCH_XATTR_EVM_PORTABLE:
	case VOUCH_XATTR_VERITY_DIGSIG:
		r = parse_sig(ctx, &c, len, &v);
		if (r < 0)
			return r;
		break;
	default:
		return ctx_err(ctx, -EBADMSG, "unknown type byte 0x%02x", type);
	}
	*ret_value = v;
	return 0;
}

/* --- encoding --------------------------------------------------------------------------- */

VOUCH_EXPORT int vouch_ima_digest_value(vouch_ctx *ctx, const struct vouch_digest *digest,
					uint8_t **ret_value, size_t *ret_len)
{
	const struct vouch_hash_info *hi;
	bool legacy;
	uint8_t *v;
	size_t n;

	if (!ctx || !digest || !ret_value || !ret_len)
		return -EINVAL;
	hi = vouch_hash_info(digest->algo);
	if (!hi || digest->len != hi->size)
		return ctx_err(ctx, -EINVAL, "digest of %zu bytes does not fit its algorithm",
			       digest->len);
	/* ima_fix_xattr writes the legacy form for algorithm ids <= sha1 */
	legacy = digest->algo <= VOUCH_HASH_SHA1;
	n = 1 + (legacy ? 0 : 1) + digest->len;
	v = mem_alloc(n);
	if (!v)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	v[0] = legacy ? VOUCH_XATTR_DIGEST : VOUCH_XATTR_DIGEST_NG;
	if (!legacy)
		v[1] = (uint8_t)digest->algo;
	memcpy(v + n - digest->len, digest->bytes, digest->len);
	*ret_value = v;
	*ret_len = n;
	return 0;
}

/* --- fs-verity -------------------------------------------------------------------------- */

#define VERITY_BLOCK 4096
#define VERITY_LOG_BLOCK 12
#define VERITY_DESC_SIZE 256

static int pread_full(int fd, uint8_t *buf, size_t len, uint64_t off, size_t *ret_n)
{
	size_t n = 0;

	while (n < len) {
		ssize_t k = pread(fd, buf + n, len - n, (off_t)(off + n));

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*ret_n = n;
	return 0;
}

/* Hash one level of @n digests packed into zero-padded blocks; returns the next level. */
static int verity_level(vouch_ctx *ctx, const EVP_MD *md, size_t ds, const uint8_t *in, size_t n,
			uint8_t *out, size_t *ret_n)
{
	size_t per_block = VERITY_BLOCK / ds, m = 0;
	uint8_t block[VERITY_BLOCK];

	for (size_t i = 0; i < n; i += per_block) {
		size_t k = n - i < per_block ? n - i : per_block;

		memset(block, 0, sizeof(block));
		memcpy(block, in + i * ds, k * ds);
		if (!EVP_Digest(block, sizeof(block), out + m * ds, NULL, md, NULL))
			return ctx_err_ssl(ctx, -EIO, "fs-verity tree digest failed");
		m++;
	}
	*ret_n = m;
	return 0;
}

VOUCH_EXPORT int vouch_ima_fsverity_digest_fd(vouch_ctx *ctx, int fd, int algo,
					      struct vouch_digest *ret_digest)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *mdc = NULL;
	_cleanup_free_ uint8_t *buf = NULL, *level = NULL;
	uint8_t desc[VERITY_DESC_SIZE] = { 0 };
	uint8_t root[VOUCH_HASH_MAX_SIZE] = { 0 };
	const struct vouch_hash_info *hi;
	struct vouch_digest d = { 0 };
	const EVP_MD *md;
	size_t ds, n = 0, cap = 0;
	uint64_t size = 0;
	int r;

	if (!ctx || fd < 0 || !ret_digest)
		return -EINVAL;
	hi = vouch_hash_info(algo);
	if (!hi || !hi->fsverity_id)
		return ctx_err(ctx, -EOPNOTSUPP, "fs-verity supports sha256 and sha512 only");
	md = ssl_md(ctx, algo);
	if (!md)
		return ctx_err(ctx, -EOPNOTSUPP, "%s is not available from OpenSSL", hi->name);
	ds = hi->size;
	mdc = EVP_MD_CTX_new();
	buf = mem_alloc(256 * VERITY_BLOCK);
	if (!mdc || !buf)
		return ctx_err(ctx, -ENOMEM, "out of memory");

	/* level 0: one digest per data block, the last block zero-padded */
	for (;;) {
		size_t got;

		r = pread_full(fd, buf, 256 * VERITY_BLOCK, size, &got);
		if (r < 0) {
			errno = -r;
			return ctx_err(ctx, r, "read failed: %m");
		}
		if (got == 0)
			break;
		size += got;
		for (size_t off = 0; off < got; off += VERITY_BLOCK) {
			size_t k = got - off < VERITY_BLOCK ? got - off : VERITY_BLOCK;

			if (mem_grow(&level, &cap, n + 1, ds, 64) < 0)
				return ctx_err(ctx, -ENOMEM, "out of memory");
			if (k < VERITY_BLOCK)
				memset(buf + off + k, 0, VERITY_BLOCK - k);
			if (!EVP_Digest(buf + off, VERITY_BLOCK, level + n * ds, NULL, md, NULL))
				return ctx_err_ssl(ctx, -EIO, "fs-verity block digest failed");
			n++;
		}
		if (got < 256 * VERITY_BLOCK)
			break;
	}
	/* upper levels until one block remains; its digest is the root (zeros if empty) */
	while (n > 1) {
		r = verity_level(ctx, md, ds, level, n, level, &n);
		if (r < 0)
			return r;
	}
	if (n == 1)
		memcpy(root, level, ds);

	/* struct fsverity_descriptor */
	desc[0] = 1;
	desc[1] = hi->fsverity_id;
	desc[2] = VERITY_LOG_BLOCK;
	desc[3] = 0; /* salt_size */
	put_le32(desc + 8, (uint32_t)size);
	put_le32(desc + 12, (uint32_t)(size >> 32));
	memcpy(desc + 16, root, ds);
	if (!EVP_Digest(desc, sizeof(desc), d.bytes, NULL, md, NULL))
		return ctx_err_ssl(ctx, -EIO, "fs-verity descriptor digest failed");
	d.algo = algo;
	d.len = ds;
	*ret_digest = d;
	return 0;
}

/*
 * sigv3 message: H(ima_file_id used part) = H(0x06 || algo || fs-verity digest)
 * (ima_appraise.c: calc_file_id_hash; FORMATS.md §3.5, pitfall 12).
 */
static int file_id_hash(vouch_ctx *ctx, int algo, const uint8_t *vdigest, size_t len,
			struct vouch_digest *ret)
{
	uint8_t id[2 + VOUCH_HASH_MAX_SIZE];

	if (len > VOUCH_HASH_MAX_SIZE)
		return -EINVAL;
	id[0] = VOUCH_XATTR_VERITY_DIGSIG;
	id[1] = (uint8_t)algo;
	memcpy(id + 2, vdigest, len);
	return vouch_digest_buf(ctx, algo, id, 2 + len, ret);
}

/* --- key ids ---------------------------------------------------------------------------- */

VOUCH_EXPORT int vouch_ima_keyid(vouch_ctx *ctx, const vouch_key *key, const vouch_cert *cert,
				 uint32_t *ret_keyid)
{
	_cleanup_(X509_PUBKEY_freep) X509_PUBKEY *xpk = NULL;
	const unsigned char *pk = NULL;
	int pklen = 0;
	struct vouch_digest d;
	int r;

	if (!ctx || !key || !ret_keyid)
		return -EINVAL;
	if (cert) {
		struct vouch_cert_info info;

		if (!vouch_key_matches_cert(key, cert))
			return ctx_err(ctx, -EKEYREJECTED,
				       "the certificate does not hold the signing key's public key");
		vouch_cert_get_info(cert, &info);
		if (!info.has_ima_keyid)
			return ctx_err(ctx, -ENOKEY,
				       "the certificate has no subjectKeyIdentifier (IMA needs one)");
		*ret_keyid = info.ima_keyid;
		return 0;
	}
	/* evmctl without a certificate: SHA-1 over the subjectPublicKey BIT STRING contents */
	if (!X509_PUBKEY_set(&xpk, key_pkey(key)))
		return ctx_err_ssl(ctx, -EIO, "cannot encode the public key");
	if (!X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, xpk) || !pk || pklen <= 0)
		return ctx_err_ssl(ctx, -EIO, "cannot encode the public key");
	r = vouch_digest_buf(ctx, VOUCH_HASH_SHA1, pk, (size_t)pklen, &d);
	if (r < 0)
		return r;
	*ret_keyid = get_be32(d.bytes + 16);
	return 0;
}

/* --- signing ---------------------------------------------------------------------------- */

int sig_make(vouch_ctx *ctx, const vouch_key *key, uint8_t type, uint8_t version, int algo,
	     uint32_t keyid, const uint8_t *digest, size_t digest_len, uint8_t **ret_value,
	     size_t *ret_len)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *pc = NULL;
	_cleanup_free_ uint8_t *v = NULL;
	EVP_PKEY *pkey = key_pkey(key);
	const EVP_MD *md = ssl_md(ctx, algo);
	int kt = vouch_key_type(key);
	size_t siglen = 0;

	if (!md)
		return ctx_err(ctx, -EOPNOTSUPP, "hash algorithm %s is not available",
			       vouch_hash_info(algo) ? vouch_hash_info(algo)->name : "?");
	if (kt != VOUCH_KEY_RSA && kt != VOUCH_KEY_EC)
		return ctx_err(ctx, -EOPNOTSUPP, "IMA signatures need an RSA or EC key");
	pc = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!pc || EVP_PKEY_sign_init(pc) <= 0 ||
	    (kt == VOUCH_KEY_RSA && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) <= 0) ||
	    EVP_PKEY_CTX_set_signature_md(pc, md) <= 0 ||
	    EVP_PKEY_sign(pc, NULL, &siglen, digest, digest_len) <= 0)
		return ctx_err_ssl(ctx, -EIO, "cannot set up the signature");
	if (siglen > UINT16_MAX)
		return ctx_err(ctx, -EOPNOTSUPP, "signature too large for the header");
	v = mem_alloc(SIG_HDR_SIZE + siglen);
	if (!v)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	if (EVP_PKEY_sign(pc, v + SIG_HDR_SIZE, &siglen, digest, digest_len) <= 0)
		return ctx_err_ssl(ctx, -EIO, "signing failed");
	v[0] = type;
	v[1] = version;
	v[2] = (uint8_t)algo;
	put_be32(v + 3, keyid);
	put_be16(v + 7, (uint16_t)siglen);
	*ret_len = SIG_HDR_SIZE + siglen;
	*ret_value = TAKE_PTR(v);
	return 0;
}

static int sign_opts_check(vouch_ctx *ctx, const struct vouch_ima_sign_options *opts)
{
	const struct vouch_hash_info *hi;

	if (check_options_v1(ctx, opts, "sign") < 0)
		return -EINVAL;
	if (opts->flags & ~VOUCH_IMA_SIGN_V3)
		return ctx_err(ctx, -EINVAL, "unknown sign flags 0x%x", opts->flags);
	hi = vouch_hash_info(opts->algo);
	if (!hi)
		return ctx_err(ctx, -EINVAL, "unknown hash algorithm id %d", opts->algo);
	if ((opts->flags & VOUCH_IMA_SIGN_V3) && !hi->fsverity_id)
		return ctx_err(ctx, -EOPNOTSUPP,
			       "signature v3 needs an fs-verity algorithm (sha256, sha512), not %s",
			       hi->name);
	return 0;
}

VOUCH_EXPORT int vouch_ima_sign_digest(vouch_ctx *ctx, const vouch_key *key,
				       const struct vouch_ima_sign_options *opts,
				       const struct vouch_digest *digest, uint8_t **ret_value,
				       size_t *ret_len)
{
	struct vouch_digest msg;
	int r;

	if (!ctx || !key || !opts || !digest || !ret_value || !ret_len)
		return -EINVAL;
	r = sign_opts_check(ctx, opts);
	if (r < 0)
		return r;
	if (digest->algo != opts->algo || digest->len != vouch_hash_info(opts->algo)->size)
		return ctx_err(ctx, -EINVAL, "the digest is not a %s digest",
			       vouch_hash_info(opts->algo)->name);
	if (!(opts->flags & VOUCH_IMA_SIGN_V3))
		return sig_make(ctx, key, VOUCH_XATTR_DIGSIG, 2, opts->algo, opts->keyid,
				digest->bytes, digest->len, ret_value, ret_len);
	r = file_id_hash(ctx, opts->algo, digest->bytes, digest->len, &msg);
	if (r < 0)
		return r;
	return sig_make(ctx, key, VOUCH_XATTR_VERITY_DIGSIG, 3, opts->algo, opts->keyid, msg.bytes,
			msg.len, ret_value, ret_len);
}

/* The plain file digest from offset 0, with pread so the caller's offset stays put. */
static int file_digest(vouch_ctx *ctx, int fd, int algo, struct vouch_digest *ret)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *mdc = EVP_MD_CTX_new();
	_cleanup_free_ uint8_t *buf = mem_alloc(256 * 1024);
	const EVP_MD *md = ssl_md(ctx, algo);
	struct vouch_digest d = { 0 };
	unsigned int dl = 0;
	uint64_t off = 0;

	if (!mdc || !buf)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	if (!md)
		return ctx_err(ctx, -EOPNOTSUPP, "hash algorithm %s is not available",
			       vouch_hash_info(algo) ? vouch_hash_info(algo)->name : "?");
	if (!EVP_DigestInit_ex(mdc, md, NULL))
		return ctx_err_ssl(ctx, -EIO, "digest init failed");
	for (;;) {
		size_t got;
		int r = pread_full(fd, buf, 256 * 1024, off, &got);

		if (r < 0) {
			errno = -r;
			return ctx_err(ctx, r, "read failed: %m");
		}
		if (got == 0)
			break;
		if (!EVP_DigestUpdate(mdc, buf, got))
			return ctx_err_ssl(ctx, -EIO, "digest update failed");
		off += got;
		if (got < 256 * 1024)
			break;
	}
	if (!EVP_DigestFinal_ex(mdc, d.bytes, &dl))
		return ctx_err_ssl(ctx, -EIO, "digest final failed");
	d.algo = algo;
	d.len = dl;
	*ret = d;
	return 0;
}

VOUCH_EXPORT int vouch_ima_sign_fd(vouch_ctx *ctx, const vouch_key *key,
				   const struct vouch_ima_sign_options *opts, int fd,
				   uint8_t **ret_value, size_t *ret_len)
{
	struct vouch_digest d;
	int r;

	if (!ctx || !key || !opts || fd < 0 || !ret_value || !ret_len)
		return -EINVAL;
	r = sign_opts_check(ctx, opts);
	if (r < 0)
		return r;
	if (opts->flags & VOUCH_IMA_SIGN_V3)
		r = vouch_ima_fsverity_digest_fd(ctx, fd, opts->algo, &d);
	else
		r = file_digest(ctx, fd, opts->algo, &d);
	if (r < 0)
		return r;
	return vouch_ima_sign_digest(ctx, key, opts, &d, ret_value, ret_len);
}

/* --- verification ----------------------------------------------------------------------- */

static int verify_opts(vouch_ctx *ctx, const struct vouch_ima_verify_options *opts,
		       uint64_t *ret_allowed)
{
	if (check_options_v1(ctx, opts, "verify") < 0)
		return -EINVAL;
	if (opts->flags & ~VOUCH_IMA_VERIFY_ALLOW_DIGEST)
		return ctx_err(ctx, -EINVAL, "unknown verify flags 0x%x", opts->flags);
	*ret_allowed = opts->allowed_algos ? opts->allowed_algos : DEFAULT_ALLOWED_ALGOS;
	return 0;
}

VOUCH_EXPORT int vouch_ima_verify_digest(vouch_ctx *ctx, const vouch_trust *trust,
					 const struct vouch_ima_verify_options *opts,
					 const uint8_t *value, size_t len,
					 const struct vouch_digest *digest,
					 struct vouch_ima_verify_result *ret_result)
{
	static const struct vouch_ima_verify_options defaults = VOUCH_IMA_VERIFY_OPTIONS_INIT;
	struct vouch_ima_verify_result res = { .signer = NULL };
	struct vouch_digest msg;
	uint64_t allowed = 0;
	int r;

	if (!ctx || !trust || (!value && len) || !digest)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	r = verify_opts(ctx, opts, &allowed);
	if (r < 0)
		return r;
	r = vouch_xattr_parse(ctx, value, len, &res.value);
	if (r < 0)
		goto out;
	/* check: a security.ima type (HMAC and portable signatures belong to security.evm) */
	if (res.value.type == VOUCH_XATTR_EVM_HMAC || res.value.type == VOUCH_XATTR_EVM_PORTABLE) {
		r = ctx_err(ctx, -EBADMSG, "type 0x%02x is an EVM value, not security.ima",
			    (unsigned)res.value.type);
		goto out;
	}
	/* check: the caller digested with the algorithm the value names */
	if (digest->algo != res.value.algo) {
		r = ctx_err(ctx, -EINVAL, "the value needs a %s digest, got %s",
			    vouch_hash_info(res.value.algo)->name,
			    vouch_hash_info(digest->algo) ? vouch_hash_info(digest->algo)->name : "?");
		goto out;
	}
	if (!res.value.is_signature) {
		/* check: digests are on the allow-list and accepted only when asked for */
		if (res.value.algo >= 64 || !(allowed & (1ULL << res.value.algo))) {
			r = ctx_err(ctx, -EPERM, "hash algorithm %s is not allowed",
				    vouch_hash_info(res.value.algo)->name);
			goto out;
		}
		if (res.value.digest_len != digest->len ||
		    CRYPTO_memcmp(res.value.digest, digest->bytes, digest->len) != 0) {
			r = ctx_err(ctx, -EKEYREJECTED, "the %s digest does not match the file",
				    vouch_hash_info(res.value.algo)->name);
			goto out;
		}
		if (!(opts->flags & VOUCH_IMA_VERIFY_ALLOW_DIGEST))
			r = ctx_err(ctx, -EPERM, "not signed: the value is a digest only");
		goto out;
	}
	if (res.value.type == VOUCH_XATTR_VERITY_DIGSIG) {
		r = file_id_hash(ctx, res.value.algo, digest->bytes, digest->len, &msg);
		if (r < 0)
			goto out;
	} else {
		msg = *digest;
	}
	r = ima_sig_check(ctx, trust, allowed, opts->keyring, msg.bytes, msg.len, NULL, &res);
out:
	if (ret_result)
		*ret_result = res;
	return r;
}

VOUCH_EXPORT int vouch_ima_verify_fd(vouch_ctx *ctx, const vouch_trust *trust,
				     const struct vouch_ima_verify_options *opts,
				     const uint8_t *value, size_t len, int fd,
				     struct vouch_ima_verify_result *ret_result)
{
	struct vouch_xattr_value v;
	struct vouch_digest d;
	int r;

	if (!ctx || !trust || (!value && len) || fd < 0)
		return -EINVAL;
	/* parse first to learn which digest the value needs; the full checks follow */
	r = vouch_xattr_parse(ctx, value, len, &v);
	if (r < 0) {
		if (ret_result)
			*ret_result = (struct vouch_ima_verify_result){ .signer = NULL };
		return r;
	}
	if (v.type == VOUCH_XATTR_VERITY_DIGSIG)
		r = vouch_ima_fsverity_digest_fd(ctx, fd, v.algo, &d);
	else if (ssl_md(ctx, v.algo))
		r = file_digest(ctx, fd, v.algo, &d);
	else
		r = ctx_err(ctx, -EPERM, "hash algorithm %s is not allowed",
			    vouch_hash_info(v.algo)->name);
	if (r < 0) {
		if (ret_result) {
			*ret_result = (struct vouch_ima_verify_result){ .signer = NULL };
			ret_result->value = v;
		}
		return r;
	}
	return vouch_ima_verify_digest(ctx, trust, opts, value, len, &d, ret_result);
}
