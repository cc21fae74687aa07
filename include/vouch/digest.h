/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: the kernel's hash algorithms and streaming digests
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_DIGEST_H
#define VOUCH_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum vouch_hash_algo - the kernel's enum hash_algo (include/uapi/linux/hash_info.h, 6.1)
 *
 * These numbers are what every on-disk hash_algo byte holds.
 */
enum vouch_hash_algo {
	VOUCH_HASH_MD4 = 0,
	VOUCH_HASH_MD5 = 1,
	VOUCH_HASH_SHA1 = 2,
	VOUCH_HASH_RMD160 = 3,
	VOUCH_HASH_SHA256 = 4,
	VOUCH_HASH_SHA384 = 5,
	VOUCH_HASH_SHA512 = 6,
	VOUCH_HASH_SHA224 = 7,
	VOUCH_HASH_RMD128 = 8,
	VOUCH_HASH_RMD256 = 9,
	VOUCH_HASH_RMD320 = 10,
	VOUCH_HASH_WP256 = 11,
	VOUCH_HASH_WP384 = 12,
	VOUCH_HASH_WP512 = 13,
	VOUCH_HASH_TGR128 = 14,
	VOUCH_HASH_TGR160 = 15,
	VOUCH_HASH_TGR192 = 16,
	VOUCH_HASH_SM3 = 17,
	VOUCH_HASH_STREEBOG256 = 18,
	VOUCH_HASH_STREEBOG512 = 19,
	_VOUCH_HASH_MAX,
	_VOUCH_HASH_INVALID = -22, /* -EINVAL */
};

/** VOUCH_HASH_MAX_SIZE - the largest digest, in bytes (HASH_MAX_DIGESTSIZE) */
#define VOUCH_HASH_MAX_SIZE 64

/** VOUCH_PCR_COUNT - PCRs per bank of a PC Client TPM 2.0 (and that lists may name) */
#define VOUCH_PCR_COUNT 24

/**
 * struct vouch_pcr_bank - PCR values of one bank: of a measurement list's replay, of a
 * quote's selection (struct vouch_pcrs), of an attestation state
 * @algo: enum vouch_hash_algo
 * @present: bit n set when @pcr[n] holds a value (in a selection: PCR n is selected)
 * @pcr: the values, each of the algorithm's size
 */
struct vouch_pcr_bank {
	int algo;
	uint32_t present;
	uint8_t pcr[VOUCH_PCR_COUNT][VOUCH_HASH_MAX_SIZE];
};

/**
 * struct vouch_digest - one digest value
 * @algo: an enum vouch_hash_algo
 * @len: number of valid bytes in @bytes
 * @bytes: the digest
 */
struct vouch_digest {
	int algo;
	size_t len;
	uint8_t bytes[VOUCH_HASH_MAX_SIZE];
};

/**
 * struct vouch_hash_info - one row of the kernel's algorithm table
 * @algo: enum vouch_hash_algo
 * @name: the kernel's name ("sha256"), used in d-ng prefixes and on the command line
 * @size: digest size in bytes
 * @tpm_alg: TPM_ALG_ID, or 0 when the TPM has none
 * @fsverity_id: FS_VERITY_HASH_ALG_*, or 0 when fs-verity has none
 */
struct vouch_hash_info {
	int algo;
	const char *name;
	size_t size;
	uint16_t tpm_alg;
	uint8_t fsverity_id;
};

/**
 * vouch_hash_info() - the table row of @algo
 * @algo: enum vouch_hash_algo
 * Return: a static row, or NULL when @algo is out of range.
 * Since: 0.1
 */
const struct vouch_hash_info *vouch_hash_info(int algo);

/**
 * vouch_hash_by_name() - look an algorithm up by kernel name (case-insensitive)
 * @name: "sha256", "sm3", ...; the OpenSSL spellings "sha-256" and "sha2-256" are accepted too
 * Return: an enum vouch_hash_algo, or -ENOENT.
 * Since: 0.1
 */
int vouch_hash_by_name(const char *name);

/**
 * vouch_hash_by_tpm_alg() - look an algorithm up by TPM_ALG_ID
 * @tpm_alg: the TPM algorithm id
 * Return: an enum vouch_hash_algo, or -ENOENT.
 * Since: 0.1
 */
int vouch_hash_by_tpm_alg(uint16_t tpm_alg);

/**
 * vouch_hash_available() - whether OpenSSL can compute @algo on this system
 * @ctx: the context
 * @algo: enum vouch_hash_algo
 * Return: true or false.
 * Since: 0.1
 */
