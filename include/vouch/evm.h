/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: security.evm values: portable signatures (0x05), signatures (0x03) and HMACs (0x02)
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_EVM_H
#define VOUCH_EVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/ima.h>
#include <vouch/key.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct vouch_evm_xattr - one protected extended attribute
 * @name: its full name ("security.ima"); must be one vouch_evm_xattr_name() lists
 * @value: its raw value
 * @len: the value's length
 */
struct vouch_evm_xattr {
	const char *name;
	const uint8_t *value;
	size_t len;
};

/** VOUCH_EVM_M32 - hash the 20-byte struct h_misc of a 32-bit target (evmctl --m32) */
#define VOUCH_EVM_M32 (1U << 0)

/**
 * struct vouch_evm_inputs - what EVM protects for one inode
 * @version: must be 1
 * @flags: VOUCH_EVM_M32
 * @xattrs: the protected xattrs present on the file, in any order (the library applies the
 *          kernel's order); absent ones are simply not listed
 * @n_xattrs: their number
 * @ino: inode number (HMAC and type 0x03 only; portable signatures hash zero)
 * @generation: inode generation (same)
 * @uid: owner, in the initial user namespace
 * @gid: group, same
 * @mode: the full i_mode, type bits included (0100644 for a 0644 regular file)
 * @fs_uuid: 16 bytes of the file system UUID to append (CONFIG_EVM_ATTR_FSUUID), or NULL;
 *           never used for portable signatures
 * @reserved: must be zero
 */
struct vouch_evm_inputs {
	uint32_t version;
	uint32_t flags;
	const struct vouch_evm_xattr *xattrs;
	size_t n_xattrs;
	uint64_t ino;
	uint32_t generation;
	uint32_t uid;
	uint32_t gid;
	uint16_t mode;
	const uint8_t *fs_uuid;
	uint64_t reserved[4];
};
#define VOUCH_EVM_INPUTS_INIT { .version = 1 }

/**
 * vouch_evm_xattr_name() - the protected xattr names in the kernel's order
 * (evm_config_default_xattrnames[]: selinux, SMACK64, SMACK64EXEC, SMACK64TRANSMUTE,
 * SMACK64MMAP, apparmor, ima, capability)
 * @index: 0, 1, ...
 * Return: a static name, or NULL past the end.
 * Since: 0.1
 */
const char *vouch_evm_xattr_name(size_t index);

/**
 * vouch_evm_digest() - the digest EVM signs
 * @ctx: the context
 * @inputs: the protected data
 * @type: VOUCH_XATTR_EVM_PORTABLE (ino and generation zeroed, no fs UUID) or
 *        VOUCH_XATTR_DIGSIG (everything)
 * @algo: enum vouch_hash_algo
 * @ret_digest: H(xattr values in kernel order || struct h_misc [|| fs UUID])
 * Return: 0; -EINVAL (bad inputs: unknown or repeated xattr name); -EPERM (portable without
 * security.ima, which the kernel refuses); -EOPNOTSUPP; -ENOMEM; -EIO.
 * Since: 0.1
 */
int vouch_evm_digest(vouch_ctx *ctx, const struct vouch_evm_inputs *inputs, int type, int algo,
		     struct vouch_digest *ret_digest);

/**
 * vouch_evm_sign() - a portable EVM signature (type 0x05, version 2)
 * @ctx: the context
 * @key: an RSA or EC private key
 * @opts: algorithm and key id (VOUCH_IMA_SIGN_V3 is not allowed)
 * @inputs: the protected data
 * @ret_value: the security.evm value, released with vouch_free()
 * @ret_len: its length
 * Return: as vouch_evm_digest() and vouch_ima_sign_digest().
 * Since: 0.1
 */
int vouch_evm_sign(vouch_ctx *ctx, const vouch_key *key, const struct vouch_ima_sign_options *opts,
		   const struct vouch_evm_inputs *inputs, uint8_t **ret_value, size_t *ret_len);

/**
 * vouch_evm_hmac() - an EVM HMAC value (type 0x02)
 * @ctx: the context
 * @key: the EVM key bytes (1 to 128; zero-padded to 128 as the kernel does)
 * @key_len: their number
 * @inputs: the protected data
 * @ret_value: 0x02 || HMAC-SHA1, 21 bytes, released with vouch_free()
 * @ret_len: 21
 * Return: 0, -EINVAL, -ENOMEM, -EIO.
 * Since: 0.1
 */
int vouch_evm_hmac(vouch_ctx *ctx, const uint8_t *key, size_t key_len,
		   const struct vouch_evm_inputs *inputs, uint8_t **ret_value, size_t *ret_len);

/**
 * struct vouch_evm_verify_options - what EVM verification accepts
 * @version: must be 1
 * @flags: none defined, must be 0
 * @allowed_algos: as in struct vouch_ima_verify_options (0: the default set)
 * @keyring: accept only certificates under this keyring name; NULL for any
 * @hmac_key: the EVM key for HMAC values, or NULL (HMAC values then fail with -ENOKEY)
 * @hmac_key_len: its length (1 to 128)
 * @reserved: must be zero
 */
struct vouch_evm_verify_options {
	uint32_t version;
	uint32_t flags;
	uint64_t allowed_algos;
	const char *keyring;
	const uint8_t *hmac_key;
	size_t hmac_key_len;
	uint64_t reserved[4];
};
#define VOUCH_EVM_VERIFY_OPTIONS_INIT { .version = 1 }

/**
 * vouch_evm_verify() - verify a security.evm value
 * @ctx: the context
 * @trust: trusted certificates for signatures; may be NULL when only HMACs are expected
 * @opts: the options, or NULL for the defaults
 * @inputs: the protected data of the file
 * @value: the security.evm value
 * @len: its length
 * @ret_result: filled in whatever the outcome; may be NULL
 *
 * Every check runs: the format, an EVM type (0x02, 0x03, 0x05), the algorithm allow-list,
 * the trusted key by key id, key type and size, and the signature or HMAC (compared in
 * constant time).
 * Return: 0; -EBADMSG; -EPERM; -ENOKEY (no trusted key, or no HMAC key); -EKEYREJECTED;
 * -EINVAL; -EIO.
 * Since: 0.1
 */
int vouch_evm_verify(vouch_ctx *ctx, const vouch_trust *trust,
		     const struct vouch_evm_verify_options *opts,
		     const struct vouch_evm_inputs *inputs, const uint8_t *value, size_t len,
		     struct vouch_ima_verify_result *ret_result);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_EVM_H */
