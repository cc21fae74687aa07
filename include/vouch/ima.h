/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: security.ima values (digests, signatures v2 and v3) and fs-verity file digests
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_IMA_H
#define VOUCH_IMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/key.h>

#ifdef __cplusplus
extern "C" {
#endif

/** enum vouch_xattr_type - the first byte of security.ima / security.evm (evm_ima_xattr_type) */
enum vouch_xattr_type {
	VOUCH_XATTR_DIGEST = 0x01,	    /* security.ima: digest, algorithm inferred (<= sha1) */
	VOUCH_XATTR_EVM_HMAC = 0x02,	    /* security.evm: HMAC-SHA1 */
	VOUCH_XATTR_DIGSIG = 0x03,	    /* signature v2 (security.ima or security.evm) */
	VOUCH_XATTR_DIGEST_NG = 0x04,	    /* security.ima: algorithm byte + digest */
	VOUCH_XATTR_EVM_PORTABLE = 0x05,    /* security.evm: portable signature */
	VOUCH_XATTR_VERITY_DIGSIG = 0x06,   /* security.ima: signature v3 over the fs-verity id */
	_VOUCH_XATTR_TYPE_MAX,
	_VOUCH_XATTR_TYPE_INVALID = -22,
};

/** VOUCH_XATTR_MAX_SIZE - the largest value vouch reads or writes (XATTR_SIZE_MAX) */
#define VOUCH_XATTR_MAX_SIZE 65536

/**
 * struct vouch_xattr_value - a parsed security.ima or security.evm value
 * @type: enum vouch_xattr_type
 * @version: signature version (2, or 3 for type 0x06); 0 for digests and HMACs
 * @algo: enum vouch_hash_algo (for type 0x01 inferred from the length; sha1 for HMACs)
 * @is_signature: types 0x03, 0x05 and 0x06
 * @keyid: the signer's IMA key id (signatures only)
 * @sig: the raw signature bytes (inside the parsed buffer), or NULL
 * @sig_len: their number (the header's sig_size)
 * @digest: the digest or HMAC bytes (inside the parsed buffer), or NULL
 * @digest_len: their number
 */
struct vouch_xattr_value {
	int type;
	int version;
	int algo;
	bool is_signature;
	uint32_t keyid;
	const uint8_t *sig;
	size_t sig_len;
	const uint8_t *digest;
	size_t digest_len;
};

/**
 * vouch_xattr_parse() - parse a security.ima or security.evm value
 * @ctx: the context (for the error message)
 * @buf: the raw value
 * @len: its length
 * @ret_value: filled in on success; its pointers point into @buf
 *
 * Checks, as the kernel does: a known type byte; type 0x01 of 17 or 21 bytes; type 0x02 of
 * exactly 21 bytes; type 0x04 with an algorithm below 20 and a complete digest; signatures
 * longer than the 9-byte header, of exactly 9 + sig_size bytes, version 2 for types 0x03 and
 * 0x05 and 3 for type 0x06, algorithm below 20.
 *
 * Return: 0; -EBADMSG (malformed, with the reason in the context); -EOPNOTSUPP (legacy v1
 * signature); -EINVAL.
 * Since: 0.1
 */
int vouch_xattr_parse(vouch_ctx *ctx, const uint8_t *buf, size_t len,
		      struct vouch_xattr_value *ret_value);

/**
 * vouch_ima_digest_value() - encode a digest as security.ima
 * @ctx: the context
 * @digest: the file digest
 * @ret_value: the value (type 0x01 for md4/md5/sha1 as the kernel writes it, else 0x04 with
 *             the algorithm byte), released with vouch_free()
 * @ret_len: its length
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_ima_digest_value(vouch_ctx *ctx, const struct vouch_digest *digest,
			   uint8_t **ret_value, size_t *ret_len);

/**
 * vouch_ima_fsverity_digest_fd() - the fs-verity file digest (what `fsverity digest` prints)
 * @ctx: the context
 * @fd: a regular file, read from offset 0 to EOF (pread: the offset is not moved)
 * @algo: VOUCH_HASH_SHA256 or VOUCH_HASH_SHA512
 * @ret_digest: H(fsverity_descriptor) over a Merkle tree of 4096-byte blocks, no salt
 * Return: 0, -EINVAL, -EOPNOTSUPP (other algorithm), -ENOMEM, read(2) errors.
 * Since: 0.1
 */
int vouch_ima_fsverity_digest_fd(vouch_ctx *ctx, int fd, int algo, struct vouch_digest *ret_digest);

/**
 * vouch_ima_keyid() - the IMA key id a signature by @key carries
 * @ctx: the context
 * @key: the private key
 * @cert: its certificate, or NULL
 * @ret_keyid: with @cert, the last four bytes of its subjectKeyIdentifier; without, the last
 *             four bytes of SHA-1 over the subjectPublicKey bits (as evmctl does)
 * Return: 0; -EINVAL; -EKEYREJECTED (@cert does not hold @key's public half); -ENOKEY (@cert
 * has no usable SKID); -EIO.
 * Since: 0.1
 */
int vouch_ima_keyid(vouch_ctx *ctx, const vouch_key *key, const vouch_cert *cert,
		    uint32_t *ret_keyid);

/** VOUCH_IMA_SIGN_V3 - sign the fs-verity file id (type 0x06, version 3) */
#define VOUCH_IMA_SIGN_V3 (1U << 0)

/**
 * struct vouch_ima_sign_options - how to sign
 * @version: must be 1
 * @algo: enum vouch_hash_algo of the file digest (VOUCH_IMA_SIGN_OPTIONS_INIT: sha256);
 *        sha256 or sha512 with VOUCH_IMA_SIGN_V3
 * @flags: VOUCH_IMA_SIGN_V3
 * @keyid: the key id to put in the header (from vouch_ima_keyid())
 * @reserved: must be zero
 */
struct vouch_ima_sign_options {
	uint32_t version;
	int algo;
	uint32_t flags;
	uint32_t keyid;
	uint64_t reserved[6];
};
#define VOUCH_IMA_SIGN_OPTIONS_INIT { .version = 1, .algo = VOUCH_HASH_SHA256 }

/**
 * vouch_ima_sign_digest() - make a signature value from a precomputed digest
 * @ctx: the context
 * @key: an RSA or EC private key; may be shared by threads that each use their own @ctx
 * @opts: the options
 * @digest: the file digest (v2), or the fs-verity file digest (v3); its algorithm must be
 *          @opts->algo
 * @ret_value: type 0x03 version 2 (or 0x06 version 3) header + signature; vouch_free()
 * @ret_len: its length
 *
 * RSA signatures are EMSA-PKCS1-v1_5 over DigestInfo(digest); ECDSA signatures are DER.
 * Return: 0, -EINVAL, -EOPNOTSUPP (key type or algorithm), -EIO (OpenSSL), -ENOMEM.
 * Since: 0.1
 */
int vouch_ima_sign_digest(vouch_ctx *ctx, const vouch_key *key,
			  const struct vouch_ima_sign_options *opts,
			  const struct vouch_digest *digest, uint8_t **ret_value, size_t *ret_len);

/**
 * vouch_ima_sign_fd() - digest an open regular file and sign it
 * @ctx, @key, @opts, @ret_value, @ret_len: as vouch_ima_sign_digest()
 * @fd: the file, read with pread(2) from offset 0 to EOF (its offset does not move)
 * Return: as vouch_ima_sign_digest(), plus read(2) errors.
 * Since: 0.1
 */
int vouch_ima_sign_fd(vouch_ctx *ctx, const vouch_key *key,
		      const struct vouch_ima_sign_options *opts, int fd, uint8_t **ret_value,
		      size_t *ret_len);

/** VOUCH_IMA_VERIFY_ALLOW_DIGEST - accept an unsigned digest value (types 0x01, 0x04) */
#define VOUCH_IMA_VERIFY_ALLOW_DIGEST (1U << 0)

/**
 * struct vouch_ima_verify_options - what verification accepts
 * @version: must be 1
 * @flags: VOUCH_IMA_VERIFY_ALLOW_DIGEST
 * @allowed_algos: bit (1 << algo) for each acceptable enum vouch_hash_algo; 0 selects the
 *                 default set sha1, sha224, sha256, sha384, sha512
 * @keyring: accept only certificates stored under this keyring name; NULL for any
 * @reserved: must be zero
 */
struct vouch_ima_verify_options {
	uint32_t version;
	uint32_t flags;
	uint64_t allowed_algos;
	const char *keyring;
	uint64_t reserved[6];
};
#define VOUCH_IMA_VERIFY_OPTIONS_INIT { .version = 1 }

/**
 * struct vouch_ima_verify_result - what was verified (valid also when a check failed, as far
 * as the value could be parsed)
 * @value: the parsed value (pointers into the caller's buffer)
 * @signer: the certificate that matched the key id, owned by the trust store; NULL if none
 * @keyring: its keyring name, owned by the trust store; NULL if none
 */
struct vouch_ima_verify_result {
	struct vouch_xattr_value value;
	const vouch_cert *signer;
	const char *keyring;
};

/**
 * vouch_ima_verify_digest() - verify a security.ima value against a file digest
 * @ctx: the context
 * @trust: the trusted certificates (looked up by key id)
 * @opts: the options, or NULL for the defaults
 * @value: the security.ima value
 * @len: its length
 * @digest: the file digest (types 0x01, 0x03, 0x04) or fs-verity file digest (type 0x06),
 *          in the algorithm the value names
 * @ret_result: filled in whatever the outcome, may be NULL
 *
 * Every check runs for every value: the format (vouch_xattr_parse()), the value is a
 * security.ima type, the algorithm is in the allow-list and matches @digest, a trusted key
 * carries the key id, the key type is RSA or EC, an RSA signature is modulus-sized, and the
 * signature (or digest) matches.
 * Return: 0; -EBADMSG (malformed); -EPERM (algorithm not allowed, unsigned digest without
 * VOUCH_IMA_VERIFY_ALLOW_DIGEST); -ENOKEY (no trusted key with that id); -EKEYREJECTED
 * (does not verify); -EINVAL; -EIO.
 * Since: 0.1
 */
int vouch_ima_verify_digest(vouch_ctx *ctx, const vouch_trust *trust,
			    const struct vouch_ima_verify_options *opts, const uint8_t *value,
			    size_t len, const struct vouch_digest *digest,
			    struct vouch_ima_verify_result *ret_result);

/**
 * vouch_ima_verify_fd() - like vouch_ima_verify_digest(), digesting @fd as the value asks
 * @fd: the file, read from offset 0 (pread)
 * Return: as vouch_ima_verify_digest(), plus read(2) errors.
 * Since: 0.1
 */
int vouch_ima_verify_fd(vouch_ctx *ctx, const vouch_trust *trust,
			const struct vouch_ima_verify_options *opts, const uint8_t *value,
			size_t len, int fd, struct vouch_ima_verify_result *ret_result);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_IMA_H */