bool vouch_hash_available(vouch_ctx *ctx, int algo);

/**
 * vouch_hasher - a streaming digest over one or several algorithms at once (opaque)
 */
typedef struct vouch_hasher vouch_hasher;

/**
 * vouch_hasher_new() - start digests of one pass of data
 * @ctx: the context; must outlive the hasher
 * @algos: enum vouch_hash_algo values (1 to 8, no duplicates)
 * @n_algos: number of @algos
 * @ret_hasher: the new hasher, to be released with vouch_hasher_free()
 *
 * Return: 0, -EINVAL, -EOPNOTSUPP (OpenSSL lacks an algorithm), -ENOMEM.
 * Since: 0.1
 */
int vouch_hasher_new(vouch_ctx *ctx, const int *algos, size_t n_algos,
		     vouch_hasher **ret_hasher);

/**
 * vouch_hasher_update() - feed bytes
 * Return: 0, or -EIO on an OpenSSL failure.
 * Since: 0.1
 */
int vouch_hasher_update(vouch_hasher *h, const void *data, size_t len);

/**
 * vouch_hasher_final() - finish; the hasher may then be fed again from scratch
 * @h: the hasher
 * @ret_digests: array of as many digests as algorithms, in the order given at creation
 * Return: 0, or -EIO.
 * Since: 0.1
 */
int vouch_hasher_final(vouch_hasher *h, struct vouch_digest *ret_digests);

/**
 * vouch_hasher_free() - release a hasher; NULL is accepted
 * Since: 0.1
 */
void vouch_hasher_free(vouch_hasher *h);

/**
 * vouch_digest_buf() - digest of a buffer
 * @ctx: the context
 * @algo: enum vouch_hash_algo
 * @data: the bytes
 * @len: their number
 * @ret_digest: the digest
 * Return: 0, -EINVAL, -EOPNOTSUPP, -EIO.
 * Since: 0.1
 */
int vouch_digest_buf(vouch_ctx *ctx, int algo, const void *data, size_t len,
		     struct vouch_digest *ret_digest);

/**
 * vouch_digest_fd() - digests of everything readable from @fd, in one pass
 * @ctx: the context
 * @fd: an open file descriptor, read from its current offset to EOF
 * @algos: enum vouch_hash_algo values
 * @n_algos: their number (1 to 8)
 * @ret_digests: array of @n_algos digests
 * Return: 0, -EINVAL, -EOPNOTSUPP, -EIO or another negative errno from read(2).
 * Since: 0.1
 */
int vouch_digest_fd(vouch_ctx *ctx, int fd, const int *algos, size_t n_algos,
		    struct vouch_digest *ret_digests);

/**
 * vouch_digest_file() - like vouch_digest_fd() on a path ("-" is not special here)
 * Return: as vouch_digest_fd(), plus the errors of open(2) (-ENOENT, -EISDIR, -EACCES).
 * Since: 0.1
 */
int vouch_digest_file(vouch_ctx *ctx, const char *path, const int *algos, size_t n_algos,
		      struct vouch_digest *ret_digests);

/**
 * vouch_digest_to_hex() - lower-case hex of a digest
 * @d: the digest
 * @buf: at least 2 * VOUCH_HASH_MAX_SIZE + 1 bytes
 * @size: size of @buf
 * Return: 0, or -ENOBUFS.
 * Since: 0.1
 */
int vouch_digest_to_hex(const struct vouch_digest *d, char *buf, size_t size);

/**
 * vouch_hex_decode() - strict hex (either case, an even number of digits, nothing else)
 * @s: the text, @n its length
 * @out: receives n / 2 bytes, @size its size
 * @ret_len: the number of bytes (may be NULL)
 * Return: 0, -EBADMSG (odd length or a non-hex character), or -ENOBUFS.
 * Since: 0.1
 */
int vouch_hex_decode(const char *s, size_t n, uint8_t *out, size_t size, size_t *ret_len);

/**
 * vouch_base64_decode() - strict base64 (RFC 4648 section 4): the alphabet only, no
 * whitespace, length a multiple of 4, padding only at the end, unused bits zero (one
 * encoding per byte string)
 * @s: the text, @n its length
 * @ret: the bytes, released with vouch_free(); @ret_len their number
 * Return: 0, -EBADMSG, or -ENOMEM.
 * Since: 0.1
 */
int vouch_base64_decode(const char *s, size_t n, uint8_t **ret, size_t *ret_len);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_DIGEST_H */
